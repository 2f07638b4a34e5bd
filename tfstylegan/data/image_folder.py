"""Reading a folder of image files for the dataset tool: listing, decoding, size policy, labels.

The original tool takes every file of the folder in sorted order, infers the channel count
(1 or 3) from the first image and requires square power-of-two images of one size. This
module keeps those defaults (so the bytes written match the original's) and adds explicit
policies, each chosen by the user:

- ``channels``: convert every image to grayscale (1) or RGB (3) with PIL; needed for
  palette, RGBA, LA, CMYK or bilevel images. Alpha is dropped, not composited.
- ``resize`` + ``resize_mode``: bring every image to ``resize x resize`` (a power of two)
  by cropping the centred square (``center_crop``) or by padding with black to a square
  (``pad``), then resampling with Lanczos. Images already at that size are not resampled.
- a labels file, JSON or CSV, see :func:`read_labels_file`.

Every problem raises :class:`~tfstylegan.data.errors.DatasetError` naming the file.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath

import numpy as np
import PIL.Image
import tensorflow as tf

from tfstylegan.data.errors import DatasetError
from tfstylegan.resolution import resolution_log2

RESIZE_MODES = ("center_crop", "pad")
_MODES_FOR_CHANNELS = {1: "L", 3: "RGB"}
_UNSUPPORTED_MODES = ("I", "I;16", "I;16B", "I;16L", "I;16N", "F")  # More than 8 bits per sample.


def list_images(image_dir: str) -> list[str]:
    """Image files of a folder (by extension, hidden files skipped), sorted by name.

    Raises:
        DatasetError: the folder does not exist or holds no image file.
    """
    if not tf.io.gfile.isdir(image_dir):
        raise DatasetError(f"image folder {image_dir} does not exist")
    PIL.Image.init()
    extensions = {ext.lower() for ext in PIL.Image.registered_extensions()}
    names = sorted(
        n
        for n in tf.io.gfile.listdir(image_dir)
        if not n.startswith(".") and posixpath.splitext(n.rstrip("/"))[1].lower() in extensions
    )
    if not names:
        raise DatasetError(
            f"no images found in {image_dir} (looked for {', '.join(sorted(extensions)[:8])}, ...)"
        )
    return [posixpath.join(image_dir, n) for n in names]


def open_image(path: str) -> PIL.Image.Image:
    """Decodes an image file fully (so a damaged file fails here, naming the file)."""
    try:
        with tf.io.gfile.GFile(path, "rb") as f:
            data = f.read()
        img = PIL.Image.open(io.BytesIO(data))
        img.load()
    except Exception as e:  # noqa: BLE001 - PIL raises many kinds of errors for bad files.
        raise DatasetError(f"{path}: cannot read the image ({type(e).__name__}: {e})") from None
    if img.mode in _UNSUPPORTED_MODES:
        raise DatasetError(f"{path}: {img.mode} images (more than 8 bits per sample) are not supported")
    return img


def infer_channels(path: str, img: PIL.Image.Image) -> int:
    """The original's rule: 1 for a grayscale image, 3 for RGB; anything else needs ``--channels``."""
    for channels, mode in _MODES_FOR_CHANNELS.items():
        if img.mode == mode:
            return channels
    raise DatasetError(
        f"{path} is a {img.mode} image; pass --channels 1 (grayscale) or 3 (RGB) to convert the images"
    )


