"""An allowlist unpickler whose few allowed globals accept only what numpy writes.

:class:`GuardedUnpickler` resolves a global only through its ``allowed`` table and refuses
every other one, and every persistent ID, with :class:`UnsafePickleError` before anything
named by the file is called. :func:`load_guarded` first checks the opcode stream against
the bounds of :mod:`tfstylegan.legacy.bounds`, so nothing is unpickled from a file that
asks for unbounded memory or work.

The numpy helpers in the table accept only the arguments numpy itself pickles, and
numpy never sees a state that it did not write:

- ``numpy.dtype(spec, align, copy)`` gives a :class:`DtypeToken` for a plain numeric
  spec (``f4``, ``u1``, ...); the state that pickle's BUILD opcode then applies must be
  exactly the state numpy writes for that dtype (little-endian, no fields, no subarray,
  no flags), else it is refused. A forged state would otherwise reach numpy's dtype, where
  flags can make numpy treat numbers as object pointers.
- ``_reconstruct(ndarray, (0,), b'b')`` gives an empty :class:`GuardedArray`, whose BUILD
  state must be ``(1, shape, dtype token, fortran, data)`` with exactly
  ``prod(shape) * itemsize`` bytes of data (so an array's declared size is bounded by the
  data in the file).
- ``_frombuffer(data, dtype token, shape, order)`` is protocol 5's array rebuild, with the
  same rules; ``scalar(dtype token, data)`` takes exactly ``itemsize`` bytes.
- ``_codecs.encode(text, 'latin1')`` is how protocols 2 and 3 write bytes.

Every allowed global is wrapped so that BUILD cannot set attributes on it (which would
alter the allowlist for later loads). Python 2 and 3 pickles, protocols 0 to 5, numpy 1.x
(``numpy.core``) and numpy 2 (``numpy._core``) module names are accepted.

The network pickle reader (:mod:`tfstylegan.legacy.reader`) adds the network class to the
table; the dataset archives (CIFAR, SVHN) use the table as it is.
"""

from __future__ import annotations

import io
import math
import pickle
from collections.abc import Mapping
from typing import Any, BinaryIO

import numpy as np

from tfstylegan.legacy.bounds import check_pickle_bounds, short_repr
from tfstylegan.legacy.errors import LegacyPickleError, UnsafePickleError

try:  # numpy 2 moved numpy.core to numpy._core (the old name remains as a shim).
    from numpy._core import multiarray
except ImportError:  # numpy 1.x
    from numpy.core import multiarray

NUMERIC_KINDS = "biufc"  # numpy dtype kinds of booleans and numbers.
# The plain numeric dtypes, as numpy names them in a pickle.
PLAIN_DTYPE_SPECS = frozenset("b1 i1 i2 i4 i8 u1 u2 u4 u8 f2 f4 f8 c8 c16".split())
MAX_NDIM = 32  # numpy 1.x's limit on the number of array dimensions.


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


def _is_plain_tuple(value: Any, expected: tuple) -> bool:
    """``value == expected`` for a tuple of ints, strings and None, comparing types first."""
    return (
        type(value) is tuple
        and len(value) == len(expected)
        and all(type(a) is type(b) and a == b for a, b in zip(value, expected))
    )


class DtypeToken:
    """A plain numeric dtype being unpickled: ``numpy.dtype(spec)`` waiting for its state.

    Pickle's BUILD opcode calls :meth:`__setstate__` with the dtype's state, which must be
    the one numpy writes for ``spec`` on a little-endian machine (every machine the
    original ran on; numpy would silently byte-swap a big-endian array). Only then is
    :attr:`dtype` set; the array and scalar helpers accept nothing else as a dtype.
    """

    __slots__ = ("spec", "dtype")

    def __init__(self, spec: str):
        self.spec = spec
        self.dtype: np.dtype | None = None

    def __setstate__(self, state: Any) -> None:
        if self.dtype is not None:
            raise LegacyPickleError(f"the pickle sets the state of numpy dtype {self.spec!r} twice")
        base = np.dtype(self.spec)
        candidate = base.newbyteorder("|" if base.itemsize == 1 else "<")
        if _is_plain_tuple(state, candidate.__reduce__()[2]):
            self.dtype = candidate
            return
        raise LegacyPickleError(
            f"numpy dtype {self.spec!r} with the state {short_repr(state)}, which numpy does not write "
            "for a plain numeric dtype (fields, subarrays and flags are refused)"
        )

    def __repr__(self) -> str:
        return f"<numpy dtype {self.spec!r}{'' if self.dtype is not None else ' without its state'}>"


