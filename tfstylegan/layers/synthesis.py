"""The synthesis network's layer: input op, noise, bias, activation, norms and style modulation."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfstylegan import ops
from tfstylegan.layers.equalized import SQRT2, WeightMixin

__all__ = ["SynthesisLayer"]


@keras.saving.register_keras_serializable(package="tfstylegan")
class SynthesisLayer(WeightMixin, keras.layers.Layer):
    """One layer of G_synthesis: its input op followed by the layer epilogue.

    The input op is one of

    - ``'const'``: the learned constant ``const`` ``[1, 4, 4, fmaps]`` tiled over the batch;
    - ``'dense'``: a dense layer of the first dlatent (gain sqrt(2)/4) reshaped from the
      original's ``[N, fmaps, 4, 4]`` to NHWC (used when ``const_input_layer=False``);
    - ``'conv'``: a 3x3 convolution;
    - ``'up'``: 2x upsampling + 3x3 convolution (fused or not), then the blur filter.

    The epilogue, in the original's order: noise (``x + noise * Noise/weight[c]``), bias,
    activation, pixel norm (optional), instance norm (optional), style modulation
    (``x * (s[0] + 1) + s[1]`` with ``s = dlatent @ StyleMod/weight + StyleMod/bias``).

    Args:
        fmaps: Output channels.
        mode: ``'const'``, ``'dense'``, ``'conv'`` or ``'up'``.
        dlatent_size: Width of the dlatent that drives the style.
        use_noise, use_pixel_norm, use_instance_norm, use_styles: The original's switches.
        nonlinearity: ``'lrelu'`` or ``'relu'``.
        use_wscale: Equalized learning rate.
        fused_scale: Fused upsampling conv (``'up'`` only).
        blur_filter: Filter applied after upsampling; ``None`` disables it.
    """

    def __init__(
        self,
        fmaps: int,
        mode: str,
        dlatent_size: int,
        use_noise: bool = True,
        use_pixel_norm: bool = False,
        use_instance_norm: bool = True,
        use_styles: bool = True,
        nonlinearity: str = "lrelu",
        use_wscale: bool = True,
        fused_scale: bool = False,
        blur_filter=(1, 2, 1),
        **kwargs,
    ):
        super().__init__(**kwargs)
        if mode not in ("const", "dense", "conv", "up"):
            raise ValueError(f"mode must be 'const', 'dense', 'conv' or 'up', got {mode!r}")
        self.fmaps = fmaps
        self.mode = mode
        self.dlatent_size = dlatent_size
        self.use_noise = use_noise
        self.use_pixel_norm = use_pixel_norm
        self.use_instance_norm = use_instance_norm
        self.use_styles = use_styles
        self.nonlinearity = nonlinearity
        self.use_wscale = use_wscale
        self.fused_scale = fused_scale
        self.blur_filter = list(blur_filter) if blur_filter else None
        self._act = ops.activation(nonlinearity)

    def build(self, input_shape):
        """``input_shape``: the NHWC activation shape (``'conv'``/``'up'``), else ignored."""
        f = self.fmaps
        self._coef = None
        if self.mode == "const":
            self.const = self.add_weight(name="const", shape=(1, 4, 4, f), initializer="ones")
        elif self.mode == "dense":
            self.weight, self._coef = self._add_scaled_weight(
                "weight", [self.dlatent_size, f * 16], SQRT2 / 4, self.use_wscale, 1.0
            )
        else:
            shape = [3, 3, int(input_shape[-1]), f]
            self.weight, self._coef = self._add_scaled_weight("weight", shape, SQRT2, self.use_wscale, 1.0)
        if self.use_noise:
            self.noise_strength = self.add_weight(name="noise_strength", shape=(f,), initializer="zeros")
        self.bias = self._add_bias("bias", f)
        if self.use_styles:
            self.style_weight, self._style_coef = self._add_scaled_weight(
                "style_weight", [self.dlatent_size, 2 * f], 1.0, self.use_wscale, 1.0
            )
            self.style_bias = self._add_bias("style_bias", 2 * f)

    def original_variables(self):
        """``[(local_name, variable)]`` in the original's creation order."""
        first = [("const", self.const)] if self.mode == "const" else [("weight", self.weight)]
        out = list(first)
        if self.use_noise:
            out.append(("Noise/weight", self.noise_strength))
        out.append(("bias", self.bias))
        if self.use_styles:
            out += [("StyleMod/weight", self.style_weight), ("StyleMod/bias", self.style_bias)]
        return out

    def call(self, x, dlatent, noise=None):
        """Run the layer.

        Args:
            x: NHWC input activations (``'conv'``/``'up'``); for ``'const'`` any tensor
                whose first dimension is the batch size; ignored for ``'dense'``.
            dlatent: ``[N, dlatent_size]`` the dlatent of this layer.
            noise: ``[N or 1, H, W, 1]`` noise image (required when ``use_noise``).
        """
        dtype = self.compute_dtype
        if self.mode == "const":
            n = tf.shape(dlatent)[0]
            x = tf.tile(tf.cast(self.const, dtype), [n, 1, 1, 1])  # [N, 4, 4, C]
        elif self.mode == "dense":
            x = tf.matmul(tf.cast(dlatent, dtype), tf.cast(self.weight * self._coef, dtype))  # [N, C*16]
            x = tf.reshape(x, [-1, self.fmaps, 4, 4])  # [N, C, 4, 4] original layout
            x = tf.transpose(x, [0, 2, 3, 1])  # [N, 4, 4, C]
        elif self.mode == "conv":
            x = ops.conv2d(x, tf.cast(self.weight * self._coef, x.dtype))
        else:
            x = ops.upscale2d_conv2d(x, self.weight * self._coef, self.fused_scale)
            if self.blur_filter:
                x = ops.blur2d(x, self.blur_filter)
        if self.use_noise:
            x = x + tf.cast(noise, x.dtype) * tf.cast(self.noise_strength, x.dtype)
        x = x + tf.cast(self.bias, x.dtype)
        x = self._act(x)
        if self.use_pixel_norm:
            x = ops.pixel_norm(x)
        if self.use_instance_norm:
            x = ops.instance_norm(x)
        if self.use_styles:
            style = tf.matmul(tf.cast(dlatent, x.dtype), tf.cast(self.style_weight * self._style_coef, x.dtype))
            style = style + tf.cast(self.style_bias, x.dtype)  # [N, 2C]
            style = tf.reshape(style, [-1, 2, 1, 1, self.fmaps])  # [N, 2, 1, 1, C]
            x = x * (style[:, 0] + 1) + style[:, 1]
        return x

    def get_config(self):
        config = super().get_config()
        config.update(
            fmaps=self.fmaps,
            mode=self.mode,
            dlatent_size=self.dlatent_size,
            use_noise=self.use_noise,
            use_pixel_norm=self.use_pixel_norm,
            use_instance_norm=self.use_instance_norm,
            use_styles=self.use_styles,
            nonlinearity=self.nonlinearity,
            use_wscale=self.use_wscale,
            fused_scale=self.fused_scale,
            blur_filter=self.blur_filter,
        )
        return config
