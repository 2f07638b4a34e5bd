"""Hostile pickles: bounds before unpickling, exact numpy states, bounded walks and messages."""

import io
import pickle
import re
import struct
import types

import numpy as np
import pytest

from tests.legacy_pickles import RawNetwork, fixture_files, raw_g_state, raw_pickle, raw_state
from tfstylegan.legacy import (
    LegacyPickleError,
    PickleBoundsError,
    UnsafePickleError,
    bounds,
    load_pickle_states,
)
from tfstylegan.legacy.stub import make_stub
from tfstylegan.legacy.writer import _OriginalNamesPickler

EXPECTED = "expected a pickled tuple (G, D, Gs) of dnnlib.tflib.network.Network objects"


def _load(data: bytes):
    return load_pickle_states(io.BytesIO(data))


def _refused(data: bytes, kind: str) -> str:
    with pytest.raises(PickleBoundsError) as info:
        _load(data)
    assert info.value.kind == kind and EXPECTED in str(info.value)
    return str(info.value)


def _get(index: int) -> bytes:
    return b"h" + bytes([index]) if index < 256 else b"j" + struct.pack("<I", index)


# ----------------------------------------------------------------------------------------
# The pre-scan: nothing is unpickled from a file that asks for unbounded memory or work.


@pytest.mark.parametrize("index", [2**27, 2**28, 2**32 - 1])
def test_memo_bombs_are_refused_unread(index):
    message = _refused(b"\x80\x04Nr" + struct.pack("<I", index) + b".", "bound")
    assert f"LONG_BINPUT stores memo entry {index} after only 3 opcodes" in message


def _dag(levels: int, tail: bytes) -> bytes:
    """t0 = 1; t(k+1) = (tk, tk): a tuple that reaches 1 2**levels times; then ``tail``."""
    body = b"K\x01\x94" + b"".join(_get(k) + _get(k) + b"\x86\x94" for k in range(levels))
    return b"\x80\x04" + body + tail


@pytest.mark.parametrize(
    "tail",
    [b".", b"0}" + _get(40) + b"K\x00s.", b"0]" + _get(40) + b"a."],
    ids=["tuple", "dict key", "list item"],
)
def test_billion_laughs_are_refused_unread(tail):
    message = _refused(_dag(40, tail), "bound")
    assert f"expands to more than {bounds.MAX_EXPANDED} nodes" in message


def test_deep_nesting_is_refused():
    message = _refused(b"\x80\x04" + b"]" * 100 + b"a" * 99 + b".", "bound")
    assert f"more than {bounds.MAX_DEPTH} levels deep" in message


@pytest.mark.parametrize(
    "data",
    [
        b"\x80\x04\x8e" + struct.pack("<Q", 2**40) + b"xx.",  # BINBYTES8 of 1 TiB
        b"\x80\x04X" + struct.pack("<I", 2**31) + b"abc.",  # BINUNICODE of 2 GiB
        b"\x80\x04\x95" + struct.pack("<Q", 2**35) + b"N.",  # a frame of 32 GiB
        b"\x80\x04\x96" + struct.pack("<Q", 2**62) + b".",  # BYTEARRAY8
    ],
)
def test_declared_lengths_beyond_the_data_are_refused(data):
    assert "follow" in _refused(data, "truncated")


def test_opcode_count_is_bounded(monkeypatch):
    monkeypatch.setattr(bounds, "MAX_OPCODES", 100)
    assert "more than 100 opcodes" in _refused(b"\x80\x04" + b"N0" * 60 + b"N.", "bound")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\x04h\x05.", "BINGET reads memo entry 5, which was never stored"),
        (b"\x80\x04a.", "the opcodes take more items than were pushed"),
        (b"\x80\x04Ne.", "needs a MARK"),
        (b"\x80\x04\xff.", "unknown opcode"),
    ],
)
def test_malformed_streams_are_not_valid_pickles(data, message):
    text = _refused(data, "invalid")
    assert "not a valid pickle" in text and message in text


