"""Pure NHWC tensor functions of the original StyleGAN.

Every function takes and returns ``tf.Tensor`` activations laid out ``[N, H, W, C]``
(the original runs NCHW; the numbers are the same, only the axis order differs).
None of these functions owns weights; see :mod:`tfstylegan.layers` for those.

Gradients: the original wraps blur, upscale and downscale in hand-written custom
gradients (blur with the flipped kernel, upscale by an f x f sum, downscale by an
upscale with gain 1/f^2). They are the exact adjoints of the forward ops, which is also
what TensorFlow's own gradients compute, so plain autodiff gives the same values and
supports second-order gradients (needed by R1) without extra code.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfstylegan.images import convert_images_to_uint8  # noqa: F401  (defined with the other image conversions)

LRELU_ALPHA = 0.2


def _filter_2d(f, normalize: bool = True) -> np.ndarray:
    """The original's blur kernel: outer product of a 1-D filter, normalised to sum 1."""
    f = np.asarray(f, dtype=np.float32)
    if f.ndim == 1:
        f = f[:, np.newaxis] * f[np.newaxis, :]
    if f.ndim != 2:
        raise ValueError(f"blur filter must be 1-D or 2-D, got shape {f.shape}")
    if normalize:
        f = f / np.sum(f)
    return f


def blur2d(x: tf.Tensor, f=(1, 2, 1), normalize: bool = True) -> tf.Tensor:
    """Low-pass filter each channel with ``f`` (stride 1, SAME zero padding).

    The kernel is the outer product of ``f`` normalised to sum 1 ([1,2,1] -> /16),
    run as a depthwise correlation exactly as the original. It runs in the dtype of
    ``x``. (The original casts float16 activations to float32 for this op. With the
    default filter that buys nothing: its taps are multiples of 1/16, exact in float16
    and bfloat16, and each output is a weighted mean of inputs, so it cannot overflow.
    Staying in 16 bits spares two casts of a full activation per blur and keeps the
    training step's convolutions in float16 on tensor cores.) float32 is unchanged.
    """
    kernel = _filter_2d(f, normalize)
    if kernel.shape == (1, 1) and kernel[0, 0] == 1:
        return x
    channels = int(x.shape[-1])
    kernel = np.tile(kernel[:, :, np.newaxis, np.newaxis], [1, 1, channels, 1])  # [kh, kw, C, 1]
    return tf.nn.depthwise_conv2d(x, tf.constant(kernel, x.dtype), strides=[1, 1, 1, 1], padding="SAME")


def upscale2d(x: tf.Tensor, factor: int = 2) -> tf.Tensor:
    """Nearest-neighbour upsampling: every pixel repeated ``factor`` x ``factor`` times.

    Runs as TensorFlow's nearest resize (2-3x faster than tile on CPU, same values).
    That op has no second-order gradient, so, like the original, the gradient is given
    explicitly: the ``factor`` x ``factor`` block sum, whose own gradient is upscale2d.
    """
    if factor == 1:
        return x
    _, h, w, _ = x.shape

    @tf.custom_gradient
    def _upscale(x):
        def grad(dy):
            return downscale2d(dy, factor) * (factor * factor)  # [N, H, W, C] block sums

        return tf.image.resize(x, [h * factor, w * factor], method="nearest"), grad

    return _upscale(x)


def downscale2d(x: tf.Tensor, factor: int = 2) -> tf.Tensor:
    """Box-filter downsampling: the mean of each ``factor`` x ``factor`` block."""
    if factor == 1:
        return x
    return tf.nn.avg_pool2d(x, ksize=factor, strides=factor, padding="VALID")


def leaky_relu(x: tf.Tensor, alpha: float = LRELU_ALPHA) -> tf.Tensor:
    """``max(x, alpha * x)``.

    The fused op is used for speed (3x faster than ``maximum`` on CPU). Its gradient at
    exactly ``x == 0`` is ``alpha`` where the original's is 1; every other point agrees.
    """
    return tf.nn.leaky_relu(x, alpha)


def activation(name: str):
    """The original's nonlinearity table: ``'lrelu'`` or ``'relu'`` (both with gain sqrt(2))."""
    table = {"lrelu": leaky_relu, "relu": tf.nn.relu, "linear": tf.identity}
    if name not in table:
        raise ValueError(f"unknown nonlinearity {name!r}; expected one of {sorted(table)}")
    return table[name]


def pixel_norm(x: tf.Tensor, epsilon: float = 1e-8, axis: int = -1) -> tf.Tensor:
    """Normalise each feature vector to unit mean square: ``x * rsqrt(mean(x^2) + eps)``."""
    eps = tf.constant(epsilon, dtype=x.dtype)
    return x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=axis, keepdims=True) + eps)


def instance_norm(x: tf.Tensor, epsilon: float = 1e-8) -> tf.Tensor:
    """Per-sample, per-channel normalisation over H and W, in float32, no affine terms."""
    orig_dtype = x.dtype
    x = tf.cast(x, tf.float32)
    x -= tf.reduce_mean(x, axis=[1, 2], keepdims=True)  # [N, 1, 1, C] mean
    x *= tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=[1, 2], keepdims=True) + epsilon)
    return tf.cast(x, orig_dtype)


def minibatch_stddev(x: tf.Tensor, group_size: int = 4, num_new_features: int = 1) -> tf.Tensor:
    """Append the minibatch standard deviation as ``num_new_features`` extra channels.

    Groups are formed as in the original: ``G = min(group_size, N)`` and sample ``i``
    belongs to group ``i mod (N / G)`` (the group index is the outer reshape axis).
    Statistics are computed in float32.
    """
    _, h, w, c = x.shape
    n = num_new_features
    group = tf.minimum(group_size, tf.shape(x)[0])
    y = tf.reshape(x, [group, -1, h, w, n, c // n])  # [G, M, H, W, n, c]
    y = tf.cast(y, tf.float32)
    y -= tf.reduce_mean(y, axis=0, keepdims=True)  # [G, M, H, W, n, c] centred over the group
    y = tf.reduce_mean(tf.square(y), axis=0)  # [M, H, W, n, c] variance over the group
    y = tf.sqrt(y + 1e-8)  # [M, H, W, n, c] stddev
    y = tf.reduce_mean(y, axis=[1, 2, 4])  # [M, n] average over pixels and channels
    y = tf.cast(y, x.dtype)
    y = tf.reshape(y, [-1, 1, 1, n])  # [M, 1, 1, n]
    y = tf.tile(y, [group, h, w, 1])  # [N, H, W, n]
    return tf.concat([x, y], axis=-1)  # [N, H, W, C + n]


def lerp(a, b, t):
    """``a + (b - a) * t``."""
    return a + (b - a) * t


def lerp_clip(a, b, t):
    """``a + (b - a) * clip(t, 0, 1)``."""
    return a + (b - a) * tf.clip_by_value(t, 0.0, 1.0)


def nchw_to_nhwc(x):
    """``[N, C, H, W]`` -> ``[N, H, W, C]`` (numpy arrays or tensors)."""
    if isinstance(x, np.ndarray):
        return np.transpose(x, [0, 2, 3, 1])
    return tf.transpose(x, [0, 2, 3, 1])


def nhwc_to_nchw(x):
    """``[N, H, W, C]`` -> ``[N, C, H, W]`` (numpy arrays or tensors)."""
    if isinstance(x, np.ndarray):
        return np.transpose(x, [0, 3, 1, 2])
    return tf.transpose(x, [0, 3, 1, 2])
