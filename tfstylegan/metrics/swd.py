"""Sliced Wasserstein distance (SWD) of Laplacian-pyramid patches, as ProGAN reports it.

Karras et al. 2018 (progressive growing of GANs), ``metrics/sliced_wasserstein.py``:

1. Each image (uint8 RGB, [0, 255]; grayscale tiled to RGB; fakes rounded to 8 bits
   first) is split into a Laplacian pyramid from its resolution down to 16 x 16: the
   5 x 5 binomial filter ``[1, 4, 6, 4, 1]^2 / 256`` with mirrored borders, subsampled by 2
   (``cv2.pyrDown``); each level minus the upsampled next one (zeros inserted, filtered
   with 4x the filter, ``cv2.pyrUp``); the 16 x 16 level is kept as it is.
2. 128 random 7 x 7 neighbourhoods per image and level (centres at least 3 pixels from
   the border) are the descriptors, 147 values each.
3. Each level's descriptor set is normalised per colour channel (mean and standard
   deviation over all descriptors and their 49 pixels), reals and fakes separately.
4. The distance of two sets: 4 repeats of 128 random unit directions; per direction, the
   sorted projections of both sets are compared by mean absolute difference; the mean
   over directions and repeats.
5. Reported x 1e3 per level (``swd16k_256`` ... ``swd16k_16``) and averaged (``swd16k``).

``swd16k`` uses 16384 reals and fakes as ProGAN; smaller counts (``swd1k``) are quick but
noisier. No network weights are needed. Memory: each level holds ``128 * num_images``
descriptors of 147 float32 per set, 1.2 GB per level and set for ``swd16k``.
Descriptor components are laid out ``[y, x, channel]`` (NHWC) rather than ProGAN's
``[channel, y, x]``; with random directions that changes nothing.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from typing import Any

import numpy as np
import tensorflow as tf

from tfstylegan.metrics.base import MetricContext, count_in_name, fake_batches
from tfstylegan.metrics.fid import quantize_images
from tfstylegan.progress import ProgressBar

NHOOD_SIZE = 7
NHOODS_PER_IMAGE = 128
DIR_REPEATS = 4
DIRS_PER_REPEAT = 128
MIN_RESOLUTION = 16

_BINOMIAL = np.array([1, 4, 6, 4, 1], np.float64)
GAUSSIAN_FILTER = (np.outer(_BINOMIAL, _BINOMIAL) / 256.0).astype(np.float32)
"""ProGAN's 5 x 5 pyramid filter (that of ``cv2.pyrDown``)."""


def pyramid_resolutions(resolution: int) -> list[int]:
    """The levels' resolutions: ``resolution``, halved down to 16 (``[256, 128, 64, 32, 16]``)."""
    levels = []
    while resolution >= MIN_RESOLUTION:
        levels.append(resolution)
        resolution //= 2
    return levels


def _filter(images: tf.Tensor, gain: float) -> tf.Tensor:
    """The 5 x 5 filter times ``gain`` on NHWC images, mirrored borders (scipy 'mirror')."""
    channels = images.shape[-1]
    kernel = np.tile((GAUSSIAN_FILTER * gain)[:, :, None, None], [1, 1, channels, 1])  # [5, 5, C, 1]
    padded = tf.pad(images, [[0, 0], [2, 2], [2, 2], [0, 0]], mode="REFLECT")
    return tf.nn.depthwise_conv2d(padded, kernel, strides=[1, 1, 1, 1], padding="VALID")


def pyr_down(images: tf.Tensor) -> tf.Tensor:
    """Filter, then keep every second row and column: ``[N, H, W, C] -> [N, H/2, W/2, C]``."""
    return _filter(images, 1.0)[:, ::2, ::2, :]


def pyr_up(images: tf.Tensor) -> tf.Tensor:
    """Insert zeros after every pixel, then filter with 4x the filter: ``[N, H, W, C] -> [N, 2H, 2W, C]``."""
    _, h, w, c = images.shape
    spread = tf.pad(
        images[:, :, None, :, None, :], [[0, 0], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0]]
    )  # [N, H, 2, W, 2, C]
    return _filter(tf.reshape(spread, [-1, 2 * h, 2 * w, c]), 4.0)  # [N, 2H, 2W, C]


def laplacian_pyramid(images: tf.Tensor, num_levels: int) -> list[tf.Tensor]:
    """Levels ``[N, R / 2^k, R / 2^k, C]`` for k < num_levels; the last is the low-pass image."""
    levels = [tf.cast(images, tf.float32)]
    for _ in range(1, num_levels):
        levels.append(pyr_down(levels[-1]))
        levels[-2] = levels[-2] - pyr_up(levels[-1])
    return levels


