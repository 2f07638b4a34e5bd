"""Where a dataset is written: the output checked before any work, and the new files put in place safely.

:func:`check_output_dir` refuses, with one line and before anything is read or written,
an output under a file, in a folder that cannot be written, or holding a dataset
already (unless it is to be overwritten).

:func:`put_in_place` turns the finished temporary files into the dataset without ever
losing data: at every moment each old and each new file exists under its final name, its
temporary name or a backup name (``<name>.old``). The steps are ordered so that a kill at
any point leaves a directory that reads as the old dataset (before the first step), the
new one (once complete), or fails to open with a clear error (levels of both datasets,
which the reader's level check refuses, or not all levels) - never as images paired
with the other dataset's labels:

1. the new full-resolution level is renamed into place (from now on the directory holds
   levels of both datasets, or lacks levels, until step 4 or 5 completes it);
2. the old labels files go to backups;
3. the new labels are renamed into place;
4. the other new levels are renamed into place, from the top down;
5. old levels that the new set does not replace go to backups, from the top down;
6. the backups are removed.

Leftovers of a killed run (``*.tmp`` and ``*.old`` files of the dataset, older than
this process) are removed by the next writer of the same directory.
"""

from __future__ import annotations

import contextlib
import glob
import os
import time

import tensorflow as tf

from tfstylegan import atomic, paths
from tfstylegan.data.errors import DatasetError
from tfstylegan.data.tfrecords.format import LABELS_SUFFIX, TFRECORDS_EXT

TMP_EXT = ".tmp"  # Suffix of files being written; renamed away once the dataset is complete.
BACKUP_EXT = ".old"  # Suffix of old files while the new ones are put in place.
_STARTED = time.time()  # Leftovers older than this belong to runs that ended (or were killed).


def _glob(folder: str, pattern: str) -> list[str]:
    """Files of ``folder`` matching ``pattern`` (local ones without TensorFlow, so a forked child can do it)."""
    if "://" in folder:
        return tf.io.gfile.glob(paths.join(folder, pattern))
    return glob.glob(os.path.join(glob.escape(folder), pattern))


def dataset_files(tfrecord_dir: str) -> list[str]:
    """The level and labels files of the dataset in ``tfrecord_dir`` (none if it is not a directory)."""
    if not (tf.io.gfile.isdir(tfrecord_dir) if "://" in tfrecord_dir else os.path.isdir(tfrecord_dir)):
        return []
    return sorted(_glob(tfrecord_dir, "*" + TFRECORDS_EXT) + _glob(tfrecord_dir, "*.labels"))


def _nearest_existing(path: str) -> str:
    path = os.path.abspath(path)
    while not os.path.lexists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def check_output_dir(tfrecord_dir: str, overwrite: bool = False, what: str = "the dataset") -> None:
    """Refuses an output directory that cannot work, before any work is done.

    Raises:
        DatasetError: a part of the path is a file (or another non-directory), the nearest
            existing folder cannot be written, or ``tfrecord_dir`` holds a dataset and
            ``overwrite`` is false.
    """
    if "://" not in tfrecord_dir:
        ancestor = _nearest_existing(tfrecord_dir)
        if not os.path.isdir(ancestor):
            kind = (
                paths.file_kind(os.lstat(ancestor).st_mode) if os.path.exists(ancestor) else "a dangling link"
            )
            raise DatasetError(
                f"cannot write {what} to {tfrecord_dir}: {ancestor} is {kind}, not a directory"
            )
        problem = paths.not_writable(ancestor)
        if problem:
            raise DatasetError(
                f"cannot write {what} to {tfrecord_dir}: {ancestor} is not writable ({problem})"
            )
    existing = dataset_files(tfrecord_dir)
    if existing and not overwrite:
        raise DatasetError(
            f"{tfrecord_dir} already holds a dataset ({', '.join(paths.basename(f) for f in existing)}); "
            "choose another directory or pass overwrite (--overwrite) to replace it"
        )


def check_output_file(path: str) -> None:
    """Refuses an output file whose folder is missing or not writable, or that is a directory."""
    if "://" in path:
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise DatasetError(f"cannot write {path}: the folder {folder} does not exist")
    if os.path.isdir(path):
        raise DatasetError(f"cannot write {path}: it is a directory")
    problem = paths.not_writable(folder)
    if problem:
        raise DatasetError(f"cannot write {path}: the folder {folder} is not writable ({problem})")


def remove_leftovers(tfr_prefix: str) -> None:
    """Removes the temporary and backup files of killed runs (older than this process)."""
    for ext in (TMP_EXT, BACKUP_EXT):
        folder, prefix = os.path.split(tfr_prefix) if "://" not in tfr_prefix else tfr_prefix.rsplit("/", 1)
        for path in _glob(folder, f"{glob.escape(prefix)}-*{ext}"):
            with contextlib.suppress(tf.errors.OpError, OSError):
                if tf.io.gfile.stat(path).mtime_nsec / 1e9 < _STARTED:
                    tf.io.gfile.remove(path)


def rename(src: str, dst: str) -> None:
    """Atomically (locally) replaces ``dst`` by ``src`` (:func:`tfstylegan.atomic.replace`)."""
    atomic.replace(src, dst)


def remove(path: str) -> None:
    if "://" in path:
        tf.io.gfile.remove(path)
    else:
        os.remove(path)


def sync(path: str) -> None:
    """Flushes a local file to disk (so a rename never exposes a file the disk does not hold yet)."""
    if "://" not in path:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def put_in_place(new: list[tuple[str, str]], old: list[str]) -> None:
    """Renames the new ``(temporary, final)`` files into place over the ``old`` dataset files.

    See the module docstring for the order. ``new`` lists the levels from the full
    resolution down, and the labels (in any position).
    """
    for tmp, _ in new:
        sync(tmp)
    finals = {final for _, final in new}
    levels = [pair for pair in new if not pair[1].endswith(LABELS_SUFFIX)]
    labels = [pair for pair in new if pair[1].endswith(LABELS_SUFFIX)]
    backups = []

    def backup(path: str) -> None:
        rename(path, path + BACKUP_EXT)
        backups.append(path + BACKUP_EXT)

    rename(*levels[0])
    for path in old:
        if path.endswith(".labels"):
            backup(path)
    for tmp, final in labels + levels[1:]:
        rename(tmp, final)
    for path in sorted(old, reverse=True):  # The top level first: r10 sorts after r09.
        if not path.endswith(".labels") and path not in finals:
            backup(path)
    for path in backups:
        remove(path)
