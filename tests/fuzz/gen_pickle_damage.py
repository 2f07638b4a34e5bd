"""Hostile network pickles, part 2: truncations, byte flips, every protocol, code-carrying
payloads (whose canary must never be written), the command line tools.
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

from .gen_pickles import dag_bomb, forged_dtype, memo_bomb, swapped_roles
from .harness import CANARY, Case, register, run_cli
from .pickle_cases import FIXTURES, Reduce, dump, fixture_bytes, fixture_states, load_case, networks


def truncation(rng: random.Random, workdir: Path) -> Case:
    data = fixture_bytes(rng.choice(FIXTURES))
    cut = rng.choice([rng.randint(0, 64), rng.randint(0, 4096), rng.randint(0, len(data) - 1)])
    return load_case(workdir, data[:cut], "refuse", f"cut at {cut}")


def byte_flip(rng: random.Random, workdir: Path) -> Case:
    data = bytearray(fixture_bytes(rng.choice(FIXTURES)))
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
    return load_case(workdir, bytes(data), "any", " ".join(edits))


def _numpy1_protocol5(states) -> bytes:
    """Protocol 5 as the original code writes it under Python >= 3.8 with numpy 1.x names."""
    import io
    import types

    from tfstylegan.legacy.stub import make_stub
    from tfstylegan.legacy.writer import _OriginalNamesPickler

    class Pickler(_OriginalNamesPickler):
        dispatch = {
            **_OriginalNamesPickler.dispatch,
            types.FunctionType: lambda self, obj: self.save_global(obj),
        }

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
        data = _numpy1_protocol5(fixture_states(name))
    else:
        data = dump(pickle.loads(fixture_bytes(name)), protocol)  # Through the dnnlib stubs.
    return load_case(workdir, data, "load", f"{name} protocol {protocol}")


def _payloads(canary: Path):
    """Objects that write ``canary`` if anything calls what they name."""
    import builtins
    import subprocess

    touch = f"touch '{canary}'"
    code = f"open({str(canary)!r}, 'w').close()"
    return [
        ("os.system", Reduce(os.system, (touch,))),
        ("builtins.exec", Reduce(builtins.exec, (code,))),
        ("builtins.eval", Reduce(builtins.eval, (f"__import__('os').system({touch!r})",))),
        ("subprocess.Popen", Reduce(subprocess.Popen, (["touch", str(canary)],))),
        ("builtins.open", Reduce(builtins.open, (str(canary), "w"))),
        ("getattr chain", Reduce(builtins.getattr, (Reduce(builtins.__import__, ("os",)), "system"))),
        ("copyreg", Reduce(__import__("copyreg")._reconstructor, (object, object, None))),
        ("pickle.loads", Reduce(pickle.loads, (pickle.dumps(Reduce(os.system, (touch,))),))),
        ("functools.partial", Reduce(functools.partial, (os.system, touch))),
    ]


_OPCODE_PAYLOADS = [
    lambda c: (
        b"\x80\x02cos\nsystem\nX" + struct.pack("<I", len(f"touch {c}")) + f"touch {c}".encode() + b"\x85R."
    ),
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
        return load_case(workdir, data, "refuse", "opcode-level payload")
    what, payload = rng.choice(_payloads(canary))
    where = rng.choice(
        [
            "top",
            "static_kwargs",
            "variables",
            "components",
            "build_module_src",
            "dtype state",
            "array data",
            "name",
        ]
    )
    if where == "top":
        data = dump(payload)
    elif where == "dtype state":
        data = networks(rng, {"variables": [("lod", Reduce(np.dtype, ("f4", False, True), payload))]})
    elif where == "array data":
        from tfstylegan.legacy.guarded import multiarray

        arr = Reduce(
            multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, (1,), np.dtype("f4"), False, payload)
        )
        data = networks(rng, {"variables": [("lod", arr)]})
    else:
        value = {
            "static_kwargs": {"resolution": [(1, {"k": payload})]},
            "variables": [("lod", payload)],
            "components": {"mapping": payload},
            "build_module_src": payload,
            "name": payload,
        }[where]
        data = networks(rng, {where: value})
    return load_case(workdir, data, "refuse", f"{what} in {where}")


def source_is_not_run(rng: random.Random, workdir: Path) -> Case:
    """build_module_src holding a program: it is kept as text, never run."""
    canary = workdir / CANARY
    source = f"open({str(canary)!r}, 'w').close()\nimport os\nos.system('touch {canary}')\n"
    data = networks(rng, {"build_module_src": source}, which=rng.randrange(3))
    return load_case(workdir, data, "load", "source in build_module_src")


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
    ("truncation", truncation, 4, 50),
    ("byte_flip", byte_flip, 8, 100),
    ("protocols", protocols, 5, 24),
    ("code_payload", code_payload, 8, 60),
    ("source_is_not_run", source_is_not_run, 1, 10),
    ("cli", cli, 3, 20),
]:
    register(f"pickles.{_name}", _make, _sample, _full)