def extract_descriptors(level: tf.Tensor, rows: Any, cols: Any) -> tf.Tensor:
    """The 7 x 7 neighbourhoods centred at ``(rows, cols)``, flattened.

    Args:
        level: ``[N, S, S, C]`` float images.
        rows, cols: ``[N, K]`` int32 centres, each in ``[3, S - 3)``.

    Returns:
        ``[N * K, 49 * C]`` descriptors, components ordered ``[y, x, channel]``.
    """
    half = NHOOD_SIZE // 2
    offsets = tf.range(-half, half + 1)  # [7]
    rows = tf.convert_to_tensor(rows, tf.int32)
    r = rows[:, :, None, None] + offsets[:, None]  # [N, K, 7, 1]
    c = tf.convert_to_tensor(cols, tf.int32)[:, :, None, None] + offsets[None, :]  # [N, K, 1, 7]
    shape = tf.concat([tf.shape(rows), [NHOOD_SIZE, NHOOD_SIZE]], 0)  # [N, K, 7, 7]
    index = tf.stack([tf.broadcast_to(r, shape), tf.broadcast_to(c, shape)], -1)  # [N, K, 7, 7, 2]
    patches = tf.gather_nd(level, index, batch_dims=1)  # [N, K, 7, 7, C]
    return tf.reshape(patches, [-1, NHOOD_SIZE * NHOOD_SIZE * level.shape[-1]])  # [N * K, 49 * C]


def normalize_descriptors(desc: np.ndarray, channels: int = 3) -> np.ndarray:
    """Per channel: subtract the mean and divide by the std over all descriptors and pixels.

    Args:
        desc: ``[M, 49 * channels]`` float32, components ``[y, x, channel]``.

    Returns:
        float32 ``[M, 49 * channels]``.
    """
    per_pixel = desc.reshape(desc.shape[0], -1, channels)  # [M, 49, C]
    mean = per_pixel.mean(axis=(0, 1), dtype=np.float64)  # [C]
    std = per_pixel.std(axis=(0, 1), dtype=np.float64)  # [C], population (ddof 0)
    out = (per_pixel - mean.astype(np.float32)) / std.astype(np.float32)
    return out.reshape(desc.shape[0], -1).astype(np.float32)  # [M, 49 * C]


def random_directions(rng: np.random.Generator, dim: int, count: int = DIRS_PER_REPEAT) -> np.ndarray:
    """``[dim, count]`` float32 standard normal directions, each column of unit length."""
    dirs = rng.standard_normal([dim, count])
    dirs /= np.sqrt(np.sum(np.square(dirs), axis=0, keepdims=True))
    return dirs.astype(np.float32)


def sliced_wasserstein(a: np.ndarray, b: np.ndarray, directions: list[np.ndarray], chunk: int = 32) -> float:
    """Mean over the direction sets of the mean |sorted(a @ d) - sorted(b @ d)|.

    Args:
        a, b: ``[M, D]`` normalised descriptor sets of the same size.
        directions: one ``[D, count]`` array per repeat (:func:`random_directions`).
        chunk: directions projected at a time (bounds the memory to ``2 * M * chunk``).
    """
    if a.ndim != 2 or a.shape != b.shape:
        raise ValueError(f"descriptor sets must be [M, D] of one shape, got {a.shape} and {b.shape}")
    results = []
    for dirs in directions:
        total = 0.0
        for start in range(0, dirs.shape[1], chunk):
            d = dirs[:, start : start + chunk]
            proj_a = np.sort((a @ d).T, axis=1)  # [chunk, M]
            proj_b = np.sort((b @ d).T, axis=1)
            total += float(np.sum(np.abs(proj_a - proj_b), dtype=np.float64))
        results.append(total / (a.shape[0] * dirs.shape[1]))
    return float(np.mean(results))


@tf.function(reduce_retracing=True)
def _pyramid_descriptors(images: tf.Tensor, rows: tf.Tensor, cols: tf.Tensor, num_levels: int):
    levels = laplacian_pyramid(images, num_levels)
    return [extract_descriptors(level, rows[i], cols[i]) for i, level in enumerate(levels)]


class _DescriptorSet:
    """The descriptors of every level of ``num_images`` images, filled batch by batch."""

    def __init__(self, resolutions: list[int], num_images: int, rng: np.random.Generator) -> None:
        self.resolutions, self.num_images, self.rng = resolutions, num_images, rng
        dim = NHOOD_SIZE * NHOOD_SIZE * 3
        self.desc = [np.empty([num_images * NHOODS_PER_IMAGE, dim], np.float32) for _ in resolutions]
        self.filled = 0

    def add(self, images: tf.Tensor) -> int:
        """Adds uint8 NHWC images (as many as still fit); returns how many were taken."""
        take = min(int(images.shape[0]), self.num_images - self.filled)
        images = images[:take]
        if images.shape[-1] == 1:
            images = tf.tile(images, [1, 1, 1, 3])  # grayscale -> RGB, as ProGAN
        half = NHOOD_SIZE // 2
        rows = [self.rng.integers(half, s - half, size=[take, NHOODS_PER_IMAGE]) for s in self.resolutions]
        cols = [self.rng.integers(half, s - half, size=[take, NHOODS_PER_IMAGE]) for s in self.resolutions]
        out = _pyramid_descriptors(
            tf.cast(images, tf.float32),
            tf.constant(np.stack(rows), tf.int32),
            tf.constant(np.stack(cols), tf.int32),
            len(self.resolutions),
        )
        begin, end = self.filled * NHOODS_PER_IMAGE, (self.filled + take) * NHOODS_PER_IMAGE
        for level, desc in zip(self.desc, out):
            level[begin:end] = desc.numpy()
        self.filled += take
        return take

    def fill(self, batches: Iterable[Any], progress: ProgressBar) -> list[np.ndarray]:
        for images in batches:
            progress.update(self.add(images))
            if self.filled == self.num_images:
                return [normalize_descriptors(d) for d in self.desc]
        raise ValueError(f"the images ran out after {self.filled} of {self.num_images}; repeat the dataset")


