"""Writing a dataset in the multi-resolution format: :class:`TFRecordExporter`."""

from __future__ import annotations

import math
import time

import numpy as np
import tensorflow as tf

from tfstylegan import paths
from tfstylegan.data.errors import DatasetError
from tfstylegan.data.tfrecords.format import (
    LABELS_SUFFIX,
    TFRECORDS_EXT,
    encode_example,
    image_levels,
    shuffled_order,
)
from tfstylegan.data.tfrecords.outputs import (
    TMP_EXT,
    check_output_dir,
    dataset_files,
    put_in_place,
    remove_leftovers,
)
from tfstylegan.resolution import resolution_log2


class TFRecordExporter:
    """Writes a dataset in the original multi-resolution format.

    Files are written under temporary names and renamed into place by :meth:`close`, so an
    interrupted conversion never leaves a directory that looks like a complete dataset.
    With ``overwrite``, the old dataset stays until the new one is complete, and is
    replaced without ever losing data (:func:`~tfstylegan.data.tfrecords.outputs.put_in_place`).
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
        self.tfr_prefix = paths.join(self.tfrecord_dir, paths.basename(self.tfrecord_dir))
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

        check_output_dir(self.tfrecord_dir, overwrite)
        if self.print_progress:
            print(f'Creating dataset "{self.tfrecord_dir}"', flush=True)
        if not tf.io.gfile.isdir(self.tfrecord_dir):
            tf.io.gfile.makedirs(self.tfrecord_dir)
            self._created_dir = True
        remove_leftovers(self.tfr_prefix)

    def choose_shuffled_order(self) -> np.ndarray:
        """The order of ``--shuffle 1``; add images and labels in this order."""
        return shuffled_order(self.expected_images)

    def _open(self, final_path: str) -> str:
        tmp_path = final_path + TMP_EXT
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
        self._close_writers()
        if self.cur_images == 0:
            self._discard()
            raise DatasetError(f"no images were added to {self.tfrecord_dir}; nothing written")
        # The order keeps every file, old or new, and never shows a directory that reads as
        # anything but the old dataset, the new one, or an error (see put_in_place).
        put_in_place(list(zip(self._tmp_files, self._final_files)), dataset_files(self.tfrecord_dir))
        if self.print_progress:
            print(f"Added {self.cur_images} images.", flush=True)

    def _close_writers(self) -> None:
        for writer in self._writers:
            writer.close()
        self._writers = []

    def _discard(self) -> None:
        self._close_writers()
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
