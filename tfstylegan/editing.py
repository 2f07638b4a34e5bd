"""Editing in W: moving dlatents along a direction, and finding a direction from labelled dlatents.

A direction is a ``[dlatent_size]`` vector (the same step in every layer) or a
``[num_layers, dlatent_size]`` array (a step per layer), usually stored with ``np.save``
as a ``.npy`` file. An edit adds ``strength * direction`` to the dlatents of the chosen
layers only; every other layer keeps its dlatents bit for bit. Layer ranges follow the
paper's section 3.1: the coarse layers (0-3, 4x4 to 8x8) hold pose and shape, the middle
ones (4-7) finer features, the rest colour and microstructure.

The usual workflow: project photos (:mod:`tfstylegan.projection`) or map seeds, label
their dlatents (say smiling or not), fit a direction with
:func:`direction_from_labels`, then render edits with :func:`edit_images`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import keras
import numpy as np

from tfstylegan.rendering import Renderer

METHODS = ("lstsq", "svm")


def load_direction(path: str | os.PathLike, num_layers: int, dlatent_size: int) -> np.ndarray:
    """A direction ``.npy`` file as float32 ``[num_layers, dlatent_size]``.

    Raises:
        ValueError: an unreadable file, or a shape other than ``[dlatent_size]`` or
            ``[num_layers, dlatent_size]``.
    """
    try:
        direction = np.load(os.fspath(path), allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{os.fspath(path)}: cannot read the direction ({exc})") from None
    try:
        return broadcast_direction(direction, num_layers, dlatent_size)
    except ValueError as exc:
        raise ValueError(f"{os.fspath(path)}: {exc}") from None


def broadcast_direction(direction, num_layers: int, dlatent_size: int) -> np.ndarray:
    """``[dlatent_size]`` or ``[num_layers, dlatent_size]`` -> float32 ``[num_layers, dlatent_size]``."""
    direction = np.asarray(direction)
    if direction.shape not in ((dlatent_size,), (num_layers, dlatent_size)):
        raise ValueError(
            f"a direction must have shape [{dlatent_size}] or [{num_layers}, {dlatent_size}], "
            f"got {list(direction.shape)}"
        )
    if not np.all(np.isfinite(direction)):
        raise ValueError("the direction holds non-finite values")
    return np.broadcast_to(direction.astype(np.float32), (num_layers, dlatent_size))


def apply_direction(
    dlatents: np.ndarray,
    direction: np.ndarray,
    strengths: Sequence[float],
    layers: Iterable[int] | None = None,
) -> np.ndarray:
    """Dlatents moved along ``direction`` at every strength.

    Args:
        dlatents: ``[N, num_layers, dlatent_size]`` (or one ``[num_layers, dlatent_size]``).
        direction: ``[dlatent_size]`` or ``[num_layers, dlatent_size]``.
        strengths: ``S`` multiples of the direction to add (0 = unchanged).
        layers: Layer indices to move; None = all. The other layers are copied unchanged.

    Returns:
        float32 ``[N, S, num_layers, dlatent_size]``.
    """
    dlatents = np.asarray(dlatents, np.float32)
    if dlatents.ndim == 2:
        dlatents = dlatents[np.newaxis]  # [1, L, D]
    if dlatents.ndim != 3:
        raise ValueError(f"dlatents must be [N, num_layers, dlatent_size], got {list(dlatents.shape)}")
    _, num_layers, dlatent_size = dlatents.shape
    direction = broadcast_direction(direction, num_layers, dlatent_size)
    chosen = np.zeros([num_layers], bool)
    for layer in range(num_layers) if layers is None else layers:
        if not 0 <= layer < num_layers:
            raise ValueError(f"layer {layer} is out of range; the network has layers 0-{num_layers - 1}")
        chosen[layer] = True
    strengths = np.asarray(strengths, np.float32).reshape(1, -1, 1, 1)  # [1, S, 1, 1]
    moved = dlatents[:, np.newaxis] + strengths * direction  # [N, S, L, D]
    # Layers not chosen, and every layer at strength 0, are copies (bit for bit, even -0.0).
    keep = ~chosen[np.newaxis, np.newaxis, :, np.newaxis] | (strengths == 0)  # [1, S, L, 1]
    return np.where(keep, dlatents[:, np.newaxis], moved)


def edit_images(
    Gs: keras.Model,
    dlatents: np.ndarray,
    direction: np.ndarray,
    strengths: Sequence[float],
    layers: Iterable[int] | None = None,
    noise: Sequence[np.ndarray] | None = None,
    batch_size: int = 8,
) -> np.ndarray:
    """uint8 images ``[N, S, R, R, C]`` of :func:`apply_direction`, rendered in compiled batches.

    ``noise``: None = the stored noise inputs; else one map per layer, ``[N, H, W, 1]``
    (e.g. a projection's, one per target) or ``[1, H, W, 1]``, kept for every strength.
    """
    edited = apply_direction(dlatents, direction, strengths, layers)  # [N, S, L, D]
    n, s = edited.shape[:2]
    flat = edited.reshape(n * s, *edited.shape[2:])  # [N*S, L, D]
    maps = None
    if noise is not None:  # each image's maps, repeated for each of its strengths
        maps = [
            np.repeat(np.broadcast_to(m, [n, *np.shape(m)[1:]]), s, axis=0) for m in noise
        ]  # [N*S, H, W, 1]
    images = Renderer(Gs, min(int(batch_size), n * s)).images(flat, maps)  # [N*S, R, R, C]
    return images.reshape(n, s, *images.shape[1:])  # [N, S, R, R, C]


def direction_from_labels(dlatents: np.ndarray, labels: np.ndarray, method: str = "lstsq") -> np.ndarray:
    """The unit normal of a linear classifier separating labelled dlatents.

    Args:
        dlatents: ``[N, dlatent_size]`` or ``[N, num_layers, dlatent_size]`` (flattened,
            so the direction then has a step per layer).
        labels: ``[N]`` binary labels (0/1 or bool); the direction points to label 1.
        method: ``'lstsq'``: least squares of the centred labels (+1/-1) on the centred
            dlatents (minimum-norm solution when ``N <= dlatent_size``); ``'svm'``: a
            linear SVM (scikit-learn's ``LinearSVC``, which must be installed).

    Returns:
        float32 unit vector shaped like one sample of ``dlatents``.
    """
    x = np.asarray(dlatents, np.float64)
    y = np.asarray(labels).reshape(-1)
    if x.ndim not in (2, 3) or len(x) != len(y):
        raise ValueError(
            f"need dlatents [N, D] or [N, L, D] and labels [N], got {list(x.shape)} and {list(y.shape)}"
        )
    if not np.isin(y, (0, 1)).all() or len(np.unique(y)) != 2:
        raise ValueError("labels must be 0/1 (or bool) and hold both classes")
    flat = x.reshape(len(x), -1)  # [N, D or L*D]
    signs = np.where(y.astype(bool), 1.0, -1.0)
    if method == "lstsq":
        normal = np.linalg.lstsq(flat - flat.mean(axis=0), signs - signs.mean(), rcond=None)[0]
    elif method == "svm":
        try:
            from sklearn.svm import LinearSVC
        except ImportError:
            raise ValueError(
                "method 'svm' needs scikit-learn (pip install scikit-learn); or use 'lstsq'"
            ) from None
        normal = LinearSVC(dual="auto").fit(flat, y.astype(int)).coef_[0]
    else:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    norm = np.linalg.norm(normal)
    if not norm > 0:
        raise ValueError("the labels give no direction (the fitted normal is zero)")
    return (normal / norm).reshape(x.shape[1:]).astype(np.float32)