def _dtype_of(token: Any, what: str) -> np.dtype:
    if not isinstance(token, DtypeToken):
        raise LegacyPickleError(f"{what} with the dtype {short_repr(token)}; expected a numpy dtype")
    if token.dtype is None:
        raise LegacyPickleError(f"{what} with numpy dtype {token.spec!r}, which was never given its state")
    return token.dtype


def _shape(value: Any, what: str) -> tuple[int, ...]:
    if type(value) is not tuple or len(value) > MAX_NDIM or not all(type(d) is int and d >= 0 for d in value):
        raise LegacyPickleError(f"{what} with the shape {short_repr(value)}; expected a tuple of sizes >= 0")
    return value


def _raw_bytes(data: Any, nbytes: int, what: str) -> bytes | bytearray:
    if isinstance(data, str):  # Python 2 pickles: the bytes as latin-1 text.
        try:
            data = data.encode("latin1")
        except UnicodeEncodeError:
            raise LegacyPickleError(f"{what} with text data that is not latin-1") from None
    if type(data) not in (bytes, bytearray) or len(data) != nbytes:
        size = f"{len(data)} bytes" if type(data) in (bytes, bytearray) else short_repr(data)
        raise LegacyPickleError(f"{what} needs {nbytes} bytes of data, got {size}")
    return data


class GuardedArray(np.ndarray):
    """The empty array that numpy's ``_reconstruct`` starts from, filled only through checked states.

    A plain ``ndarray`` subclass; :func:`plain` (or ``np.asarray``) gives the ndarray itself.
    """

    def __setstate__(self, state: Any) -> None:
        if self.shape != (0,) or self.__dict__.get("_filled"):
            raise LegacyPickleError("the pickle sets the state of a numpy array twice")
        if type(state) is not tuple or len(state) != 5 or type(state[0]) is not int or state[0] != 1:
            raise LegacyPickleError(f"numpy array with the state {short_repr(state)}; expected what numpy writes")
        _, shape, token, fortran, data = state
        shape = _shape(shape, "numpy array")
        dtype = _dtype_of(token, "numpy array")
        if type(fortran) not in (bool, int) or fortran not in (0, 1):
            raise LegacyPickleError(f"numpy array with the Fortran flag {short_repr(fortran)}")
        data = _raw_bytes(data, math.prod(shape) * dtype.itemsize, f"numpy array of shape {list(shape)} and dtype {dtype}")
        self.__dict__["_filled"] = True
        super().__setstate__((1, shape, dtype, bool(fortran), data))


def plain(value: Any) -> Any:
    """``value`` as a plain ``np.ndarray`` if it is a :class:`GuardedArray`, else unchanged."""
    return value.view(np.ndarray) if isinstance(value, GuardedArray) else value


def _safe_reconstruct(subtype: Any, shape: Any, dtype: Any) -> np.ndarray:
    """numpy's array rebuild step, limited to the empty array every numpy pickle starts from."""
    if subtype is not _NDARRAY or not _is_plain_tuple(shape, (0,)) or type(dtype) not in (bytes, str) or dtype not in ("b", b"b"):
        raise LegacyPickleError(
            f"unexpected arguments to numpy's _reconstruct: {short_repr(shape)}, {short_repr(dtype)}"
        )
    return multiarray._reconstruct(GuardedArray, (0,), b"b")


def _safe_frombuffer(data: Any, token: Any, shape: Any, order: Any) -> np.ndarray:
    """numpy's protocol-5 array rebuild (``_frombuffer``), with the same rules as an array's state."""
    shape = _shape(shape, "numpy array (protocol 5)")
    dtype = _dtype_of(token, "numpy array (protocol 5)")
    if type(order) is not str or order not in ("C", "F"):
        raise LegacyPickleError(f"numpy array (protocol 5) with the order {short_repr(order)}")
    if type(data) not in (bytes, bytearray):
        raise LegacyPickleError(f"numpy array (protocol 5) with the data {short_repr(data)}; expected bytes")
    data = _raw_bytes(data, math.prod(shape) * dtype.itemsize, f"numpy array of shape {list(shape)} and dtype {dtype}")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order)


