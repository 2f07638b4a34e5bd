"""Paths as ``tf.io.gfile`` takes them: local ones and remote ones (``gs://bucket/...``)."""

from __future__ import annotations

import os
import posixpath


def join(directory: str, name: str) -> str:
    """``directory/name``: with '/' for a remote directory, the local separator otherwise."""
    if "://" in directory:
        return posixpath.join(directory, name)
    return os.path.join(directory, name)


def basename(path: str) -> str:
    """The last part of ``path``, ignoring trailing slashes (``'data/faces/'`` -> ``'faces'``)."""
    return posixpath.basename(path.rstrip("/"))
