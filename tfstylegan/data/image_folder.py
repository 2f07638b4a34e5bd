"""Reading a folder of image files for the dataset tool: listing, decoding, size and mode policy.

The original tool takes every file of the folder in sorted order, infers the channel count
(1 or 3) from the first image and requires square power-of-two images of one size. This
module keeps those defaults (so the bytes written match the original's) and adds explicit
policies, each chosen by the user:

- ``channels``: convert every image to grayscale (1) or RGB (3) with PIL; needed for
  palette, RGBA, LA, CMYK or bilevel images. Alpha is dropped, not composited.
- ``resize`` + ``resize_mode``: bring every image to ``resize x resize`` (a power of two)
  by cropping the centred square (``center_crop``) or by padding with black to a square
  (``pad``), then resampling with Lanczos. Images already at that size are not resampled.
- labels from a JSON or CSV file: :mod:`tfstylegan.data.image_labels`.

What happens to an odd file, case by case:

- Hidden files and files whose extension no image format uses are ignored, as by the
  original.
- An entry that is not a regular file (a directory named ``x.png``, a FIFO, a socket, a
  device, a dangling link or a link loop) is skipped with a warning; it is never opened.
- File names that are not valid UTF-8 are read as they are (through the operating
  system's bytes, ``os.fsencode``) and shown with ``repr`` in messages.
- 16 bits per sample (16-bit grayscale, 48-bit RGB and 64-bit RGBA PNGs, 16-bit TIFFs)
  is converted to 8 bits explicitly, ``v8 = round(v16 / 257)`` (which never ties), and
  then treated like an 8-bit image of the same kind. PIL alone would keep only the high
  byte of a 48-bit PNG. 32-bit integer and float images are refused (their range is
  unknown).
- Every other problem with an image (not an image, damaged, another mode or size than
  the first good image, not square, not a power of two without ``--resize``) makes it a
  *bad file*. The tool looks at every file before it writes anything and reports all bad
  files at once (the first :data:`MAX_LISTED` by name, then a count); ``--skip_bad``
  leaves them out instead, listing them as warnings. Damage that only shows when the
  pixels are decoded is found while writing, and reported (or skipped) the same way.

Errors are :class:`~tfstylegan.data.errors.DatasetError` naming the file.
"""

from __future__ import annotations

import io
import os
import posixpath
import stat
import sys

import numpy as np
import PIL.Image
import tensorflow as tf

from tfstylegan import paths
from tfstylegan.data.errors import DatasetError
from tfstylegan.resolution import resolution_log2

RESIZE_MODES = ("center_crop", "pad")
MAX_LISTED = 20  # Bad files named in one message; the rest are counted.
_MODES_FOR_CHANNELS = {1: "L", 3: "RGB"}
_SIXTEEN_BIT_MODES = ("I;16", "I;16B", "I;16L", "I;16N")  # 16-bit grayscale as PIL opens it.
_PNG_MODES = {0: "L", 2: "RGB", 4: "LA", 6: "RGBA"}  # PNG colour type -> mode, at 16 bits per sample.


def shown(path: str) -> str:
    """A path for a message: as it is, or its ``repr`` if it holds bytes that are not UTF-8."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return repr(path)
    return path


def warn(message: str) -> None:
    print(f"Warning: {message}", file=sys.stderr, flush=True)


def _is_regular(path: str) -> tuple[bool, str]:
    if "://" in path:
        return (not tf.io.gfile.isdir(path)), "a directory"
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        return False, f"unreadable ({e.strerror or type(e).__name__})"
    return stat.S_ISREG(mode), paths.file_kind(mode)


def list_images(image_dir: str) -> list[str]:
    """Image files of a folder (by extension, hidden files skipped), sorted by name.

    Entries that are not regular files are skipped with a warning.

    Raises:
        DatasetError: the folder does not exist or holds no image file.
    """
    if not (os.path.isdir(image_dir) if "://" not in image_dir else tf.io.gfile.isdir(image_dir)):
        raise DatasetError(f"image folder {image_dir} does not exist")
    PIL.Image.init()
    extensions = {ext.lower() for ext in PIL.Image.registered_extensions()}
    names = os.listdir(image_dir) if "://" not in image_dir else tf.io.gfile.listdir(image_dir)
    candidates = sorted(
        n
        for n in names
        if not n.startswith(".") and posixpath.splitext(n.rstrip("/"))[1].lower() in extensions
    )
    found = []
    for name in candidates:
        path = paths.join(image_dir, name.rstrip("/"))
        regular, kind = _is_regular(path)
        if regular:
            found.append(path)
        else:
            warn(f"skipping {shown(path)}: it is {kind}, not a regular file")
    if not found:
        raise DatasetError(
            f"no images found in {image_dir} (looked for {', '.join(sorted(extensions)[:8])}, ...)"
        )
    return found


def _read_file(path: str) -> bytes:
    if "://" in path:
        with tf.io.gfile.GFile(path, "rb") as f:
            return f.read()
    with paths.open_regular_file(path) as f:  # Checked again at open: never a FIFO.
        return f.read()


def _png_sixteen_bit(data: bytes) -> str | None:
    """The mode of a 16-bit-per-sample PNG (its IHDR), or None for any other file."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 26 and data[24] == 16:
        return _PNG_MODES.get(data[25])
    return None


