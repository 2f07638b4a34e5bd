"""Hostile network pickles: bombs, forged numpy states, swapped networks, absurd kwargs, damage, code.

Every case writes one file and loads it with ``load_network_pkl`` (or feeds it to a
command line tool). Mutants start from the reference fixtures in ``tests/data``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pickle
import random
import struct
from pathlib import Path

import numpy as np

from .harness import CANARY, Case, register, run_cli

DATA = Path(__file__).parents[1] / "data"
FIXTURES = ("small", "cond")


@functools.cache
def _fixture_bytes(name: str) -> bytes:
    return (DATA / name / "network.pkl").read_bytes()


@functools.cache
def _fixture_states(name: str):
    from tfstylegan.legacy import load_pickle_states

    return load_pickle_states(DATA / name / "network.pkl")


def _network_class():
    from dnnlib.tflib.network import Network

    return Network


class _Raw:
    """Pickles as ``dnnlib.tflib.network.Network`` with any state (a forged network)."""

    def __init__(self, state):
        self.state = state

    def __reduce__(self):
        return (_network_class(), (), self.state)


class _Reduce:
    """Pickles as ``func(*args)`` (then ``BUILD state`` if given)."""

    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args) if self.state is None else (self.func, self.args, self.state)


def _state_dict(state, **changes):
    """The pickled dict of a NetworkState (components as forged networks), with changes."""
    d = {
        "version": 3,
        "name": state.name,
        "static_kwargs": dict(state.static_kwargs),
        "components": {k: _Raw(_state_dict(c)) for k, c in state.components.items()},
        "build_module_src": state.build_module_src,
        "build_func_name": state.build_func_name,
        "variables": [(n, v[()] if v.ndim == 0 else v) for n, v in state.variables],
    }
    d.update(changes)
    return d


def _dump(obj, protocol=4) -> bytes:
    return pickle.dumps(obj, protocol=protocol)


def _networks(rng: random.Random, d_changes=None, which=1) -> bytes:
    """The fixture's (G, D, Gs) with the state dict of network ``which`` changed."""
    states = _fixture_states(rng.choice(FIXTURES))
    dicts = [_state_dict(s) for s in states]
    dicts[which].update(d_changes or {})
    return _dump(tuple(_Raw(d) for d in dicts))


def _load_case(workdir: Path, data: bytes, expect: str, note: str) -> Case:
    path = workdir / "network.pkl"
    path.write_bytes(data)

    def probe():
        from tfstylegan.legacy.network_pkl import load_network_pkl

        load_network_pkl(path)

    return Case(probe, expect, note)


def _frombuffer():
    try:
        from numpy._core.numeric import _frombuffer
    except ImportError:  # numpy 1.x
        from numpy.core.numeric import _frombuffer
    return _frombuffer


def _get(index: int) -> bytes:
    return b"h" + bytes([index]) if index < 256 else b"j" + struct.pack("<I", index)


# ---------------------------------------------------------------------------------------


def memo_bomb(rng: random.Random, workdir: Path) -> Case:
    index = 1 << rng.randint(20, 32) if rng.random() < 0.8 else rng.randint(10**6, 2**32 - 1)
    if index >= 2**32:
        index = 2**32 - 1
    form = rng.choice(["LONG_BINPUT", "PUT", "LONG_BINGET", "GET"])
    op = {
        "LONG_BINPUT": b"r" + struct.pack("<I", index),
        "PUT": b"p" + str(index).encode() + b"\n",
        "LONG_BINGET": b"j" + struct.pack("<I", index),
        "GET": b"g" + str(index).encode() + b"\n",
    }[form]
    data = b"\x80" + bytes([rng.randint(2, 5)]) + b"N" + op + b"."
    return _load_case(workdir, data, "refuse", f"{form} {index}")