class ImageLoader:
    """Loads the images of a folder as HWC uint8 arrays of one shape, following explicit policies.

    Args:
        channels: 1 or 3 to convert every image, None = the first image's (grayscale or RGB),
            with every other image required to have the same mode.
        resize: output size (power of two >= 4), None = every image must already be square,
            of one power-of-two size.
        resize_mode: 'center_crop' or 'pad' (used only with ``resize``).
    """

    def __init__(
        self, channels: int | None = None, resize: int | None = None, resize_mode: str = "center_crop"
    ):
        if channels not in (None, 1, 3):
            raise DatasetError(f"--channels must be 1 or 3, got {channels}")
        if resize is not None:
            try:
                resolution_log2(resize, "--resize")
            except ValueError as e:
                raise DatasetError(str(e)) from None
        if resize_mode not in RESIZE_MODES:
            raise DatasetError(f"--resize_mode must be one of {', '.join(RESIZE_MODES)}, got {resize_mode!r}")
        self.channels = channels
        self.resize = resize
        self.resize_mode = resize_mode
        self._explicit_channels = channels is not None
        self._first: tuple[str, str, tuple[int, int]] | None = None  # (path, mode, size) of the first image.

    def __call__(self, path: str) -> np.ndarray:
        """Returns ``[H, W, C]`` uint8 (C = 1 or 3)."""
        img = open_image(path)
        if self._first is None:
            if self.channels is None:
                self.channels = infer_channels(path, img)
            self._first = (path, img.mode, img.size)
        first_path, first_mode, first_size = self._first
        mode = _MODES_FOR_CHANNELS[self.channels]
        if img.mode != mode:
            if not self._explicit_channels:
                raise DatasetError(
                    f"{path} is a {img.mode} image but {first_path} is {first_mode}; "
                    "pass --channels 1 or 3 to convert every image"
                )
            img = img.convert(mode)
        w, h = img.size
        if self.resize is None:
            if w != h:
                raise DatasetError(
                    f"{path} is {w}x{h}, not square; pass --resize RES with --resize_mode center_crop or pad"
                )
            try:
                resolution_log2(w)
            except ValueError:
                raise DatasetError(
                    f"{path} is {w}x{h}; the size must be a power of two >= 4, or pass --resize RES"
                ) from None
            if (w, h) != first_size:
                raise DatasetError(
                    f"{path} is {w}x{h} but {first_path} is {first_size[0]}x{first_size[1]}; "
                    "all images must have the same size, or pass --resize RES"
                )
        elif (w, h) != (self.resize, self.resize):
            img = self._to_square(img).resize((self.resize, self.resize), PIL.Image.Resampling.LANCZOS)
        arr = np.asarray(img)
        if arr.ndim == 2:
            arr = arr[:, :, np.newaxis]  # [H, W] => [H, W, 1]
        return arr

    def _to_square(self, img: PIL.Image.Image) -> PIL.Image.Image:
        w, h = img.size
        if self.resize_mode == "center_crop":
            side = min(w, h)
            left, top = (w - side) // 2, (h - side) // 2
            return img.crop((left, top, left + side, top + side))
        side = max(w, h)
        canvas = PIL.Image.new(img.mode, (side, side))  # Black.
        canvas.paste(img, ((side - w) // 2, (side - h) // 2))
        return canvas


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DatasetError(f"{where}: {text!r} is not a number") from None


def _is_int_text(text: str) -> bool:
    return text.strip().lstrip("+-").isdigit()


def _json_entries(path: str, text: str) -> dict[str, int | list[float]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DatasetError(f"{path}: invalid JSON ({e})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a JSON object mapping file names to labels")
    entries: dict[str, int | list[float]] = {}
    for name, value in data.items():
        if isinstance(value, bool) or not isinstance(value, (int, list)):
            raise DatasetError(
                f"{path}: the label of {name!r} is {value!r}; expected a class index (int) or a list of numbers"
            )
        if isinstance(value, list):
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                raise DatasetError(f"{path}: the label of {name!r} is {value!r}; expected a list of numbers")
            value = [float(v) for v in value]
        entries[name] = value
    return entries


def _csv_entries(path: str, text: str) -> dict[str, int | list[float]]:
    rows = [r for r in csv.reader(io.StringIO(text)) if r and any(c.strip() for c in r)]
    rows = [r for r in rows if not r[0].lstrip().startswith("#")]
    if rows and len(rows[0]) > 1:
        try:
            float(rows[0][1])
        except ValueError:
            rows = rows[1:]  # Header.
    entries: dict[str, int | list[float]] = {}
    for line, row in enumerate(rows, start=1):
        name, values = row[0].strip(), [c.strip() for c in row[1:]]
        if not values:
            raise DatasetError(f"{path}: row {line} ({name!r}) has no label")
        if len(values) == 1 and _is_int_text(values[0]):
            entries[name] = int(values[0])
        else:
            entries[name] = [_number(v, f"{path}: row {line}") for v in values]
    return entries


def _label_array(path: str, values: list[int | list[float]]) -> np.ndarray:
    """Class indices as one-hot ``[N, max + 1]``, or label vectors of one length, as float32."""
    if all(isinstance(v, int) for v in values):
        classes = np.asarray(values, dtype=np.int64)
        if classes.min() < 0:
            raise DatasetError(f"{path}: class indices must be >= 0, got {int(classes.min())}")
        onehot = np.zeros([len(values), int(classes.max()) + 1], np.float32)
        onehot[np.arange(len(values)), classes] = 1.0
        return onehot
    if any(isinstance(v, int) for v in values):
        raise DatasetError(f"{path} mixes class indices and label vectors; use one kind for every image")
    sizes = {len(v) for v in values}
    if len(sizes) != 1:
        raise DatasetError(f"{path}: label vectors have different lengths {sorted(sizes)}")
    return np.asarray(values, dtype=np.float32)


_LABEL_FORMATS = {".json": _json_entries, ".csv": _csv_entries}


def read_labels_file(path: str, image_names: list[str]) -> np.ndarray:
    """Reads per-image labels and returns them in the order of ``image_names``.

    Formats (chosen by the extension):

    - ``.json``: an object mapping a file name (without folder) to a class index (int) or a
      label vector (list of numbers): ``{"img000.png": 2, "img001.png": 0}``.
    - ``.csv``: rows ``filename,class`` or ``filename,v1,v2,...``; an optional header row
      (recognised by a non-numeric second column); blank lines and lines starting with
      ``#`` are skipped. A single integer column is a class index; a single value with a
      decimal point is a one-element vector.

    Class indices become one-hot vectors of size ``max(class) + 1`` (as the original's
    converters do). Every image needs a label; entries for other files are ignored.

    Args:
        path: the labels file.
        image_names: file names (without folder) of the images.

    Returns:
        float32 ``[len(image_names), label_size]``.
    """
    if not tf.io.gfile.exists(path):
        raise DatasetError(f"labels file {path} does not exist")
    ext = posixpath.splitext(path)[1].lower()
    with tf.io.gfile.GFile(path, "r") as f:
        text = f.read()
    if ext not in _LABEL_FORMATS:
        raise DatasetError(f"labels file {path}: unknown format {ext!r}; expected .json or .csv")
    entries = _LABEL_FORMATS[ext](path, text)
    missing = [n for n in image_names if n not in entries]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise DatasetError(f"{path} has no label for {len(missing)} image(s): {shown}")
    return _label_array(path, [entries[n] for n in image_names])
