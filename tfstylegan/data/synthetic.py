"""A small built-in dataset of coloured shapes, for runs that need no download.

Every image shows one anti-aliased shape (circle, square, triangle or cross) in a bright
colour on a two-colour vertical gradient. The set is a pure function of its seed, easy
enough that a GAN shows recognisable shapes after a few minutes on a CPU, and varied
enough (position, size, colours) that mode collapse is visible. The shape type is the
class, available as one-hot labels for conditional training.
"""

from __future__ import annotations

import colorsys

import numpy as np

from tfstylegan.data.tfrecords import TFRecordExporter

SHAPES = ("circle", "square", "triangle", "cross")
_SUPERSAMPLE = 4  # Coverage is computed on a 4x4 sub-pixel grid (anti-aliasing).


def _coverage(kind: np.ndarray, cx, cy, r, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Inside-test of each shape at sub-pixel centres ``u`` (x) and ``v`` (y).

    Args:
        kind: ``[B, 1, 1]`` class ids; cx, cy, r: ``[B, 1, 1]`` centre and half-size in pixels.
        u, v: ``[1, S, S]`` sub-pixel coordinates.

    Returns:
        bool ``[B, S, S]``.
    """
    dx, dy = u - cx, v - cy  # [B, S, S]
    circle = dx * dx + dy * dy <= r * r
    square = np.maximum(np.abs(dx), np.abs(dy)) <= 0.8 * r
    apex, base = -r, 0.75 * r  # Upright triangle: apex above the centre, base below.
    t = (dy - apex) / (base - apex)  # 0 at the apex, 1 at the base.
    triangle = (t >= 0) & (t <= 1) & (np.abs(dx) <= t * 0.95 * r)
    arm = 0.32 * r
    cross = ((np.abs(dx) <= arm) & (np.abs(dy) <= r)) | ((np.abs(dy) <= arm) & (np.abs(dx) <= r))
    return np.select([kind == 0, kind == 1, kind == 2], [circle, square, triangle], cross)


def generate_shapes(num_images: int, resolution: int = 32, seed: int = 123) -> tuple[np.ndarray, np.ndarray]:
    """Draws the shapes dataset.

    Args:
        num_images: how many images.
        resolution: image size (square).
        seed: the same seed always gives the same images (``np.random.RandomState``).

    Returns:
        ``(images, classes)``: uint8 ``[N, resolution, resolution, 3]`` and int64 ``[N]``
        indices into :data:`SHAPES`.
    """
    rnd = np.random.RandomState(seed)
    n = int(num_images)
    classes = rnd.randint(len(SHAPES), size=n)
    radius = rnd.uniform(0.22, 0.36, size=n) * resolution
    cx = 0.9 * radius + rnd.uniform(size=n) * (resolution - 1.8 * radius)  # Mostly inside the frame.
    cy = 0.9 * radius + rnd.uniform(size=n) * (resolution - 1.8 * radius)
    hues = rnd.uniform(size=n)
    fg = np.array([colorsys.hsv_to_rgb(h, rnd.uniform(0.7, 1.0), rnd.uniform(0.8, 1.0)) for h in hues])
    bg_top = rnd.uniform(0.05, 0.5, size=[n, 3])
    bg_bottom = rnd.uniform(0.05, 0.5, size=[n, 3])

    size = resolution * _SUPERSAMPLE
    sub = (np.arange(size, dtype=np.float32) + 0.5) / _SUPERSAMPLE  # sub-pixel centres in pixels
    u, v = sub[np.newaxis, np.newaxis, :], sub[np.newaxis, :, np.newaxis]  # [1, 1, S], [1, S, 1]
    ramp = ((np.arange(resolution, dtype=np.float32) + 0.5) / resolution)[
        np.newaxis, :, np.newaxis, np.newaxis
    ]
    images = np.empty([n, resolution, resolution, 3], np.uint8)
    chunk = 128
    for start in range(0, n, chunk):
        s = slice(start, min(start + chunk, n))
        b = s.stop - s.start
        kind, x0, y0, r = (
            a[s].reshape(b, 1, 1).astype(np.float32) for a in (classes, cx, cy, radius)
        )  # [B, 1, 1]
        inside = _coverage(kind, x0, y0, r, u, v)  # [B, S, S]
        alpha = inside.reshape(b, resolution, _SUPERSAMPLE, resolution, _SUPERSAMPLE).mean(
            axis=(2, 4)
        )  # [B, R, R]
        alpha = alpha[:, :, :, np.newaxis]  # [B, R, R, 1]
        top, bottom = bg_top[s][:, None, None, :], bg_bottom[s][:, None, None, :]  # [B, 1, 1, 3]
        background = top + (bottom - top) * ramp  # [B, R, 1, 3]
        rgb = background + (fg[s][:, None, None, :] - background) * alpha  # [B, R, R, 3]
        images[s] = np.rint(rgb * 255).clip(0, 255).astype(np.uint8)
    return images, classes.astype(np.int64)


def create_synthetic_dataset(
    tfrecord_dir: str,
    num_images: int = 1000,
    resolution: int = 32,
    labels: bool = False,
    seed: int = 123,
    overwrite: bool = False,
    print_progress: bool = False,
) -> str:
    """Writes the shapes dataset in the original TFRecord format.

    Args:
        tfrecord_dir: the dataset directory to create.
        num_images: number of images (a few hundred to a few thousand is sensible).
        resolution: power of two >= 4.
        labels: also write one-hot class labels (``label_size = len(SHAPES)``).
        seed: random seed of the images.
        overwrite: replace a dataset already in ``tfrecord_dir``.
        print_progress: print the writer's progress lines.

    Returns:
        ``tfrecord_dir``, ready for :class:`~tfstylegan.data.tfrecords.TFRecordDataset`.
    """
    images, classes = generate_shapes(num_images, resolution, seed)
    with TFRecordExporter(
        tfrecord_dir, len(images), print_progress=print_progress, overwrite=overwrite
    ) as tfr:
        for img in images:  # Already in random order.
            tfr.add_image(img)
        if labels:
            tfr.add_labels(np.eye(len(SHAPES), dtype=np.float32)[classes])
    return tfrecord_dir
