"""Reading an original StyleGAN (v1) ``network.pkl`` without running anything stored in it.

An original file is a pickled tuple ``(G, D, Gs)`` of ``dnnlib.tflib.network.Network``
objects. :class:`SafeUnpickler` may name only that class (as :class:`NetworkStub`) and
numpy's guarded array helpers; :func:`load_pickle_states` returns the three
:class:`NetworkState` objects, or an error that names the file and what is wrong with it.
"""

from __future__ import annotations

import io
import os
from collections import OrderedDict
from typing import IO, Any

from tfstylegan.legacy.bounds import short_repr
from tfstylegan.legacy.errors import ConversionError, LegacyPickleError, PickleBoundsError, UnsafePickleError
from tfstylegan.legacy.guarded import ARRAY_GLOBALS, GuardedUnpickler, load_guarded
from tfstylegan.legacy.network_state import NetworkState
from tfstylegan.legacy.stub import NetworkStub, describe
from tfstylegan.paths import open_regular_file

PathOrFile = str | os.PathLike | IO[bytes]

_TUPLE_DESCRIPTION = "a pickled tuple (G, D, Gs) of dnnlib.tflib.network.Network objects"

# Everything an original pickle may name: (module, name) -> what it resolves to.
_READ_GLOBALS: dict[tuple[str, str], Any] = {
    ("dnnlib.tflib.network", "Network"): NetworkStub,
    **ARRAY_GLOBALS,
    ("collections", "OrderedDict"): OrderedDict,
}


class SafeUnpickler(GuardedUnpickler):
    """Unpickler that resolves only the globals an original StyleGAN pickle needs.

    ``dnnlib.tflib.network.Network`` resolves to :class:`NetworkStub`; numpy's array,
    scalar and dtype helpers (under both ``numpy.core`` and ``numpy._core``) resolve to
    wrappers that accept only what numpy writes; ``_codecs.encode`` and
    ``collections.OrderedDict`` are allowed too. Any other global, and any persistent ID,
    raises :class:`UnsafePickleError` before it can be called.
    """

    allowed = _READ_GLOBALS
    refused_global = (
        "refused to load the global {module}.{name}: an original StyleGAN pickle refers only to "
        "dnnlib.tflib.network.Network and numpy's array helpers, so this file is not one and may "
        "be malicious (nothing it names was run)"
    )
    refused_persistent_id = "refused a persistent ID: original StyleGAN pickles do not use them"


# Signatures of other formats that are sometimes mistaken for network pickles.
_FOREIGN_MAGIC = (
    (b"\x1f\x8b", "gzip file (decompress it first)"),
    (b"PK\x03\x04", "zip archive (for example a PyTorch or Keras checkpoint)"),
    (b"PK\x05\x06", "zip archive"),
    (b"\x89HDF", "HDF5 file (for example Keras weights)"),
    (b"\x93NUMPY", "numpy .npy file"),
)


def load_pickle_states(path_or_file: PathOrFile) -> tuple[NetworkState, NetworkState, NetworkState]:
    """Reads an original StyleGAN ``network.pkl`` without running anything from it.

    The opcode stream is first checked against the bounds of
    :mod:`tfstylegan.legacy.bounds` (memo, nesting, object count, declared sizes), then
    unpickled by :class:`SafeUnpickler`; the three networks must be ``(G_style, D_basic,
    G_style)`` networks and every variable float32, as the original writes them.

    Args:
        path_or_file: A local path, or a binary file object open for reading.

    Returns:
        The states of ``(G, D, Gs)``.

    Raises:
        UnsafePickleError: The file names a global outside the allowlist.
        PickleBoundsError: The file asks for unbounded memory or work (refused unread).
        LegacyPickleError: The file cannot be opened, is empty, truncated, not a pickle,
            or does not hold a valid ``(G, D, Gs)`` tuple. The message names the file.
    """
    if isinstance(path_or_file, (str, os.PathLike)):
        source = os.fspath(path_or_file)
        try:
            file = open_regular_file(source)
        except OSError as e:
            reason = e.strerror or type(e).__name__
            raise LegacyPickleError(
                f"{source}: cannot open the file ({reason}); expected {_TUPLE_DESCRIPTION}"
            ) from e
        with file:
            return _load(file, source)
    source = getattr(path_or_file, "name", None)
    return _load(path_or_file, source if isinstance(source, str) else repr(path_or_file))


