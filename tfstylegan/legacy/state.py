"""Original network states <-> Keras networks.

A pure function of the pickle: the state's ``build_func_name`` picks the Keras class,
``static_kwargs`` become its constructor arguments (an unknown one is an error that
names it), and every stored variable is copied into the weight listed under the same
original name by the network's ``original_variables()`` table. Every variable must be
consumed and every weight filled. Two variables change layout on the way: the learned
constant ``[1, C, 4, 4]`` and the noise inputs ``[1, 1, H, W]`` become NHWC.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfstylegan.legacy.bounds import short_repr
from tfstylegan.legacy.errors import ConversionError
from tfstylegan.legacy.network_state import NetworkState
from tfstylegan.legacy.reader import check_roles
from tfstylegan.legacy.static_kwargs import check_static_kwargs, min_num_values
from tfstylegan.networks import STYLE_KWARGS, DBasic, GMapping, GStyle, GSynthesis

STATE_VERSION = 3


def _is_nchw_image_var(local_name: str) -> bool:
    leaf = local_name.rsplit("/", 1)[-1]
    return leaf == "const" or (leaf.startswith("noise") and leaf[5:].isdigit())


def to_keras_layout(local_name: str, value) -> np.ndarray:
    """Original variable value -> the layout of the Keras weight."""
    value = np.asarray(value)
    if _is_nchw_image_var(local_name):
        return np.transpose(value, [0, 2, 3, 1])  # [1, C, H, W] -> [1, H, W, C]
    return value


def to_original_layout(local_name: str, value) -> np.ndarray:
    """Keras weight value -> the layout the original stores."""
    value = np.asarray(value)
    if _is_nchw_image_var(local_name):
        return np.transpose(value, [0, 3, 1, 2])  # [1, H, W, C] -> [1, C, H, W]
    return value


def _original_shape(local_name: str, keras_shape) -> list[int]:
    shape = [int(d) for d in keras_shape]
    if _is_nchw_image_var(local_name) and len(shape) == 4:
        return [shape[0], shape[3], shape[1], shape[2]]  # [1, H, W, C] -> [1, C, H, W]
    return shape


def _fill(table, state: NetworkState, where: str) -> None:
    """Copy ``state.variables`` into the ``(name, variable)`` pairs of ``table``."""
    stored = dict(state.variables)
    if len(stored) != len(state.variables):
        raise ConversionError(f"{where}: duplicate variable names in the pickle")
    missing = [name for name, _ in table if name not in stored]
    extra = sorted(set(stored) - {name for name, _ in table})
    if missing or extra:
        raise ConversionError(
            f"{where}: the stored variables do not match the network built from its static_kwargs"
            + (f"; missing: {short_repr(missing)}" if missing else "")
            + (f"; unexpected: {short_repr(extra)}" if extra else "")
        )
    for name, var in table:
        value, expected = stored[name], _original_shape(name, var.shape)
        if list(value.shape) != expected:
            raise ConversionError(
                f"{where}: variable {name!r} has shape {list(value.shape)} in the pickle, expected {expected}"
            )
        if value.dtype != np.float32:  # Never cast: an int, bool or complex weight is a damaged file.
            raise ConversionError(f"{where}: variable {name!r} has dtype {value.dtype}, expected float32")
        var.assign(to_keras_layout(name, value))


def _stored_values(state: NetworkState) -> int:
    return sum(int(value.size) for value in state.full_variables().values())


def _checked_config(cls, state: NetworkState, where: str) -> dict:
    """The state's arguments with ``cls``'s defaults filled in, after the bounds of KWARG_BOUNDS."""
    try:
        check_static_kwargs(state.static_kwargs)
    except ValueError as e:
        raise ConversionError(f"{where}: {e}") from None
    unknown = sorted(set(state.static_kwargs) - set(cls.original_kwargs) - {"dtype", "trainable"})
    if unknown:
        raise ConversionError(
            f"{where}: static_kwargs cannot build {cls.__name__}: unknown argument(s) {short_repr(unknown)}"
        )
    cfg = {**cls.original_kwargs, **state.static_kwargs}
    needed, stored = min_num_values(state.build_func_name, cfg), _stored_values(state)
    if needed > stored:
        raise ConversionError(
            f"{where}: static_kwargs describe a network of at least {needed} values, but the pickle stores "
            f"only {stored}"
        )
    return cfg


# G and Gs must have the same architecture; these arguments may differ (they act at run time).
_RUN_TIME_KWARGS = frozenset(STYLE_KWARGS) | {"randomize_noise", "trainable"}


def check_networks(states, where: str) -> None:
    """Checks that ``(G, D, Gs)`` belong together before any of them is built.

    G and Gs are ``G_style`` networks of one architecture; D is a ``D_basic`` network for
    G's images (resolution, channels, label size). Each network's ``static_kwargs`` are
    within :data:`~tfstylegan.legacy.static_kwargs.KWARG_BOUNDS`.

    Raises:
        ConversionError: naming the network and the argument that does not fit.
    """
    check_roles(states, where)
    cfgs = {
        role: _checked_config(cls, state, f"{where}: network {state.name!r}")
        for role, state, cls in zip(("G", "D", "Gs"), states, (GStyle, DBasic, GStyle))
    }
    differ = sorted(k for k in cfgs["G"] if k not in _RUN_TIME_KWARGS and cfgs["G"][k] != cfgs["Gs"][k])
    if differ:
        shown = ", ".join(f"{k}={cfgs['G'][k]!r} vs {cfgs['Gs'][k]!r}" for k in differ[:4])
        raise ConversionError(f"{where}: G and Gs have different architectures ({shown})")
    differ = [k for k in ("resolution", "num_channels", "label_size") if cfgs["D"][k] != cfgs["G"][k]]
    if differ:
        shown = ", ".join(f"{k}={cfgs['D'][k]!r} vs {cfgs['G'][k]!r}" for k in differ)
        raise ConversionError(f"{where}: D does not take G's images (D vs G: {shown})")


def _build(cls, state: NetworkState, where: str):
    _checked_config(cls, state, where)
    try:
        return cls(name=state.name, **state.static_kwargs)
    except TypeError as e:
        raise ConversionError(f"{where}: static_kwargs cannot build {cls.__name__}: {e}") from None
    except (ValueError, ArithmeticError) as e:
        raise ConversionError(f"{where}: invalid static_kwargs: {e}") from None
    except (MemoryError, tf.errors.ResourceExhaustedError):
        raise ConversionError(f"{where}: not enough memory to build the network") from None


def _check_component(state: NetworkState, key: str, func: str, where: str) -> NetworkState:
    comp = state.components.get(key)
    if comp is None:
        raise ConversionError(f"{where}: G_style network has no {key!r} component")
    if comp.build_func_name != func:
        raise ConversionError(
            f"{where}: component {key!r} has build_func_name {comp.build_func_name!r}, expected {func!r}"
        )
    return comp


def network_from_state(state: NetworkState, where: str = "pickle"):
    """Build and fill the Keras network described by one original network state.

    The ``static_kwargs`` are checked against
    :data:`~tfstylegan.legacy.static_kwargs.KWARG_BOUNDS` and against the number of
    stored values before the network is built.

    Args:
        state: A ``G_style`` or ``D_basic`` network state (sub-networks inside).
        where: How to name the source in error messages (e.g. the file name).

    Returns:
        A :class:`GStyle` or :class:`DBasic` holding the stored values.

    Raises:
        ConversionError: unknown build function, a static kwarg unknown or out of
            bounds, or variables that do not match the network (each named in the message).
    """
    where = f"{where}: network {state.name!r}"
    if state.build_func_name == "D_basic":
        if state.components:
            raise ConversionError(f"{where}: D_basic has unexpected components {sorted(state.components)}")
        D = _build(DBasic, state, where)
        _fill(D.original_variables(), state, where)
        return D
    if state.build_func_name != "G_style":
        raise ConversionError(
            f"{where}: build_func_name {state.build_func_name!r} is not supported "
            "(expected 'G_style' or 'D_basic' from networks_stylegan.py)"
        )
    synthesis = _check_component(state, "synthesis", "G_synthesis", where)
    mapping = _check_component(state, "mapping", "G_mapping", where)
    extra = sorted(set(state.components) - {"synthesis", "mapping"})
    if extra:
        raise ConversionError(f"{where}: unexpected components {extra}")
    G = _build(GStyle, state, where)
    _fill(G.synthesis.original_variables(), synthesis, f"{where}/{synthesis.name}")
    _fill(G.mapping.original_variables(), mapping, f"{where}/{mapping.name}")
    # Last, so that G's own lod wins over the synthesis copy, as when the original runs G.
    _fill(G.original_variables(), state, where)
    return G


def _variables(table) -> list:
    out = []
    for name, var in table:
        value = to_original_layout(name, var.numpy()).astype(np.float32)
        out.append((name, np.float32(value) if value.ndim == 0 else value))
    return out


def state_from_network(net) -> NetworkState:
    """The original-style state of a :class:`GStyle` or :class:`DBasic` network.

    ``static_kwargs`` are the network's constructor arguments; the G_mapping and
    G_synthesis components receive G's arguments minus G_style's own, as in the
    original (G_mapping also gets ``dlatent_broadcast``).
    """
    kwargs = net.static_kwargs
    if isinstance(net, DBasic):
        return NetworkState(
            name=net.name,
            static_kwargs=kwargs,
            components={},
            build_func_name="D_basic",
            variables=_variables(net.original_variables()),
            version=STATE_VERSION,
        )
    if not isinstance(net, GStyle):
        raise TypeError(f"expected a GStyle or DBasic network, got {type(net).__name__}")
    sub_kwargs = {k: v for k, v in kwargs.items() if k not in STYLE_KWARGS}
    synthesis = NetworkState(
        name=GSynthesis.original_name,
        static_kwargs=dict(sub_kwargs),
        components={},
        build_func_name="G_synthesis",
        variables=_variables(net.synthesis.original_variables()),
        version=STATE_VERSION,
    )
    mapping = NetworkState(
        name=GMapping.original_name,
        static_kwargs={"dlatent_broadcast": net.num_layers, **sub_kwargs},
        components={},
        build_func_name="G_mapping",
        variables=_variables(net.mapping.original_variables()),
        version=STATE_VERSION,
    )
    return NetworkState(
        name=net.name,
        static_kwargs=kwargs,
        components={"synthesis": synthesis, "mapping": mapping},
        build_func_name="G_style",
        variables=_variables(net.original_variables()),
        version=STATE_VERSION,
    )
