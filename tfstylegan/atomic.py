"""Outputs put in place so that a kill at any moment leaves the old output or the new one, whole.

Every writer of the package puts its outputs in place through this module. The dataset
writer keeps its own names for its multi-file swap (:mod:`tfstylegan.data.tfrecords.outputs`);
training checkpoints are TensorFlow's (:mod:`tfstylegan.training.checkpoint`).

**Files** (:func:`atomic_output`): the new file is written under a temporary name beside
its destination, ``.<name>.tmp-<12 hex digits><extension of name>`` (the extension kept,
as ``model.save`` and ffmpeg read it), and moved onto ``<name>`` by one rename
(``os.replace``; ``tf.io.gfile.rename`` for a remote path). On an exception the temporary
file is removed and ``<name>`` is left as it was.

**Directories** (:func:`atomic_directory`, e.g. a SavedModel): the new directory is written
under the same kind of temporary name, then :func:`replace_directory` swaps it in:

1. the old ``<name>`` (if any) is renamed to ``<name>.old-<12 hex digits>``;
2. the new directory is renamed to ``<name>``;
3. the old one is deleted.

A kill between steps 1 and 2 leaves no ``<name>`` but a complete ``<name>.old-*``; a kill
between 2 and 3 leaves both. The next writer of ``<name>`` first runs
:func:`recover_directory`, which applies the recovery rule: if ``<name>`` is missing and
a ``<name>.old-*`` exists, the newest one is renamed back to ``<name>``; then every
remaining ``<name>.old-*`` is deleted (so when both exist, the new one stays).
Directories are local only.

**Leftovers**: the temporary files and directories of killed writes are removed by the
next process that writes into the same local folder. At its first write there, every
entry named as above whose newest modification (of any file inside, for a directory) is
older than this module's import is deleted: such a write ended before this process
started. :func:`remove_if_stale` applies the same age rule to other names.

**Test hook**: with the environment variable ``TFSTYLEGAN_PAUSE_BEFORE_REPLACE=<seconds>``,
the rename that puts a new output in place (of a file; step 2 of a directory) is preceded
by a line ``pause before replace: <path>`` on stderr and a sleep of that many seconds, so
that a test can kill the writer at exactly that point.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import sys
import time
from collections.abc import Iterator

from tfstylegan import paths

PAUSE_ENV = "TFSTYLEGAN_PAUSE_BEFORE_REPLACE"  # Test hook: seconds to sleep before a replacing rename.
TEMP_MARK = ".tmp-"  # Temporary names are .<destination name>.tmp-<hex><extension>.
OLD_MARK = ".old-"  # A directory being replaced waits as <name>.old-<hex>.
_TEMP_RE = re.compile(r"\..+\.tmp-[0-9a-f]{12}(\.[^.]*)?")
_STARTED = time.time()  # Temporary entries older than this belong to writes that ended (or were killed).
_swept: set[str] = set()  # Local folders whose leftovers this process has removed.


def _remote(path: str) -> bool:
    return "://" in path


def _pause(path: str) -> None:
    """The test hook: announce the rename onto ``path`` and sleep ``$TFSTYLEGAN_PAUSE_BEFORE_REPLACE`` seconds."""
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        sys.stderr.write(f"pause before replace: {path}\n")
        sys.stderr.flush()
        time.sleep(float(seconds))


def _newest_mtime(path: str) -> float:
    """The latest ``st_mtime`` of ``path`` and, for a directory, of everything inside it."""
    newest = os.lstat(path).st_mtime
    if os.path.isdir(path) and not os.path.islink(path):
        for root, dirs, files in os.walk(path):
            for name in dirs + files:
                with contextlib.suppress(OSError):
                    newest = max(newest, os.lstat(os.path.join(root, name)).st_mtime)
    return newest


def _remove(path: str) -> None:
    """Deletes a local file, link or directory tree."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            os.unlink(path)


def remove_if_stale(path: str) -> None:
    """Deletes the local file or directory ``path`` if nothing in it changed since this process started."""
    with contextlib.suppress(OSError):
        if _newest_mtime(path) < _STARTED:
            _remove(path)


