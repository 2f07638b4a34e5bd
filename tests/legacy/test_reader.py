"""Reading the original StyleGAN pickles without TensorFlow: the reference fixtures, bad files, bad states."""

import gzip
import io
import pickle
import re
import zipfile

import numpy as np
import pytest

from dnnlib.tflib.network import Network as DnnlibNetwork
from tests.legacy_pickles import (
    DROP,
    FIXTURES,
    NUMPY2,
    ORIGINAL_GLOBALS,
    RawNetwork,
    assert_same_state,
    fixture_files,
    pickle_globals,
    raw_pickle,
    raw_state,
    ref_load,
)
from tfstylegan.legacy import (
    STATE_KEYS,
    LegacyPickleError,
    NetworkState,
    NetworkStub,
    UnsafePickleError,
    load_pickle_states,
    save_pickle_states,
)


@pytest.fixture(scope="module", params=FIXTURES)
def fixture(request):
    """(pickle path, pickle bytes, manifest) of one reference fixture."""
    return fixture_files(request.param)


@pytest.fixture(scope="module")
def small_bytes():
    return fixture_files("small")[1]


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
    refs = ref_load(data)
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
    assert pickle_globals(data) == ORIGINAL_GLOBALS
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
        assert ("numpy._core.multiarray", "_reconstruct") in pickle_globals(again)
    assert ("dnnlib.tflib.network", "Network") in pickle_globals(again)
    for a, b in zip(load_pickle_states(io.BytesIO(again)), load_pickle_states(io.BytesIO(small_bytes))):
        assert_same_state(a, b)


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
        ({"variables": DROP}, "lacks key(s) ['variables']"),
        ({"components": DROP}, "lacks key(s) ['components']"),
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
    data = raw_pickle(raw_state(**overrides))
    with pytest.raises(LegacyPickleError, match=re.escape(message)) as info:
        load_pickle_states(io.BytesIO(data))
    assert EXPECTED in str(info.value)


def test_network_that_contains_itself_is_rejected():
    loop = RawNetwork(None)
    loop.state = raw_state(components={"loop": loop})
    data = pickle.dumps((loop, loop, loop), protocol=4)
    with pytest.raises(
        LegacyPickleError, match=re.escape("component 'loop' has no state (a reference cycle?)")
    ):
        load_pickle_states(io.BytesIO(data))


def test_version2_state_without_components_loads():
    data = raw_pickle(raw_state(version=2, components=DROP))
    _, D, _ = load_pickle_states(io.BytesIO(data))
    assert (D.version, D.components) == (2, {})
    assert D.variables[0][1].shape == () and D.variables[0][1] == np.float32(0.5)
    buffer = io.BytesIO()
    save_pickle_states(buffer, (D, D, D))
    written = ref_load(buffer.getvalue())[0].state
    assert written["version"] == 3 and written["components"] == {} and list(written) == list(STATE_KEYS)


def test_protocol2_pickles_with_codecs_encode_load():
    data = raw_pickle(protocol=2)
    assert ("_codecs", "encode") in pickle_globals(data)
    _, D, _ = load_pickle_states(io.BytesIO(data))
    assert D.variables[1][1].tolist() == [[0, 1, 2], [3, 4, 5]]
