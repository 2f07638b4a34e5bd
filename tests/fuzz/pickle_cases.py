"""What the pickle generators share: the fixtures, forged networks, raw opcodes, the load probe."""

from __future__ import annotations

import functools
import pickle
import random
import struct
from pathlib import Path

from .harness import Case

DATA = Path(__file__).parents[1] / "data"
FIXTURES = ("small", "cond")


@functools.cache
def fixture_bytes(name: str) -> bytes:
    return (DATA / name / "network.pkl").read_bytes()


@functools.cache
def fixture_states(name: str):
    from tfstylegan.legacy import load_pickle_states

    return load_pickle_states(DATA / name / "network.pkl")


def _network_class():
    from dnnlib.tflib.network import Network

    return Network


class Raw:
    """Pickles as ``dnnlib.tflib.network.Network`` with any state (a forged network)."""

    def __init__(self, state):
        self.state = state

    def __reduce__(self):
        return (_network_class(), (), self.state)


class Reduce:
    """Pickles as ``func(*args)`` (then ``BUILD state`` if given)."""

    def __init__(self, func, args, state=None):
        self.func, self.args, self.state = func, args, state

    def __reduce__(self):
        return (self.func, self.args) if self.state is None else (self.func, self.args, self.state)


def state_dict(state, **changes):
    """The pickled dict of a NetworkState (components as forged networks), with changes."""
    d = {
        "version": 3,
        "name": state.name,
        "static_kwargs": dict(state.static_kwargs),
        "components": {k: Raw(state_dict(c)) for k, c in state.components.items()},
        "build_module_src": state.build_module_src,
        "build_func_name": state.build_func_name,
        "variables": [(n, v[()] if v.ndim == 0 else v) for n, v in state.variables],
    }
    d.update(changes)
    return d


def dump(obj, protocol=4) -> bytes:
    return pickle.dumps(obj, protocol=protocol)


def networks(rng: random.Random, d_changes=None, which=1) -> bytes:
    """The fixture's (G, D, Gs) with the state dict of network ``which`` changed."""
    states = fixture_states(rng.choice(FIXTURES))
    dicts = [state_dict(s) for s in states]
    dicts[which].update(d_changes or {})
    return dump(tuple(Raw(d) for d in dicts))


def load_case(workdir: Path, data: bytes, expect: str, note: str) -> Case:
    path = workdir / "network.pkl"
    path.write_bytes(data)

    def probe():
        from tfstylegan.legacy.network_pkl import load_network_pkl

        load_network_pkl(path)

    return Case(probe, expect, note)


def frombuffer():
    try:
        from numpy._core.numeric import _frombuffer
    except ImportError:  # numpy 1.x
        from numpy.core.numeric import _frombuffer
    return _frombuffer


def get(index: int) -> bytes:
    return b"h" + bytes([index]) if index < 256 else b"j" + struct.pack("<I", index)


# ---------------------------------------------------------------------------------------
