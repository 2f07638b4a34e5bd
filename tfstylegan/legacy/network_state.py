"""The state of one original ``dnnlib.tflib.network.Network``, as its pickle holds it.

Each network pickles one state dict whose keys are :data:`STATE_KEYS`.
:class:`NetworkState` is a plain, checked description of it: name, constructor kwargs,
sub-networks and variables as numpy arrays. The network source stored under
``build_module_src`` is kept as an opaque string that is never run, compiled or parsed.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import numpy as np

from tfstylegan.legacy.bounds import short_repr
from tfstylegan.legacy.guarded import NUMERIC_KINDS

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

BUILD_MODULE_SRC_PLACEHOLDER = (
    "# Placeholder written by tfstylegan: the network source code is not stored in this file.\n"
    "# This text is not a program and must not be executed. To load the file with the original\n"
    "# dnnlib, supply the source of training/networks_stylegan.py through an import handler.\n"
)

# Network names, as the original requires them.
_NAME_RE = re.compile(r"[A-Za-z0-9_.\-]+")
MAX_NAME_LENGTH = 200


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
        raise ValueError(f"network {short_repr(state.name)} contains itself as a component")
    active.add(id(state))
    if not (
        isinstance(state.name, str) and len(state.name) <= MAX_NAME_LENGTH and _NAME_RE.fullmatch(state.name)
    ):
        raise ValueError(
            f"network name {short_repr(state.name)} must be a non-empty string of at most "
            f"{MAX_NAME_LENGTH} characters A-Z a-z 0-9 _ . -"
        )
    where = f"network {state.name!r}"
    if not isinstance(state.build_func_name, str) or not state.build_func_name:
        raise TypeError(
            f"{where}: build_func_name must be a non-empty string, got {short_repr(state.build_func_name)}"
        )
    if not isinstance(state.build_module_src, str):
        raise TypeError(
            f"{where}: build_module_src must be a string, got {type(state.build_module_src).__name__}"
        )
    if type(state.version) is not int or state.version not in SUPPORTED_VERSIONS:
        raise ValueError(f"{where}: unsupported state version {short_repr(state.version)}; expected 2 or 3")
    if not isinstance(state.static_kwargs, dict):
        raise TypeError(f"{where}: static_kwargs must be a dict, got {type(state.static_kwargs).__name__}")
    budget = [MAX_PLAIN_NODES]
    for key, value in state.static_kwargs.items():
        if not isinstance(key, str):
            raise TypeError(f"{where}: static_kwargs key {short_repr(key)} is not a string")
        _check_plain_value(value, f"{where}: static_kwargs[{short_repr(key)}]", budget)
    if not isinstance(state.components, dict):
        raise TypeError(f"{where}: components must be a dict, got {type(state.components).__name__}")
    component_names = set()
    for key, component in state.components.items():
        if not isinstance(key, str) or not isinstance(component, NetworkState):
            raise TypeError(f"{where}: component {short_repr(key)} must be a NetworkState under a string key")
        if component.name in component_names:
            raise ValueError(f"{where}: two components are named {short_repr(component.name)}")
        component_names.add(component.name)
        _validate_tree(component, active)
    _validate_variables(state.variables, where)
    active.discard(id(state))


def _validate_variables(variables: Any, where: str) -> None:
    if not isinstance(variables, list):
        raise TypeError(f"{where}: variables must be a list, got {type(variables).__name__}")
    variable_names = set()
    for item in variables:
        if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str) and item[0]):
            raise TypeError(
                f"{where}: each variable must be a (non-empty name, array) pair, got {short_repr(item)}"
            )
        var_name, value = item
        if var_name in variable_names:
            raise ValueError(f"{where}: duplicate variable {short_repr(var_name)}")
        variable_names.add(var_name)
        if type(value) is not np.ndarray:
            raise TypeError(
                f"{where}: variable {short_repr(var_name)} must be a numpy array, got {type(value).__name__}"
            )
        if value.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(f"{where}: variable {short_repr(var_name)} has non-numeric dtype {value.dtype}")


_PLAIN_TYPES = (type(None), bool, int, float, complex, str, bytes)
_CONTAINERS = (dict, list, tuple, set, frozenset)
MAX_PLAIN_NODES = 10_000  # Values and containers that the static_kwargs of one network may hold.


def _check_plain_value(value: Any, where: str, budget: list[int]) -> None:
    """Accepts plain data (numbers, strings, numpy numbers, nested containers of them).

    The walk visits each container once (a structure that refers to the same list many
    times costs one visit per list), refuses cycles, and stops after ``budget[0]`` nodes.
    """
    done: set[int] = set()  # Containers checked completely.
    active: set[int] = set()  # Containers on the current path (a second visit is a cycle).
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        item, leaving = stack.pop()
        if leaving:
            active.discard(id(item))
            done.add(id(item))
            continue
        budget[0] -= 1
        if budget[0] < 0:
            raise ValueError(f"{where} holds more than {MAX_PLAIN_NODES} values; expected a few settings")
        if isinstance(item, _PLAIN_TYPES):
            continue
        if isinstance(item, (np.generic, np.ndarray, np.dtype)):
            dtype = item if isinstance(item, np.dtype) else item.dtype
            if dtype.hasobject:
                raise TypeError(f"{where} holds numpy objects (dtype {dtype})")
            continue
        if not isinstance(item, _CONTAINERS):
            raise TypeError(f"{where} has unsupported type {type(item).__name__}; expected plain data")
        if id(item) in done:
            continue
        if id(item) in active:
            raise ValueError(f"{where} contains itself")
        active.add(id(item))
        stack.append((item, True))
        children = item.items() if isinstance(item, dict) else ((None, v) for v in item)
        for key, child in children:
            stack.append((key, False))
            stack.append((child, False))
