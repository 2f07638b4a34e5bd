"""Reading and writing the original StyleGAN pickles without TensorFlow.

The fixtures ``tests/data/{small,cond}/network.pkl`` were written by the original code
(numpy 1.x module names, protocol 4); ``manifest.json['pickle']`` summarises them.
"""

import ast
import gzip
import io
import json
import os
import pickle
import pickletools
import re
import stat
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dnnlib.tflib.network import Network as DnnlibNetwork
from tfstylegan.legacy import (
    BUILD_MODULE_SRC_PLACEHOLDER,
    STATE_KEYS,
    LegacyPickleError,
    NetworkState,
    NetworkStub,
    UnsafePickleError,
    guarded,
    load_pickle_states,
    reader,
    save_pickle_states,
    writer,
)

FIXTURES = ("small", "cond")
# The modules behind tfstylegan.legacy (the package imports no others).
LEGACY_NO_TF = ("__init__.py", "guarded.py", "network_state.py", "stub.py", "reader.py", "writer.py")
NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
# The globals an original file names, in order of first use.
ORIGINAL_GLOBALS = [
    ("dnnlib.tflib.network", "Network"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
]


@pytest.fixture(scope="module", params=FIXTURES)
def fixture(request):
    """(pickle path, pickle bytes, manifest) of one reference fixture."""
    folder = Path(__file__).parent / "data" / request.param
    path = folder / "network.pkl"
    return path, path.read_bytes(), json.loads((folder / "manifest.json").read_text())


@pytest.fixture(scope="module")
def small_bytes():
    return (Path(__file__).parent / "data" / "small" / "network.pkl").read_bytes()


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


def _ref_load(data: bytes):
    return _RefUnpickler(io.BytesIO(data)).load()


def _ref_layout(net: _RefNet):
    """Keys, kwargs and every variable's (name, python type, dtype, shape), recursively."""
    state = net.state
    return {
        "keys": list(state),
        "version": state["version"],
        "name": state["name"],
        "static_kwargs": [(k, type(v).__name__, v) for k, v in state["static_kwargs"].items()],
        "build_func_name": state["build_func_name"],
        "variables": [(n, type(v).__name__, str(v.dtype), v.shape) for n, v in state["variables"]],
        "components": [(k, _ref_layout(c)) for k, c in state["components"].items()],
    }


_STRING_OPS = {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE"}
_GET_OPS = {"BINGET", "LONG_BINGET", "GET"}
_BYTES_OPS = {"SHORT_BINBYTES", "BINBYTES", "BINBYTES8"}


def _normalised_ops(data: bytes):
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


def _globals(data: bytes):
    """(module, name) of every GLOBAL / STACK_GLOBAL, in order."""
    ops = _normalised_ops(data)
    found = []
    for i, (name, arg) in enumerate(ops):
        if name == "STACK_GLOBAL":
            found.append((ops[i - 2][1], ops[i - 1][1]))
        elif name == "GLOBAL":
            found.append(tuple(arg.split(" ", 1)))
    return found


def _assert_same_state(a: NetworkState, b: NetworkState):
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
        _assert_same_state(a.components[key], b.components[key])


# ----------------------------------------------------------------------------------------
# Reading the fixtures.


def _manifest_variables(state: NetworkState):
    """Variables in the manifest's notation: [name, shape, 'float32' (numpy scalar) or 'ndarray']."""
    return [[n, list(v.shape), "float32" if v.ndim == 0 else "ndarray"] for n, v in state.variables]


def _check_against_manifest(state: NetworkState, entry: dict):
    assert state.name == entry["name"]
    assert state.build_func_name == entry["build_func_name"]
    assert list(state.static_kwargs.items()) == list(entry["static_kwargs"].items())
    assert _manifest_variables(state) == entry["variables"]
    assert all(v.dtype == np.float32 for _, v in state.variables)
    assert list(state.components) == list(entry.get("components", {}))
    for key, component in state.components.items():
        _check_against_manifest(component, entry["components"][key])


def test_fixture_matches_manifest(fixture):
    path, _, manifest = fixture
    states = load_pickle_states(path)
    assert [s.name for s in states] == ["G", "D", "Gs"]
    for state, entry in zip(states, manifest["pickle"]["networks"]):
        _check_against_manifest(state, entry)
        assert state.version == 3
        assert state.build_module_src.startswith("# source omitted")
    G, D, Gs = states
    assert list(G.components) == ["synthesis", "mapping"]
    assert [c.name for c in G.components.values()] == ["G_synthesis", "G_mapping"]
    assert G.components["mapping"].static_kwargs["dlatent_broadcast"] == manifest["num_layers"]
    assert G.static_kwargs["label_size"] == D.static_kwargs["label_size"] == manifest["label_size"]
    # Global names use the sub-network's name, own variables first, as the original.
    shapes = [(f"{s.name}/{k}", list(v.shape)) for s in states for k, v in s.full_variables().items()]
    assert shapes == list(manifest["state_vars_shapes"].items())
    # Every lod variable holds the pickled lod (0.6 for cond: mid-fade).
    lods = [G.full_variables()["lod"], G.full_variables()["G_synthesis/lod"], dict(D.variables)["lod"]]
    for lod in lods:
        assert lod.shape == () and lod.dtype == np.float32
        assert lod == np.float32(manifest["pickle_lod"])


def test_fixture_values_are_bit_exact(fixture):
    """Every array equals what a plain (trusting) unpickler returns, bit for bit."""
    path, data, _ = fixture
    states = load_pickle_states(path)
    refs = _ref_load(data)
    for state, ref in zip(states, refs):
        ref_vars = {}
        stack = [("", ref)]
        while stack:
            prefix, net = stack.pop()
            ref_vars.update({prefix + k: v for k, v in net.state["variables"]})
            stack += [(f"{prefix}{c.state['name']}/", c) for c in net.state["components"].values()]
        ours = state.full_variables()
        assert sorted(ours) == sorted(ref_vars)
        for name, value in ours.items():
            ref_value = ref_vars[name]
            assert isinstance(ref_value, np.ndarray if value.ndim else np.generic), name
            assert value.dtype == ref_value.dtype and value.tobytes() == np.asarray(ref_value).tobytes()


def test_fixture_uses_numpy1_names_and_loads(fixture):
    """The fixtures name numpy.core.multiarray (numpy 1.x), which must load under numpy 2 too."""
    path, data, manifest = fixture
    assert data[:2] == b"\x80\x04" and manifest["pickle"]["protocol"] == 4
    assert _globals(data) == ORIGINAL_GLOBALS
    assert b"numpy._core" not in data
    G, _, _ = load_pickle_states(io.BytesIO(data))
    noise = G.full_variables()["G_synthesis/noise0"]
    assert noise.shape == (1, 1, 4, 4) and noise.dtype == np.float32 and np.all(np.isfinite(noise))


def test_numpy2_names_load_and_dnnlib_stubs(small_bytes):
    """A plain pickle.load gives dnnlib stubs; pickling them again writes loadable state dicts."""
    G, D, Gs = pickle.loads(small_bytes)
    assert type(G) is DnnlibNetwork and isinstance(G, NetworkStub)
    assert G.state.name == "G" and list(G.state.components) == ["synthesis", "mapping"]
    with pytest.raises(AttributeError, match="data-only stand-in"):
        G.run  # noqa: B018
    again = pickle.dumps((G, D, Gs), protocol=4)
    if NUMPY2:
        assert ("numpy._core.multiarray", "_reconstruct") in _globals(again)
    assert ("dnnlib.tflib.network", "Network") in _globals(again)
    for a, b in zip(load_pickle_states(io.BytesIO(again)), load_pickle_states(io.BytesIO(small_bytes))):
        _assert_same_state(a, b)


def test_unseekable_stream_loads(small_bytes):
    class Stream(io.RawIOBase):
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def readable(self):
            return True

        def readinto(self, buffer):
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    stream = io.BufferedReader(Stream(small_bytes))
    assert not stream.seekable()
    G, D, _ = load_pickle_states(stream)
    assert (G.name, D.name, len(D.variables)) == ("G", "D", 27)


# ----------------------------------------------------------------------------------------
# Malicious pickles: refused by name, nothing runs.


def _binunicode(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _call_pickle(module: str, name: str, arg: str, opcode: str) -> bytes:
    """A pickle that calls module.name(arg), naming it with GLOBAL or STACK_GLOBAL."""
    if opcode == "STACK_GLOBAL":
        head = b"\x80\x04" + _binunicode(module) + _binunicode(name) + b"\x93"
    else:
        head = b"\x80\x02c" + f"{module}\n{name}\n".encode()
    return head + _binunicode(arg) + b"\x85R."


def _payload(module: str, name: str, marker: Path) -> str:
    if name == "system":
        return f"touch '{marker}'"
    return f"open({str(marker)!r}, 'w').close()"


REFUSED_GLOBALS = [
    ("os", "system"),
    ("posix", "system"),
    ("builtins", "eval"),
    ("builtins", "exec"),
    ("__builtin__", "eval"),
    ("__builtin__", "exec"),
    ("builtins", "getattr"),
    ("subprocess", "Popen"),
    ("importlib", "import_module"),
    ("pickle", "loads"),
    ("copyreg", "_reconstructor"),
    ("numpy", "load"),
    ("numpy.testing", "assert_equal"),
    ("numpy.core.multiarray", "fromfile"),
    ("numpy._core.multiarray", "frombuffer"),
    ("numpy.core.multiarray", "_reconstruct.__globals__"),
    ("dnnlib.tflib.network", "import_handler"),
    ("dnnlib.util", "EasyDict"),
]


@pytest.mark.parametrize("opcode", ["STACK_GLOBAL", "GLOBAL"])
@pytest.mark.parametrize(("module", "name"), REFUSED_GLOBALS)
def test_foreign_globals_are_refused(tmp_path, module, name, opcode):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.pkl"
    path.write_bytes(_call_pickle(module, name, _payload(module, name, marker), opcode))
    with pytest.raises(UnsafePickleError) as info:
        load_pickle_states(path)
    assert (info.value.module, info.value.name) == (module, name)
    assert f"refused to load the global {module}.{name}" in str(info.value)
    assert str(path) in str(info.value)
    assert isinstance(info.value, pickle.UnpicklingError)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("module", "name"),
    [("builtins", "eval"), ("builtins", "exec")] + ([("posix", "system")] if os.name == "posix" else []),
)
def test_malicious_payloads_are_live(tmp_path, module, name):
    """Sanity check of the test payloads: a plain pickle.loads does run them."""
    marker = tmp_path / "marker"
    pickle.loads(_call_pickle(module, name, _payload(module, name, marker), "STACK_GLOBAL"))
    assert marker.exists()


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


class _RawNetwork:
    """Pickles as dnnlib.tflib.network.Network with a hand-made state dict."""

    def __init__(self, state):
        self.state = state

    def __reduce__(self):
        return (DnnlibNetwork, (), self.state)


_DROP = object()


def _raw_state(**overrides):
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
    return {k: v for k, v in state.items() if v is not _DROP}


def _raw_pickle(*states, protocol=4) -> bytes:
    states = states or (_raw_state(),) * 3
    return pickle.dumps(tuple(_RawNetwork(s) for s in states), protocol=protocol)


def test_reduce_payload_is_refused(tmp_path):
    marker = tmp_path / "marker"
    data = pickle.dumps(_Evil(marker), protocol=4)
    assert _globals(data)[0][1] == "system"
    with pytest.raises(UnsafePickleError, match=r"global (posix|nt)\.system"):
        load_pickle_states(io.BytesIO(data))
    assert not marker.exists()


@pytest.mark.parametrize("where", ["static_kwargs", "variables", "components", "build_module_src"])
def test_payload_hidden_in_state_is_refused(tmp_path, where):
    marker = tmp_path / "marker"
    evil = _Evil(marker)
    hidden = {
        "static_kwargs": {"resolution": evil},
        "variables": [("lod", evil)],
        "components": {"mapping": evil},
        "build_module_src": evil,
    }[where]
    data = _raw_pickle(_raw_state(), _raw_state(**{where: hidden}), _raw_state())
    with pytest.raises(UnsafePickleError, match=r"\.system"):
        load_pickle_states(io.BytesIO(data))
    assert not marker.exists()


def test_persistent_ids_are_refused():
    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            return "outside" if obj == "secret" else None

    buffer = io.BytesIO()
    Pickler(buffer, protocol=4).dump((1, "secret"))
    with pytest.raises(UnsafePickleError, match="persistent ID") as info:
        load_pickle_states(io.BytesIO(buffer.getvalue()))
    assert info.value.module is None and info.value.name is None


class _Reduce:
    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


@pytest.mark.parametrize(
    ("func", "args", "message"),
    [
        (guarded.multiarray._reconstruct, (np.ndarray, (10**12,), b"b"), "_reconstruct"),
        (np.dtype, ("O8", False, True), "unsupported numpy dtype 'O8'"),
        (np.dtype, ("U4", False, True), "unsupported numpy dtype 'U4'"),
        (guarded.multiarray.scalar, (np.dtype("f4"), b"12345"), "bad data"),
        (np.ndarray, ((1000,),), "numpy.ndarray cannot be called here"),
    ],
)
def test_allowed_helpers_accept_only_what_numpy_writes(func, args, message):
    data = pickle.dumps(_Reduce(func, args), protocol=4)
    with pytest.raises(LegacyPickleError, match=re.escape(message)) as info:
        load_pickle_states(io.BytesIO(data))
    assert not isinstance(info.value, UnsafePickleError)


@pytest.mark.parametrize(
    ("module", "name", "message"),
    [
        ("numpy.core.multiarray", "_reconstruct", "the pickle tries to modify numpy's _reconstruct"),
        ("numpy._core.multiarray", "scalar", "the pickle tries to modify numpy's scalar"),
        ("numpy", "dtype", "the pickle tries to modify numpy.dtype"),
        ("numpy", "ndarray", "the pickle tries to modify numpy.ndarray"),
        ("_codecs", "encode", "the pickle tries to modify _codecs.encode"),
        ("collections", "OrderedDict", "not a valid pickle"),
        ("dnnlib.tflib.network", "Network", "not a valid pickle"),
    ],
)
def test_allowed_globals_cannot_be_modified(module, name, message):
    """BUILD on an allowlisted global (here: set its attribute x) is refused."""
    data = (
        b"\x80\x04" + _binunicode(module) + _binunicode(name) + b"\x93"
        b"}" + _binunicode("x") + b"K\x01s" + b"N" + b"\x86b."  # (dict(x=1), None) BUILD
    )
    with pytest.raises(LegacyPickleError, match=re.escape(message)):
        load_pickle_states(io.BytesIO(data))
    assert not any(hasattr(obj, "x") for obj in reader._READ_GLOBALS.values())


def test_build_module_src_is_never_run(tmp_path):
    marker = tmp_path / "marker"
    source = f"open({str(marker)!r}, 'w').close()\nraise SystemExit('ran')\n"
    data = _raw_pickle(_raw_state(), _raw_state(build_module_src=source), _raw_state())
    _, D, _ = load_pickle_states(io.BytesIO(data))
    _, D_plain, _ = pickle.loads(data)  # through the dnnlib alias
    assert D.build_module_src == D_plain.state.build_module_src == source
    path = tmp_path / "kept.pkl"
    save_pickle_states(path, load_pickle_states(io.BytesIO(data)), keep_build_module_src=True)
    assert load_pickle_states(path)[1].build_module_src == source
    assert not marker.exists()


# ----------------------------------------------------------------------------------------
# Bad files.


EXPECTED = "expected a pickled tuple (G, D, Gs) of dnnlib.tflib.network.Network objects"


@pytest.mark.parametrize("length", [1, 2, 40, 1000, 100_000, 1_000_000, -1])
def test_truncated_file(tmp_path, small_bytes, length):
    path = tmp_path / "cut.pkl"
    path.write_bytes(small_bytes[:length])
    with pytest.raises(LegacyPickleError) as info:
        load_pickle_states(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and EXPECTED in message
    assert "truncated" in message


def _zip_bytes(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("archive/data.pkl", data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (lambda d: b"", "the file is empty"),
        (lambda d: gzip.compress(d), "this is a gzip file"),
        (lambda d: _zip_bytes(d), "this is a zip archive"),
        (lambda d: b"\x89HDF\r\n\x1a\n" + bytes(64), "this is a HDF5 file"),
        (lambda d: np.random.default_rng(0).bytes(4096), "not a valid pickle"),
        (lambda d: b"hello, this is text\n", "not a valid pickle"),
        (lambda d: pickle.dumps({"G": 1, "D": 2}), "holds a dict with 2 key(s)"),
        (
            lambda d: pickle.dumps(pickle.loads(d)[:2], protocol=4),
            "holds a tuple of 2 item(s) (Network, Network)",
        ),
        (lambda d: pickle.dumps((1, 2.0, "3")), "holds a tuple of 3 item(s) (int, float, str)"),
        (lambda d: pickle.dumps([pickle.loads(d)], protocol=4), "holds a list of 1 item(s)"),
    ],
)
def test_bad_file_contents(tmp_path, small_bytes, content, message):
    path = tmp_path / "bad.pkl"
    path.write_bytes(content(small_bytes))
    with pytest.raises(LegacyPickleError) as info:
        load_pickle_states(path)
    assert str(info.value).startswith(f"{path}: ")
    assert message in str(info.value) and EXPECTED in str(info.value)
    assert not isinstance(info.value, UnsafePickleError)


def test_missing_path_and_directory(tmp_path):
    missing = tmp_path / "nowhere" / "network.pkl"
    with pytest.raises(LegacyPickleError, match="cannot open the file") as info:
        load_pickle_states(missing)
    assert str(missing) in str(info.value) and "No such file" in str(info.value)
    assert isinstance(info.value.__cause__, FileNotFoundError)
    with pytest.raises(LegacyPickleError, match="cannot open the file") as info:
        load_pickle_states(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_text_mode_file_is_a_type_error(fixture):
    path, _, _ = fixture
    with open(path, encoding="latin1") as text, pytest.raises(TypeError, match="binary file object"):
        load_pickle_states(text)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"extra": 1}, "unknown key(s) ['extra']"),
        ({"variables": _DROP}, "lacks key(s) ['variables']"),
        ({"components": _DROP}, "lacks key(s) ['components']"),
        ({"version": 4}, "unsupported Network state version 4"),
        ({"version": "3"}, "unsupported Network state version '3'"),
        ({"version": True}, "unsupported Network state version True"),
        ({"name": 5}, "network name 5"),
        ({"name": "D; rm"}, "network name 'D; rm'"),
        ({"static_kwargs": [1]}, "static_kwargs must be a dict"),
        ({"static_kwargs": {1: 2}}, "static_kwargs key 1 is not a string"),
        ({"build_module_src": None}, "build_module_src must be a string"),
        ({"build_func_name": 7}, "build_func_name must be a non-empty string"),
        ({"variables": {"lod": 1}}, "variables must be a list"),
        ({"variables": [("lod", 1.0)]}, "variable 'lod' must be a numpy array, got float"),
        ({"variables": [("w", np.zeros(2)), ("w", np.ones(2))]}, "duplicate variable 'w'"),
        ({"variables": [("w", np.zeros(2), 3)]}, "each variable must be a (non-empty name, array) pair"),
        ({"variables": [("w", np.array(["x"]))]}, "unsupported numpy dtype 'U1'"),
        ({"variables": [("w", np.array([None]))]}, "unsupported numpy dtype 'O8'"),
        ({"components": {"mapping": 5}}, "component 'mapping' is an object of type int, not a Network"),
        ({"components": [1]}, "components must be a dict"),
    ],
)
def test_invalid_states_are_rejected(overrides, message):
    data = _raw_pickle(_raw_state(), _raw_state(**overrides), _raw_state())
    with pytest.raises(LegacyPickleError, match=re.escape(message)) as info:
        load_pickle_states(io.BytesIO(data))
    assert EXPECTED in str(info.value)