def _uint8_reals(batches: Iterable[Any], resolution: int):
    for batch in batches:
        images = tf.convert_to_tensor(batch[0] if isinstance(batch, (tuple, list)) else batch)
        if (
            images.dtype != tf.uint8
            or images.shape.rank != 4
            or tuple(images.shape[1:3]) != (resolution,) * 2
        ):
            raise ValueError(
                f"real images must be uint8 [N, {resolution}, {resolution}, C], got {images.dtype.name} {images.shape}"
            )
        yield images


def _uint8_fakes(batches: Iterable[tf.Tensor]):
    for images in batches:  # ProGAN: Gs output * 127.5 + 127.5, rounded to uint8
        yield tf.cast(tf.round((quantize_images(images) + 1.0) * 127.5), tf.uint8)


@dataclasses.dataclass(frozen=True)
class SWD:
    """A sliced Wasserstein distance over a fixed number of images, e.g. ``swd16k``.

    Attributes:
        name: the metric's name; the average is reported under it, each level under
            ``<name>_<resolution>``.
        num_images: real and generated images (each).
        minibatch_size: images per generator call.
    """

    name: str
    num_images: int
    minibatch_size: int = 16

    needs = ()

    def compute(self, ctx: MetricContext) -> dict[str, float]:
        """SWD x 1e3 per pyramid level and their average, reals against fakes.

        Args:
            ctx: uses ``reals``, ``resolution``, ``generate``, ``latent_size``,
                ``label_size``, ``label_sampler``, ``seed`` and ``minibatch_size``.

        Returns:
            ``{name_<res>: ..., name: average, name + "_time_s": seconds}``, levels from
            the full resolution down to 16.
        """
        start = time.time()
        resolution = int(ctx.require("resolution", self.name))
        resolutions = pyramid_resolutions(resolution)
        if not resolutions:
            raise ValueError(
                f"{self.name}: SWD needs images of at least {MIN_RESOLUTION}x{MIN_RESOLUTION}, got {resolution}"
            )
        streams = [np.random.default_rng([ctx.seed, k]) for k in range(3)]  # reals, fakes, directions
        reals = _DescriptorSet(resolutions, self.num_images, streams[0]).fill(
            _uint8_reals(ctx.iter_reals(), resolution),
            ctx.progress(f"{self.name} reals", self.num_images),
        )
        fakes = fake_batches(
            ctx.require("generate", self.name),
            ctx.latent_size,
            ctx.minibatch_size or self.minibatch_size,
            ctx.label_size,
            ctx.label_sampler,
            ctx.seed,
        )
        fakes = _DescriptorSet(resolutions, self.num_images, streams[1]).fill(
            _uint8_fakes(fakes), ctx.progress(f"{self.name} fakes", self.num_images)
        )
        result = {}
        for res, desc_real, desc_fake in zip(resolutions, reals, fakes):
            directions = [random_directions(streams[2], desc_real.shape[1]) for _ in range(DIR_REPEATS)]
            result[f"{self.name}_{res}"] = sliced_wasserstein(desc_real, desc_fake, directions) * 1e3
        result[self.name] = float(np.mean(list(result.values())))
        result[f"{self.name}_time_s"] = time.time() - start
        return result


def swd_from_name(name: str) -> SWD | None:
    """The SWD metric called ``name`` (``swd16k``, ``swd<N>k``, ``swd<N>``), None if not that form.

    Raises:
        ValueError: the form, but fewer than 2 images.
    """
    parsed = count_in_name(name, "swd", "SWD", per_k=1024, minimum=2, unit="image")
    return None if parsed is None else SWD(name=name, num_images=parsed[1])


__all__ = [
    "GAUSSIAN_FILTER",
    "SWD",
    "extract_descriptors",
    "laplacian_pyramid",
    "normalize_descriptors",
    "pyr_down",
    "pyr_up",
    "pyramid_resolutions",
    "random_directions",
    "sliced_wasserstein",
    "swd_from_name",
]
