"""Paths as ``tf.io.gfile`` takes them: local ones and remote ones (``gs://bucket/...``).

Also :func:`open_regular_file`, the one way a local input file is opened: a FIFO, a
device or a directory that carries a file's name is refused, never waited on; and
:func:`check_output_path`, the one check of an output path before a tool does any work
(a file in the way, a folder that cannot be written, a file system TensorFlow lacks).
"""

from __future__ import annotations

import errno
import os
import posixpath
import stat
from typing import BinaryIO

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def join(directory: str, name: str) -> str:
    """``directory/name``: with '/' for a remote directory, the local separator otherwise."""
    if "://" in directory:
        return posixpath.join(directory, name)
    return os.path.join(directory, name)


def basename(path: str) -> str:
    """The last part of ``path``, ignoring trailing slashes (``'data/faces/'`` -> ``'faces'``)."""
    return posixpath.basename(path.rstrip("/"))


def file_kind(mode: int) -> str:
    """What a ``st_mode`` describes: 'a regular file', 'a directory', 'a FIFO (named pipe)', ..."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((kind for test, kind in _KINDS if test(mode)), "not a regular file")


def open_regular_file(path: str | os.PathLike) -> BinaryIO:
    """Opens a local file for binary reading if it is a regular file (symbolic links followed).

    The file is opened without blocking and checked before anything is read, so a FIFO
    named like an input file is refused at once instead of waiting for a writer.

    Raises:
        OSError: the file cannot be opened (missing, dangling link, link loop, no
            permission), or it is not a regular file (``errno.EISDIR`` for a directory,
            ``errno.EINVAL`` otherwise; ``strerror`` says what it is).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            code = errno.EISDIR if stat.S_ISDIR(mode) else errno.EINVAL
            raise OSError(code, f"it is {file_kind(mode)}, not a regular file", os.fspath(path))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class PathError(ValueError):
    """A path a tool cannot use (an output it cannot write, a file system TensorFlow lacks); the message says why."""


def _nearest_existing(path: str) -> str:
    path = os.path.abspath(path)
    while not os.path.lexists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)
    return path


def not_writable(folder: str) -> str | None:
    """Why no file can be created in ``folder`` (tried, not guessed from permission bits), or None."""
    import tempfile

    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".write-test-")
    except OSError as e:
        return e.strerror or type(e).__name__
    os.close(fd)
    os.remove(probe)
    return None


def check_remote_path(path: str) -> None:
    """Checks that TensorFlow has a file system for a ``scheme://`` path and can reach it.

    Raises:
        PathError: an unknown scheme (TensorFlow 2.21 has ``gs://`` but no ``s3://``
            or ``hdfs://`` of its own), or the file system cannot be reached.
    """
    import tensorflow as tf

    scheme = path.split("://", 1)[0]
    try:
        tf.io.gfile.exists(path)
    except tf.errors.UnimplementedError:
        extra = " (tensorflow-io adds s3:// and hdfs://)" if scheme in ("s3", "hdfs") else ""
        raise PathError(
            f"{path}: TensorFlow has no file system for {scheme}:// paths{extra}; use a local path or gs://"
        ) from None
    except tf.errors.OpError as e:
        raise PathError(f"{path}: cannot reach it: {e.message.splitlines()[0]}") from None


def check_output_path(path: str, kind: str = "dir") -> None:
    """Checks, before any work, that a tool can write ``path``.

    A missing folder is fine (the writer creates it and its parents, like ``mkdir -p``) if
    the nearest existing folder above it is a directory in which a file can be created
    (tried, not guessed from permission bits). A ``scheme://`` path is checked with
    :func:`check_remote_path`.

    Args:
        path: the output.
        kind: ``'dir'``, a directory the tool writes into, or ``'file'``, a file it writes
            (replacing an existing one; an existing directory of that name is refused).

    Raises:
        PathError: naming the path and what is wrong with it.
    """
    if kind not in ("dir", "file"):
        raise ValueError(f"kind must be 'dir' or 'file', got {kind!r}")
    if not path:
        raise PathError("the output path is empty")
    if kind == "file" and os.path.basename(path) in ("", ".", ".."):
        raise PathError(f"cannot write the file {path}: the path names a folder, not a file")
    if "://" in path:
        check_remote_path(path)
        return
    if kind == "file" and os.path.isdir(path):
        raise PathError(f"cannot write the file {path}: it is a directory")
    folder = path if kind == "dir" else os.path.dirname(os.path.abspath(path))
    ancestor = _nearest_existing(folder)
    if not os.path.isdir(ancestor):
        kind_of = file_kind(os.stat(ancestor).st_mode) if os.path.exists(ancestor) else "a dangling link"
        raise PathError(f"cannot write to {path}: {ancestor} is {kind_of}, not a directory")
    problem = not_writable(ancestor)
    if problem:
        raise PathError(f"cannot write to {path}: {ancestor} is not writable ({problem})")


def make_output_dir(path: str) -> str:
    """Creates the output directory ``path`` and its parents (after :func:`check_output_path`); returns it."""
    check_output_path(path, "dir")
    if "://" in path:
        import tensorflow as tf

        try:
            tf.io.gfile.makedirs(path)
        except tf.errors.OpError as e:
            raise PathError(f"cannot create {path}: {e.message.splitlines()[0]}") from None
    else:
        try:
            os.makedirs(path, exist_ok=True)
        except OSError as e:
            raise PathError(f"cannot create {path}: {e.strerror or e}") from None
    return path
