"""The original StyleGAN multi-resolution TFRecord dataset format: writer and reader.

A dataset is a directory ``<dir>`` holding one uncompressed TFRecord file per level of
detail, ``<dir>/<basename(dir)>-rNN.tfrecords`` with ``NN = log2(resolution)``, from the
full resolution down to ``r02`` (4x4), plus optionally ``<basename>-rxx.labels``.

- Every record is a ``tf.train.Example`` with two features: ``shape`` (int64 list
  ``[C, H, W]``) and ``data`` (the raw uint8 bytes in C, H, W order).
- Every file holds the same images in the same order, so record ``i`` of every level is
  the same picture, and row ``i`` of the labels array belongs to it.
- Level ``k+1`` is the 2x2 box average of the **float, unquantised** level ``k``; each
  level is quantised on its own (``np.rint``, clip to [0, 255], uint8).
- Labels are ``np.save`` of a float32 ``[N, label_size]`` array.

The writer emits the Example's feature map in the order ``shape``, ``data`` by encoding
the (tiny, fixed) protobuf by hand, so its bytes are identical from run to run and to the
files written by the original tool; TensorFlow's own protobuf serialiser does not
guarantee the order of map entries.

Inside this project images are NHWC: the writer takes ``[H, W, C]`` arrays and the reader
yields ``[N, H, W, C]`` uint8 minibatches with float32 ``[N, label_size]`` labels.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import struct
import time
from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from tfstylegan.paths import basename as _basename
from tfstylegan.paths import join as _join
from tfstylegan.resolution import resolution_log2

LABELS_SUFFIX = "-rxx.labels"
TFRECORDS_EXT = ".tfrecords"
_TMP_EXT = ".tmp"  # Suffix of files being written; renamed away once the dataset is complete.
_FRAME_BYTES = 16  # TFRecord framing per record: uint64 length, uint32 CRC, payload, uint32 CRC.
_MAX_PREFETCH_BATCHES = 16  # Upper bound on the minibatches prefetch_mb may hold.


class DatasetError(ValueError):
    """A dataset or one of its inputs is missing, malformed or inconsistent.

    The message names the offending path and says what was expected; command-line tools
    print it without a traceback.
    """


# ----------------------------------------------------------------------------
# Encoding of one record.


def _varint(value: int) -> bytes:
    """Protobuf base-128 varint of a non-negative integer."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _length_delimited(field_number: int, payload: bytes) -> bytes:
    """A protobuf field of wire type 2 (bytes, strings, sub-messages, packed lists)."""
    return _varint((field_number << 3) | 2) + _varint(len(payload)) + payload


def encode_example(image_chw: np.ndarray) -> bytes:
    """Serialises one image as the original format's ``tf.train.Example``.

    The bytes are those of ``Example(features=Features(feature={'shape': Int64List(shape),
    'data': BytesList([bytes])}))`` with the map entries in the order ``shape``, ``data``.

    Args:
        image_chw: uint8 array ``[C, H, W]``.

    Returns:
        The serialised Example.
    """
    image_chw = np.ascontiguousarray(image_chw, dtype=np.uint8)
    packed_shape = b"".join(_varint(int(d)) for d in image_chw.shape)
    shape_feature = _length_delimited(3, _length_delimited(1, packed_shape))  # Feature.int64_list
    data_feature = _length_delimited(1, _length_delimited(1, image_chw.tobytes()))  # Feature.bytes_list
    entries = _length_delimited(
        1, _length_delimited(1, b"shape") + _length_delimited(2, shape_feature)
    ) + _length_delimited(1, _length_delimited(1, b"data") + _length_delimited(2, data_feature))
    return _length_delimited(1, entries)  # Example.features