def test_fixtures_are_well_inside_the_bounds(data_dir):
    for name in ("small", "cond"):
        assert bounds.check_pickle_bounds(fixture_files(name)[1]) == 4


def test_short_repr_is_bounded():
    dag = 1
    for _ in range(60):
        dag = (dag, dag)
    assert len(bounds.short_repr(dag)) < 100
    assert bounds.short_repr(10**5000) == "<an int of 16610 bits>"
    assert bounds.short_repr(b"x" * 10**6) == repr(b"x" * 24) + "..."
    assert bounds.short_repr({"w": np.zeros([2, 3]), "lod": np.float32(0.5)}) == (
        "{'w': <ndarray of shape [2, 3] and dtype float64>, 'lod': float32(0.5)}"
    )
    assert bounds.short_repr({(i,): i for i in range(100)}).endswith(", ...}")


def test_shared_lists_are_walked_once():
    """A list DAG with 2**60 paths: the state checks visit each list once, the error prints a few."""
    from tfstylegan.legacy import NetworkState
    from tfstylegan.legacy.static_kwargs import check_static_kwargs

    dag = [1.0]
    for _ in range(60):
        dag = [dag, dag]
    state = NetworkState("D", {"blur_filter": dag}, {}, "D_basic", [("lod", np.zeros((), np.float32))])
    assert state.static_kwargs["blur_filter"] is dag
    assert bounds.short_repr(dag) == "[[[[...], [...]], [[...], [...]]], [[[...], [...]], [[...], [...]]]]"
    with pytest.raises(
        ValueError, match=r"^static_kwargs\['blur_filter'\] is \[\[\[\[\.\.\.\], \[\.\.\.\]\]"
    ) as info:
        check_static_kwargs(state.static_kwargs)
    assert len(str(info.value)) < 200
    loop = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        NetworkState("D", {"blur_filter": loop}, {}, "D_basic", [])


# ----------------------------------------------------------------------------------------
# numpy arrays: what numpy writes under every protocol, and nothing else.


def _fixture_networks():
    return pickle.loads(fixture_files("small")[1])  # dnnlib stubs; their arrays are plain numpy arrays


def _same_states(a, b):
    for x, y in zip(a, b):
        xs, ys = x.full_variables(), y.full_variables()
        assert list(xs) == list(ys)
        for name in xs:
            assert (
                xs[name].dtype == ys[name].dtype == np.float32 and xs[name].tobytes() == ys[name].tobytes()
            ), name


class _Numpy1Protocol5Pickler(_OriginalNamesPickler):
    """Protocol 5 as the original code writes it on Python >= 3.8 with numpy 1.x (numpy.core names)."""

    dispatch = {**_OriginalNamesPickler.dispatch, types.FunctionType: lambda self, obj: self.save_global(obj)}

    def save_global(self, obj, name=None):
        if getattr(obj, "__name__", None) == "_frombuffer":
            self.save("numpy.core.numeric")
            self.save("_frombuffer")
            self.write(pickle.STACK_GLOBAL)
            self.memoize(obj)
            return
        super().save_global(obj, name)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_every_protocol_loads_the_same_states(protocol):
    data = pickle.dumps(_fixture_networks(), protocol=protocol)
    assert data[1] == protocol
    if protocol == 5:
        assert b"_frombuffer" in data and b"_reconstruct" not in data
    _same_states(_load(data), load_pickle_states(fixture_files("small")[0]))


def test_protocol5_with_numpy1_names_loads():
    states = load_pickle_states(fixture_files("small")[0])
    buffer = io.BytesIO()
    _Numpy1Protocol5Pickler(buffer, protocol=5).dump(tuple(make_stub(s) for s in states))
    data = buffer.getvalue()
    assert b"numpy.core.numeric" in data and b"numpy._core" not in data
    _same_states(_load(data), load_pickle_states(fixture_files("small")[0]))


