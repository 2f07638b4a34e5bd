"""``load_network_pkl`` / ``save_network_pkl``: original ``(G, D, Gs)`` pickles <-> Keras networks."""

from __future__ import annotations

import io
import os

import tensorflow as tf

from tfstylegan.atomic import atomic_output
from tfstylegan.legacy import ConversionError, LegacyPickleError, load_pickle_states, save_pickle_states
from tfstylegan.legacy.state import check_networks, network_from_state, state_from_network


def _read_bytes(path: str | os.PathLike) -> io.BytesIO:
    """Read a local or remote (``gs://`` etc.) file through ``tf.io.gfile``."""
    path = os.fspath(path)
    if "://" not in path:
        return path  # local: let the unpickler open it and report errors with the path
    try:
        with tf.io.gfile.GFile(path, "rb") as f:
            data = f.read()
    except tf.errors.OpError as e:
        raise LegacyPickleError(f"{path}: cannot read the file ({e.message})") from None
    buf = io.BytesIO(data)
    buf.name = path
    return buf


def load_network_pkl(path: str | os.PathLike):
    """Load an original StyleGAN network pickle as Keras networks.

    Reads the ``(G, D, Gs)`` tuple the original training loop pickles, through an
    allowlist unpickler: nothing stored in the file (in particular the network source
    ``build_module_src``) is ever executed. Local paths and any filesystem TensorFlow
    supports (``gs://...``) work.

    Args:
        path: The ``.pkl`` file.

    Returns:
        ``(G, D, Gs)``: :class:`~tfstylegan.networks.GStyle`,
        :class:`~tfstylegan.networks.DBasic`, :class:`~tfstylegan.networks.GStyle`,
        holding the stored values (lod and dlatent_avg included).

    Raises:
        LegacyPickleError: the file is missing, unreadable, not an original network
            pickle, asks for unbounded memory or work (PickleBoundsError), or refers to
            code outside the allowlist (UnsafePickleError).
        ConversionError: (a LegacyPickleError) the stored networks cannot be built or
            filled: networks out of order, an unknown or out-of-bounds static kwarg, G
            and Gs of different architectures, a D that does not take G's images, a
            missing or extra variable, a shape or dtype mismatch.
    """
    where = os.fspath(path)
    states = load_pickle_states(_read_bytes(path))
    check_networks(states, where)  # Roles, bounds and matching architectures, before anything is built.
    return tuple(network_from_state(state, where=where) for state in states)


def save_network_pkl(path: str | os.PathLike, G, D, Gs) -> None:
    """Write ``(G, D, Gs)`` as an original-style network pickle (atomically).

    The file has the layout of the pickles the original training loop writes
    (``dnnlib.tflib.network.Network`` state version 3, variables under the original
    names, shapes and layouts, numpy arrays pickled under numpy 1.x names), so the
    original code can load it given its own source, and :func:`load_network_pkl` reads
    it back to identical weights. ``build_module_src`` is a short placeholder.

    Args:
        path: Destination ``.pkl`` path (local or any filesystem TensorFlow supports).
        G, D, Gs: The networks.
    """
    states = [state_from_network(net) for net in (G, D, Gs)]
    path = os.fspath(path)
    if "://" not in path:
        save_pickle_states(path, states)
        return
    buf = io.BytesIO()
    save_pickle_states(buf, states)
    with atomic_output(path) as temp, tf.io.gfile.GFile(temp, "wb") as f:
        f.write(buf.getvalue())


__all__ = ["ConversionError", "LegacyPickleError", "load_network_pkl", "save_network_pkl"]
