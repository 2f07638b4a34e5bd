"""Images as files: value ranges to 8 bits, grids, PIL images and PNG files.

The original rounds in two ways, and so does this module, each where the original does:

- :func:`to_uint8_half_up` (also :func:`convert_images_to_uint8`, the original
  ``tflib.convert_images_to_uint8``): ``x * scale + offset`` followed by a saturating
  cast, i.e. rounding half up. Generated images, the paper's figures, the SavedModel and
  the fakes that FID sees (:func:`quantize_images`) use it.
- :func:`to_uint8_half_even` (the original ``misc.convert_to_pil_image``): ``np.rint``,
  i.e. rounding half to even, then clipping. The snapshot grids of a training run use it.

Images are NHWC (a single image HWC) with 1 or 3 channels.
"""

from __future__ import annotations

import io
import os
from collections.abc import Sequence

import numpy as np
import PIL.Image
import tensorflow as tf

from tfstylegan.atomic import atomic_output


def _half_up_coefficients(drange: Sequence[float]) -> tuple[float, float]:
    """``(scale, offset)`` with ``x * scale + offset`` = the level of ``x`` plus 0.5."""
    scale = 255.0 / (drange[1] - drange[0])
    return scale, 0.5 - drange[0] * scale


def to_uint8_half_up(images, drange: Sequence[float] = (-1, 1)):
    """Images in ``drange`` -> uint8, rounding half up (the original ``tflib`` conversion).

    Maps ``drange`` onto [0, 255] by ``x * scale + (0.5 - drange[0] * scale)`` and then a
    saturating cast (clamp to [0, 255], truncate). Works on tensors (returns a tensor) and
    numpy arrays (returns an array) and keeps the layout.
    """
    scale, offset = _half_up_coefficients(drange)
    if isinstance(images, np.ndarray):
        y = images.astype(np.float32) * np.float32(scale) + np.float32(offset)
        return np.clip(y, 0, 255).astype(np.uint8)
    y = tf.cast(images, tf.float32) * scale + offset
    return tf.saturate_cast(y, tf.uint8)


# The original's name for the same conversion (tflib.convert_images_to_uint8).
convert_images_to_uint8 = to_uint8_half_up


def adjust_dynamic_range(
    data: tf.Tensor, drange_in: Sequence[float], drange_out: Sequence[float]
) -> tf.Tensor:
    """Maps ``drange_in`` linearly onto ``drange_out`` as ``data * scale + bias`` (the original ``misc.adjust_dynamic_range``).

    ``scale`` and ``bias`` are computed in numpy float32 exactly as the original does, so
    ``[0, 255] -> [-1, 1]`` gives the same float32 values (``x * (2/255) + (-1)``).
    """
    if tuple(drange_in) == tuple(drange_out):
        return data
    scale = (np.float32(drange_out[1]) - np.float32(drange_out[0])) / (
        np.float32(drange_in[1]) - np.float32(drange_in[0])
    )
    bias = np.float32(drange_out[0]) - np.float32(drange_in[0]) * scale
    return data * scale + bias


def to_uint8_half_even(images, drange: Sequence[float] = (-1, 1)) -> np.ndarray:
    """Images in ``drange`` -> uint8, rounding half to even (the original ``misc.convert_to_pil_image``).

    The range is mapped by :func:`adjust_dynamic_range` (the original's float32
    arithmetic), then ``np.rint`` and clipped to [0, 255].
    """
    images = adjust_dynamic_range(np.asarray(images, np.float32), drange, (0, 255))
    return np.rint(images).clip(0, 255).astype(np.uint8)


def quantize_images(images) -> tf.Tensor:
    """Round float images in [-1, 1] to the 256 levels of 8-bit images, kept in [-1, 1].

    The levels are those of :func:`to_uint8_half_up`. The original converts its fakes to
    uint8 before Inception; the reals are uint8 anyway, so doing the same keeps both on
    the same footing. NaN stays NaN (so a broken generator is not hidden).
    """
    scale, offset = _half_up_coefficients((-1, 1))
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    levels = tf.clip_by_value(tf.floor(images * scale + offset), 0.0, 255.0)  # 0..255
    return levels / scale - 1.0


def image_grid(images: np.ndarray, cols: int | None = None, rows: int | None = None) -> np.ndarray:
    """Images ``[N, H, W, C]`` tiled row by row into ``[rows * H, cols * W, C]``.

    As the original ``create_image_grid``: cells without an image stay 0 (black), and
    images beyond ``rows * cols`` are left out.

    Args:
        images: The images, any dtype.
        cols: Columns; None or 0 = ``ceil(sqrt(N))``.
        rows: Rows; None or 0 = as many as the images need, ``ceil(N / cols)``.
    """
    images = np.asarray(images)
    n, h, w, c = images.shape
    cols = int(cols) if cols else max(int(np.ceil(np.sqrt(n))), 1)
    rows = int(rows) if rows else max(-(-n // cols), 1)
    grid = np.zeros([rows * h, cols * w, c], dtype=images.dtype)
    for idx in range(min(n, rows * cols)):
        y, x = (idx // cols) * h, (idx % cols) * w
        grid[y : y + h, x : x + w] = images[idx]
    return grid


def to_pil(image: np.ndarray) -> PIL.Image.Image:
    """A uint8 image ``[H, W, C]`` (C = 1 or 3) or ``[H, W]`` as a PIL ``L`` or ``RGB`` image."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"a PIL image needs uint8 values, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        return PIL.Image.fromarray(image, "L")
    if image.ndim == 3 and image.shape[2] == 3:
        return PIL.Image.fromarray(image, "RGB")
    raise ValueError(f"an image must be [H, W], [H, W, 1] or [H, W, 3], got shape {list(image.shape)}")


def blank_image(width: int, height: int, num_channels: int, color: str = "white") -> PIL.Image.Image:
    """A PIL image of one color, ``L`` for 1 channel and ``RGB`` for 3 (a canvas for figures)."""
    return PIL.Image.new("L" if num_channels == 1 else "RGB", (int(width), int(height)), color)


def write_png(path: str | os.PathLike, image: np.ndarray | PIL.Image.Image) -> None:
    """Write a PNG file atomically (:func:`tfstylegan.atomic.atomic_output`).

    ``path`` may be any file system TensorFlow reads (``gs://...``); a reader never sees
    a partly written file, and an existing file is replaced only by a complete one.

    Args:
        path: Destination file; its directory must exist.
        image: A PIL image or a uint8 array for :func:`to_pil`.
    """
    path = os.fspath(path)
    if not isinstance(image, PIL.Image.Image):
        image = to_pil(image)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    with atomic_output(path) as temp, tf.io.gfile.GFile(temp, "wb") as f:
        f.write(buffer.getvalue())


__all__ = [
    "adjust_dynamic_range",
    "blank_image",
    "convert_images_to_uint8",
    "image_grid",
    "quantize_images",
    "to_pil",
    "to_uint8_half_even",
    "to_uint8_half_up",
    "write_png",
]
