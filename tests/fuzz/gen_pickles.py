"""Hostile network pickles, part 1: memory and work bombs, oversized declarations, forged numpy
states, swapped networks, absurd static_kwargs. Part 2 (damage, protocols, code) is in
gen_pickle_damage.py; both load the file with ``load_network_pkl``.
"""

from __future__ import annotations

import random
import struct
from pathlib import Path

import numpy as np

from .harness import Case, register
from .pickle_cases import (
    FIXTURES,
    Raw,
    Reduce,
    dump,
    fixture_states,
    frombuffer,
    get,
    load_case,
    networks,
    state_dict,
)


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
    return load_case(workdir, data, "refuse", f"{form} {index}")


def _tuple_dag_bytes(levels: int, kind: str) -> bytes:
    body = b"K\x01\x94" + b"".join(get(k) + get(k) + b"\x86\x94" for k in range(levels))
    top = get(levels)
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
        data = networks(rng, change)
    else:
        data = _tuple_dag_bytes(levels, kind)
    return load_case(workdir, data, "refuse", f"{levels}-level DAG as {kind}")


def deep_nesting(rng: random.Random, workdir: Path) -> Case:
    depth = rng.choice([65, 100, 1000, 10_000, 100_000, 200_000])
    kind = rng.choice(["list", "tuple", "dict"])
    if kind == "list":
        body = b"]" * depth + b"a" * (depth - 1)
    elif kind == "tuple":
        body = b")" + b"\x85" * depth
    else:
        body = b"}" + b"K\x00}" * (depth - 1) + b"s" * (depth - 1)
    return load_case(workdir, b"\x80\x04" + body + b".", "refuse", f"{kind} nested {depth} deep")


def oversized(rng: random.Random, workdir: Path) -> Case:
    huge = rng.choice([2**31, 2**32 - 1, 2**40, 2**62])
    form = rng.choice(
        [
            "BINBYTES8",
            "BINUNICODE8",
            "BYTEARRAY8",
            "BINBYTES",
            "BINUNICODE",
            "FRAME",
            "LONG4",
            "BINSTRING",
            "array",
            "frombuffer",
            "scalar",
        ]
    )
    if form in ("array", "frombuffer", "scalar"):
        from tfstylegan.legacy.guarded import multiarray

        dtype = np.dtype("f4")
        shape = tuple(rng.choice([2**20, 2**31, 2**40]) for _ in range(rng.randint(1, 3)))
        if form == "array":
            value = Reduce(
                multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, shape, dtype, False, b"\0" * 64)
            )
        elif form == "frombuffer":
            value = Reduce(frombuffer(), (bytearray(64), dtype, shape, "C"))
        else:
            value = Reduce(multiarray.scalar, (dtype, b"\0" * rng.choice([0, 3, 5, 1000])))
        return load_case(
            workdir,
            networks(rng, {"variables": [("lod", np.float32(0)), ("w", value)]}),
            "refuse",
            f"{form} {shape}",
        )
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
    return load_case(
        workdir, b"\x80\x04" + op + b"x" * rng.randint(0, 64) + b".", "refuse", f"{form} declares {huge}"
    )


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
    spec = rng.choice(
        [
            "f4",
            "f8",
            "i4",
            "u1",
            "b1",
            "O",
            "O8",
            "V8",
            "U4",
            "S4",
            "M8",
            "m8",
            "f16",
            "c32",
            "<f4",
            "float32",
        ]
    )
    if spec == "f4" or rng.random() < 0.5:
        state = rng.choice(_DTYPE_STATES)(rng)
        dtype = Reduce(np.dtype, (spec, False, True), state)
    else:
        dtype = Reduce(np.dtype, (spec, False, True))
    from tfstylegan.legacy.guarded import multiarray

    value = Reduce(multiarray._reconstruct, (np.ndarray, (0,), b"b"), (1, (4,), dtype, False, b"\0" * 16))
    if rng.random() < 0.3:
        value = Reduce(multiarray.scalar, (dtype, b"\0" * 4))
    data = networks(rng, {"variables": [("lod", value)]})
    return load_case(workdir, data, "refuse", f"dtype {spec}")


def swapped_roles(rng: random.Random, workdir: Path) -> Case:
    states = fixture_states(rng.choice(FIXTURES))
    orders = [
        (1, 0, 2),
        (0, 2, 1),
        (2, 1, 0),
        (1, 2, 0),
        (2, 0, 1),
        (0, 0, 0),
        (1, 1, 1),
        (0, 0, 2),
        (1, 1, 0),
        (2, 2, 2),
    ]
    order = rng.choice(orders + ["components", "D components"])
    dicts = [state_dict(s) for s in states]
    if order == "components":
        comps = dicts[0]["components"]
        dicts[0]["components"] = {"synthesis": comps["mapping"], "mapping": comps["synthesis"]}
    elif order == "D components":
        dicts[1]["components"] = dict(dicts[0]["components"])
    else:
        dicts = [dicts[i] for i in order]
    return load_case(workdir, dump(tuple(Raw(d) for d in dicts)), "refuse", f"networks {order}")


# The values the fuzz run found harmful, and others of every kind.
_KNOWN_BAD = [
    ("resolution", 2**14),
    ("latent_size", 10**9),
    ("mapping_layers", 10**6),
    ("resolution", float("inf")),
]
_ODD_VALUES = [
    10**30,
    -1,
    0,
    2**31,
    2**63,
    float("inf"),
    float("-inf"),
    float("nan"),
    1e308,
    -0.5,
    3.5,
    True,
    False,
    None,
    "x" * 100_000,
    "auto",
    b"bytes",
    [1] * 100_000,
    {"a": 1},
    (1, 2),
    1j,
    10**4000,
]


def absurd_kwargs(rng: random.Random, workdir: Path) -> Case:
    from tfstylegan.legacy.static_kwargs import KWARG_BOUNDS

    which = rng.choice([0, 0, 1, 2])
    state = fixture_states(rng.choice(FIXTURES))[which]
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
    dicts = [
        state_dict(s)
        for s in fixture_states("small" if state.static_kwargs.get("resolution") == 32 else "cond")
    ]
    dicts[which]["static_kwargs"] = kwargs
    return load_case(workdir, dump(tuple(Raw(d) for d in dicts)), expect, f"{name}={str(value)[:30]}")


for _name, _make, _sample, _full in [
    ("memo_bomb", memo_bomb, 3, 30),
    ("dag_bomb", dag_bomb, 4, 40),
    ("deep_nesting", deep_nesting, 3, 30),
    ("oversized", oversized, 4, 40),
    ("forged_dtype", forged_dtype, 5, 40),
    ("swapped_roles", swapped_roles, 3, 20),
    ("absurd_kwargs", absurd_kwargs, 6, 60),
]:
    register(f"pickles.{_name}", _make, _sample, _full)