def _load(file: IO[bytes], source: str) -> tuple[NetworkState, NetworkState, NetworkState]:
    if not hasattr(file, "read") or isinstance(file, io.TextIOBase):
        raise TypeError(f"expected a path or a binary file object, got {type(file).__name__}")
    if not (hasattr(file, "seekable") and file.seekable()):
        file = io.BytesIO(file.read())  # A stream: read it whole, to scan it and then unpickle it.
    start = file.tell()
    head = file.read(8)
    file.seek(start)
    if not isinstance(head, bytes):
        raise TypeError(f"expected a binary file object, got one whose read() returns {type(head).__name__}")
    if not head:
        raise LegacyPickleError(f"{source}: the file is empty; expected {_TUPLE_DESCRIPTION}")
    for magic, kind in _FOREIGN_MAGIC:
        if head.startswith(magic):
            raise LegacyPickleError(
                f"{source}: this is a {kind}, not a pickle; expected {_TUPLE_DESCRIPTION}"
            )
    try:
        result = load_guarded(file, SafeUnpickler)
    except PickleBoundsError as e:
        raise PickleBoundsError(
            f"{source}: {_BOUND_REASONS[e.kind]} ({e}); expected {_TUPLE_DESCRIPTION}", e.kind
        ) from None
    except UnsafePickleError as e:
        raise UnsafePickleError(f"{source}: {e}", e.module, e.name) from None
    except LegacyPickleError as e:
        raise LegacyPickleError(f"{source}: {e}; expected {_TUPLE_DESCRIPTION}") from None
    except Exception as e:  # Anything else from pickle's internals means a damaged or foreign file.
        message = str(e)
        if isinstance(e, EOFError) or "truncated" in message:
            reason = _BOUND_REASONS["truncated"]
        else:
            reason = f"the data is not a valid pickle ({type(e).__name__}: {message:.200})"
        raise LegacyPickleError(f"{source}: {reason}; expected {_TUPLE_DESCRIPTION}") from e
    if not (
        isinstance(result, tuple) and len(result) == 3 and all(isinstance(n, NetworkStub) for n in result)
    ):
        raise LegacyPickleError(f"{source}: holds {describe(result)}; expected {_TUPLE_DESCRIPTION}")
    if any("state" not in n.__dict__ for n in result):
        raise LegacyPickleError(f"{source}: a top-level network has no state; expected {_TUPLE_DESCRIPTION}")
    states = tuple(n.state for n in result)
    check_roles(states, source)
    return states


_BOUND_REASONS = {
    "truncated": "the data ends early, so the file is truncated or still being written",
    "invalid": "the data is not a valid pickle",
    "bound": "the pickle breaks a safety bound, so it was refused before anything was unpickled",
}
ROLES = (("G", "G_style"), ("D", "D_basic"), ("Gs", "G_style"))  # The networks of the tuple, in order.


def check_roles(states: tuple[NetworkState, ...], source: str) -> None:
    """Checks that the three states are ``(G, D, Gs)``: G_style, D_basic, G_style networks, G not named Gs.

    Raises:
        ConversionError: naming the network in the wrong place (e.g. a ``(D, G, Gs)`` tuple).
    """
    found = [state.build_func_name for state in states]
    if found != [func for _, func in ROLES]:
        shown = ", ".join(
            f"{role}: {state.name!r} ({short_repr(func)})"
            for (role, _), state, func in zip(ROLES, states, found)
        )
        raise ConversionError(
            f"{source}: the networks are not in the order (G, D, Gs) = (G_style, D_basic, G_style): "
            f"found {shown}"
        )
    if states[0].name == "Gs" or states[2].name == "G":  # The original names them G, D, Gs.
        raise ConversionError(
            f"{source}: G and Gs are swapped: the first network is named {states[0].name!r} and the third "
            f"{states[2].name!r}; expected (G, D, Gs)"
        )
