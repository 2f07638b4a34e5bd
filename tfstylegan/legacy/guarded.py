"""An allowlist unpickler whose few allowed globals accept only what numpy writes.

:class:`GuardedUnpickler` resolves a global only through its ``allowed`` table and refuses
every other one, and every persistent ID, with :class:`UnsafePickleError` before anything
named by the file is called. The numpy helpers in the table (array and scalar rebuild,
dtype, ``_codecs.encode``) are wrapped so that each accepts only the arguments numpy
itself pickles, and so that pickle's BUILD opcode cannot set attributes on them (which
would alter the allowlist for later loads). Python 2 and 3 pickles, numpy 1.x
(``numpy.core``) and numpy 2 (``numpy._core``) module names are accepted.

The network pickle reader (:mod:`tfstylegan.legacy.reader`) adds the network class to the
table; the dataset archives (CIFAR, SVHN) use the table as it is.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Mapping
from typing import Any

import numpy as np

try:  # numpy 2 moved numpy.core to numpy._core (the old name remains as a shim).
    from numpy._core import multiarray
except ImportError:  # numpy 1.x
    from numpy.core import multiarray

NUMERIC_KINDS = "biufc"  # numpy dtype kinds of booleans and numbers.
# Simple numeric dtype specs as numpy pickles them ("f4", "i8", "b1", ...).
_DTYPE_SPEC_RE = re.compile(r"[biufc][0-9]{1,2}")


class LegacyPickleError(pickle.UnpicklingError):
    """A file or state is not a readable original StyleGAN network pickle.

    The guarded helpers raise it for any pickle (data archives too) whose arguments to an
    allowed global are not what numpy writes.
    """


class UnsafePickleError(LegacyPickleError):
    """A pickle refers to a global outside the allowlist, or uses persistent IDs.

    Raised before the global can be called, so nothing named by the file was run.

    Attributes:
        module: Module of the refused global (None for a persistent ID).
        name: Name of the refused global (None for a persistent ID).
    """

    def __init__(self, message: str, module: str | None = None, name: str | None = None):
        super().__init__(message)
        self.module = module
        self.name = name


class _Guarded:
    """An allowlisted global as the unpickler hands it out.

    Pickle's BUILD opcode sets attributes on whatever object it is applied to, a function
    included. These wrappers refuse it, so a file cannot alter the allowlist for later
    loads; ``func=None`` makes a token that cannot be called at all.
    """

    __slots__ = ("_func", "_label")

    def __init__(self, func: Any, label: str):
        self._func = func
        self._label = label

    def __call__(self, *args: Any) -> Any:
        if self._func is None:
            raise LegacyPickleError(f"{self._label} cannot be called here")
        return self._func(*args)

    def __setstate__(self, state: Any) -> None:
        raise LegacyPickleError(f"the pickle tries to modify {self._label}")

    def __repr__(self) -> str:
        return f"<{self._label}>"


# numpy.ndarray, only as the first argument of _reconstruct.
_NDARRAY = _Guarded(None, "numpy.ndarray")


def _safe_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """numpy's array rebuild step, limited to the empty array every numpy pickle starts from."""
    if subtype is not _NDARRAY or shape != (0,) or dtype not in (b"b", "b"):
        raise LegacyPickleError(f"unexpected arguments to numpy's _reconstruct: {shape!r:.40}, {dtype!r:.40}")
    return multiarray._reconstruct(np.ndarray, (0,), b"b")


def _safe_scalar(dtype: Any, data: Any = None) -> np.generic:
    """numpy's scalar rebuild step, limited to numeric dtypes and exact-size bytes."""
    if not isinstance(dtype, np.dtype) or dtype.kind not in NUMERIC_KINDS:
        raise LegacyPickleError(f"numpy scalar of unsupported dtype {dtype!r:.40}")
    if not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise LegacyPickleError(f"numpy scalar of dtype {dtype} with bad data {data!r:.40}")
    return multiarray.scalar(dtype, data)


def _safe_dtype(spec: Any, align: Any = False, copy: Any = False) -> np.dtype:
    """numpy dtype construction, limited to the simple numeric specs numpy pickles."""
    if not isinstance(spec, str) or not _DTYPE_SPEC_RE.fullmatch(spec):
        raise LegacyPickleError(f"unsupported numpy dtype {spec!r:.40} (only numeric dtypes are allowed)")
    # Always a fresh copy, as numpy's own pickles ask: the state that BUILD applies next
    # must only ever reach this object, never numpy's shared dtype instances.
    return np.dtype(spec, bool(align), True)


def _latin1_encode(text: Any, encoding: Any = "latin1") -> bytes:
    """``_codecs.encode`` as protocol 2/3 pickles use it for bytes (latin-1 only)."""
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise LegacyPickleError(
            f"unexpected _codecs.encode arguments ({type(text).__name__}, {encoding!r:.20})"
        )
    return text.encode("latin1")


_RECONSTRUCT = _Guarded(_safe_reconstruct, "numpy's _reconstruct")
_SCALAR = _Guarded(_safe_scalar, "numpy's scalar")
_DTYPE = _Guarded(_safe_dtype, "numpy.dtype")


def _numpy_globals(module: str) -> dict[tuple[str, str], Any]:
    return {
        (module, "_reconstruct"): _RECONSTRUCT,
        (module, "scalar"): _SCALAR,
        (module, "ndarray"): _NDARRAY,
        (module, "dtype"): _DTYPE,
    }

# What a pickle of numpy arrays and plain Python data may name.
ARRAY_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DTYPE,
    **_numpy_globals("numpy.core.multiarray"),  # written by numpy 1.x (the released files)
    **_numpy_globals("numpy._core.multiarray"),  # written by numpy 2
    ("_codecs", "encode"): _Guarded(_latin1_encode, "_codecs.encode"),  # bytes in protocol 2 and 3
}


class GuardedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals of :attr:`allowed`.

    By default that is :data:`ARRAY_GLOBALS`: dicts, lists, tuples, strings, numbers and
    numpy arrays load, nothing else does. Subclasses extend the table and word the
    refusals for their kind of file.

    Attributes:
        allowed: ``(module, name)`` -> what the global resolves to.
        refused_global: Message of a refused global, formatted with ``module`` and ``name``.
        refused_persistent_id: Message of a refused persistent ID.
    """

    allowed: Mapping[tuple[str, str], Any] = ARRAY_GLOBALS
    refused_global = "refusing to load global {module}.{name}"
    refused_persistent_id = "refused a persistent ID: pickles of arrays do not use them"

    def find_class(self, module: str, name: str) -> Any:
        try:
            return self.allowed[(module, name)]
        except KeyError:
            message = self.refused_global.format(module=module, name=name)
            raise UnsafePickleError(message, module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(self.refused_persistent_id)