def decode_example(serialized: bytes) -> np.ndarray:
    """Parses one record of the format into a uint8 ``[C, H, W]`` array (either map order)."""
    example = tf.train.Example.FromString(serialized)
    feature = example.features.feature
    if "shape" not in feature or "data" not in feature:
        raise ValueError(f"record has features {sorted(feature.keys())}, expected 'shape' and 'data'")
    shape = list(feature["shape"].int64_list.value)
    values = feature["data"].bytes_list.value
    if len(shape) != 3 or len(values) != 1:
        raise ValueError(f"record has shape {shape} and {len(values)} data values, expected [C, H, W] and 1")
    data = np.frombuffer(values[0], dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"record holds {data.size} bytes for shape {shape}")
    return data.reshape(shape)


def image_levels(image: np.ndarray, num_levels: int) -> Iterator[np.ndarray]:
    """Yields the quantised levels of detail of one image, full resolution first.

    Each level is the 2x2 box average of the previous **unquantised** level, computed in
    float32 as ``(a + b + c + d) * 0.25``; each is then rounded half to even, clipped to
    [0, 255] and cast to uint8.

    Args:
        image: ``[H, W, C]`` array (uint8 or float).
        num_levels: how many levels to produce.

    Yields:
        uint8 arrays ``[H / 2**k, W / 2**k, C]`` for k = 0 .. num_levels - 1.
    """
    img = image
    for level in range(num_levels):
        if level:
            img = img.astype(np.float32)
            img = (img[0::2, 0::2] + img[0::2, 1::2] + img[1::2, 0::2] + img[1::2, 1::2]) * 0.25
        if img.dtype == np.uint8:
            yield img
        else:
            yield np.rint(img).clip(0, 255).astype(np.uint8)


def shuffled_order(num_images: int) -> np.ndarray:
    """The record order of ``--shuffle 1``: ``RandomState(123)`` shuffling ``arange(N)``."""
    order = np.arange(num_images)
    np.random.RandomState(123).shuffle(order)
    return order


# ----------------------------------------------------------------------------
# Writer.


def _existing_dataset_files(tfrecord_dir: str) -> list[str]:
    if not tf.io.gfile.isdir(tfrecord_dir):
        return []
    return sorted(
        tf.io.gfile.glob(_join(tfrecord_dir, "*" + TFRECORDS_EXT))
        + tf.io.gfile.glob(_join(tfrecord_dir, "*.labels"))
    )


