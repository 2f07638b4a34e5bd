"""Snapshot image grids: the reals and fakes PNGs a run writes (the original's misc.py helpers)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfstylegan import generation
from tfstylegan.images import image_grid, to_uint8_half_even, write_png
from tfstylegan.noise import FixedNoise


def create_image_grid(images: np.ndarray, grid_size: tuple[int, int]) -> np.ndarray:
    """Tiles NHWC images row by row into one ``[gh*H, gw*W, C]`` image (missing cells stay 0)."""
    gw, gh = grid_size
    return image_grid(images, cols=gw, rows=gh)


def to_uint8(images: np.ndarray, drange) -> np.ndarray:
    """Images in ``drange`` to uint8 as the original snapshots do (``np.rint``, clip)."""
    return to_uint8_half_even(images, drange)


def save_image_grid(images: np.ndarray, path: str, drange, grid_size: tuple[int, int]) -> np.ndarray:
    """Writes NHWC images in ``drange`` as one PNG grid (atomically); returns the uint8 ``[H, W, C]`` grid."""
    grid = to_uint8(create_image_grid(images, grid_size), drange)
    write_png(path, grid)
    return grid


class FakesRenderer:
    """Runs Gs on the fixed grid latents in chunks, as the original's ``Gs.run(..., is_validation=True)``.

    Every chunk has the same shape (the last one is padded), so the function is traced once;
    its noise is :class:`~tfstylegan.noise.FixedNoise` keyed by the run's seed and the chunk.
    """

    def __init__(self, Gs, latents: np.ndarray, labels: np.ndarray, seed: int, chunk: int = 32):
        self.Gs = Gs
        self.latents = np.asarray(latents, np.float32)
        self.labels = np.asarray(labels, np.float32)
        self.seed, self.chunk = seed, chunk
        self._run = tf.function(self._chunk)

    def _chunk(self, latents, labels, offset):
        labels = labels if self.labels.shape[1] else None
        return generation.generate(self.Gs, latents, labels, is_validation=True, rng=FixedNoise(self.seed, offset))

    def __call__(self) -> np.ndarray:
        def chunk(start, z, c):
            return self._run(tf.constant(z), tf.constant(c), tf.constant(start, tf.int32))

        return np.concatenate(list(generation.padded_batches(chunk, self.chunk, self.latents, self.labels)))


# Class layouts: the cells of one block, (columns, rows); None = the whole row / column.
CLASS_BLOCKS = {"row_per_class": (None, 1), "col_per_class": (1, None), "class4x4": (4, 4)}
GRID_LAYOUTS = ("random", *CLASS_BLOCKS)  # --grid_layout: random reals, or by class.
MAX_CLASS_DRAWS = 1_000_000  # At most this many images are looked at to fill the class blocks (the original's bound).


def setup_snapshot_image_grid(
    training_set, latent_size: int, grid_size: tuple[int, int], seed: int, layout: str = "random"
):
    """Reals, labels and latents of the snapshot grid, as the original lays them out.

    ``layout='random'`` takes the first ``gw * gh`` images of the shuffled dataset. The class
    layouts split the grid into blocks (a whole row, a whole column, or 4x4 cells) and fill
    block ``b`` with images of class ``b mod label_size`` (the argmax of the label), drawing
    images one at a time from the shuffled dataset until every block is full or one pass over
    the dataset is done (so no image appears twice); cells left over stay black with zero
    labels, as in the original.

    Returns:
        ``(reals, labels, latents)``: uint8 NHWC reals and their float32 labels, and float32
        ``N(0, 1)`` latents from ``RandomState(seed)``.
    """
    with training_set.naming_read_errors(0):  # A bad record is a DatasetError naming the file.
        return _grid_reals(training_set, latent_size, grid_size, seed, layout)


def _grid_reals(training_set, latent_size: int, grid_size: tuple[int, int], seed: int, layout: str):
    gw, gh = grid_size
    n = gw * gh
    latents = np.random.RandomState(seed).randn(n, latent_size).astype(np.float32)
    if layout == "random":
        reals, labels = next(iter(training_set.as_dataset(n, lod=0, seed=seed)))
        return reals.numpy(), labels.numpy(), latents
    if layout not in CLASS_BLOCKS:
        raise ValueError(f"unknown grid layout {layout!r}; expected 'random' or one of {sorted(CLASS_BLOCKS)}")
    if training_set.label_size == 0:
        raise ValueError(f"grid layout {layout!r} needs labels; the training set has none")
    bw, bh = CLASS_BLOCKS[layout]
    bw, bh = bw or gw, bh or gh
    nw, nh = -(-gw // bw), -(-gh // bh)  # Blocks across and down (the last ones may be cut).
    blocks = [[] for _ in range(nw * nh)]
    limit = min(training_set.num_images, MAX_CLASS_DRAWS)
    images = (
        (real, label)
        for batch_reals, batch_labels in training_set.as_dataset(min(256, limit), lod=0, seed=seed)
        for real, label in zip(batch_reals.numpy(), batch_labels.numpy())
    )
    for _, (real, label) in zip(range(limit), images):
        b = int(np.argmax(label))
        while b < len(blocks) and len(blocks[b]) >= bw * bh:
            b += training_set.label_size  # This class's next block.
        if b < len(blocks):
            blocks[b].append((real, label))
            if all(len(block) >= bw * bh for block in blocks):
                break
    reals = np.zeros([n, *training_set.shape], np.uint8)  # [gw * gh, H, W, C]
    labels = np.zeros([n, training_set.label_size], np.float32)
    for b, block in enumerate(blocks):
        for j, (real, label) in enumerate(block):
            x = (b % nw) * bw + j % bw
            y = (b // nw) * bh + j // bw
            if x < gw and y < gh:
                reals[x + y * gw], labels[x + y * gw] = real, label
    return reals, labels, latents
