"""Keras layers that own the weights of the original StyleGAN networks.

Every layer stores its weights exactly as the original stores them (the same shapes and
the same values), so importing an original pickle is a copy, not a transformation,
except for the two activations whose layout is spatial (``const`` and the noise inputs),
which are kept NHWC here.

Equalized learning rate (``use_wscale=True``, the default everywhere): a weight of shape
``[..., fmaps_out]`` with ``fan_in = prod(shape[:-1])`` is stored as drawn from
``N(0, 1/lrmul^2)`` and multiplied at run time by ``he_std * lrmul``, with
``he_std = gain / sqrt(fan_in)``, the coefficient computed in float64 and rounded to a
float32 constant. Without wscale the weight is drawn from ``N(0, (he_std/lrmul)^2)`` and
used as ``stored * lrmul``. Biases start at zero and are used as ``stored * lrmul``.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from tfstylegan import ops

SQRT2 = math.sqrt(2.0)

__all__ = [
    "Dense",
    "Conv2D",
    "LabelEmbedding",
    "SynthesisLayer",
    "runtime_coef",
]


def runtime_coef(shape, gain: float, use_wscale: bool, lrmul: float) -> tuple[float, float]:
    """Return ``(init_std, runtime_coef)`` of an equalized-lr weight of ``shape``."""
    fan_in = float(np.prod(shape[:-1]))  # everything but the output axis: k*k*in (conv) or in (dense)
    he_std = gain / np.sqrt(fan_in)
    if use_wscale:
        return float(1.0 / lrmul), float(he_std * lrmul)
    return float(he_std / lrmul), float(lrmul)


def _fused_scale(fused_scale, resolution: int) -> bool:
    """The original's choice for ``fused_scale='auto'``: fuse at 128x128 and above."""
    if fused_scale == "auto":
        return resolution >= 128
    if fused_scale not in (True, False):
        raise ValueError(f"fused_scale must be True, False or 'auto', got {fused_scale!r}")
    return bool(fused_scale)


def conv2d(x, w):
    """Stride-1 SAME correlation with a runtime weight ``w`` ``[k, k, in, out]``."""
    return tf.nn.conv2d(x, w, strides=1, padding="SAME")


def _window_sum_matrix(kernel: int, flip: bool) -> np.ndarray:
    """``[(k+1)^2, k^2]`` 0/1 matrix of the original's fused-kernel construction.

    The original zero-pads a ``k x k`` kernel to ``k+2`` and sums its four shifted
    ``(k+1) x (k+1)`` windows. As a matrix acting on the flattened taps this is one
    small matmul over all channel pairs, ~10x faster than pad + slices + add_n for
    512x512 weights. ``flip`` also mirrors the result spatially.
    """
    m = np.zeros([kernel + 1, kernel + 1, kernel, kernel], np.float32)
    for i in range(kernel + 1):
        for j in range(kernel + 1):
            for a in (0, 1):
                for b in (0, 1):
                    p, q = i + a - 1, j + b - 1  # tap of the unpadded kernel
                    if 0 <= p < kernel and 0 <= q < kernel:
                        m[i, j, p, q] = 1.0
    if flip:
        m = m[::-1, ::-1]
    return m.reshape((kernel + 1) ** 2, kernel**2)


def _fused_kernel(w, flip: bool, scale: float):
    """The original's fused kernel of ``w`` ``[k, k, in, out]`` -> ``[k+1, k+1, in, out]``."""
    k, _, cin, cout = w.shape
    m = tf.constant(_window_sum_matrix(k, flip) * scale, dtype=w.dtype)
    kw = tf.matmul(m, tf.reshape(w, [k * k, cin * cout]))  # [(k+1)^2, in*out]
    return tf.reshape(kw, [k + 1, k + 1, cin, cout])  # [k+1, k+1, in, out]