def _tuple_dag_bytes(levels: int, kind: str) -> bytes:
    body = b"K\x01\x94" + b"".join(_get(k) + _get(k) + b"\x86\x94" for k in range(levels))
    top = _get(levels)
    tail = {
        "tuple": b"",
        "dict key": b"}" + top + b"K\x00s",
        "frozenset": b"(" + top + b"\x91",
        "set": b"\x8f(" + top + b"\x90",
        "list": b"]" + top + b"a",
    }[kind]
    return b"\x80\x04" + body + tail + b"."


def dag_bomb(rng: random.Random, workdir: Path) -> Case:
    levels = rng.randint(24, 64)
    kind = rng.choice(["tuple", "dict key", "frozenset", "set", "list", "static_kwargs", "name", "variables"])
    if kind in ("static_kwargs", "name", "variables"):
        dag = 1.0
        for _ in range(levels):
            dag = (dag, dag)
        change = {
            "static_kwargs": {"static_kwargs": {"resolution": 32, "blur_filter": dag}},
            "name": {"name": dag},
            "variables": {"variables": [("lod", dag)]},
        }[kind]
        data = _networks(rng, change)
    else:
        data = _tuple_dag_bytes(levels, kind)
    return _load_case(workdir, data, "refuse", f"{levels}-level DAG as {kind}")


def deep_nesting(rng: random.Random, workdir: Path) -> Case:
    depth = rng.choice([65, 100, 1000, 10_000, 100_000, 200_000])
    kind = rng.choice(["list", "tuple", "dict"])
    if kind == "list":
        body = b"]" * depth + b"a" * (depth - 1)
    elif kind == "tuple":
        body = b")" + b"\x85" * depth
    else:
        body = b"}" + b"K\x00}" * (depth - 1) + b"s" * (depth - 1)
    return _load_case(workdir, b"\x80\x04" + body + b".", "refuse", f"{kind} nested {depth} deep")


def oversized(rng: random.Random, workdir: Path) -> Case:
    huge = rng.choice([2**31, 2**32 - 1, 2**40, 2**62])
    form = rng.choice(["BINBYTES8", "BINUNICODE8", "BYTEARRAY8", "BINBYTES", "BINUNICODE", "FRAME", "LONG4", "BINSTRING", "array", "frombuffer", "scalar"])
    if form in ("array", "frombuffer", "scalar"):
        from tfstylegan.legacy.guarded import multiarray

        dtype = np.dtype("f4")
        shape = tuple(rng.choice([2**20, 2**31, 2**40]) for _ in range(rng.randint(1, 3)))
        if form == "array":
            value = _Reduce(multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, shape, dtype, False, b"\0" * 64))
        elif form == "frombuffer":
            value = _Reduce(_frombuffer(), (bytearray(64), dtype, shape, "C"))
        else:
            value = _Reduce(multiarray.scalar, (dtype, b"\0" * rng.choice([0, 3, 5, 1000])))
        return _load_case(workdir, _networks(rng, {"variables": [("lod", np.float32(0)), ("w", value)]}), "refuse", f"{form} {shape}")
    small = min(huge, 2**32 - 1)
    op = {
        "BINBYTES8": b"\x8e" + struct.pack("<Q", huge),
        "BINUNICODE8": b"\x8d" + struct.pack("<Q", huge),
        "BYTEARRAY8": b"\x96" + struct.pack("<Q", huge),
        "BINBYTES": b"B" + struct.pack("<I", small),
        "BINUNICODE": b"X" + struct.pack("<I", small),
        "FRAME": b"\x95" + struct.pack("<Q", huge),
        "LONG4": b"\x8b" + struct.pack("<i", min(huge, 2**31 - 1)),
        "BINSTRING": b"T" + struct.pack("<i", min(huge, 2**31 - 1)),
    }[form]
    return _load_case(workdir, b"\x80\x04" + op + b"x" * rng.randint(0, 64) + b".", "refuse", f"{form} declares {huge}")