def test_network_that_contains_itself_is_rejected():
    loop = _RawNetwork(None)
    loop.state = _raw_state(components={"loop": loop})
    data = pickle.dumps((loop, loop, loop), protocol=4)
    with pytest.raises(
        LegacyPickleError, match=re.escape("component 'loop' has no state (a reference cycle?)")
    ):
        load_pickle_states(io.BytesIO(data))


def test_version2_state_without_components_loads():
    data = _raw_pickle(_raw_state(), _raw_state(version=2, components=_DROP), _raw_state())
    _, D, _ = load_pickle_states(io.BytesIO(data))
    assert (D.version, D.components) == (2, {})
    assert D.variables[0][1].shape == () and D.variables[0][1] == np.float32(0.5)
    buffer = io.BytesIO()
    save_pickle_states(buffer, (D, D, D))
    written = _ref_load(buffer.getvalue())[0].state
    assert written["version"] == 3 and written["components"] == {} and list(written) == list(STATE_KEYS)


def test_protocol2_pickles_with_codecs_encode_load():
    data = _raw_pickle(protocol=2)
    assert ("_codecs", "encode") in _globals(data)
    _, D, _ = load_pickle_states(io.BytesIO(data))
    assert D.variables[1][1].tolist() == [[0, 1, 2], [3, 4, 5]]


