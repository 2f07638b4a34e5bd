"""Malicious pickles are refused by name before anything runs; allowed helpers take only what numpy writes."""

import io
import os
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from tests.legacy_pickles import (
    binunicode,
    pickle_globals,
    raw_pickle,
    raw_state,
)
from tfstylegan.legacy import (
    LegacyPickleError,
    UnsafePickleError,
    guarded,
    load_pickle_states,
    reader,
    save_pickle_states,
)


def _call_pickle(module: str, name: str, arg: str, opcode: str) -> bytes:
    """A pickle that calls module.name(arg), naming it with GLOBAL or STACK_GLOBAL."""
    if opcode == "STACK_GLOBAL":
        head = b"\x80\x04" + binunicode(module) + binunicode(name) + b"\x93"
    else:
        head = b"\x80\x02c" + f"{module}\n{name}\n".encode()
    return head + binunicode(arg) + b"\x85R."


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


def test_reduce_payload_is_refused(tmp_path):
    marker = tmp_path / "marker"
    data = pickle.dumps(_Evil(marker), protocol=4)
    assert pickle_globals(data)[0][1] == "system"
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
    data = raw_pickle(raw_state(**{where: hidden}))
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
        b"\x80\x04" + binunicode(module) + binunicode(name) + b"\x93"
        b"}" + binunicode("x") + b"K\x01s" + b"N" + b"\x86b."  # (dict(x=1), None) BUILD
    )
    with pytest.raises(LegacyPickleError, match=re.escape(message)):
        load_pickle_states(io.BytesIO(data))
    assert not any(hasattr(obj, "x") for obj in reader._READ_GLOBALS.values())


def test_build_module_src_is_never_run(tmp_path):
    marker = tmp_path / "marker"
    source = f"open({str(marker)!r}, 'w').close()\nraise SystemExit('ran')\n"
    data = raw_pickle(raw_state(build_module_src=source))
    _, D, _ = load_pickle_states(io.BytesIO(data))
    _, D_plain, _ = pickle.loads(data)  # through the dnnlib alias
    assert D.build_module_src == D_plain.state.build_module_src == source
    path = tmp_path / "kept.pkl"
    save_pickle_states(path, load_pickle_states(io.BytesIO(data)), keep_build_module_src=True)
    assert load_pickle_states(path)[1].build_module_src == source
    assert not marker.exists()
