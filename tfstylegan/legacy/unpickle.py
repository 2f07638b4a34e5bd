"""Read and write the original StyleGAN (v1) network pickles without TensorFlow.

An original ``network.pkl`` is a pickled tuple ``(G, D, Gs)`` of
``dnnlib.tflib.network.Network`` objects. Each object pickles one state dict whose keys
are :data:`STATE_KEYS`. The original loader rebuilds a network by running the Python
source stored under ``build_module_src``; here that source is an opaque string that is
never run, compiled or parsed.

Reading goes through :class:`SafeUnpickler`, an allowlist: a file may name only the
network class and the few numpy helpers that rebuild arrays, each behind a wrapper that
accepts only the arguments numpy itself writes. Anything else is refused before it can
be called. The result is a tuple of :class:`NetworkState`, a plain description of one
network (name, constructor kwargs, sub-networks, variables as numpy arrays).

Writing goes the other way and produces files that the original code (numpy 1.x,
Python >= 3.6) can read: protocol 4, the original state layout and key order, and the
numpy 1.x module names for array helpers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import pickle
import re
import secrets
from collections import OrderedDict
from collections.abc import Iterable
from typing import IO, Any

import numpy as np

try:  # numpy 2 moved numpy.core to numpy._core (the old name remains as a shim).
    from numpy._core import multiarray as _multiarray
except ImportError:  # numpy 1.x
    from numpy.core import multiarray as _multiarray

PathOrFile = str | os.PathLike | IO[bytes]

# The state dict of one network, keys in the order the original writes them.
STATE_KEYS = (
    "version",
    "name",
    "static_kwargs",
    "components",
    "build_module_src",
    "build_func_name",
    "variables",
)
SUPPORTED_VERSIONS = (2, 3)  # Version 2 states may omit "components".
WRITE_VERSION = 3  # The original always writes version 3.
PICKLE_PROTOCOL = 4  # Like the released files; readable by Python >= 3.4.

BUILD_MODULE_SRC_PLACEHOLDER = (
    "# Placeholder written by tfstylegan: the network source code is not stored in this file.\n"
    "# This text is not a program and must not be executed. To load the file with the original\n"
    "# dnnlib, supply the source of training/networks_stylegan.py through an import handler.\n"
)

# Network names, as the original requires them.
_NAME_RE = re.compile(r"[A-Za-z0-9_.\-]+")
# Simple numeric dtype specs as numpy pickles them ("f4", "i8", "b1", ...).
_DTYPE_SPEC_RE = re.compile(r"[biufc][0-9]{1,2}")
_NUMERIC_KINDS = "biufc"
_TUPLE_DESCRIPTION = "a pickled tuple (G, D, Gs) of dnnlib.tflib.network.Network objects"


class LegacyPickleError(pickle.UnpicklingError):
    """A file or state is not a readable original StyleGAN network pickle."""


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


# ----------------------------------------------------------------------------------------
# The state of one network.


@dataclasses.dataclass(eq=False)
class NetworkState:
    """The pickled state of one original ``dnnlib.tflib.network.Network``.

    Construction normalises and checks the fields; :meth:`validate` repeats the checks
    after in-place edits.

    Attributes:
        name: Network name (``G``, ``Gs``, ``G_mapping``, ...). A parent prefixes its
            sub-network's variables with this name, not with the ``components`` key.
        static_kwargs: Keyword arguments the network was built with (a plain dict).
        components: Sub-networks by key (``synthesis``, ``mapping``), in pickled order.
        build_func_name: Name of the build function (``G_style``, ``D_basic``, ...).
        variables: ``(local_name, value)`` for the network's own variables in creation
            order. Every value is a numpy array of a numeric dtype; the 0-d variables that
            the file holds as numpy scalars (``lod``) become 0-d arrays of the same dtype,
            and are written back as numpy scalars.
        version: State version read from the file (2 or 3). Files are written as 3.
        build_module_src: The pickled source of the network module, kept as an opaque
            string and never run. Not written back unless asked for.
    """

    name: str
    static_kwargs: dict[str, Any]
    components: dict[str, NetworkState]
    build_func_name: str
    variables: list[tuple[str, np.ndarray]]
    version: int = WRITE_VERSION
    build_module_src: str = BUILD_MODULE_SRC_PLACEHOLDER

    def __post_init__(self) -> None:
        if isinstance(self.static_kwargs, dict):
            self.static_kwargs = dict(self.static_kwargs)
        if isinstance(self.components, dict):
            self.components = dict(self.components)
        if isinstance(self.variables, (list, tuple)):
            self.variables = [_normalise_variable(item) for item in self.variables]
        self.validate()

    def validate(self) -> None:
        """Checks the fields of this network and of its sub-networks.

        Raises:
            TypeError: A field has the wrong type.
            ValueError: A field has a bad value (name, version, duplicate names, cycle).
        """
        _validate_tree(self, active=set())

    def full_variables(self) -> dict[str, np.ndarray]:
        """All variables by global name: own ones first, then each sub-network's.

        Sub-network variables are prefixed with the sub-network's ``name``, e.g.
        ``G_mapping/Dense0/weight``, in the order of ``components`` (as the original).

        Returns:
            A dict from global name to array (the arrays are shared, not copied).

        Raises:
            ValueError: Two variables end up with the same global name.
        """
        result = dict(self.variables)
        for component in self.components.values():
            for local_name, value in component.full_variables().items():
                global_name = f"{component.name}/{local_name}"
                if global_name in result:
                    raise ValueError(f"network {self.name!r}: duplicate variable name {global_name!r}")
                result[global_name] = value
        return result

    def __repr__(self) -> str:
        return (
            f"NetworkState(name={self.name!r}, build_func_name={self.build_func_name!r}, "
            f"version={self.version}, {len(self.variables)} variables, "
            f"components={list(self.components)})"
        )


def _normalise_variable(item: Any) -> Any:
    """Turns a numpy scalar value into a 0-d array; leaves anything else to validation."""
    if isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], np.generic):
        return (item[0], np.asarray(item[1]))
    return tuple(item) if isinstance(item, list) else item


def _validate_tree(state: NetworkState, active: set[int]) -> None:
    if id(state) in active:
        raise ValueError(f"network {state.name!r} contains itself as a component")
    active.add(id(state))
    where = f"network {state.name!r}"
    if not isinstance(state.name, str) or not _NAME_RE.fullmatch(state.name):
        raise ValueError(f"network name {state.name!r} must be a non-empty string of A-Z a-z 0-9 _ . -")
    if not isinstance(state.build_func_name, str) or not state.build_func_name:
        raise TypeError(f"{where}: build_func_name must be a non-empty string, got {state.build_func_name!r}")
    if not isinstance(state.build_module_src, str):
        raise TypeError(
            f"{where}: build_module_src must be a string, got {type(state.build_module_src).__name__}"
        )
    if type(state.version) is not int or state.version not in SUPPORTED_VERSIONS:
        raise ValueError(f"{where}: unsupported state version {state.version!r}; expected 2 or 3")
    if not isinstance(state.static_kwargs, dict):
        raise TypeError(f"{where}: static_kwargs must be a dict, got {type(state.static_kwargs).__name__}")
    for key, value in state.static_kwargs.items():
        if not isinstance(key, str):
            raise TypeError(f"{where}: static_kwargs key {key!r} is not a string")
        _check_plain_value(value, f"{where}: static_kwargs[{key!r}]", set())
    if not isinstance(state.components, dict):
        raise TypeError(f"{where}: components must be a dict, got {type(state.components).__name__}")
    component_names = set()
    for key, component in state.components.items():
        if not isinstance(key, str) or not isinstance(component, NetworkState):
            raise TypeError(f"{where}: component {key!r} must be a NetworkState under a string key")
        if component.name in component_names:
            raise ValueError(f"{where}: two components are named {component.name!r}")
        component_names.add(component.name)
        _validate_tree(component, active)
    if not isinstance(state.variables, list):
        raise TypeError(f"{where}: variables must be a list, got {type(state.variables).__name__}")
    variable_names = set()
    for item in state.variables:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) and item[0]):
            raise TypeError(
                f"{where}: each variable must be a (non-empty name, array) pair, got {item!r:.80}"
            )
        var_name, value = item
        if var_name in variable_names:
            raise ValueError(f"{where}: duplicate variable {var_name!r}")
        variable_names.add(var_name)
        if type(value) is not np.ndarray:
            raise TypeError(
                f"{where}: variable {var_name!r} must be a numpy array, got {type(value).__name__}"
            )
        if value.dtype.kind not in _NUMERIC_KINDS:
            raise TypeError(f"{where}: variable {var_name!r} has non-numeric dtype {value.dtype}")
    active.discard(id(state))


_PLAIN_TYPES = (type(None), bool, int, float, complex, str, bytes)


def _check_plain_value(value: Any, where: str, active: set[int]) -> None:
    """Accepts plain data (numbers, strings, numpy numbers, nested containers of them)."""
    if isinstance(value, _PLAIN_TYPES):
        return
    if isinstance(value, (np.generic, np.ndarray, np.dtype)):
        dtype = value if isinstance(value, np.dtype) else value.dtype
        if dtype.hasobject:
            raise TypeError(f"{where} holds numpy objects (dtype {dtype})")
        return
    if isinstance(value, (dict, list, tuple, set, frozenset)):
        if id(value) in active:
            raise ValueError(f"{where} contains itself")
        active.add(id(value))
        items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
        for key, item in items:
            _check_plain_value(key, where, active)
            _check_plain_value(item, where, active)
        active.discard(id(value))
        return
    raise TypeError(f"{where} has unsupported type {type(value).__name__}; expected plain data")


# ----------------------------------------------------------------------------------------
# The stand-in for dnnlib.tflib.network.Network.


class NetworkStub:
    """Data-only stand-in for the original ``dnnlib.tflib.network.Network``.

    Unpickling calls :meth:`__setstate__`, which checks the pickled state dict and keeps
    it as :attr:`state`; the source stored in it is never run. Pickling a stub writes the
    original state dict again (version 3, original key order).

    Attributes:
        state: The network's :class:`NetworkState`.
    """

    state: NetworkState

    def __setstate__(self, state: Any) -> None:
        self.state = _state_from_dict(state)

    def __getstate__(self) -> dict[str, Any]:
        return _state_to_dict(self.state, type(self))

    def __getattr__(self, attr: str) -> Any:  # Called only for missing attributes.
        if attr.startswith("__"):
            raise AttributeError(attr)
        if attr == "state":
            raise AttributeError("this network stub was never given a state")
        raise AttributeError(
            f"{type(self).__name__} is a data-only stand-in for the original network; it has no "
            f"{attr!r}. Its pickled contents are in .state (a NetworkState)."
        )

    def __repr__(self) -> str:
        state = self.__dict__.get("state")
        return f"<{type(self).__name__} stub {state.name if state else '(no state)'!r}>"


def _state_from_dict(state: Any) -> NetworkState:
    """Builds a NetworkState from an unpickled state dict, with clear errors."""
    if not isinstance(state, dict):
        raise LegacyPickleError(f"a Network state must be a dict, got {_describe(state)}")
    unknown = [key for key in state if key not in STATE_KEYS]
    if unknown:
        raise LegacyPickleError(
            f"unknown key(s) {unknown!r:.200} in a Network state; expected {list(STATE_KEYS)}"
        )
    version = state.get("version")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        raise LegacyPickleError(f"unsupported Network state version {version!r}; expected 2 or 3")
    missing = [key for key in STATE_KEYS if key not in state and (key != "components" or version == 3)]
    if missing:
        raise LegacyPickleError(f"Network state (version {version}) lacks key(s) {missing}")
    name = state["name"]
    components = state.get("components", {})
    if not isinstance(components, dict):
        raise LegacyPickleError(
            f"network {name!r:.80}: components must be a dict, got {_describe(components)}"
        )
    component_states = {}
    for key, component in components.items():
        if not isinstance(component, NetworkStub):
            raise LegacyPickleError(
                f"network {name!r:.80}: component {key!r} is {_describe(component)}, not a Network"
            )
        if "state" not in component.__dict__:
            raise LegacyPickleError(
                f"network {name!r:.80}: component {key!r} has no state (a reference cycle?)"
            )
        component_states[key] = component.state
    variables = state["variables"]
    if not isinstance(variables, (list, tuple)):
        raise LegacyPickleError(f"network {name!r:.80}: variables must be a list, got {_describe(variables)}")
    try:
        return NetworkState(
            name=name,
            static_kwargs=state["static_kwargs"],
            components=component_states,
            build_func_name=state["build_func_name"],
            variables=list(variables),
            version=version,
            build_module_src=state["build_module_src"],
        )
    except (TypeError, ValueError) as e:
        raise LegacyPickleError(f"invalid Network state: {e}") from None


def _state_to_dict(state: NetworkState, stub_class: type[NetworkStub]) -> dict[str, Any]:
    """The original state dict (keys in original order) with sub-networks as stubs."""
    return {
        "version": WRITE_VERSION,
        "name": state.name,
        "static_kwargs": dict(state.static_kwargs),
        "components": {key: _make_stub(c, stub_class) for key, c in state.components.items()},
        "build_module_src": state.build_module_src,
        "build_func_name": state.build_func_name,
        "variables": [(name, _as_stored_value(v)) for name, v in state.variables],
    }


def _as_stored_value(value: np.ndarray) -> np.ndarray | np.generic:
    """A variable as the original stores it: the value TensorFlow returns when reading it.

    That is a numpy scalar for a 0-d variable and a C-ordered array otherwise, with
    numpy's shared dtype object for its type, so that the pickler writes the dtype once
    and refers back to it (as in the original files) rather than once per array.
    """
    if value.ndim == 0:
        return value[()]
    value = np.ascontiguousarray(value)
    return value.view(np.dtype(value.dtype.str))


def _make_stub(state: NetworkState, stub_class: type[NetworkStub] = NetworkStub) -> NetworkStub:
    stub = stub_class.__new__(stub_class)
    stub.state = state
    return stub


def _describe(obj: Any) -> str:
    if isinstance(obj, NetworkStub):
        return "a Network"
    if isinstance(obj, (tuple, list)):
        kinds = ", ".join("Network" if isinstance(x, NetworkStub) else type(x).__name__ for x in obj[:4])
        more = ", ..." if len(obj) > 4 else ""
        return f"a {type(obj).__name__} of {len(obj)} item(s) ({kinds}{more})"
    if isinstance(obj, dict):
        return f"a dict with {len(obj)} key(s)"
    return f"an object of type {type(obj).__name__}"


# ----------------------------------------------------------------------------------------
# Reading.


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
    return _multiarray._reconstruct(np.ndarray, (0,), b"b")


def _safe_scalar(dtype: Any, data: Any = None) -> np.generic:
    """numpy's scalar rebuild step, limited to numeric dtypes and exact-size bytes."""
    if not isinstance(dtype, np.dtype) or dtype.kind not in _NUMERIC_KINDS:
        raise LegacyPickleError(f"numpy scalar of unsupported dtype {dtype!r:.40}")
    if not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise LegacyPickleError(f"numpy scalar of dtype {dtype} with bad data {data!r:.40}")
    return _multiarray.scalar(dtype, data)


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


