"""Snapshot image grids: the reals and fakes PNGs a run writes (the original's misc.py helpers)."""

from __future__ import annotations

import numpy as np
import PIL.Image
import tensorflow as tf

from tfstylegan.data.pipeline import adjust_dynamic_range


def create_image_grid(images: np.ndarray, grid_size: tuple[int, int]) -> np.ndarray:
    """Tiles NHWC images row by row into one ``[gh*H, gw*W, C]`` image (missing cells stay 0)."""
    gw, gh = grid_size
    n, h, w, c = images.shape
    grid = np.zeros([gh * h, gw * w, c], dtype=images.dtype)
    for idx in range(min(n, gw * gh)):
        y, x = (idx // gw) * h, (idx % gw) * w
        grid[y : y + h, x : x + w] = images[idx]
    return grid


def to_uint8(images: np.ndarray, drange) -> np.ndarray:
    """Images in ``drange`` to uint8 as the original snapshots do (``np.rint``, clip)."""
    images = adjust_dynamic_range(np.asarray(images, np.float32), drange, (0, 255))
    return np.rint(images).clip(0, 255).astype(np.uint8)


def save_image_grid(images: np.ndarray, path: str, drange, grid_size: tuple[int, int]) -> np.ndarray:
    """Writes NHWC images in ``drange`` as one PNG grid; returns the uint8 ``[H, W, C]`` grid."""
    grid = to_uint8(create_image_grid(np.asarray(images), grid_size), drange)
    image = PIL.Image.fromarray(grid[:, :, 0] if grid.shape[2] == 1 else grid, "L" if grid.shape[2] == 1 else "RGB")
    with tf.io.gfile.GFile(path, "wb") as f:
        image.save(f, format="PNG")
    return grid


class FixedNoise:
    """A ``tf.random.Generator`` stand-in whose draws are the same on every call.

    Draw ``k`` of a traced call is ``stateless_normal(seed=[seed + offset, k])``, so the
    snapshot fakes use the same noise each time (and do not advance the training RNG).
    """

    def __init__(self, seed: int, offset: tf.Tensor | int = 0):
        self.seed, self.offset, self.count = int(seed), offset, 0

    def _key(self):
        self.count += 1
        return tf.stack([tf.cast(self.seed + self.offset, tf.int32), tf.constant(self.count, tf.int32)])

    def normal(self, shape, dtype=tf.float32):
        return tf.random.stateless_normal(shape, seed=self._key(), dtype=dtype)

    def uniform(self, shape, minval=0, maxval=None, dtype=tf.float32):
        return tf.random.stateless_uniform(shape, seed=self._key(), minval=minval, maxval=maxval, dtype=dtype)


class FakesRenderer:
    """Runs Gs on the fixed grid latents in chunks, as the original's ``Gs.run(..., is_validation=True)``."""

    def __init__(self, Gs, latents: np.ndarray, labels: np.ndarray, seed: int, chunk: int = 32):
        self.Gs = Gs
        self.latents = np.asarray(latents, np.float32)
        self.labels = np.asarray(labels, np.float32)
        self.seed, self.chunk = seed, chunk
        self._run = tf.function(self._chunk)

    def _chunk(self, latents, labels, offset):
        noise = FixedNoise(self.seed, offset)
        return self.Gs(latents, labels if self.labels.shape[1] else None, is_validation=True, rng=noise)

    def __call__(self) -> np.ndarray:
        n = len(self.latents)
        out = []
        for start in range(0, n, self.chunk):
            z = self.latents[start : start + self.chunk]
            c = self.labels[start : start + self.chunk]
            pad = self.chunk - len(z)  # Fixed chunk shape: one trace.
            z = np.concatenate([z, np.zeros([pad, z.shape[1]], np.float32)])
            c = np.concatenate([c, np.zeros([pad, c.shape[1]], np.float32)])
            images = self._run(tf.constant(z), tf.constant(c), tf.constant(start, tf.int32))
            out.append(images.numpy()[: self.chunk - pad])
        return np.concatenate(out)


def setup_snapshot_image_grid(training_set, latent_size: int, grid_size: tuple[int, int], seed: int):
    """Reals, labels and latents of the snapshot grid (the original's 'random' layout).

    Returns:
        ``(reals, labels, latents)``: uint8 NHWC reals and their float32 labels from the
        shuffled dataset, and float32 ``N(0, 1)`` latents from ``RandomState(seed)``.
    """
    gw, gh = grid_size
    n = gw * gh
    dataset = training_set.as_dataset(n, lod=0, seed=seed)
    reals, labels = next(iter(dataset))
    latents = np.random.RandomState(seed).randn(n, latent_size).astype(np.float32)
    return reals.numpy(), labels.numpy(), latents