class TFRecordExporter:
    """Writes a dataset in the original multi-resolution format.

    Files are written under temporary names and renamed into place by :meth:`close`, so an
    interrupted conversion never leaves a directory that looks like a complete dataset.
    Used as a context manager, an exception inside the ``with`` block discards everything
    written so far.

    Example::

        with TFRecordExporter('datasets/mine', len(images)) as tfr:
            order = tfr.choose_shuffled_order()
            for idx in order:
                tfr.add_image(images[idx])      # [H, W, C] uint8
            tfr.add_labels(labels[order])       # [N, label_size]
    """

    def __init__(
        self,
        tfrecord_dir: str,  # Directory to create; its basename prefixes every file.
        expected_images: int,  # Number of images that will be added (for progress and shuffling).
        print_progress: bool = True,  # Print a line at start, every progress_interval images and at the end.
        progress_interval: int | None = None,  # Images between progress lines, None = about 10-100 lines.
        overwrite: bool = False,  # Replace a dataset already in tfrecord_dir; False = refuse.
    ):
        self.tfrecord_dir = tfrecord_dir.rstrip("/") or tfrecord_dir
        self.tfr_prefix = _join(self.tfrecord_dir, _basename(self.tfrecord_dir))
        self.expected_images = int(expected_images)
        self.cur_images = 0
        self.shape: tuple[int, ...] | None = None  # [H, W, C] of the full-resolution images.
        self.resolution_log2: int | None = None
        self.print_progress = print_progress
        self.progress_interval = progress_interval or _default_progress_interval(self.expected_images)
        self.overwrite = overwrite
        self._writers: list[tf.io.TFRecordWriter] = []
        self._tmp_files: list[str] = []  # Files being written, in the order they were opened ...
        self._final_files: list[str] = []  # ... and the names they get once the dataset is complete.
        self._created_dir = False
        self._start_time = time.time()
        self._closed = False

        existing = _existing_dataset_files(self.tfrecord_dir)
        if existing and not overwrite:
            raise DatasetError(
                f"{self.tfrecord_dir} already holds a dataset ({', '.join(_basename(f) for f in existing)}); "
                "choose another directory or pass overwrite (--overwrite) to replace it"
            )
        if self.print_progress:
            print(f'Creating dataset "{self.tfrecord_dir}"', flush=True)
        if not tf.io.gfile.isdir(self.tfrecord_dir):
            tf.io.gfile.makedirs(self.tfrecord_dir)
            self._created_dir = True

    def choose_shuffled_order(self) -> np.ndarray:
        """The order of ``--shuffle 1``; add images and labels in this order."""
        return shuffled_order(self.expected_images)

    def _open(self, final_path: str) -> str:
        tmp_path = final_path + _TMP_EXT
        self._tmp_files.append(tmp_path)
        self._final_files.append(final_path)
        return tmp_path

    def add_image(self, img: np.ndarray) -> None:
        """Appends one image to every level.

        Args:
            img: ``[H, W, C]`` (or ``[H, W]`` for grayscale) with C in {1, 3}, H == W a power
                of two >= 4. Usually uint8; float values are rounded half to even.
        """
        img = np.asarray(img)
        if img.ndim == 2:
            img = img[:, :, np.newaxis]  # [H, W] => [H, W, 1]
        if self.shape is None:
            h, w, c = img.shape if img.ndim == 3 else (None, None, None)
            if img.ndim != 3 or c not in (1, 3):
                raise DatasetError(f"images must be [H, W, C] with 1 or 3 channels, got shape {img.shape}")
            not_square = f"images must be square with a power-of-two size >= 4, got {w}x{h}"
            if h != w:
                raise DatasetError(not_square)
            try:
                self.resolution_log2 = resolution_log2(h)
            except ValueError:
                raise DatasetError(not_square) from None
            self.shape = img.shape
            for log2 in range(self.resolution_log2, 1, -1):
                path = self._open(f"{self.tfr_prefix}-r{log2:02d}{TFRECORDS_EXT}")
                self._writers.append(tf.io.TFRecordWriter(path))
        if img.shape != self.shape:
            raise DatasetError(f"image has shape {img.shape}, expected {self.shape} like the first image")
        for writer, quant in zip(self._writers, image_levels(img, len(self._writers))):
            writer.write(encode_example(quant.transpose(2, 0, 1)))  # HWC => CHW
        self.cur_images += 1
        if self.print_progress and self.cur_images % self.progress_interval == 0:
            self._print_progress()

    def _print_progress(self) -> None:
        elapsed = max(time.time() - self._start_time, 1e-9)
        total = max(self.expected_images, self.cur_images)
        print(
            f"  {self.cur_images} / {total} images ({100.0 * self.cur_images / max(total, 1):.0f}%, "
            f"{self.cur_images / elapsed:.0f} img/s)",
            flush=True,
        )

    def add_labels(self, labels: np.ndarray) -> None:
        """Stores the labels of the images added so far, in the same order.

        Args:
            labels: ``[N, label_size]``, N == the number of images added; saved as float32.
        """
        labels = np.asarray(labels)
        if labels.ndim != 2 or labels.shape[0] != self.cur_images:
            raise DatasetError(f"labels have shape {labels.shape}, expected [{self.cur_images}, label_size]")
        with tf.io.gfile.GFile(self._open(self.tfr_prefix + LABELS_SUFFIX), "wb") as f:
            np.save(f, labels.astype(np.float32))

    def close(self) -> None:
        """Flushes the files and moves them to their final names (completing the dataset)."""
        if self._closed:
            return
        self._closed = True
        for writer in self._writers:
            writer.close()
        self._writers = []
        if self.cur_images == 0:
            self._discard()
            raise DatasetError(f"no images were added to {self.tfrecord_dir}; nothing written")
        for path in _existing_dataset_files(self.tfrecord_dir):  # Only with overwrite=True (see __init__).
            tf.io.gfile.remove(path)
        # Labels first, then the levels from the full resolution down to 4x4: the reader needs
        # every level below the largest one, so until the last rename the directory reads as
        # incomplete, never as a smaller or mixed dataset.
        pairs = list(zip(self._tmp_files, self._final_files))
        for tmp, final in sorted(pairs, key=lambda p: not p[1].endswith(LABELS_SUFFIX)):  # Stable sort.
            tf.io.gfile.rename(tmp, final, overwrite=True)
        if self.print_progress:
            print(f"Added {self.cur_images} images.", flush=True)

    def _discard(self) -> None:
        for writer in self._writers:
            writer.close()
        self._writers = []
        for tmp in self._tmp_files:
            if tf.io.gfile.exists(tmp):
                tf.io.gfile.remove(tmp)
        if self._created_dir and not tf.io.gfile.listdir(self.tfrecord_dir):
            tf.io.gfile.rmtree(self.tfrecord_dir)

    def abort(self) -> None:
        """Discards everything written so far (also what ``__exit__`` does on an exception)."""
        self._closed = True
        self._discard()

    def __enter__(self) -> TFRecordExporter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def _default_progress_interval(expected_images: int) -> int:
    """A round interval giving about 10 to 100 progress lines (never fewer than 100 images)."""
    return max(100, 10 ** max(int(math.log10(max(expected_images, 1))) - 1, 0))


