"""Finding and checking the files of a dataset: one level file per resolution, the labels file.

Everything here reads only file sizes, the first record and a few sampled records of
each level, and the labels, so a dataset that cannot work is refused when it is opened,
with an error naming the file, rather than in the middle of a training run. Only
regular files are opened: a level or labels path that is a directory, a FIFO, a device,
a dangling link or a link loop is refused by name.
"""

from __future__ import annotations

import contextlib
import os
import stat
import struct
from typing import NamedTuple

import numpy as np
import tensorflow as tf

from tfstylegan import paths
from tfstylegan.data.errors import DatasetError
from tfstylegan.data.tfrecords.format import TFRECORDS_EXT, decode_example
from tfstylegan.data.tfrecords.records import FRAME_BYTES, check_levels_agree
from tfstylegan.resolution import resolution_log2


class Levels(NamedTuple):
    """The level files of a dataset opened at one resolution."""

    resolution: int  # Full resolution as opened (at most the largest level in the files).
    resolution_log2: int
    num_channels: int  # 1 or 3.
    files: dict[int, str]  # {lod: path} of the levels from this resolution down to 4x4.
    shapes: dict[int, tuple[int, int, int]]  # {lod: [C, H, W]} of the images of each level.
    num_images: int  # Records per level file.
    record_bytes: dict[int, int]  # {lod: bytes per record, framing included}.


def regular_file_size(path: str, what: str) -> int:
    """The size of ``path``, which must be a regular file (a link to one is fine).

    Raises:
        DatasetError: ``path`` is missing, a dangling or looping link, unreadable, or a
            directory, FIFO or device (which is never opened).
    """
    if "://" not in path:
        try:
            st = os.stat(path)
        except OSError as e:
            raise DatasetError(f"{path}: cannot read {what} ({e.strerror or type(e).__name__})") from None
        if not stat.S_ISREG(st.st_mode):
            raise DatasetError(f"{path}: {what} is {paths.file_kind(st.st_mode)}, not a regular file")
        return st.st_size
    try:
        st = tf.io.gfile.stat(path)
    except tf.errors.OpError as e:
        raise DatasetError(f"{path}: cannot read {what} ({e.message[:200]})") from None
    if st.is_directory:
        raise DatasetError(f"{path}: {what} is a directory, not a file")
    return st.length


def inspect_level_file(path: str) -> tuple[tuple[int, int, int], int, int]:
    """Shape ``[C, H, W]`` of the first record, number of records and bytes per record of one level file.

    Reads only the first record and the file size: every record of a level has the same
    shape, hence the same size, so a size that is not a whole number of records means the
    file is truncated (or was not written by this format's writer).
    """
    size = regular_file_size(path, "a level file")
    try:
        with tf.io.gfile.GFile(path, "rb") as f:
            header = f.read(12)
            if len(header) < 12:
                raise DatasetError(
                    f"{path} is {'empty' if size == 0 else 'truncated'}: it holds no complete record"
                )
            (length,) = struct.unpack("<Q", header[:8])
            if length + FRAME_BYTES > size:
                raise DatasetError(
                    f"{path} is truncated or corrupt: its first record claims {length} bytes of {size}"
                )
            payload = f.read(length)
    except tf.errors.OpError as e:
        raise DatasetError(f"{path}: cannot read the level file ({e.message[:200]})") from None
    try:
        shape = decode_example(payload).shape
    except Exception as e:  # noqa: BLE001 - any parse failure means a corrupt record.
        raise DatasetError(f"{path} is corrupt: cannot parse its first record ({str(e)[:200]})") from None
    record_bytes = length + FRAME_BYTES
    if size % record_bytes:
        raise DatasetError(
            f"{path} is truncated or corrupt: its size {size} is not a whole number of "
            f"{record_bytes}-byte records (expected {size // record_bytes} or {size // record_bytes + 1} records)"
        )
    return shape, size // record_bytes, record_bytes