class _Reduce:
    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args) if self.state is None else (self.func, self.args, self.state)


def _dtype(spec, state):
    return _Reduce(np.dtype, (spec, False, True), state)


def _array(dtype, shape=(2,), data=b"\0" * 8, version=1):
    from tfstylegan.legacy.guarded import multiarray

    return _Reduce(multiarray._reconstruct, (np.ndarray, (0,), b"b"), (version, shape, dtype, False, data))


_F4 = (3, "<", None, None, None, -1, -1, 0)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (_dtype("f8", (3, "<", None, None, None, -1, -1, 29)), "numpy dtype 'f8' with the state"),
        (_dtype("f4", (3, "<", None, ("a",), {"a": (np.dtype("f4"), 0)}, 4, 4, 0)), "with the state"),
        (_dtype("f4", (3, "<", (np.dtype("f4"), (2,)), None, None, 8, 4, 0)), "with the state"),
        (_dtype("u1", (3, "<", None, None, None, -1, -1, 0)), "numpy dtype 'u1' with the state"),
        (_dtype("f4", (3, "!", None, None, None, -1, -1, 0)), "numpy dtype 'f4' with the state"),
        (_dtype("f4", (3, ">", None, None, None, -1, -1, 0)), "numpy dtype 'f4' with the state"),
        (_dtype("V8", _F4), "unsupported numpy dtype 'V8'"),
        (_array(_dtype("f4", _F4), data=b"\0" * 7), "needs 8 bytes of data, got 7 bytes"),
        (_array(_dtype("f4", _F4), shape=(2**40, 2**40)), "needs 4835703278458516698824704 bytes"),
        (_array(_dtype("f4", _F4), shape=(-1,)), "with the shape (-1,)"),
        (_array(_dtype("f4", _F4), version=2), "numpy array with the state"),
        (_array("f4"), "numpy array with the dtype 'f4'; expected a numpy dtype"),
        (_array(_Reduce(np.dtype, ("f4", False, True))), "which was never given its state"),
    ],
)
def test_forged_numpy_states_are_refused(value, message):
    data = raw_pickle(raw_state(variables=[("lod", np.float32(0)), ("w", value)]))
    with pytest.raises(LegacyPickleError, match=re.escape(message)):
        _load(data)


@pytest.mark.parametrize("dtype", [np.int32, np.bool_, np.complex64, np.float64, np.float16])
def test_variables_must_be_float32_and_are_never_cast(dtype):
    data = raw_pickle(raw_state(variables=[("lod", np.float32(0)), ("w", np.ones(3, dtype))]))
    with pytest.raises(LegacyPickleError) as info:
        _load(data)
    assert f"variable 'w' has dtype {np.dtype(dtype).str}" in str(info.value)
    assert "the original stores every variable as float32" in str(info.value)


def test_payloads_nested_in_allowed_containers_never_run(tmp_path):
    marker = tmp_path / "ran"
    evil = _Reduce(__import__("os").system, (f"touch '{marker}'",))
    nested = {"static_kwargs": {"blur_filter": [(1, {"k": [evil]})]}}
    with pytest.raises(UnsafePickleError, match=r"\.system"):
        _load(raw_pickle(raw_state(**nested)))
    wrapped = _Reduce(np.dtype, ("f4", False, True), {"__reduce__": evil})
    with pytest.raises(UnsafePickleError):
        _load(raw_pickle(raw_state(variables=[("w", _array(wrapped))])))
    assert not marker.exists()


def test_swapped_roles_are_refused():
    G, D = raw_g_state(), raw_state()
    for order in [(D, G, G), (G, G, G), (D, D, D)]:
        data = pickle.dumps(tuple(RawNetwork(s) for s in order), protocol=4)
        with pytest.raises(
            LegacyPickleError, match=re.escape("not in the order (G, D, Gs) = (G_style, D_basic, G_style)")
        ):
            _load(data)