_DTYPE_STATES = [
    lambda r: (3, "<", None, None, None, -1, -1, r.randint(1, 255)),  # flags
    lambda r: (3, "<", None, ("a",), {"a": (np.dtype("f4"), 0)}, 4, 4, 16),  # fields
    lambda r: (3, "<", (np.dtype("f4"), (2,)), None, None, 8, 4, 0),  # subarray
    lambda r: (3, r.choice([">", "=", "!", "|", "x"]), None, None, None, -1, -1, 0),  # byte order
    lambda r: (3, "<", None, None, None, r.randint(0, 1 << 20), -1, 0),  # elsize
    lambda r: (4, "<", None, None, None, -1, -1, 0, {"evil": 1}),  # metadata
    lambda r: (2, "<", None, None, None, -1, -1),
    lambda r: "not a tuple",
]


def forged_dtype(rng: random.Random, workdir: Path) -> Case:
    spec = rng.choice(["f4", "f8", "i4", "u1", "b1", "O", "O8", "V8", "U4", "S4", "M8", "m8", "f16", "c32", "<f4", "float32"])
    if spec == "f4" or rng.random() < 0.5:
        state = rng.choice(_DTYPE_STATES)(rng)
        dtype = _Reduce(np.dtype, (spec, False, True), state)
    else:
        dtype = _Reduce(np.dtype, (spec, False, True))
    from tfstylegan.legacy.guarded import multiarray

    value = _Reduce(multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, (4,), dtype, False, b"\0" * 16))
    if rng.random() < 0.3:
        value = _Reduce(multiarray.scalar, (dtype, b"\0" * 4))
    data = _networks(rng, {"variables": [("lod", value)]})
    return _load_case(workdir, data, "refuse", f"dtype {spec}")


def swapped_roles(rng: random.Random, workdir: Path) -> Case:
    states = _fixture_states(rng.choice(FIXTURES))
    orders = [(1, 0, 2), (0, 2, 1), (2, 1, 0), (1, 2, 0), (2, 0, 1), (0, 0, 0), (1, 1, 1), (0, 0, 2), (1, 1, 0), (2, 2, 2)]
    order = rng.choice(orders + ["components", "D components"])
    dicts = [_state_dict(s) for s in states]
    if order == "components":
        comps = dicts[0]["components"]
        dicts[0]["components"] = {"synthesis": comps["mapping"], "mapping": comps["synthesis"]}
    elif order == "D components":
        dicts[1]["components"] = dict(dicts[0]["components"])
    else:
        dicts = [dicts[i] for i in order]
    return _load_case(workdir, _dump(tuple(_Raw(d) for d in dicts)), "refuse", f"networks {order}")


# The values the fuzz run found harmful, and others of every kind.
_KNOWN_BAD = [("resolution", 2**14), ("latent_size", 10**9), ("mapping_layers", 10**6), ("resolution", float("inf"))]
_ODD_VALUES = [
    10**30, -1, 0, 2**31, 2**63, float("inf"), float("-inf"), float("nan"), 1e308, -0.5, 3.5, True, False,
    None, "x" * 100_000, "auto", b"bytes", [1] * 100_000, {"a": 1}, (1, 2), 1j, 10**4000,
]


def absurd_kwargs(rng: random.Random, workdir: Path) -> Case:
    from tfstylegan.legacy.static_kwargs import KWARG_BOUNDS

    which = rng.choice([0, 0, 1, 2])
    state = _fixture_states(rng.choice(FIXTURES))[which]
    if rng.random() < 0.2:
        name, value = rng.choice(_KNOWN_BAD + [("fmap_base", 2**16)])
        kwargs = {**state.static_kwargs, name: value}
        if name == "fmap_base":
            kwargs["fmap_max"] = 2**16
        expect = "refuse"
    else:
        name = rng.choice(sorted(KWARG_BOUNDS) + ["bogus", "__class__", "build_func_name"])
        value = rng.choice(_ODD_VALUES)
        kwargs = {**state.static_kwargs, name: value}
        expect = "any"
    dicts = [_state_dict(s) for s in _fixture_states("small" if state.static_kwargs.get("resolution") == 32 else "cond")]
    dicts[which]["static_kwargs"] = kwargs
    return _load_case(workdir, _dump(tuple(_Raw(d) for d in dicts)), expect, f"{name}={str(value)[:30]}")


