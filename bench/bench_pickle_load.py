"""Loading an FFHQ-size network pickle: the bounds pre-scan, the guarded reader, a trusting unpickler.

Writes (once, unless ``--pkl`` names a file) a pickle of a random-init ``GStyle`` at
1024x1024 as G and Gs and a ``DBasic`` at 1024x1024 RGB as D, the size of the released
FFHQ file, with ``save_network_pkl``. Then prints the best of ``--repeats`` timings of:
reading the file, :func:`tfstylegan.legacy.bounds.check_pickle_bounds` on its bytes,
:func:`tfstylegan.legacy.load_pickle_states` (read + scan + guarded unpickling + state
checks), and a plain ``pickle.Unpickler`` that trusts the file (the floor).

Usage: python bench/bench_pickle_load.py [--pkl FILE] [--repeats 5]
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from tfstylegan.legacy import load_pickle_states  # noqa: E402

try:
    from tfstylegan.legacy.bounds import check_pickle_bounds
except ImportError:  # A version without the pre-scan (for before/after figures).
    check_pickle_bounds = None


def write_ffhq_size_pickle(path: str) -> None:
    from tfstylegan import DBasic, GStyle, save_network_pkl

    save_network_pkl(
        path, GStyle(resolution=1024), DBasic(resolution=1024, num_channels=3), GStyle("Gs", resolution=1024)
    )


class _Net:
    def __setstate__(self, state):
        self.state = state


class _Trusting(pickle.Unpickler):
    """What FIXTURES.md describes: numpy names resolve normally, nothing is checked."""

    def find_class(self, module, name):
        if (module, name) == ("dnnlib.tflib.network", "Network"):
            return _Net
        return super().find_class(module, name)


def best(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pkl", default=None, help="pickle to load (default: write an FFHQ-size one)")
    parser.add_argument("--repeats", type=int, default=5, help="timings per figure (the best is printed)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.pkl or os.path.join(tmp, "ffhq-size.pkl")
        if args.pkl is None:
            write_ffhq_size_pickle(path)

        def read():
            with open(path, "rb") as f:
                return f.read()

        data = read()
        print(f"{path}: {len(data) / 2**20:.0f} MiB")
        print(f"  read the file               {best(read, args.repeats) * 1e3:7.0f} ms")
        if check_pickle_bounds is not None:
            print(
                f"  check_pickle_bounds          {best(lambda: check_pickle_bounds(data), args.repeats) * 1e3:7.0f} ms"
            )
        print(
            f"  load_pickle_states (total)   {best(lambda: load_pickle_states(path), args.repeats) * 1e3:7.0f} ms"
        )
        print(
            f"  trusting pickle.Unpickler    {best(lambda: _Trusting(io.BytesIO(data)).load(), args.repeats) * 1e3:7.0f} ms"
        )


if __name__ == "__main__":
    main()