def upscale2d_conv2d(x, w, fused: bool):
    """2x nearest upsampling followed by a 3x3 conv, fused or not as the original chooses.

    ``fused=True`` is the original's fused op: a stride-2 ``conv2d_transpose`` of the
    zero-padded weight whose four shifted 4x4 windows are summed (no 0.25 factor). A
    transposed conv is the adjoint of a correlation, so this applies the spatially
    flipped kernel: it is a different function from the non-fused path for the same
    weights, exactly as in the original.

    ``fused=False`` is ``conv3x3(upscale2d(x))``. It equals the fused op applied to the
    spatially flipped weight, whose fused kernel is the flipped fused kernel; that is
    how it is computed here: 16 instead of 36 multiply-adds per input pixel, the same
    numbers up to float rounding.
    """
    w = _fused_kernel(tf.cast(w, x.dtype), flip=not fused, scale=1.0)  # [k+1, k+1, in, out]
    w = tf.transpose(w, [0, 1, 3, 2])  # [k+1, k+1, out, in] as conv2d_transpose wants
    n = tf.shape(x)[0]
    _, h, wd, _ = x.shape
    out_shape = tf.stack([n, h * 2, wd * 2, w.shape[2]])
    return tf.nn.conv2d_transpose(x, w, out_shape, strides=2, padding="SAME")


def conv2d_downscale2d(x, w, fused: bool):
    """A 3x3 conv followed by a 2x2 box downscale.

    The original's fused op is a stride-2 conv of the zero-padded weight whose four
    shifted 4x4 windows are summed and multiplied by 0.25. Unlike the upsampling case
    it is the same function as the non-fused ``downscale2d(conv3x3(x))`` (up to float
    rounding), so both settings are computed the fused way: 2.25x fewer multiply-adds.
    ``fused`` is accepted to mirror the original's argument.
    """
    del fused  # same function either way
    w = _fused_kernel(tf.cast(w, x.dtype), flip=False, scale=0.25)  # [k+1, k+1, in, out]
    return tf.nn.conv2d(x, w, strides=2, padding="SAME")


class _WeightMixin:
    """Shared equalized-lr weight creation and runtime scaling."""

    def _add_scaled_weight(self, name, shape, gain, use_wscale, lrmul):
        init_std, coef = runtime_coef(shape, gain, use_wscale, lrmul)
        var = self.add_weight(
            name=name,
            shape=tuple(shape),
            initializer=keras.initializers.RandomNormal(0.0, init_std),
            trainable=True,
        )
        return var, coef

    def _add_bias(self, name, fmaps):
        return self.add_weight(name=name, shape=(fmaps,), initializer="zeros", trainable=True)


@keras.saving.register_keras_serializable(package="tfstylegan")
class Dense(_WeightMixin, keras.layers.Layer):
    """Fully connected layer with equalized learning rate, bias and activation.

    Weights: ``weight`` ``[in, fmaps]`` and (if ``use_bias``) ``bias`` ``[fmaps]``, as
    the original's ``<scope>/weight`` and ``<scope>/bias``. Inputs of rank > 2 are
    flattened in their own axis order; the caller picks that order (D flattens NCHW).

    Args:
        fmaps: Number of outputs.
        gain: He-init gain (sqrt(2) before lrelu, 1 for linear outputs).
        use_wscale: Equalized learning rate.
        lrmul: Learning-rate multiplier of the weight and the bias.
        use_bias: Whether to add a bias.
        nonlinearity: ``None`` (linear), ``'lrelu'`` or ``'relu'``.
    """

    def __init__(
        self,
        fmaps: int,
        gain: float = SQRT2,
        use_wscale: bool = True,
        lrmul: float = 1.0,
        use_bias: bool = True,
        nonlinearity: str | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.fmaps = fmaps
        self.gain = gain
        self.use_wscale = use_wscale
        self.lrmul = lrmul
        self.use_bias = use_bias
        self.nonlinearity = nonlinearity
        self._act = ops.activation(nonlinearity) if nonlinearity else None

    def build(self, input_shape):
        fan_in = int(np.prod(input_shape[1:]))
        self.weight, self._coef = self._add_scaled_weight(
            "weight", [fan_in, self.fmaps], self.gain, self.use_wscale, self.lrmul
        )
        self.bias = self._add_bias("bias", self.fmaps) if self.use_bias else None

    def call(self, x):
        if len(x.shape) > 2:
            x = tf.reshape(x, [-1, int(np.prod(x.shape[1:]))])  # [N, in]
        x = tf.matmul(x, tf.cast(self.weight * self._coef, x.dtype))  # [N, fmaps]
        if self.bias is not None:
            x = x + tf.cast(self.bias * self.lrmul, x.dtype)
        return self._act(x) if self._act else x

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.fmaps)

    def get_config(self):
        config = super().get_config()
        config.update(
            fmaps=self.fmaps,
            gain=self.gain,
            use_wscale=self.use_wscale,
            lrmul=self.lrmul,
            use_bias=self.use_bias,
            nonlinearity=self.nonlinearity,
        )
        return config