def truncation(rng: random.Random, workdir: Path) -> Case:
    data = _fixture_bytes(rng.choice(FIXTURES))
    cut = rng.choice([rng.randint(0, 64), rng.randint(0, 4096), rng.randint(0, len(data) - 1)])
    return _load_case(workdir, data[:cut], "refuse", f"cut at {cut}")


def byte_flip(rng: random.Random, workdir: Path) -> Case:
    data = bytearray(_fixture_bytes(rng.choice(FIXTURES)))
    head = rng.random() < 0.7  # The first bytes hold the structure; the rest is mostly weights.
    edits = []
    for _ in range(rng.randint(1, 8)):
        pos = rng.randrange(min(len(data), 8192) if head else len(data))
        kind = rng.choice(["flip", "set", "insert", "delete"])
        if kind == "flip":
            data[pos] ^= 1 << rng.randrange(8)
        elif kind == "set":
            data[pos] = rng.randrange(256)
        elif kind == "insert":
            data[pos:pos] = bytes([rng.randrange(256)])
        else:
            del data[pos]
        edits.append(f"{kind}@{pos}")
    return _load_case(workdir, bytes(data), "any", " ".join(edits))


def _numpy1_protocol5(states) -> bytes:
    """Protocol 5 as the original code writes it under Python >= 3.8 with numpy 1.x names."""
    import io
    import types

    from tfstylegan.legacy.stub import make_stub
    from tfstylegan.legacy.writer import _OriginalNamesPickler

    class Pickler(_OriginalNamesPickler):
        dispatch = {**_OriginalNamesPickler.dispatch, types.FunctionType: lambda self, obj: self.save_global(obj)}

        def save_global(self, obj, name=None):
            if getattr(obj, "__name__", None) == "_frombuffer":
                self.save("numpy.core.numeric")
                self.save("_frombuffer")
                self.write(pickle.STACK_GLOBAL)
                self.memoize(obj)
                return
            super().save_global(obj, name)

    buffer = io.BytesIO()
    Pickler(buffer, protocol=5).dump(tuple(make_stub(s) for s in states))
    return buffer.getvalue()


def protocols(rng: random.Random, workdir: Path) -> Case:
    name = rng.choice(FIXTURES)
    protocol = rng.choice([2, 3, 4, 5, "5 numpy 1.x"])
    if protocol == "5 numpy 1.x":
        data = _numpy1_protocol5(_fixture_states(name))
    else:
        data = _dump(pickle.loads(_fixture_bytes(name)), protocol)  # Through the dnnlib stubs.
    return _load_case(workdir, data, "load", f"{name} protocol {protocol}")


def _payloads(canary: Path):
    """Objects that write ``canary`` if anything calls what they name."""
    import builtins
    import subprocess

    touch = f"touch '{canary}'"
    code = f"open({str(canary)!r}, 'w').close()"
    return [
        ("os.system", _Reduce(os.system, (touch,))),
        ("builtins.exec", _Reduce(builtins.exec, (code,))),
        ("builtins.eval", _Reduce(builtins.eval, (f"__import__('os').system({touch!r})",))),
        ("subprocess.Popen", _Reduce(subprocess.Popen, (["touch", str(canary)],))),
        ("builtins.open", _Reduce(builtins.open, (str(canary), "w"))),
        ("getattr chain", _Reduce(builtins.getattr, (_Reduce(builtins.__import__, ("os",)), "system"))),
        ("copyreg", _Reduce(__import__("copyreg")._reconstructor, (object, object, None))),
        ("pickle.loads", _Reduce(pickle.loads, (pickle.dumps(_Reduce(os.system, (touch,))),))),
        ("functools.partial", _Reduce(functools.partial, (os.system, touch))),
    ]


