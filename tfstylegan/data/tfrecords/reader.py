"""Reading a dataset in the multi-resolution format: :class:`TFRecordDataset` and its ``tf.data`` pipeline."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator

import numpy as np
import tensorflow as tf

from tfstylegan import paths
from tfstylegan.data.errors import DatasetError
from tfstylegan.data.tfrecords.files import find_levels, load_labels
from tfstylegan.data.tfrecords.records import find_bad_record

_MAX_PREFETCH_BATCHES = 16  # Upper bound on the minibatches prefetch_mb may hold.
_SHAPE_MISMATCH = "a record's shape feature is not the shape of its level"
# Errors of a level file that the tf.data reader raises while iterating, by what they mean.
_READ_ERRORS = (tf.errors.NotFoundError, tf.errors.PermissionDeniedError, tf.errors.FailedPreconditionError)


def _parse_batch(serialized: tf.Tensor, shape_chw: tuple[int, int, int]) -> tf.Tensor:
    """Parses a batch of serialised records into uint8 images ``[B, H, W, C]``.

    Every record's ``shape`` feature must be the level's shape (else InvalidArgumentError,
    which :meth:`TFRecordDataset.naming_read_errors` turns into a DatasetError naming the
    record).
    """
    features = tf.io.parse_example(
        serialized,
        {"shape": tf.io.FixedLenFeature([3], tf.int64), "data": tf.io.FixedLenFeature([], tf.string)},
    )
    check = tf.debugging.assert_equal(
        features["shape"], tf.constant([shape_chw], tf.int64), message=_SHAPE_MISMATCH
    )
    with tf.control_dependencies([check]):
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
    """Reads a dataset in the original multi-resolution format (see :mod:`tfstylegan.data.tfrecords`).

    Mirrors the original ``training.dataset.TFRecordDataset``: the constructor inspects the
    files and loads the labels; :meth:`as_dataset` builds the ``tf.data`` pipeline of one
    level of detail (the original's ``configure(minibatch_size, lod)`` +
    ``get_minibatch_tf()``). Unlike the original, images are NHWC and ``shape`` is
    ``[H, W, C]``.

    Record ``i`` of a level is paired with row ``i`` of the labels file, before shuffling
    (as the original zips the two). The labels file must hold exactly one finite float32
    row per image (the original also accepted extra rows, which only its random labels
    used; a file with more rows belongs to another dataset).

    Opening checks what it can cheaply: every level present, a regular file of whole
    records of its level's shape, the same number of records in every level, and a few
    records of each level against the 2x2 box average of the level above (so a level
    file taken from another dataset is refused). Reading checks the rest: every record's
    ``shape`` feature, sizes and CRCs; wrap iteration in :meth:`naming_read_errors`.

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

        levels = find_levels(tfrecord_dir, resolution)
        self.resolution = levels.resolution
        self.resolution_log2 = levels.resolution_log2
        self.num_channels = levels.num_channels
        self.shape = [self.resolution, self.resolution, self.num_channels]
        self.tfr_files: dict[int, str] = levels.files
        self._tfr_shapes: dict[int, tuple[int, int, int]] = levels.shapes
        self._record_bytes = levels.record_bytes
        self.num_images = levels.num_images
        self.label_file, self._np_labels = load_labels(
            tfrecord_dir, label_file, max_label_size, self.num_images
        )
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

        TensorFlow's reader reports a corrupt record, a record of another size or shape,
        or a level file that went away, without saying which file it was; wrap the code
        that pulls minibatches of level ``lod`` (e.g. the training loop) in this context
        manager to get the file and, where it can be found, the record.
        """
        try:
            yield
        except tf.errors.DataLossError as e:
            path = self.tfrecord_file(lod)
            raise DatasetError(
                f"{path} is corrupt or truncated: {_tf_error_text(e)}{self._record_at(lod, e)}"
            ) from e
        except (tf.errors.InvalidArgumentError, UnicodeDecodeError) as e:
            # UnicodeDecodeError: TensorFlow quotes the bytes of a damaged record in its
            # message, which then cannot be decoded.
            level = self._level(lod)
            path = self.tfr_files[level]
            problem = find_bad_record(path, self._tfr_shapes[level], self._record_bytes[level])
            if problem is None:
                if isinstance(e, UnicodeDecodeError):
                    problem = "a record cannot be parsed (TensorFlow's message about it is not text)"
                elif _SHAPE_MISMATCH in e.message or "DecodeRaw" in e.message:
                    problem = _tf_error_text(e)
                else:
                    raise  # Not a problem of the data.
            raise DatasetError(f"{path} is corrupt: {problem}") from e
        except _READ_ERRORS as e:
            raise DatasetError(f"{self.tfrecord_file(lod)} cannot be read: {_tf_error_text(e)}") from e

    def _record_at(self, lod: float, error: tf.errors.OpError) -> str:
        """`` (record i of N)`` for an error that gives the byte offset of the record, else ''."""
        match = re.search(r"corrupted record at (\d+)", error.message)
        if not match:
            return ""
        index = int(match.group(1)) // self._record_bytes[self._level(lod)]
        return f" (record {index} of {self.num_images})"

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
        tfrecord_dir = paths.join(data_dir, tfrecord_dir)