def remove_leftovers(folder: str) -> None:
    """Removes the temporary entries of killed writes in the local ``folder`` (once per process)."""
    key = os.path.abspath(folder)
    if key in _swept:
        return
    _swept.add(key)
    with contextlib.suppress(OSError):
        for entry in list(os.scandir(key)):
            if _TEMP_RE.fullmatch(entry.name):
                remove_if_stale(entry.path)


def temp_path(path: str | os.PathLike) -> str:
    """A fresh temporary name beside ``path`` (see the module docstring); removes leftovers first."""
    path = os.fspath(path)
    directory, name = os.path.split(path.rstrip("/"))
    if not _remote(path):
        remove_leftovers(directory or ".")
    return paths.join(directory, f".{name}{TEMP_MARK}{secrets.token_hex(6)}{os.path.splitext(name)[1]}")


def replace(temp: str, path: str | os.PathLike) -> None:
    """Moves the complete file ``temp`` onto ``path`` in one rename (the test hook pauses first)."""
    path = os.fspath(path)
    _pause(path)
    if _remote(path):
        import tensorflow as tf

        tf.io.gfile.rename(temp, path, overwrite=True)
    else:
        os.replace(temp, path)


def _discard(temp: str) -> None:
    if _remote(temp):
        import tensorflow as tf

        with contextlib.suppress(tf.errors.OpError):
            if tf.io.gfile.exists(temp):
                tf.io.gfile.remove(temp)
    else:
        _remove(temp)


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike) -> Iterator[str]:
    """A temporary file name beside ``path``; the file written there replaces ``path`` on success.

    The folder must exist. On an exception the temporary file is removed and ``path`` is
    left as it was.

    Yields:
        The temporary path (nothing is created there yet).
    """
    path = os.fspath(path)
    temp = temp_path(path)
    try:
        yield temp
        replace(temp, path)
    except BaseException:
        _discard(temp)
        raise


def _backups(path: str) -> list[str]:
    """The ``<name>.old-*`` entries beside ``path``, newest first."""
    directory, name = os.path.split(path)
    prefix = f"{name}{OLD_MARK}"
    with contextlib.suppress(OSError):
        found = [e.path for e in os.scandir(directory or ".") if e.name.startswith(prefix)]
        return sorted(found, key=lambda p: os.lstat(p).st_mtime, reverse=True)
    return []


def recover_directory(path: str | os.PathLike) -> None:
    """Completes or undoes a directory replacement that was killed (the rule in the module docstring)."""
    path = os.path.abspath(os.fspath(path))
    backups = _backups(path)
    if backups and not os.path.lexists(path):
        os.rename(backups.pop(0), path)
    for old in backups:
        _remove(old)


def replace_directory(new: str, path: str | os.PathLike) -> None:
    """Swaps the complete directory ``new`` in as ``path`` in steps 1-3 of the module docstring.

    ``path`` may hold a directory, a file or a link, or nothing.
    """
    path = os.path.abspath(os.fspath(path))
    old = None
    if os.path.lexists(path):
        old = f"{path}{OLD_MARK}{secrets.token_hex(6)}"
        os.rename(path, old)
    _pause(path)
    try:
        os.rename(new, path)
    except BaseException:
        if old is not None:
            os.rename(old, path)
        raise
    if old is not None:
        _remove(old)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[str]:
    """A temporary directory name beside ``path``; the directory written there replaces ``path`` on success.

    First recovers an interrupted replacement of ``path`` (:func:`recover_directory`) and
    creates the parent folders. On an exception the temporary directory is removed and
    ``path`` is left as it was.

    Yields:
        The temporary path (nothing is created there yet).
    """
    path = os.path.abspath(os.fspath(path))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    recover_directory(path)
    temp = temp_path(path)
    try:
        yield temp
        replace_directory(temp, path)
    except BaseException:
        _remove(temp)
        raise


__all__ = [
    "PAUSE_ENV",
    "atomic_directory",
    "atomic_output",
    "recover_directory",
    "remove_if_stale",
    "remove_leftovers",
    "replace",
    "replace_directory",
    "temp_path",
]
