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


# ----------------------------------------------------------------------------------
# Convolutions with 2x resampling (runtime weights; the layers own the stored ones).


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