# Everything an original pickle may name: (module, name) -> what it resolves to.
_READ_GLOBALS: dict[tuple[str, str], Any] = {
    ("dnnlib.tflib.network", "Network"): NetworkStub,
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DTYPE,
    **_numpy_globals("numpy.core.multiarray"),  # written by numpy 1.x (the released files)
    **_numpy_globals("numpy._core.multiarray"),  # written by numpy 2
    ("_codecs", "encode"): _Guarded(_latin1_encode, "_codecs.encode"),
    ("collections", "OrderedDict"): OrderedDict,
}


class SafeUnpickler(pickle.Unpickler):
    """Unpickler that resolves only the globals an original StyleGAN pickle needs.

    ``dnnlib.tflib.network.Network`` resolves to :class:`NetworkStub`; numpy's array,
    scalar and dtype helpers (under both ``numpy.core`` and ``numpy._core``) resolve to
    wrappers that accept only what numpy writes; ``_codecs.encode`` and
    ``collections.OrderedDict`` are allowed too. Any other global, and any persistent ID,
    raises :class:`UnsafePickleError` before it can be called.
    """

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _READ_GLOBALS[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"refused to load the global {module}.{name}: an original StyleGAN pickle refers only to "
                "dnnlib.tflib.network.Network and numpy's array helpers, so this file is not one and may "
                "be malicious (nothing it names was run)",
                module,
                name,
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("refused a persistent ID: original StyleGAN pickles do not use them")


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

    Args:
        path_or_file: A local path, or a binary file object open for reading.

    Returns:
        The states of ``(G, D, Gs)``.

    Raises:
        UnsafePickleError: The file names a global outside the allowlist.
        LegacyPickleError: The file cannot be opened, is empty, truncated, not a pickle,
            or does not hold a valid ``(G, D, Gs)`` tuple. The message names the file.
    """
    if isinstance(path_or_file, (str, os.PathLike)):
        source = os.fspath(path_or_file)
        try:
            file = open(source, "rb")
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
        file = io.BytesIO(file.read())  # A stream: read it whole so that its start can be checked.
    start = file.tell()
    head = file.read(8)
    file.seek(start)
    if not head:
        raise LegacyPickleError(f"{source}: the file is empty; expected {_TUPLE_DESCRIPTION}")
    for magic, kind in _FOREIGN_MAGIC:
        if head.startswith(magic):
            raise LegacyPickleError(
                f"{source}: this is a {kind}, not a pickle; expected {_TUPLE_DESCRIPTION}"
            )
    try:
        result = SafeUnpickler(file).load()
    except UnsafePickleError as e:
        raise UnsafePickleError(f"{source}: {e}", e.module, e.name) from None
    except LegacyPickleError as e:
        raise LegacyPickleError(f"{source}: {e}; expected {_TUPLE_DESCRIPTION}") from None
    except Exception as e:  # Anything else from pickle's internals means a damaged or foreign file.
        message = str(e)
        if isinstance(e, EOFError) or "truncated" in message:
            reason = "the data ends early, so the file is truncated or still being written"
        else:
            reason = f"the data is not a valid pickle ({type(e).__name__}: {message:.200})"
        raise LegacyPickleError(f"{source}: {reason}; expected {_TUPLE_DESCRIPTION}") from e
    if not (
        isinstance(result, tuple) and len(result) == 3 and all(isinstance(n, NetworkStub) for n in result)
    ):
        raise LegacyPickleError(f"{source}: holds {_describe(result)}; expected {_TUPLE_DESCRIPTION}")
    if any("state" not in n.__dict__ for n in result):
        raise LegacyPickleError(f"{source}: a top-level network has no state; expected {_TUPLE_DESCRIPTION}")
    return tuple(n.state for n in result)


# ----------------------------------------------------------------------------------------
# Writing.

# Every global a written file may name, under the name the original code imports.
_WRITE_GLOBALS = (
    (NetworkStub, "dnnlib.tflib.network", "Network"),
    (_multiarray._reconstruct, "numpy.core.multiarray", "_reconstruct"),
    (_multiarray.scalar, "numpy.core.multiarray", "scalar"),
    (np.ndarray, "numpy", "ndarray"),
    (np.dtype, "numpy", "dtype"),
    (OrderedDict, "collections", "OrderedDict"),
)


class _OriginalNamesPickler(pickle._Pickler):
    """Pickler that writes each global under the name the original code imports.

    The C pickler writes a global under the module that defines it today
    (``numpy._core.multiarray`` under numpy 2, this module for :class:`NetworkStub`) and
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
    (``numpy.core.multiarray``). A path is written atomically (temporary file, then
    rename); a file object is written in place.

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
        raise TypeError(f"expected the NetworkStates of (G, D, Gs), got {_describe(states)}")
    for state in states:
        state.validate()
    if not keep_build_module_src:
        states = tuple(_with_placeholder_src(s) for s in states)
    stubs = tuple(_make_stub(s) for s in states)

    def dump(file: IO[bytes]) -> None:
        _OriginalNamesPickler(file, protocol=PICKLE_PROTOCOL).dump(stubs)

    if not isinstance(path_or_file, (str, os.PathLike)):
        dump(path_or_file)
        return
    path = os.fspath(path_or_file)
    temp = os.path.join(os.path.dirname(path) or ".", f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    # Created like open(path, "wb") would (mode 0o666 minus the umask), but exclusively.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            dump(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _with_placeholder_src(state: NetworkState) -> NetworkState:
    return dataclasses.replace(
        state,
        build_module_src=BUILD_MODULE_SRC_PLACEHOLDER,
        components={key: _with_placeholder_src(c) for key, c in state.components.items()},
    )