# ----------------------------------------------------------------------------
# Reader.


def _inspect_tfrecord_file(path: str) -> tuple[tuple[int, int, int], int]:
    """Shape ``[C, H, W]`` of the first record and number of records of one level file.

    Reads only the first record and the file size: every record of a level has the same
    shape, hence the same size, so a size that is not a whole number of records means the
    file is truncated (or was not written by this format's writer).
    """
    size = tf.io.gfile.stat(path).length
    with tf.io.gfile.GFile(path, "rb") as f:
        header = f.read(12)
        if len(header) < 12:
            raise DatasetError(
                f"{path} is {'empty' if size == 0 else 'truncated'}: it holds no complete record"
            )
        (length,) = struct.unpack("<Q", header[:8])
        if length + _FRAME_BYTES > size:
            raise DatasetError(
                f"{path} is truncated or corrupt: its first record claims {length} bytes of {size}"
            )
        payload = f.read(length)
    try:
        shape = decode_example(payload).shape
    except Exception as e:  # noqa: BLE001 - any parse failure means a corrupt record.
        raise DatasetError(f"{path} is corrupt: cannot parse its first record ({e})") from None
    record_bytes = length + _FRAME_BYTES
    if size % record_bytes:
        raise DatasetError(
            f"{path} is truncated or corrupt: its size {size} is not a whole number of "
            f"{record_bytes}-byte records (expected {size // record_bytes} or {size // record_bytes + 1} records)"
        )
    return shape, size // record_bytes


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


def _parse_batch(serialized: tf.Tensor, shape_chw: tuple[int, int, int]) -> tf.Tensor:
    """Parses a batch of serialised records into uint8 images ``[B, H, W, C]``."""
    features = tf.io.parse_example(
        serialized,
        {"shape": tf.io.FixedLenFeature([3], tf.int64), "data": tf.io.FixedLenFeature([], tf.string)},
    )
    data = tf.io.decode_raw(features["data"], tf.uint8)  # [B, C*H*W]
    images = tf.reshape(data, [-1, *shape_chw])  # [B, C, H, W]
    images.set_shape([serialized.shape[0], *shape_chw])  # Keep a static batch size.
    return tf.transpose(images, [0, 2, 3, 1])  # [B, H, W, C]


