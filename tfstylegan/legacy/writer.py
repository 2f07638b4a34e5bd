"""Writing ``(G, D, Gs)`` network states as a file that the original StyleGAN code reads.

Protocol 4, the original state layout and key order, and the numpy 1.x module names for
the array helpers (the original runs with numpy 1.x and Python >= 3.6).
"""

from __future__ import annotations

import dataclasses
import os
import pickle
from collections import OrderedDict
from collections.abc import Iterable
from typing import IO, Any

import numpy as np

from tfstylegan import atomic
from tfstylegan.legacy.guarded import multiarray
from tfstylegan.legacy.network_state import BUILD_MODULE_SRC_PLACEHOLDER, NetworkState
from tfstylegan.legacy.reader import PathOrFile
from tfstylegan.legacy.stub import NetworkStub, describe, make_stub

PICKLE_PROTOCOL = 4  # Like the released files; readable by Python >= 3.4.

# Every global a written file may name, under the name the original code imports.
_WRITE_GLOBALS = (
    (NetworkStub, "dnnlib.tflib.network", "Network"),
    (multiarray._reconstruct, "numpy.core.multiarray", "_reconstruct"),
    (multiarray.scalar, "numpy.core.multiarray", "scalar"),
    (np.ndarray, "numpy", "ndarray"),
    (np.dtype, "numpy", "dtype"),
    (OrderedDict, "collections", "OrderedDict"),
)


class _OriginalNamesPickler(pickle._Pickler):
    """Pickler that writes each global under the name the original code imports.

    The C pickler writes a global under the module that defines it today
    (``numpy._core.multiarray`` under numpy 2, the stub module for :class:`NetworkStub`) and
    has no hook to change that. The pure-Python pickler sends every global through
    :meth:`save_global`, which here writes a fixed table of names and refuses the rest,
    so a written file needs nothing that :class:`SafeUnpickler` would refuse.
    """

    def save_global(self, obj: Any, name: str | None = None) -> None:
        target = next(((m, q) for known, m, q in _WRITE_GLOBALS if obj is known), None)
        if target is None:
            raise pickle.PicklingError(f"cannot write {obj!r} into an original StyleGAN pickle")
        module, qualname = target
        self.save(module)
        self.save(qualname)
        self.write(pickle.STACK_GLOBAL)
        self.memoize(obj)


def save_pickle_states(
    path_or_file: PathOrFile,
    states: Iterable[NetworkState],
    *,
    keep_build_module_src: bool = False,
) -> None:
    """Writes ``(G, D, Gs)`` as an original StyleGAN ``network.pkl``.

    The file is what the original ``pickle.dump((G, D, Gs), f)`` writes: protocol 4,
    ``dnnlib.tflib.network.Network`` objects with version-3 state dicts in the original
    key order, arrays and numpy scalars under their numpy 1.x names
    (``numpy.core.multiarray``). A path is written atomically (a temporary file
    beside it, flushed to disk, then renamed over it: :func:`tfstylegan.atomic.atomic_output`),
    so a crash leaves the old file or the new one; temporary files left in the folder by
    killed writes (older than this process) are removed first. A file object is written in
    place.

    Args:
        path_or_file: A local path, or a binary file object open for writing.
        states: The states of ``G``, ``D`` and ``Gs``.
        keep_build_module_src: Write each state's ``build_module_src`` as it is (e.g. the
            source read from a released file) instead of
            :data:`BUILD_MODULE_SRC_PLACEHOLDER`. The original loader executes this
            source; with the placeholder it needs an import handler that supplies it.

    Raises:
        TypeError, ValueError: ``states`` is not three valid NetworkState objects.
    """
    states = tuple(states)
    if len(states) != 3 or not all(isinstance(s, NetworkState) for s in states):
        raise TypeError(f"expected the NetworkStates of (G, D, Gs), got {describe(states)}")
    for state in states:
        state.validate()
    if not keep_build_module_src:
        states = tuple(_with_placeholder_src(s) for s in states)
    stubs = tuple(make_stub(s) for s in states)

    def dump(file: IO[bytes]) -> None:
        _OriginalNamesPickler(file, protocol=PICKLE_PROTOCOL).dump(stubs)

    if not isinstance(path_or_file, (str, os.PathLike)):
        dump(path_or_file)
        return
    # Created like open(path, "wb") would (mode 0o666 minus the umask), but exclusively.
    with atomic.atomic_output(path_or_file) as temp:
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        with os.fdopen(fd, "wb") as file:
            dump(file)
            file.flush()
            os.fsync(file.fileno())


def _with_placeholder_src(state: NetworkState) -> NetworkState:
    return dataclasses.replace(
        state,
        build_module_src=BUILD_MODULE_SRC_PLACEHOLDER,
        components={key: _with_placeholder_src(c) for key, c in state.components.items()},
    )