def _safe_scalar(token: Any, data: Any = None) -> np.generic:
    """numpy's scalar rebuild step, limited to plain numeric dtypes and exact-size bytes."""
    dtype = _dtype_of(token, "numpy scalar")
    if type(data) is not bytes or len(data) != dtype.itemsize:
        raise LegacyPickleError(f"numpy scalar of dtype {dtype} with bad data {short_repr(data)}")
    return multiarray.scalar(dtype, data)


def _safe_dtype(spec: Any, align: Any = False, copy: Any = False) -> DtypeToken:
    """numpy dtype construction, limited to the plain numeric specs numpy pickles."""
    if type(spec) is not str or spec not in PLAIN_DTYPE_SPECS:
        raise LegacyPickleError(f"unsupported numpy dtype {short_repr(spec)} (only numeric dtypes are allowed)")
    if not all(type(flag) in (bool, int) and flag in (0, 1) for flag in (align, copy)):  # Python 2: ints.
        raise LegacyPickleError(f"numpy dtype {spec!r} with unexpected arguments {short_repr((align, copy))}")
    return DtypeToken(spec)


def _latin1_encode(text: Any, encoding: Any = "latin1") -> bytes:
    """``_codecs.encode`` as protocol 2/3 pickles use it for bytes (latin-1 only)."""
    if type(text) is not str or type(encoding) is not str or encoding not in ("latin1", "latin-1"):
        raise LegacyPickleError(
            f"unexpected _codecs.encode arguments ({type(text).__name__}, {short_repr(encoding)})"
        )
    try:
        return text.encode("latin1")
    except UnicodeEncodeError:
        raise LegacyPickleError("_codecs.encode of text that is not latin-1") from None


_RECONSTRUCT = _Guarded(_safe_reconstruct, "numpy's _reconstruct")
_FROMBUFFER = _Guarded(_safe_frombuffer, "numpy's _frombuffer")
_SCALAR = _Guarded(_safe_scalar, "numpy's scalar")
_DTYPE = _Guarded(_safe_dtype, "numpy.dtype")


def _numpy_globals(core: str) -> dict[tuple[str, str], Any]:
    return {
        (f"{core}.multiarray", "_reconstruct"): _RECONSTRUCT,
        (f"{core}.multiarray", "scalar"): _SCALAR,
        (f"{core}.multiarray", "ndarray"): _NDARRAY,
        (f"{core}.multiarray", "dtype"): _DTYPE,
        (f"{core}.numeric", "_frombuffer"): _FROMBUFFER,  # protocol 5
    }


# What a pickle of numpy arrays and plain Python data may name.
ARRAY_GLOBALS: dict[tuple[str, str], Any] = {
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DTYPE,
    **_numpy_globals("numpy.core"),  # written by numpy 1.x (the released files)
    **_numpy_globals("numpy._core"),  # written by numpy 2
    ("_codecs", "encode"): _Guarded(_latin1_encode, "_codecs.encode"),  # bytes in protocol 2 and 3
}


class GuardedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals of :attr:`allowed`.

    By default that is :data:`ARRAY_GLOBALS`: dicts, lists, tuples, strings, numbers and
    numpy arrays load, nothing else does. Subclasses extend the table and word the
    refusals for their kind of file. Use :func:`load_guarded`, which checks the bounds
    of the stream first.

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
            message = self.refused_global.format(module=short_repr(module)[1:-1], name=short_repr(name)[1:-1])
            raise UnsafePickleError(message, module, name) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError(self.refused_persistent_id)


def load_guarded(
    source: bytes | BinaryIO, unpickler: type[GuardedUnpickler] = GuardedUnpickler, **kwargs: Any
) -> Any:
    """Unpickles ``source`` with ``unpickler`` once its opcode stream is within bounds.

    Args:
        source: The whole pickle, or a seekable binary file positioned at its start (read
            twice: once for the bounds, once to unpickle).
        unpickler: :class:`GuardedUnpickler` or a subclass.
        **kwargs: Passed to the unpickler (e.g. ``encoding='latin1'`` for Python 2 files).

    Raises:
        PickleBoundsError: the stream breaks a bound (nothing was unpickled).
        UnsafePickleError, LegacyPickleError: see :class:`GuardedUnpickler`.
        Exception: pickle's own errors for a damaged stream.
    """
    file = io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source
    check_pickle_bounds(file)
    return unpickler(file, **kwargs).load()