# ----------------------------------------------------------------------------------------
# Writing.


def test_round_trip_is_exact(fixture, tmp_path):
    path, data, _ = fixture
    states = load_pickle_states(path)
    out = tmp_path / "network.pkl"
    save_pickle_states(out, states)
    again = load_pickle_states(out)
    for a, b in zip(states, again):
        _assert_same_state(a, b)
        assert b.build_module_src == BUILD_MODULE_SRC_PLACEHOLDER
        for component in b.components.values():
            assert component.build_module_src == BUILD_MODULE_SRC_PLACEHOLDER
    written = out.read_bytes()
    # Field by field as the original loader would see it: keys and their order, kwargs,
    # variable order, dtypes, shapes, numpy scalar (0-d) versus array, components order.
    assert [_ref_layout(n) for n in _ref_load(written)] == [_ref_layout(n) for n in _ref_load(data)]
    assert [tuple(n.state) for n in _ref_load(written)] == [STATE_KEYS] * 3


def test_written_opcodes_match_the_original(fixture):
    path, data, _ = fixture
    buffer = io.BytesIO()
    save_pickle_states(buffer, load_pickle_states(path), keep_build_module_src=True)
    written = buffer.getvalue()
    assert written[:2] == b"\x80\x04"
    assert max(op.proto for op, _, _ in pickletools.genops(written)) <= 4
    assert _globals(written) == _globals(data) == ORIGINAL_GLOBALS
    assert b"numpy._core" not in written and b"tfstylegan" not in written
    # The whole stream, memo bookkeeping and framing aside, is the original's.
    assert _normalised_ops(written) == _normalised_ops(data)