_OPCODE_PAYLOADS = [
    lambda c: b"\x80\x02cos\nsystem\nX" + struct.pack("<I", len(f"touch {c}")) + f"touch {c}".encode() + b"\x85R.",
    lambda c: b"(S'touch " + str(c).encode() + b"'\nios\nsystem\n.",  # INST
    lambda c: b"(cos\nsystem\nS'touch " + str(c).encode() + b"'\no.",  # OBJ
    lambda c: b"\x80\x04\x8c\x15numpy.core.multiarray\x8c\x18_reconstruct.__globals__\x93.",
    lambda c: b"\x80\x02\x82\x01.",  # EXT1
    lambda c: b"\x80\x02P1\n.",  # PERSID
    lambda c: b"\x80\x04\x8c\x05numpy\x8c\x05dtype\x93}\x8c\x07__new__K\x01sN\x86b.",  # BUILD on a global
]


def code_payload(rng: random.Random, workdir: Path) -> Case:
    canary = workdir / CANARY
    if rng.random() < 0.3:
        data = rng.choice(_OPCODE_PAYLOADS)(canary)
        return _load_case(workdir, data, "refuse", "opcode-level payload")
    what, payload = rng.choice(_payloads(canary))
    where = rng.choice(["top", "static_kwargs", "variables", "components", "build_module_src", "dtype state", "array data", "name"])
    if where == "top":
        data = _dump(payload)
    elif where == "dtype state":
        data = _networks(rng, {"variables": [("lod", _Reduce(np.dtype, ("f4", False, True), payload))]})
    elif where == "array data":
        from tfstylegan.legacy.guarded import multiarray

        arr = _Reduce(multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, (1,), np.dtype("f4"), False, payload))
        data = _networks(rng, {"variables": [("lod", arr)]})
    else:
        value = {"static_kwargs": {"resolution": [(1, {"k": payload})]}, "variables": [("lod", payload)],
                 "components": {"mapping": payload}, "build_module_src": payload, "name": payload}[where]
        data = _networks(rng, {where: value})
    return _load_case(workdir, data, "refuse", f"{what} in {where}")


def source_is_not_run(rng: random.Random, workdir: Path) -> Case:
    """build_module_src holding a program: it is kept as text, never run."""
    canary = workdir / CANARY
    source = f"open({str(canary)!r}, 'w').close()\nimport os\nos.system('touch {canary}')\n"
    data = _networks(rng, {"build_module_src": source}, which=rng.randrange(3))
    return _load_case(workdir, data, "load", "source in build_module_src")


def cli(rng: random.Random, workdir: Path) -> Case:
    """A hostile pickle through a command line tool: one error line, exit status 1."""
    maker = rng.choice([memo_bomb, dag_bomb, swapped_roles, truncation, code_payload, forged_dtype])
    inner = maker(rng, workdir)
    path = workdir / "network.pkl"
    tool = rng.choice(["generate", "convert"])

    def probe():
        module = __import__(f"tfstylegan.cli.{tool}", fromlist=["main"])
        args = {
            "generate": [f"--network={path}", "--seeds=0", f"--outdir={workdir / 'out'}"],
            "convert": [f"--network={path}", f"--out={workdir / 'out.pkl'}"],
        }[tool]
        run_cli(module.main, [f"tfstylegan-{tool}", *args])

    return dataclasses.replace(inner, probe=probe, note=f"{tool}: {inner.note}")


for _name, _make, _sample, _full in [
    ("memo_bomb", memo_bomb, 3, 30),
    ("dag_bomb", dag_bomb, 4, 40),
    ("deep_nesting", deep_nesting, 3, 30),
    ("oversized", oversized, 4, 40),
    ("forged_dtype", forged_dtype, 5, 40),
    ("swapped_roles", swapped_roles, 3, 20),
    ("absurd_kwargs", absurd_kwargs, 6, 60),
    ("truncation", truncation, 4, 50),
    ("byte_flip", byte_flip, 8, 100),
    ("protocols", protocols, 5, 24),
    ("code_payload", code_payload, 8, 60),
    ("source_is_not_run", source_is_not_run, 1, 10),
    ("cli", cli, 3, 20),
]:
    register(f"pickles.{_name}", _make, _sample, _full)
