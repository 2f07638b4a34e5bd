"""Writing original StyleGAN pickles: exact round trips, opcodes, atomic files, NetworkState, no TensorFlow."""

import ast
import io
import pickletools
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests import DATA
from tests.legacy_pickles import (
    FIXTURES,
    ORIGINAL_GLOBALS,
    assert_same_state,
    fixture_files,
    normalised_ops,
    pickle_globals,
    ref_layout,
    ref_load,
)
from tfstylegan.legacy import (
    BUILD_MODULE_SRC_PLACEHOLDER,
    STATE_KEYS,
    NetworkState,
    load_pickle_states,
    reader,
    save_pickle_states,
    writer,
)


@pytest.fixture(scope="module", params=FIXTURES)
def fixture(request):
    """(pickle path, pickle bytes, manifest) of one reference fixture."""
    return fixture_files(request.param)


@pytest.fixture(scope="module")
def small_bytes():
    return fixture_files("small")[1]


def test_round_trip_is_exact(fixture, tmp_path):
    path, data, _ = fixture
    states = load_pickle_states(path)
    out = tmp_path / "network.pkl"
    save_pickle_states(out, states)
    again = load_pickle_states(out)
    for a, b in zip(states, again):
        assert_same_state(a, b)
        assert b.build_module_src == BUILD_MODULE_SRC_PLACEHOLDER
        for component in b.components.values():
            assert component.build_module_src == BUILD_MODULE_SRC_PLACEHOLDER
    written = out.read_bytes()
    # Field by field as the original loader would see it: keys and their order, kwargs,
    # variable order, dtypes, shapes, numpy scalar (0-d) versus array, components order.
    assert [ref_layout(n) for n in ref_load(written)] == [ref_layout(n) for n in ref_load(data)]
    assert [tuple(n.state) for n in ref_load(written)] == [STATE_KEYS] * 3


def test_written_opcodes_match_the_original(fixture):
    path, data, _ = fixture
    buffer = io.BytesIO()
    save_pickle_states(buffer, load_pickle_states(path), keep_build_module_src=True)
    written = buffer.getvalue()
    assert written[:2] == b"\x80\x04"
    assert max(op.proto for op, _, _ in pickletools.genops(written)) <= 4
    assert pickle_globals(written) == pickle_globals(data) == ORIGINAL_GLOBALS
    assert b"numpy._core" not in written and b"tfstylegan" not in written
    # The whole stream, memo bookkeeping and framing aside, is the original's.
    assert normalised_ops(written) == normalised_ops(data)


def test_default_placeholder_replaces_only_the_source(fixture):
    path, data, _ = fixture
    buffer = io.BytesIO()
    save_pickle_states(buffer, load_pickle_states(path))
    placeholder = ("STR", BUILD_MODULE_SRC_PLACEHOLDER)
    original = [
        op if op[0] != "STR" or not op[1].startswith("# source omitted") else placeholder
        for op in normalised_ops(data)
    ]
    assert normalised_ops(buffer.getvalue()) == original
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
    written = ref_load(buffer.getvalue())
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


# ----------------------------------------------------------------------------------------
# The package: no TensorFlow, and the import directions.


# The modules behind tfstylegan.legacy (the package imports no others).
LEGACY_NO_TF = (
    "__init__.py",
    "bounds.py",
    "errors.py",
    "guarded.py",
    "network_state.py",
    "stub.py",
    "reader.py",
    "writer.py",
    "static_kwargs.py",
)


def test_reading_and_writing_need_no_tensorflow(tmp_path):
    """tfstylegan.legacy reads and writes with numpy alone: it imports nothing else of tfstylegan."""
    code = f"""
import io, sys
from tfstylegan.legacy import load_pickle_states, save_pickle_states
states = load_pickle_states({str(DATA / "cond" / "network.pkl")!r})
buffer = io.BytesIO()
save_pickle_states(buffer, states)
again = load_pickle_states(io.BytesIO(buffer.getvalue()))
print(len(again[2].full_variables()), sorted(m for m in ("tensorflow", "keras", "dnnlib") if m in sys.modules))
print(sorted(m for m in sys.modules if m.split(".")[0] == "tfstylegan"))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    expected = len(
        load_pickle_states(DATA / "cond" / "network.pkl")[2].full_variables()
    )
    count_line, modules_line = result.stdout.splitlines()
    assert count_line.split(" ", 1) == [str(expected), "[]"]
    modules = set(ast.literal_eval(modules_line)) - {"tfstylegan.resolution", "tfstylegan.paths", "tfstylegan.atomic"}  # TF-free.
    assert sorted(modules) == ["tfstylegan", "tfstylegan._lazy"] + [
        f"tfstylegan.legacy{m}"
        for m in ("", ".bounds", ".errors", ".guarded", ".network_state", ".reader", ".stub", ".writer")
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
