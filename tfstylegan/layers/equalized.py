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

__all__ = ["Conv2D", "Dense", "LabelEmbedding", "WeightMixin", "resolve_fused_scale", "runtime_coef"]


def runtime_coef(shape, gain: float, use_wscale: bool, lrmul: float) -> tuple[float, float]:
    """Return ``(init_std, runtime_coef)`` of an equalized-lr weight of ``shape``."""
    fan_in = float(np.prod(shape[:-1]))  # everything but the output axis: k*k*in (conv) or in (dense)
    he_std = gain / np.sqrt(fan_in)
    if use_wscale:
        return float(1.0 / lrmul), float(he_std * lrmul)
    return float(he_std / lrmul), float(lrmul)


def resolve_fused_scale(fused_scale, resolution: int) -> bool:
    """The original's choice for ``fused_scale='auto'``: fuse at 128x128 and above."""
    if fused_scale == "auto":
        return resolution >= 128
    if fused_scale not in (True, False):
        raise ValueError(f"fused_scale must be True, False or 'auto', got {fused_scale!r}")
    return bool(fused_scale)


class WeightMixin:
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
class Dense(WeightMixin, keras.layers.Layer):
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
class Conv2D(WeightMixin, keras.layers.Layer):
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
            x = ops.upscale2d_conv2d(x, w, self.fused)
        elif self.resample == "down":
            x = ops.conv2d_downscale2d(x, w, self.fused)
        else:
            x = ops.conv2d(x, tf.cast(w, x.dtype))
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
