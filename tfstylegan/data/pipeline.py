"""Just-in-time processing of real minibatches before they reach D (the original ``process_reals``).

All images are NHWC. ``lod`` may be a Python number, a tensor or a ``tf.Variable``: the
fade factor and the upscale factor are computed in the graph, so a ``tf.function`` that
reads ``lod`` from a variable is traced once per input shape, not once per lod value.
"""

from __future__ import annotations

from collections.abc import Sequence

import tensorflow as tf

from tfstylegan.images import adjust_dynamic_range


def process_reals(
    x: tf.Tensor,
    lod,
    mirror_augment: bool,
    drange_data: Sequence[float] = (0, 255),
    drange_net: Sequence[float] = (-1, 1),
    mirror_mask: tf.Tensor | None = None,
    rng=None,
    *,
    resolution: int | None = None,
    level: int | None = None,
) -> tf.Tensor:
    """Prepares real images for D at level of detail ``lod``.

    In order: dynamic range ``drange_data -> drange_net`` (float32), optional per-sample
    horizontal mirroring, cross-fade towards the half resolution by ``lod - floor(lod)``,
    nearest-neighbour upscale by ``2**floor(lod)``.

    Args:
        x: images ``[N, H, W, C]`` from level ``floor(lod)`` of the dataset (any dtype).
        lod: current level of detail (float, tensor or variable).
        mirror_augment: flip the W axis of the samples whose mask value is >= 0.5.
        drange_data: value range of ``x``.
        drange_net: value range the networks expect.
        mirror_mask: ``[N]`` or ``[N, 1, 1, 1]`` values in [0, 1) deciding the flips; None =
            draw ``U[0, 1)``.
        rng: a ``tf.random.Generator``-like object with ``.uniform(shape, minval, maxval,
            dtype)`` to draw the mask from; None = ``tf.random.uniform``.
        resolution: if given, the static output shape is set to ``[N, resolution,
            resolution, C]`` (the upscale factor is dynamic, so it is unknown otherwise).
        level: ``floor(lod)`` as a Python int, when the caller knows it at trace time (the
            trainer does: it is fixed by the input size). The upscale factor is then a
            constant, as XLA requires; the fade fraction is still read from ``lod``.

    Returns:
        float32 ``[N, H * 2**floor(lod), W * 2**floor(lod), C]`` in ``drange_net``.
    """
    channels = x.shape[-1]
    x = tf.cast(x, tf.float32)
    x = adjust_dynamic_range(x, drange_data, drange_net)

    if mirror_augment:
        batch = tf.shape(x)[0]
        if mirror_mask is None:
            if rng is None:
                mirror_mask = tf.random.uniform([batch, 1, 1, 1], 0.0, 1.0, dtype=tf.float32)
            else:
                mirror_mask = rng.uniform([batch, 1, 1, 1], 0.0, 1.0, dtype=tf.float32)
        mirror_mask = tf.reshape(tf.cast(mirror_mask, tf.float32), [-1, 1, 1, 1])  # [N, 1, 1, 1]
        x = tf.where(mirror_mask < 0.5, x, tf.reverse(x, axis=[2]))

    lod = tf.cast(lod, tf.float32)
    s = tf.shape(x)  # [N, H, W, C]

    # Fade: blend towards the 2x2 box average (repeated back to full size) by the lod fraction.
    # The original averages with reduce_mean over a [N, H/2, 2, W/2, 2, C] view; avg_pool
    # gives the same float32 values (both sum 4 values, then divide by 4) and is much faster
    # on CPU. When the fraction is 0 the blend returns x unchanged, so it is skipped.
    def fade(x):
        y = tf.nn.avg_pool2d(x, ksize=2, strides=2, padding="VALID")  # [N, H/2, W/2, C]
        y = tf.reshape(y, [-1, s[1] // 2, 1, s[2] // 2, 1, s[3]])  # [N, H/2, 1, W/2, 1, C]
        y = tf.tile(y, [1, 1, 2, 1, 2, 1])  # [N, H/2, 2, W/2, 2, C]
        y = tf.reshape(y, s)  # [N, H, W, C]
        return x + (y - x) * (lod - tf.floor(lod))

    x = tf.cond(lod > tf.floor(lod), lambda: fade(x), lambda: x)

    # Upscale by 2**floor(lod) to the networks' resolution.
    factor = 2**level if level is not None else tf.cast(2.0 ** tf.floor(lod), tf.int32)
    x = tf.reshape(x, [-1, s[1], 1, s[2], 1, s[3]])  # [N, H, 1, W, 1, C]
    x = tf.tile(x, [1, 1, factor, 1, factor, 1])  # [N, H, f, W, f, C]
    x = tf.reshape(x, [-1, s[1] * factor, s[2] * factor, s[3]])  # [N, H*f, W*f, C]
    if resolution is not None:
        return tf.ensure_shape(x, [None, resolution, resolution, channels])
    x.set_shape([None, None, None, channels])
    return x
