"""``load_networks``: trained networks from a pickle, a ``.keras`` file or a run directory.

Accepted sources:

- an original-style network pickle (``.pkl``): ``(G, D, Gs)``, see
  :func:`tfstylegan.load_network_pkl` (local paths or any filesystem TensorFlow reads,
  e.g. ``gs://``);
- a ``.keras`` file holding a :class:`~tfstylegan.export.NetworkBundle` (``G``, ``D`` and
  ``Gs`` in one file, written by ``tfstylegan-convert``): ``(G, D, Gs)``;
- a ``.keras`` file holding a single :class:`~tfstylegan.GStyle`: taken as ``Gs``, so
  the result is ``(None, None, Gs)``;
- a training run directory (``results/<NNNNN>-<desc>/``): its ``network-final.pkl``,
  or else the ``network-snapshot-<kimg>.pkl`` with the highest kimg.

A SavedModel directory is for serving only and is refused with an explanation.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import keras
import tensorflow as tf

from tfstylegan.export import NetworkBundle
from tfstylegan.legacy.network_pkl import load_network_pkl
from tfstylegan.networks import DBasic, GStyle
from tfstylegan.paths import join
from tfstylegan.training.run_dir import FINAL_PKL, latest_snapshot


class NetworkSourceError(ValueError):
    """A network source is missing or is not something :func:`load_networks` reads."""


class Networks(NamedTuple):
    """The networks of a source; ``G`` and ``D`` are None when the source holds only ``Gs``."""

    G: GStyle | None
    D: DBasic | None
    Gs: GStyle


def locate_network_file(source: str | os.PathLike) -> str:
    """The file that :func:`load_networks` would read for ``source``.

    Args:
        source: a ``.pkl`` or ``.keras`` file, or a training run directory.

    Returns:
        The path of the file: ``source`` itself, or the chosen pickle of a run directory.

    Raises:
        NetworkSourceError: ``source`` does not exist, is a SavedModel, or is a directory
            without network pickles.
    """
    source = os.fspath(source)
    if tf.io.gfile.isdir(source):
        if tf.io.gfile.exists(join(source, "saved_model.pb")):
            raise NetworkSourceError(
                f"{source} is a SavedModel, which only serves images; load the pickle or .keras file "
                "it was exported from instead"
            )
        snapshot = latest_snapshot(source)
        if snapshot is None:
            raise NetworkSourceError(
                f"{source} holds neither {FINAL_PKL} nor network-snapshot-<kimg>.pkl files; expected a "
                "training run directory, a .pkl file or a .keras file"
            )
        return snapshot
    if not tf.io.gfile.exists(source):
        raise NetworkSourceError(f"{source} does not exist")
    return source


def load_networks(source: str | os.PathLike) -> Networks:
    """Load trained networks from a pickle, a ``.keras`` file or a run directory.

    Args:
        source: see the module docstring for what is accepted.

    Returns:
        :class:`Networks` ``(G, D, Gs)``; ``G`` and ``D`` are None for a ``.keras`` file
        that holds only ``Gs``.

    Raises:
        NetworkSourceError: the source is missing or of an unknown kind.
        LegacyPickleError, ConversionError: a pickle that cannot be read or converted
            (see :func:`tfstylegan.load_network_pkl`).
    """
    path = locate_network_file(source)
    if path.endswith(".keras"):
        try:
            model = keras.saving.load_model(path)
        except Exception as e:  # Keras raises many types for a bad file.
            raise NetworkSourceError(f"{path}: cannot load the .keras file ({type(e).__name__}: {e})") from e
        if isinstance(model, NetworkBundle):
            return Networks(model.G, model.D, model.Gs)
        if isinstance(model, GStyle):
            return Networks(None, None, model)
        raise NetworkSourceError(
            f"{path} holds a {type(model).__name__}; expected a generator (GStyle) or a G/D/Gs NetworkBundle"
        )
    if path.endswith(".pkl"):
        return Networks(*load_network_pkl(path))
    raise NetworkSourceError(
        f"{path}: unknown kind of file; expected a .pkl or .keras file, or a training run directory"
    )


__all__ = ["FINAL_PKL", "NetworkSourceError", "Networks", "load_networks", "locate_network_file"]
