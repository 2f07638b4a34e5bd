"""Helpers of the legacy pickle tests: the fixtures, a trusting reference loader, an opcode view, raw states.

The fixtures ``tests/data/{small,cond}/network.pkl`` were written by the original code
(numpy 1.x module names, protocol 4); ``manifest.json['pickle']`` summarises them.
"""

import io
import json
import pickle
import pickletools
import struct
from pathlib import Path

import numpy as np

from dnnlib.tflib.network import Network as DnnlibNetwork
from tfstylegan.legacy import NetworkState

DATA = Path(__file__).parent / "data"
FIXTURES = ("small", "cond")
NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
# The globals an original file names, in order of first use.
ORIGINAL_GLOBALS = [
    ("dnnlib.tflib.network", "Network"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
]


def fixture_files(name: str):
    """(pickle path, pickle bytes, manifest) of the reference fixture ``name``."""
    path = DATA / name / "network.pkl"
    return path, path.read_bytes(), json.loads((DATA / name / "manifest.json").read_text())


# ----------------------------------------------------------------------------------------
# Independent helpers: a trusting reference loader and an opcode-level view of a pickle.


class _RefNet:
    def __setstate__(self, state):
        self.state = state


class _RefUnpickler(pickle.Unpickler):
    """The loader FIXTURES.md describes; trusts the file (used on our own files only)."""

    def find_class(self, module, name):
        if (module, name) == ("dnnlib.tflib.network", "Network"):
            return _RefNet
        return super().find_class(module, name)


def ref_load(data: bytes):
    return _RefUnpickler(io.BytesIO(data)).load()


def ref_layout(net: _RefNet):
    """Keys, kwargs and every variable's (name, python type, dtype, shape), recursively."""
    state = net.state
    return {
        "keys": list(state),
        "version": state["version"],
        "name": state["name"],
        "static_kwargs": [(k, type(v).__name__, v) for k, v in state["static_kwargs"].items()],
        "build_func_name": state["build_func_name"],
        "variables": [(n, type(v).__name__, str(v.dtype), v.shape) for n, v in state["variables"]],
        "components": [(k, ref_layout(c)) for k, c in state["components"].items()],
    }


_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"}
_GET_OPS = {"BINGET", "LONG_BINGET", "GET"}
_BYTES_OPS = {"SHORT_BINBYTES", "BINBYTES", "BINBYTES8"}


def normalised_ops(data: bytes):
    """The opcode stream with memo bookkeeping resolved and framing dropped.

    Two pickles that differ only in which strings the pickler memoised, or where frames
    start, give equal lists; strings and bytes are compared by value.
    """
    memo, ops, pushed, objects = [], [], None, 0
    for op, arg, _ in pickletools.genops(data):
        name = op.name
        if name == "FRAME":
            continue
        if name in ("MEMOIZE", "PUT", "BINPUT", "LONG_BINPUT"):
            if pushed is not None and pushed[0] == "STR":
                memo.append(pushed)
            else:
                memo.append(("GET", objects))
                objects += 1
            continue
        if name in _GET_OPS:
            pushed = memo[arg]
        elif name in _STRING_OPS:
            pushed = ("STR", arg)
        else:
            pushed = ("BYTES" if name in _BYTES_OPS else name, arg)
        ops.append(pushed)
    return ops


def pickle_globals(data: bytes):
    """(module, name) of every GLOBAL / STACK_GLOBAL, in order."""
    ops = normalised_ops(data)
    found = []
    for i, (name, arg) in enumerate(ops):
        if name == "STACK_GLOBAL":
            found.append((ops[i - 2][1], ops[i - 1][1]))
        elif name == "GLOBAL":
            found.append(tuple(arg.split(" ", 1)))
    return found


def assert_same_state(a: NetworkState, b: NetworkState):
    assert (a.name, a.build_func_name) == (b.name, b.build_func_name)
    assert [(k, type(v), v) for k, v in a.static_kwargs.items()] == [
        (k, type(v), v) for k, v in b.static_kwargs.items()
    ]
    assert [n for n, _ in a.variables] == [n for n, _ in b.variables]
    for (name, x), (_, y) in zip(a.variables, b.variables):
        assert type(x) is np.ndarray and type(y) is np.ndarray, name
        assert (x.dtype, x.shape) == (y.dtype, y.shape), name
        assert x.tobytes() == y.tobytes(), name
    assert list(a.components) == list(b.components)
    for key in a.components:
        assert_same_state(a.components[key], b.components[key])


# ----------------------------------------------------------------------------------------
# Hand-made pickles.


def binunicode(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


class RawNetwork:
    """Pickles as dnnlib.tflib.network.Network with a hand-made state dict."""

    def __init__(self, state):
        self.state = state

    def __reduce__(self):
        return (DnnlibNetwork, (), self.state)


DROP = object()


def raw_state(**overrides):
    state = {
        "version": 3,
        "name": "D",
        "static_kwargs": {"resolution": 4, "label_size": 0},
        "components": {},
        "build_module_src": "# not stored\n",
        "build_func_name": "D_basic",
        "variables": [
            ("lod", np.float32(0.5)),
            ("Dense/weight", np.arange(6, dtype=np.float32).reshape(2, 3)),
        ],
    }
    state.update(overrides)
    return {k: v for k, v in state.items() if v is not DROP}


def raw_g_state(name="G"):
    """A G_style state with its two components: a small but well-formed G or Gs."""

    def component(sub_name, func):
        return RawNetwork(raw_state(name=sub_name, build_func_name=func, variables=[("lod", np.float32(0))]))

    components = {
        "synthesis": component("G_synthesis", "G_synthesis"),
        "mapping": component("G_mapping", "G_mapping"),
    }
    return raw_state(
        name=name, build_func_name="G_style", components=components, variables=[("lod", np.float32(0))]
    )


def raw_pickle(D=None, protocol=4) -> bytes:
    """A pickled (G, D, Gs) tuple whose D state is ``D`` (default: :func:`raw_state`)."""
    states = (raw_g_state(), raw_state() if D is None else D, raw_g_state("Gs"))
    return pickle.dumps(tuple(RawNetwork(s) for s in states), protocol=protocol)