def test_default_placeholder_replaces_only_the_source(fixture):
    path, data, _ = fixture
    buffer = io.BytesIO()
    save_pickle_states(buffer, load_pickle_states(path))
    placeholder = ("STR", BUILD_MODULE_SRC_PLACEHOLDER)
    original = [
        op if op[0] != "STR" or not op[1].startswith("# source omitted") else placeholder
        for op in _normalised_ops(data)
    ]
    assert _normalised_ops(buffer.getvalue()) == original
    assert "must not be executed" in BUILD_MODULE_SRC_PLACEHOLDER


def test_written_file_replaces_atomically(tmp_path, small_bytes, monkeypatch):
    states = load_pickle_states(io.BytesIO(small_bytes))
    out = tmp_path / "network.pkl"
    out.write_bytes(b"old")
    reference = tmp_path / "reference"
    reference.write_bytes(b"")
    save_pickle_states(str(out), states)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["network.pkl", "reference"]
    assert stat.S_IMODE(out.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)
    assert load_pickle_states(out)[2].name == "Gs"

    def fail(self, obj):
        raise RuntimeError("disk full")

    out.write_bytes(b"old")
    monkeypatch.setattr(writer._OriginalNamesPickler, "dump", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        save_pickle_states(out, states)
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["network.pkl", "reference"]


def _state(name="D", **fields):
    values = {
        "static_kwargs": {"resolution": 4},
        "components": {},
        "build_func_name": "D_basic",
        "variables": [("lod", np.float32(0.25)), ("Dense0/weight", np.ones((2, 3), np.float32))],
    }
    values.update(fields)
    return NetworkState(name=name, **values)


def test_network_state_api():
    mapping = _state("G_mapping", build_func_name="G_mapping", variables=[("Dense0/weight", np.eye(2))])
    synthesis = _state("G_synthesis", build_func_name="G_synthesis")
    G = _state("G", components={"synthesis": synthesis, "mapping": mapping}, build_func_name="G_style")
    assert list(G.full_variables()) == [
        "lod",
        "Dense0/weight",
        "G_synthesis/lod",
        "G_synthesis/Dense0/weight",
        "G_mapping/Dense0/weight",
    ]
    lod = G.variables[0][1]
    assert type(lod) is np.ndarray and lod.shape == () and lod.dtype == np.float32 and lod == 0.25
    assert G.version == 3 and G.build_module_src == BUILD_MODULE_SRC_PLACEHOLDER
    assert "G_synthesis" not in repr(G) and "'synthesis', 'mapping'" in repr(G)
    # A 0-d array is written as a numpy scalar, as the original stores it.
    buffer = io.BytesIO()
    save_pickle_states(buffer, (G, _state(), G))
    written = _ref_load(buffer.getvalue())
    assert type(written[0].state["variables"][0][1]) is np.float32
    assert written[0].state["components"]["mapping"].state["variables"][0][1].dtype == np.float64


@pytest.mark.parametrize(
    ("fields", "error", "message"),
    [
        ({"variables": [("lod", 0.5)]}, TypeError, "must be a numpy array, got float"),
        ({"variables": [("w", np.array([None]))]}, TypeError, "non-numeric dtype object"),
        ({"variables": [("w", np.zeros(1)), ("w", np.zeros(1))]}, ValueError, "duplicate variable 'w'"),
        ({"static_kwargs": {"f": len}}, TypeError, "unsupported type builtin_function_or_method"),
        ({"static_kwargs": {"a": np.array([None])}}, TypeError, "holds numpy objects"),
        ({"version": 4}, ValueError, "unsupported state version 4"),
        ({"name": ""}, ValueError, "network name ''"),
        ({"components": {"a": _state("X"), "b": _state("X")}}, ValueError, "two components are named 'X'"),
    ],
)
def test_invalid_network_states(fields, error, message):
    with pytest.raises(error, match=re.escape(message)):
        _state(**fields)


def test_save_rejects_bad_arguments(tmp_path):
    out = tmp_path / "x.pkl"
    with pytest.raises(TypeError, match=r"expected the NetworkStates of \(G, D, Gs\)"):
        save_pickle_states(out, [_state(), _state()])
    with pytest.raises(TypeError, match=r"expected the NetworkStates of \(G, D, Gs\)"):
        save_pickle_states(out, [_state(), _state(), "Gs"])
    edited = _state()
    edited.variables.append(("lod", np.zeros(())))
    with pytest.raises(ValueError, match="duplicate variable 'lod'"):
        save_pickle_states(out, [_state(), edited, _state()])
    loop = _state()
    loop.components["self"] = loop
    with pytest.raises(ValueError, match="contains itself"):
        save_pickle_states(out, [loop, _state(), _state()])
    assert list(tmp_path.iterdir()) == []


def test_reading_and_writing_need_no_tensorflow(tmp_path):
    """tfstylegan.legacy reads and writes with numpy alone: it imports nothing else of tfstylegan."""
    code = f"""
import io, sys
from tfstylegan.legacy import load_pickle_states, save_pickle_states
states = load_pickle_states({str(Path(__file__).parent / "data" / "cond" / "network.pkl")!r})
buffer = io.BytesIO()
save_pickle_states(buffer, states)
again = load_pickle_states(io.BytesIO(buffer.getvalue()))
print(len(again[2].full_variables()), sorted(m for m in ("tensorflow", "keras", "dnnlib") if m in sys.modules))
print(sorted(m for m in sys.modules if m.split(".")[0] == "tfstylegan"))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = len(
        load_pickle_states(Path(__file__).parent / "data" / "cond" / "network.pkl")[2].full_variables()
    )
    count_line, modules_line = result.stdout.splitlines()
    assert count_line.split(" ", 1) == [str(expected), "[]"]
    modules = set(ast.literal_eval(modules_line)) - {"tfstylegan.resolution"}  # TF-free, see test_resolution.
    assert sorted(modules) == ["tfstylegan", "tfstylegan._lazy"] + [
        f"tfstylegan.legacy{m}" for m in ("", ".guarded", ".network_state", ".reader", ".stub", ".writer")
    ]


def _imports(path: Path):
    tree = ast.parse(path.read_text())
    names = [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    return names + [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0]


def test_import_directions():
    """dnnlib uses only the stub module; nothing in tfstylegan imports dnnlib."""
    root = Path(reader.__file__).parents[2]
    dnnlib_imports = {m for p in (root / "dnnlib").rglob("*.py") for m in _imports(p)}
    assert dnnlib_imports == {"dnnlib.tflib.network", "tfstylegan.legacy.stub"}
    legacy = root / "tfstylegan" / "legacy"
    own = {m for name in LEGACY_NO_TF for m in _imports(legacy / name)}
    assert not {m for m in own if m.split(".")[0] in ("tensorflow", "keras", "dnnlib")}
    importers = [
        p.name
        for p in (root / "tfstylegan").rglob("*.py")
        if any(m.split(".")[0] == "dnnlib" for m in _imports(p))
    ]
    assert importers == []