def _tf_error_text(error: tf.errors.OpError) -> str:
    """The useful part of a TensorFlow runtime error message (no op, node or trace decorations)."""
    text = re.sub(r"\{\{[^}]*\}\}|\[\[[^\]]*\]\]|\[Op:[^\]]*\](\s*name:\s*)?", "", error.message)
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [
        ln for ln in lines if ln and not ln.startswith(("Graph execution error", "Detected at node", "File "))
    ]
    return " ".join(lines) or error.message.strip()


class TFRecordDataset:
    """Reads a dataset in the original multi-resolution format (see the module docstring).

    Mirrors the original ``training.dataset.TFRecordDataset``: the constructor inspects the
    files and loads the labels; :meth:`as_dataset` builds the ``tf.data`` pipeline of one
    level of detail (the original's ``configure(minibatch_size, lod)`` +
    ``get_minibatch_tf()``). Unlike the original, images are NHWC and ``shape`` is
    ``[H, W, C]``.

    Record ``i`` of a level is paired with row ``i`` of the labels file, before shuffling
    (as the original zips the two). The labels file may hold more rows than there are
    images (the extra rows are only used by :meth:`get_random_labels_tf`, as in the
    original); fewer rows is an error.

    Attributes:
        tfrecord_dir: the dataset directory.
        resolution: full resolution (int), ``resolution_log2`` its log2.
        shape: ``[resolution, resolution, num_channels]``.
        num_channels: 1 or 3.
        dtype: ``'uint8'``; dynamic_range: ``[0, 255]``.
        label_file: path of the labels file, or None.
        label_size: number of label components (0 = unconditional); label_dtype: ``'float32'``.
        num_images: number of images (records per level file).
        tfr_files: ``{lod: path}`` of the level files used.
    """

    def __init__(
        self,
        tfrecord_dir: str,  # Directory containing the *.tfrecords files.
        resolution: int | None = None,  # Dataset resolution, None = the largest level found.
        label_file: str
        | None = None,  # Labels file (absolute or relative to tfrecord_dir), None = first *.labels.
        max_label_size: int | str = 0,  # 0 = no labels, 'full' = all components, <int> = first N components.
        repeat: bool = True,  # Repeat the data indefinitely.
        shuffle_mb: int = 4096,  # Shuffle window in MiB of uint8 images, 0 = no shuffling.
        prefetch_mb: int = 2048,  # Data to prefetch in MiB (at most 16 minibatches), 0 = no prefetching.
        buffer_mb: int = 256,  # Read buffer of the TFRecord reader in MiB.
        num_threads: int = 2,  # Parallel parse calls.
    ):
        self.tfrecord_dir = tfrecord_dir
        self.dtype = "uint8"
        self.dynamic_range = [0, 255]
        self.label_dtype = "float32"
        self.repeat = bool(repeat)
        self.shuffle_mb = int(shuffle_mb)
        self.prefetch_mb = int(prefetch_mb)
        self.buffer_mb = int(buffer_mb)
        self.num_threads = int(num_threads)
        self._labels_tf = None

        if not tf.io.gfile.isdir(tfrecord_dir):
            raise DatasetError(f"dataset directory {tfrecord_dir} does not exist")
        files = sorted(tf.io.gfile.glob(_join(tfrecord_dir, "*" + TFRECORDS_EXT)))
        if not files:
            raise DatasetError(
                f"{tfrecord_dir} holds no *{TFRECORDS_EXT} files; expected "
                f"{_basename(tfrecord_dir)}-rNN{TFRECORDS_EXT} files written by the dataset tool"
            )
        inspected = {path: _inspect_tfrecord_file(path) for path in files}

        # Shape and resolution.
        shapes = [shape for shape, _ in inspected.values()]
        max_shape = max(shapes, key=np.prod)
        channels = max_shape[0]
        self.resolution = int(resolution if resolution is not None else max_shape[1])
        try:
            self.resolution_log2 = resolution_log2(self.resolution)
        except ValueError as e:
            raise DatasetError(f"{tfrecord_dir}: {e}") from None
        self.num_channels = int(channels)
        self.shape = [self.resolution, self.resolution, self.num_channels]
        self.tfr_files: dict[int, str] = {}
        self._tfr_shapes: dict[int, tuple[int, int, int]] = {}
        counts: dict[str, int] = {}
        for path, (shape, count) in inspected.items():
            h = shape[1]
            lod = self.resolution_log2 - _level_log2(path, shape, channels)
            if lod < 0:
                continue  # Above the requested resolution.
            if lod in self.tfr_files:
                raise DatasetError(
                    f"{path} and {self.tfr_files[lod]} both hold {h}x{h} images; expected one file per level"
                )
            self.tfr_files[lod] = path
            self._tfr_shapes[lod] = shape
            counts[path] = count
        missing = [lod for lod in range(self.resolution_log2 - 1) if lod not in self.tfr_files]
        if missing:
            names = ", ".join(f"r{self.resolution_log2 - lod:02d}" for lod in missing)
            raise DatasetError(
                f"{tfrecord_dir} lacks the level file(s) {names}; expected one *.tfrecords file per "
                f"resolution from {self.resolution}x{self.resolution} down to 4x4"
            )
        if len(set(counts.values())) > 1:
            listing = ", ".join(f"{_basename(p)}: {n}" for p, n in counts.items())
            raise DatasetError(
                f"{tfrecord_dir}: the level files hold different numbers of records ({listing})"
            )
        self.num_images = next(iter(counts.values()))

        # Labels, located like the original: the first *.labels in sorted order by default.
        self.label_file = label_file
        if self.label_file is None:
            guess = sorted(tf.io.gfile.glob(_join(tfrecord_dir, "*.labels")))
            if guess:
                self.label_file = guess[0]
        elif not tf.io.gfile.exists(self.label_file):
            guess = _join(tfrecord_dir, self.label_file)
            if not tf.io.gfile.exists(guess):
                raise DatasetError(f"label file {self.label_file} not found (also looked for {guess})")
            self.label_file = guess
        if not (max_label_size == "full" or (isinstance(max_label_size, int) and max_label_size >= 0)):
            raise DatasetError(f"max_label_size must be 'full' or an int >= 0, got {max_label_size!r}")
        labels = np.zeros([self.num_images, 0], dtype=np.float32)
        if self.label_file is not None and max_label_size != 0:
            with tf.io.gfile.GFile(self.label_file, "rb") as f:
                try:
                    labels = np.load(io.BytesIO(f.read()), allow_pickle=False)
                except Exception as e:  # noqa: BLE001
                    raise DatasetError(f"{self.label_file} is not a numpy .npy array ({e})") from None
            if labels.ndim != 2:
                raise DatasetError(
                    f"{self.label_file} holds an array of shape {labels.shape}, expected [N, label_size]"
                )
            if labels.shape[0] < self.num_images:
                raise DatasetError(
                    f"{self.label_file} holds {labels.shape[0]} labels for {self.num_images} images; "
                    "expected one row per image"
                )
            if max_label_size != "full":
                labels = labels[:, :max_label_size]
        self._np_labels = np.ascontiguousarray(labels, dtype=np.float32)
        self.label_size = int(self._np_labels.shape[1])

    # ------------------------------------------------------------------
    def _level(self, lod: float) -> int:
        level = int(np.floor(lod))
        if level not in self.tfr_files:
            raise DatasetError(
                f"{self.tfrecord_dir}: no level for lod {lod}; expected 0 <= lod < {self.resolution_log2 - 1}"
            )
        return level

    def tfrecord_file(self, lod: float = 0) -> str:
        """Path of the level file that holds the data for ``lod`` (level ``floor(lod)``)."""
        return self.tfr_files[self._level(lod)]

    def level_shape(self, lod: float = 0) -> list[int]:
        """Image shape ``[H, W, C]`` at level ``floor(lod)``."""
        c, h, w = self._tfr_shapes[self._level(lod)]
        return [h, w, c]

    def _records_and_labels(self, lod: float) -> tf.data.Dataset:
        records = tf.data.TFRecordDataset(
            self.tfrecord_file(lod), compression_type="", buffer_size=self.buffer_mb << 20
        )
        labels = tf.data.Dataset.from_tensor_slices(self._np_labels[: self.num_images])
        return tf.data.Dataset.zip((records, labels))

    def as_dataset(
        self,
        minibatch_size: int,
        lod: float = 0,
        input_context: tf.distribute.InputContext | None = None,
        seed: int | None = None,
    ) -> tf.data.Dataset:
        """The minibatches of one level of detail as a ``tf.data.Dataset``.

        Pipeline: records zipped with their labels, sharded per input pipeline, shuffled
        (window ``shuffle_mb``), repeated (if ``repeat``), batched, parsed, prefetched.

        Args:
            minibatch_size: the global minibatch size. With ``input_context`` each input
                pipeline yields ``input_context.get_per_replica_batch_size(minibatch_size)``.
            lod: level of detail (a Python number); the data comes from level ``floor(lod)``,
                i.e. the file ``r{resolution_log2 - floor(lod):02d}``. Build a new dataset (and
                iterator) when ``floor(lod)`` or the minibatch size changes, as the original's
                ``configure()`` does.
            input_context: from ``strategy.distribute_datasets_from_function``; the records
                are split into ``num_input_pipelines`` disjoint shards.
            seed: shuffle seed, None = nondeterministic.

        Returns:
            Dataset of ``(images, labels)``: uint8 ``[B, r, r, C]`` with
            ``r = resolution / 2**floor(lod)``, float32 ``[B, label_size]``. When repeating,
            every minibatch is full and the batch dimension is static.
        """
        shape_chw = self._tfr_shapes[self._level(lod)]
        dset = self._records_and_labels(lod)
        batch = int(minibatch_size)
        num_records = self.num_images
        if input_context is not None:
            batch = input_context.get_per_replica_batch_size(minibatch_size)
            if input_context.num_input_pipelines > 1:
                dset = dset.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
                num_records = -(-num_records // input_context.num_input_pipelines)
        if batch < 1:
            raise ValueError(f"minibatch size must be >= 1, got {batch}")
        bytes_per_item = int(np.prod(shape_chw))
        if self.shuffle_mb > 0:
            buffer = ((self.shuffle_mb << 20) - 1) // bytes_per_item + 1
            dset = dset.shuffle(min(buffer, num_records), seed=seed)
        if self.repeat:
            dset = dset.repeat()
        dset = dset.batch(batch, drop_remainder=self.repeat)
        dset = dset.map(
            lambda records, labels: (_parse_batch(records, shape_chw), labels),
            num_parallel_calls=self.num_threads,
        )
        if self.prefetch_mb > 0:
            batches = ((self.prefetch_mb << 20) - 1) // (bytes_per_item * batch) + 1
            dset = dset.prefetch(min(batches, _MAX_PREFETCH_BATCHES))
        return dset

    # ------------------------------------------------------------------
    @contextlib.contextmanager
    def naming_read_errors(self, lod: float = 0):
        """Turns a TFRecord read error inside the block into a :class:`DatasetError` naming the file.

        TensorFlow's reader reports a corrupt record without saying which file it was in;
        wrap the code that pulls minibatches of level ``lod`` (e.g. the training loop) in
        this context manager to get the file name.
        """
        try:
            yield
        except tf.errors.DataLossError as e:
            raise DatasetError(
                f"{self.tfrecord_file(lod)} is corrupt or truncated: {_tf_error_text(e)}"
            ) from e

    def iter_np(self, lod: float = 0, minibatch_size: int = 256) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Iterates over a level in file order (no shuffling, no repeat) as numpy arrays.

        Yields:
            ``(images, labels)``: uint8 ``[B, r, r, C]`` and float32 ``[B, label_size]``.
        """
        shape_chw = self._tfr_shapes[self._level(lod)]
        dset = self._records_and_labels(lod).batch(minibatch_size)
        dset = dset.map(lambda records, labels: (_parse_batch(records, shape_chw), labels))
        with self.naming_read_errors(lod):
            yield from dset.as_numpy_iterator()

    def read_all_np(self, lod: float = 0) -> tuple[np.ndarray, np.ndarray]:
        """Every image of a level with its label, in file order (for tests, FID, tools).

        Returns:
            ``(images, labels)``: uint8 ``[N, r, r, C]`` and float32 ``[N, label_size]``.
        """
        batches = list(self.iter_np(lod, minibatch_size=1024))
        h, w, c = self.level_shape(lod)
        if not batches:
            return np.zeros([0, h, w, c], np.uint8), np.zeros([0, self.label_size], np.float32)
        return np.concatenate([b[0] for b in batches]), np.concatenate([b[1] for b in batches])

    def verify(self) -> None:
        """Reads every record of every level, raising a :class:`DatasetError` naming a bad file."""
        for lod, path in sorted(self.tfr_files.items()):
            count = 0
            for images, _ in self.iter_np(lod, minibatch_size=1024):
                count += images.shape[0]
            if count != self.num_images:
                raise DatasetError(f"{path} holds {count} readable records, expected {self.num_images}")

    # ------------------------------------------------------------------
    def get_random_labels_tf(self, minibatch_size: int, rng=None) -> tf.Tensor:
        """Labels of random dataset rows (what the original G losses condition on).

        Args:
            minibatch_size: number of labels (int or scalar tensor).
            rng: a ``tf.random.Generator``-like object (``.uniform(shape, minval, maxval,
                dtype)``); None = ``tf.random.uniform``.

        Returns:
            float32 ``[minibatch_size, label_size]`` (``[minibatch_size, 0]`` without labels).
        """
        if self.label_size == 0:
            return tf.zeros([minibatch_size, 0], tf.float32)
        if self._labels_tf is None:
            with tf.init_scope():  # A tensor captured by reference, not a graph constant.
                self._labels_tf = tf.constant(self._np_labels)
        num = self._np_labels.shape[0]
        if rng is None:
            idx = tf.random.uniform([minibatch_size], 0, num, dtype=tf.int32)
        else:
            idx = rng.uniform([minibatch_size], 0, num, dtype=tf.int32)
        return tf.gather(self._labels_tf, idx)

    def get_random_labels_np(
        self, minibatch_size: int, rng: np.random.RandomState | None = None
    ) -> np.ndarray:
        """Numpy version of :meth:`get_random_labels_tf` (``rng`` defaults to ``np.random``)."""
        if self.label_size == 0:
            return np.zeros([minibatch_size, 0], np.float32)
        rng = np.random if rng is None else rng
        return self._np_labels[rng.randint(self._np_labels.shape[0], size=[minibatch_size])]

    @property
    def labels(self) -> np.ndarray:
        """float32 ``[N, label_size]``: the labels paired with the N images, in file order."""
        return self._np_labels[: self.num_images]


def load_dataset(
    tfrecord_dir: str, data_dir: str | None = None, verbose: bool = False, **kwargs
) -> TFRecordDataset:
    """Opens a dataset, optionally relative to ``data_dir`` (the original's ``load_dataset``).

    Args:
        tfrecord_dir: dataset directory (joined to ``data_dir`` when that is given).
        data_dir: root folder of the datasets, or None.
        verbose: print the shape, dynamic range and label size.
        **kwargs: passed to :class:`TFRecordDataset`.
    """
    if data_dir is not None:
        tfrecord_dir = _join(data_dir, tfrecord_dir)
    dataset = TFRecordDataset(tfrecord_dir, **kwargs)
    if verbose:
        print(f"Dataset shape = {dataset.shape} (H, W, C), {dataset.num_images} images")
        print(f"Dynamic range = {dataset.dynamic_range}")
        print(f"Label size    = {dataset.label_size}")
    return dataset
