"""Paths as ``tf.io.gfile`` takes them: local ones and remote ones (``gs://bucket/...``).

Also :func:`open_regular_file`, the one way a local input file is opened: a FIFO, a
device or a directory that carries a file's name is refused, never waited on.
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