def _level_log2(path: str, shape: tuple[int, int, int], channels: int) -> int:
    """log2 of the side of a level file's images, which must be square powers of two with ``channels``."""
    c, h, w = shape
    if c == channels and h == w:
        with contextlib.suppress(ValueError):
            return resolution_log2(h, minimum=1)
    raise DatasetError(
        f"{path} holds images of shape [C, H, W] = {list(shape)}; expected square power-of-two "
        f"images with {channels} channels like the other levels"
    )


def find_levels(tfrecord_dir: str, resolution: int | None = None) -> Levels:
    """The level files of a dataset at ``resolution`` (None = the largest level found).

    Besides the sizes and first records, a few records of every level are compared with
    the level above (:func:`~tfstylegan.data.tfrecords.records.check_levels_agree`).

    Raises:
        DatasetError: the directory or a level is missing or not a regular file, a file is
            truncated or corrupt, two files hold one level, the levels disagree in
            channels or number of records, or a sampled record does not match the level
            above it.
    """
    if not tf.io.gfile.isdir(tfrecord_dir):
        raise DatasetError(f"dataset directory {tfrecord_dir} does not exist")
    found = sorted(tf.io.gfile.glob(paths.join(tfrecord_dir, "*" + TFRECORDS_EXT)))
    if not found:
        raise DatasetError(
            f"{tfrecord_dir} holds no *{TFRECORDS_EXT} files; expected "
            f"{paths.basename(tfrecord_dir)}-rNN{TFRECORDS_EXT} files written by the dataset tool"
        )
    inspected = {path: inspect_level_file(path) for path in found}
    max_shape = max((shape for shape, _, _ in inspected.values()), key=np.prod)
    channels = max_shape[0]
    resolution = int(resolution if resolution is not None else max_shape[1])
    try:
        log2 = resolution_log2(resolution)
    except ValueError as e:
        raise DatasetError(f"{tfrecord_dir}: {e}") from None
    files: dict[int, str] = {}
    shapes: dict[int, tuple[int, int, int]] = {}
    record_bytes: dict[int, int] = {}
    counts: dict[str, int] = {}
    for path, (shape, count, size) in inspected.items():
        lod = log2 - _level_log2(path, shape, channels)
        if lod < 0:
            continue  # Above the requested resolution.
        if lod in files:
            h = shape[1]
            raise DatasetError(
                f"{path} and {files[lod]} both hold {h}x{h} images; expected one file per level"
            )
        files[lod], shapes[lod], counts[path], record_bytes[lod] = path, shape, count, size
    missing = [lod for lod in range(log2 - 1) if lod not in files]
    if missing:
        names = ", ".join(f"r{log2 - lod:02d}" for lod in missing)
        raise DatasetError(
            f"{tfrecord_dir} lacks the level file(s) {names}; expected one *.tfrecords file per "
            f"resolution from {resolution}x{resolution} down to 4x4"
        )
    if len(set(counts.values())) > 1:
        listing = ", ".join(f"{paths.basename(p)}: {n}" for p, n in counts.items())
        raise DatasetError(f"{tfrecord_dir}: the level files hold different numbers of records ({listing})")
    num_images = next(iter(counts.values()))
    check_levels_agree(files, shapes, record_bytes, num_images)
    return Levels(resolution, log2, int(channels), files, shapes, num_images, record_bytes)


def _locate_labels(tfrecord_dir: str, label_file: str | None) -> str | None:
    """The labels file: as given (or relative to the dataset), else the first ``*.labels``, as the original."""
    if label_file is None:
        guess = sorted(tf.io.gfile.glob(paths.join(tfrecord_dir, "*.labels")))
        return guess[0] if guess else None
    if tf.io.gfile.exists(label_file):
        return label_file
    guess = paths.join(tfrecord_dir, label_file)
    if not tf.io.gfile.exists(guess):
        raise DatasetError(f"label file {label_file} not found (also looked for {guess})")
    return guess