@keras.saving.register_keras_serializable(package="tfstylegan")
class Conv2D(_WeightMixin, keras.layers.Layer):
    """NHWC convolution with equalized learning rate, optional resampling, bias, activation.

    Weights: ``weight`` ``[k, k, in, fmaps]`` (HWIO, as the original) and optionally
    ``bias`` ``[fmaps]``.

    Args:
        fmaps: Number of output channels.
        kernel: Odd kernel size.
        gain: He-init gain.
        use_wscale: Equalized learning rate.
        lrmul: Learning-rate multiplier.
        use_bias: Whether to add a bias after the convolution.
        nonlinearity: ``None``, ``'lrelu'`` or ``'relu'``.
        resample: ``None``, ``'up'`` (2x upsample + conv) or ``'down'`` (conv + 2x
            downsample).
        fused: Use the original's fused resampling convolution.
    """

    def __init__(
        self,
        fmaps: int,
        kernel: int,
        gain: float = SQRT2,
        use_wscale: bool = True,
        lrmul: float = 1.0,
        use_bias: bool = True,
        nonlinearity: str | None = None,
        resample: str | None = None,
        fused: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if kernel < 1 or kernel % 2 != 1:
            raise ValueError(f"kernel must be a positive odd number, got {kernel}")
        if resample not in (None, "up", "down"):
            raise ValueError(f"resample must be None, 'up' or 'down', got {resample!r}")
        self.fmaps = fmaps
        self.kernel = kernel
        self.gain = gain
        self.use_wscale = use_wscale
        self.lrmul = lrmul
        self.use_bias = use_bias
        self.nonlinearity = nonlinearity
        self.resample = resample
        self.fused = fused
        self._act = ops.activation(nonlinearity) if nonlinearity else None

    def build(self, input_shape):
        shape = [self.kernel, self.kernel, int(input_shape[-1]), self.fmaps]
        self.weight, self._coef = self._add_scaled_weight(
            "weight", shape, self.gain, self.use_wscale, self.lrmul
        )
        self.bias = self._add_bias("bias", self.fmaps) if self.use_bias else None

    def runtime_weight(self):
        """The weight as the network uses it (stored value times the runtime coefficient)."""
        return self.weight * self._coef

    def call(self, x):
        w = self.runtime_weight()
        if self.resample == "up":
            x = upscale2d_conv2d(x, w, self.fused)
        elif self.resample == "down":
            x = conv2d_downscale2d(x, w, self.fused)
        else:
            x = conv2d(x, tf.cast(w, x.dtype))
        if self.bias is not None:
            x = x + tf.cast(self.bias * self.lrmul, x.dtype)
        return self._act(x) if self._act else x

    def compute_output_shape(self, input_shape):
        n, h, w, _ = input_shape
        f = {None: 1, "up": 2, "down": 0.5}[self.resample]
        return (n, int(h * f), int(w * f), self.fmaps)

    def get_config(self):
        config = super().get_config()
        config.update(
            fmaps=self.fmaps,
            kernel=self.kernel,
            gain=self.gain,
            use_wscale=self.use_wscale,
            lrmul=self.lrmul,
            use_bias=self.use_bias,
            nonlinearity=self.nonlinearity,
            resample=self.resample,
            fused=self.fused,
        )
        return config


@keras.saving.register_keras_serializable(package="tfstylegan")
class LabelEmbedding(keras.layers.Layer):
    """The mapping network's ``LabelConcat``: ``labels @ weight``, weight N(0, 1), unscaled.

    Args:
        latent_size: Embedding width (the original embeds labels to the latent size).
    """

    def __init__(self, latent_size: int, **kwargs):
        super().__init__(**kwargs)
        self.latent_size = latent_size

    def build(self, input_shape):
        self.weight = self.add_weight(
            name="weight",
            shape=(int(input_shape[-1]), self.latent_size),
            initializer=keras.initializers.RandomNormal(0.0, 1.0),
            trainable=True,
        )

    def call(self, labels):
        return tf.matmul(labels, tf.cast(self.weight, labels.dtype))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.latent_size)

    def get_config(self):
        config = super().get_config()
        config.update(latent_size=self.latent_size)
        return config


@keras.saving.register_keras_serializable(package="tfstylegan")
class SynthesisLayer(_WeightMixin, keras.layers.Layer):
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
            x = conv2d(x, tf.cast(self.weight * self._coef, x.dtype))
        else:
            x = upscale2d_conv2d(x, self.weight * self._coef, self.fused_scale)
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
