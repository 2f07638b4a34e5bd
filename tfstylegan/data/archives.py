"""Readers of the public archives the original dataset tool converts (MNIST, CIFAR, SVHN).

CIFAR and SVHN come as Python pickles. They are read with the guarded unpickler of
:mod:`tfstylegan.legacy.guarded`, which first bounds the opcode stream (memory, nesting,
size) and then resolves only the few globals that numpy arrays need, each accepting only
what numpy writes, so a crafted file can neither run code nor exhaust memory. Images
are returned NHWC uint8, labels as int64 class indices.
"""

from __future__ import annotations

import gzip
import posixpath

import numpy as np
import tensorflow as tf

from tfstylegan.data.errors import DatasetError
from tfstylegan.legacy.guarded import load_guarded


def load_pickle(path: str):
    """Loads a (Python 2 or 3) data pickle of arrays and plain data through the guarded unpickler.

    Raises:
        DatasetError: the file is missing, not a pickle, breaks a bound, or refers to a
            forbidden global.
    """
    if not tf.io.gfile.exists(path):
        raise DatasetError(f"{path} does not exist")
    with tf.io.gfile.GFile(path, "rb") as f:
        data = f.read()
    try:
        return load_guarded(data, encoding="latin1")
    except Exception as e:  # noqa: BLE001
        raise DatasetError(f"{path}: cannot load the pickle ({str(e)[:300]})") from None


def _check_images(images: np.ndarray, labels: np.ndarray, what: str, num_classes: int) -> None:
    if images.dtype != np.uint8 or images.ndim != 4 or labels.shape != (images.shape[0],):
        raise DatasetError(
            f"{what}: unexpected contents: images {images.shape} {images.dtype}, labels {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise DatasetError(
            f"{what}: labels must lie in [0, {num_classes}), got [{labels.min()}, {labels.max()}]"
        )


def onehot(labels: np.ndarray) -> np.ndarray:
    """float32 one-hot ``[N, max(labels) + 1]`` of class indices (the original's convention)."""
    out = np.zeros([labels.size, int(np.max(labels)) + 1], dtype=np.float32)
    out[np.arange(labels.size), labels] = 1.0
    return out


def _read_idx_gz(path: str, offset: int) -> np.ndarray:
    if not tf.io.gfile.exists(path):
        raise DatasetError(f"{path} does not exist")
    with tf.io.gfile.GFile(path, "rb") as f:
        try:
            data = gzip.decompress(f.read())
        except OSError as e:
            raise DatasetError(f"{path}: not a gzip file ({e})") from None
    return np.frombuffer(data, np.uint8, offset=offset)


def load_mnist(mnist_dir: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST training set, zero-padded to 32x32.

    Returns:
        ``(images, labels)``: uint8 ``[N, 32, 32, 1]``, int64 ``[N]``.
    """
    images = _read_idx_gz(posixpath.join(mnist_dir, "train-images-idx3-ubyte.gz"), 16)
    labels = _read_idx_gz(posixpath.join(mnist_dir, "train-labels-idx1-ubyte.gz"), 8).astype(np.int64)
    if images.size % (28 * 28) or images.size // (28 * 28) != labels.size:
        raise DatasetError(f"{mnist_dir}: {images.size} image bytes do not make {labels.size} 28x28 images")
    images = images.reshape(-1, 28, 28, 1)  # [N, 28, 28, 1]
    images = np.pad(images, [(0, 0), (2, 2), (2, 2), (0, 0)], "constant", constant_values=0)  # [N, 32, 32, 1]
    _check_images(images, labels, mnist_dir, 10)
    return images, labels


def _cifar_images(data, path: str) -> np.ndarray:
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise DatasetError(f"{path}: 'data' is not an [N, 3072] array")
    data = np.asarray(data)  # A plain ndarray (the unpickler's arrays are a guarded subclass).
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # [N, 3072] => [N, 3, 32, 32] => [N, 32, 32, 3]


def _dict_entry(data, key: str, path: str):
    if not isinstance(data, dict) or key not in data:
        raise DatasetError(f"{path}: expected a dict with the key {key!r}")
    return data[key]


def load_cifar10(cifar10_dir: str) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-10 training set (``data_batch_1`` .. ``data_batch_5``, python version).

    Returns:
        ``(images, labels)``: uint8 ``[N, 32, 32, 3]``, int64 ``[N]``.
    """
    images, labels = [], []
    for batch in range(1, 6):
        path = posixpath.join(cifar10_dir, f"data_batch_{batch}")
        data = load_pickle(path)
        images.append(_cifar_images(_dict_entry(data, "data", path), path))
        labels.append(np.asarray(_dict_entry(data, "labels", path), dtype=np.int64))
    images, labels = np.concatenate(images), np.concatenate(labels)
    _check_images(images, labels, cifar10_dir, 10)
    return images, labels


def load_cifar100(cifar100_dir: str) -> tuple[np.ndarray, np.ndarray]:
    """CIFAR-100 training set (``train``, python version) with the fine labels.

    Returns:
        ``(images, labels)``: uint8 ``[N, 32, 32, 3]``, int64 ``[N]``.
    """
    path = posixpath.join(cifar100_dir, "train")
    data = load_pickle(path)
    images = _cifar_images(_dict_entry(data, "data", path), path)
    labels = np.asarray(_dict_entry(data, "fine_labels", path), dtype=np.int64)
    _check_images(images, labels, cifar100_dir, 100)
    return images, labels


def load_svhn(svhn_dir: str) -> tuple[np.ndarray, np.ndarray]:
    """SVHN training set as pickled by the original's preprocessing (``train_1.pkl`` .. ``train_3.pkl``,
    each a tuple ``(images [N, 3, 32, 32], labels [N])``).

    Returns:
        ``(images, labels)``: uint8 ``[N, 32, 32, 3]``, int64 ``[N]``.
    """
    images, labels = [], []
    for batch in range(1, 4):
        path = posixpath.join(svhn_dir, f"train_{batch}.pkl")
        data = load_pickle(path)
        if not isinstance(data, (tuple, list)) or len(data) != 2:
            raise DatasetError(f"{path}: expected a pair (images, labels)")
        imgs = np.asarray(data[0])
        if imgs.ndim != 4 or imgs.shape[1:] != (3, 32, 32):
            raise DatasetError(f"{path}: images have shape {imgs.shape}, expected [N, 3, 32, 32]")
        images.append(imgs.transpose(0, 2, 3, 1))  # NCHW => NHWC
        labels.append(np.asarray(data[1]).astype(np.int64).reshape(-1))
    images, labels = np.concatenate(images), np.concatenate(labels)
    _check_images(images, labels, svhn_dir, 10)
    return images, labels