_NPY_MAGIC = b"\x93NUMPY"
_NPY_HEADERS = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}


def read_labels_array(path: str, num_images: int) -> np.ndarray:
    """The labels of a dataset: an ``np.save`` of float32 ``[num_images, label_size]``, all finite.

    The ``.npy`` header is read and checked (dtype, shape, data size) before the data, so a
    header that declares a huge array allocates nothing.

    Raises:
        DatasetError: the file is not a regular file, is an ``.npz`` archive or not an
            ``.npy`` array, or holds another dtype, shape, number of rows or non-finite values.
    """
    size = regular_file_size(path, "the labels file")
    expected = f"expected an np.save of float32 [{num_images}, label_size] (one row per image)"
    try:
        with tf.io.gfile.GFile(path, "rb") as f:
            magic = f.read(8)
            if magic.startswith(b"PK"):
                raise DatasetError(f"{path} is an .npz (zip) archive, not a numpy .npy array; {expected}")
            if not magic.startswith(_NPY_MAGIC) or (magic[6], magic[7]) not in _NPY_HEADERS:
                raise DatasetError(f"{path} is not a numpy .npy array (version 1 or 2); {expected}")
            try:
                shape, fortran, dtype = _NPY_HEADERS[(magic[6], magic[7])](f)
            except ValueError as e:
                raise DatasetError(f"{path} is not a numpy .npy array ({str(e)[:200]}); {expected}") from None
            if dtype.str != "<f4" or len(shape) != 2:
                raise DatasetError(f"{path} holds {dtype.name} {list(shape)}; {expected}")
            if shape[0] != num_images:
                raise DatasetError(f"{path} holds {shape[0]} labels for {num_images} images; {expected}")
            nbytes = shape[0] * shape[1] * 4
            if size - f.tell() != nbytes:
                raise DatasetError(
                    f"{path} holds {size - f.tell()} bytes of data for {list(shape)} float32; {expected}"
                )
            labels = np.frombuffer(f.read(nbytes), np.float32).reshape(shape, order="F" if fortran else "C")
    except tf.errors.OpError as e:
        raise DatasetError(f"{path}: cannot read the labels ({e.message[:200]})") from None
    bad = np.flatnonzero(~np.isfinite(labels).all(axis=1))
    if bad.size:
        raise DatasetError(
            f"{path}: the labels of {bad.size} image(s) are not finite (NaN or inf), e.g. row {bad[0]}"
        )
    return np.ascontiguousarray(labels)


def load_labels(
    tfrecord_dir: str, label_file: str | None, max_label_size: int | str, num_images: int
) -> tuple[str | None, np.ndarray]:
    """Locates and reads the labels of a dataset of ``num_images`` images.

    Args:
        tfrecord_dir: the dataset directory.
        label_file: the labels file (absolute or relative to ``tfrecord_dir``), None = the
            first ``*.labels`` file in sorted order.
        max_label_size: 0 = no labels, 'full' = all components, <int> = the first N.
        num_images: the number of images; the file must hold one row for each
            (see :func:`read_labels_array`).

    Returns:
        ``(label_file, labels)``: the path found (or None) and float32 ``[num_images, label_size]``
        (``[num_images, 0]`` without labels).
    """
    label_file = _locate_labels(tfrecord_dir, label_file)
    if not (max_label_size == "full" or (isinstance(max_label_size, int) and max_label_size >= 0)):
        raise DatasetError(f"max_label_size must be 'full' or an int >= 0, got {max_label_size!r}")
    labels = np.zeros([num_images, 0], dtype=np.float32)
    if label_file is not None and max_label_size != 0:
        labels = read_labels_array(label_file, num_images)
        if max_label_size != "full":
            labels = labels[:, :max_label_size]
    return label_file, np.ascontiguousarray(labels, dtype=np.float32)
