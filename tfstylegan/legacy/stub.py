"""The stand-in for the original network class, and its state dict in both directions.

Unpickling an original file gives :class:`NetworkStub` objects: ``__setstate__`` checks the
state dict and keeps it as a :class:`~tfstylegan.legacy.network_state.NetworkState`, and
runs nothing. Pickling a stub writes the original state dict again.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tfstylegan.legacy.bounds import short_repr
from tfstylegan.legacy.errors import LegacyPickleError
from tfstylegan.legacy.guarded import plain
from tfstylegan.legacy.network_state import STATE_KEYS, SUPPORTED_VERSIONS, WRITE_VERSION, NetworkState

STORED_DTYPE = np.dtype("<f4")  # The dtype of every variable of an original network pickle.


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
        raise LegacyPickleError(f"a Network state must be a dict, got {describe(state)}")
    unknown = [key for key in state if key not in STATE_KEYS]
    if unknown:
        raise LegacyPickleError(
            f"unknown key(s) {short_repr(unknown)} in a Network state; expected {list(STATE_KEYS)}"
        )
    version = state.get("version")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        raise LegacyPickleError(f"unsupported Network state version {short_repr(version)}; expected 2 or 3")
    missing = [key for key in STATE_KEYS if key not in state and (key != "components" or version == 3)]
    if missing:
        raise LegacyPickleError(f"Network state (version {version}) lacks key(s) {missing}")
    name = short_repr(state["name"])
    components = state.get("components", {})
    if not isinstance(components, dict):
        raise LegacyPickleError(f"network {name}: components must be a dict, got {describe(components)}")
    component_states = {}
    for key, component in components.items():
        if not isinstance(component, NetworkStub):
            raise LegacyPickleError(
                f"network {name}: component {short_repr(key)} is {describe(component)}, not a Network"
            )
        if "state" not in component.__dict__:
            raise LegacyPickleError(
                f"network {name}: component {short_repr(key)} has no state (a reference cycle?)"
            )
        component_states[key] = component.state
    variables = state["variables"]
    if not isinstance(variables, (list, tuple)):
        raise LegacyPickleError(f"network {name}: variables must be a list, got {describe(variables)}")
    try:
        result = NetworkState(
            name=state["name"],
            static_kwargs=state["static_kwargs"],
            components=component_states,
            build_func_name=state["build_func_name"],
            variables=[_plain_variable(item) for item in variables],
            version=version,
            build_module_src=state["build_module_src"],
        )
    except (TypeError, ValueError) as e:
        raise LegacyPickleError(f"invalid Network state: {e}") from None
    _check_stored_dtypes(result)
    return result


def _plain_variable(item: Any) -> Any:
    """A ``(name, value)`` pair with the array as a plain ndarray (the unpickler's arrays are guarded)."""
    if isinstance(item, (tuple, list)) and len(item) == 2:
        return (item[0], plain(item[1]))
    return item


def _check_stored_dtypes(state: NetworkState) -> None:
    """The original stores every variable as float32 (0-d ones as numpy float32 scalars); nothing is cast."""
    for var_name, value in state.variables:
        if value.dtype.str != STORED_DTYPE.str:
            raise LegacyPickleError(
                f"network {state.name!r}: variable {var_name!r} has dtype {value.dtype.str} ({value.dtype}); "
                "the original stores every variable as float32"
            )


def _state_to_dict(state: NetworkState, stub_class: type[NetworkStub]) -> dict[str, Any]:
    """The original state dict (keys in original order) with sub-networks as stubs."""
    return {
        "version": WRITE_VERSION,
        "name": state.name,
        "static_kwargs": dict(state.static_kwargs),
        "components": {key: make_stub(c, stub_class) for key, c in state.components.items()},
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


def make_stub(state: NetworkState, stub_class: type[NetworkStub] = NetworkStub) -> NetworkStub:
    stub = stub_class.__new__(stub_class)
    stub.state = state
    return stub


def describe(obj: Any) -> str:
    if isinstance(obj, NetworkStub):
        return "a Network"
    if isinstance(obj, (tuple, list)):
        kinds = ", ".join("Network" if isinstance(x, NetworkStub) else type(x).__name__ for x in obj[:4])
        more = ", ..." if len(obj) > 4 else ""
        return f"a {type(obj).__name__} of {len(obj)} item(s) ({kinds}{more})"
    if isinstance(obj, dict):
        return f"a dict with {len(obj)} key(s)"
    return f"an object of type {type(obj).__name__}"