def _to_eight_bits(values: np.ndarray) -> np.ndarray:
    """uint16 -> uint8 as ``round(v / 257)``: 0 -> 0, 65535 -> 255, 8-bit values scaled by 257 come back."""
    return ((values.astype(np.uint32) * 2 + 257) // 514).astype(np.uint8)


def _decode(path: str, data: bytes) -> PIL.Image.Image:
    png_mode = _png_sixteen_bit(data)
    if png_mode is not None:
        pixels = tf.io.decode_png(data, channels=0, dtype=tf.uint16).numpy()  # [H, W, C] uint16
        pixels = _to_eight_bits(pixels)
        return PIL.Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels, png_mode)
    img = PIL.Image.open(io.BytesIO(data))
    img.load()
    if img.mode in _SIXTEEN_BIT_MODES:
        return PIL.Image.fromarray(_to_eight_bits(np.asarray(img)), "L")
    if img.mode in ("I", "F") or any(
        ";16" in str(getattr(t, "args", "")) for t in getattr(img, "tile", ()) or ()
    ):
        raise DatasetError(
            f"{shown(path)}: {img.mode} images of more than 8 bits per sample are not supported"
        )
    return img


def open_image(path: str) -> PIL.Image.Image:
    """Decodes an image file fully (so a damaged file fails here, naming the file), at 8 bits per sample."""
    try:
        return _decode(path, _read_file(path))
    except DatasetError:
        raise
    except Exception as e:  # noqa: BLE001 - PIL raises many kinds of errors for bad files.
        raise DatasetError(
            f"{shown(path)}: cannot read the image ({type(e).__name__}: {str(e)[:200]})"
        ) from None


def peek_image(path: str) -> tuple[str, tuple[int, int]]:
    """Mode (after the 16-bit conversion) and size of an image, from its header only."""
    try:
        if "://" in path:
            file = tf.io.gfile.GFile(path, "rb")
        else:
            file = paths.open_regular_file(path)
        with file:
            head = file.read(32)
            file.seek(0)
            with PIL.Image.open(file) as img:
                mode, size = img.mode, img.size
    except Exception as e:  # noqa: BLE001
        raise DatasetError(
            f"{shown(path)}: cannot read the image ({type(e).__name__}: {str(e)[:200]})"
        ) from None
    mode = _png_sixteen_bit(head) or ("L" if mode in _SIXTEEN_BIT_MODES else mode)
    if mode in ("I", "F"):
        raise DatasetError(f"{shown(path)}: {mode} images of more than 8 bits per sample are not supported")
    return mode, size


def infer_channels(path: str, mode: str) -> int:
    """The original's rule: 1 for a grayscale image, 3 for RGB; anything else needs ``--channels``."""
    for channels, channel_mode in _MODES_FOR_CHANNELS.items():
        if mode == channel_mode:
            return channels
    raise DatasetError(
        f"{shown(path)} is a {mode} image; pass --channels 1 (grayscale) or 3 (RGB) to convert the images"
    )


class ImageLoader:
    """Loads the images of a folder as HWC uint8 arrays of one shape, following explicit policies.

    :meth:`check` looks at an image's header only (to find every bad file before writing);
    calling the loader decodes the image. The first image that passes sets the mode and
    size that the others are compared with (unless ``channels`` / ``resize`` are given).

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

    def check(self, path: str, mode: str | None = None, size: tuple[int, int] | None = None) -> None:
        """Raises DatasetError if the image at ``path`` (of ``mode`` and ``size``, else read) cannot be used."""
        if mode is None:
            mode, size = peek_image(path)
        first = self._first or (path, mode, size)
        channels = self.channels if self.channels is not None else infer_channels(path, mode)
        first_path, first_mode, first_size = first
        if mode != _MODES_FOR_CHANNELS[channels] and not self._explicit_channels:
            raise DatasetError(
                f"{shown(path)} is a {mode} image but {shown(first_path)} is {first_mode}; "
                "pass --channels 1 or 3 to convert every image"
            )
        w, h = size
        if self.resize is None:
            if w != h:
                raise DatasetError(
                    f"{shown(path)} is {w}x{h}, not square; pass --resize RES with --resize_mode center_crop or pad"
                )
            try:
                resolution_log2(w)
            except ValueError:
                raise DatasetError(
                    f"{shown(path)} is {w}x{h}; the size must be a power of two >= 4, or pass --resize RES"
                ) from None
            if (w, h) != first_size:
                raise DatasetError(
                    f"{shown(path)} is {w}x{h} but {shown(first_path)} is {first_size[0]}x{first_size[1]}; "
                    "all images must have the same size, or pass --resize RES"
                )
        self._first, self.channels = first, channels  # The first image that passes sets the rules.

    def __call__(self, path: str) -> np.ndarray:
        """Returns ``[H, W, C]`` uint8 (C = 1 or 3)."""
        img = open_image(path)
        self.check(path, img.mode, img.size)
        mode = _MODES_FOR_CHANNELS[self.channels]
        if img.mode != mode:
            img = img.convert(mode)
        if self.resize is not None and img.size != (self.resize, self.resize):
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


def bad_files_message(image_dir: str, bad: list[tuple[str, str]], total: int, hint: str) -> str:
    """The first bad file's reason, then how many more of ``total`` there are and one line for each (capped)."""
    if len(bad) == 1:
        return f"{bad[0][1]} ({hint})"
    lines = [
        f"{bad[0][1]}; {len(bad) - 1} more of the {total} images in {image_dir} cannot be used either ({hint}):"
    ]
    lines += [f"  {reason}" for _, reason in bad[1:MAX_LISTED]]
    if len(bad) > MAX_LISTED:
        lines.append(f"  ... and {len(bad) - MAX_LISTED} more")
    return "\n".join(lines)
