"""Projection speed (optimisation steps/s) for the FFHQ architecture at 256x256.

A randomly initialised Gs of the original FFHQ configuration; one target; W and W+;
the pixel loss alone and LPIPS (``tfstylegan.metrics.lpips.LPIPS`` with random weights:
the real cost, nothing to download). Prints steps/s after the first step (which
includes the trace) and the whole time.

Timings on a shared CPU vary with background load.

Usage: python bench/bench_projection.py [--resolution 256] [--steps 20] [--batch 1]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfstylegan import projection  # noqa: E402
from tfstylegan.metrics.lpips import LPIPS  # noqa: E402
from tfstylegan.networks import GStyle  # noqa: E402


def lpips_distance():
    """The LPIPS network with random weights: the real cost, meaningless distances."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return LPIPS(allow_random_init=True)


def bench(Gs, distance, space: str, steps: int, batch: int) -> float:
    """Steps/s after the first step (which includes the trace)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pixel-loss warning
        projector = projection.Projector(Gs, distance, space=space, batch_size=batch)
    res = Gs.cfg.resolution
    targets = np.random.RandomState(0).randint(0, 256, [batch, res, res, 3]).astype(np.uint8)
    times = []
    projector.run(targets, steps=steps + 1, progress=lambda status: times.append(time.perf_counter()))
    return steps / (times[-1] - times[0])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=1)
    args = parser.parse_args()
    print(f"tensorflow {tf.__version__}, cpu threads {os.cpu_count()}")
    Gs = GStyle(num_channels=3, resolution=args.resolution, label_size=0, name="Gs")
    for name, distance in [("pixel", None), ("lpips", lpips_distance())]:
        for space in ("w", "wplus"):
            t0 = time.perf_counter()
            rate = bench(Gs, distance, space, args.steps, args.batch)
            total = time.perf_counter() - t0
            print(
                f"{args.resolution}x{args.resolution} batch {args.batch} {space:5s} {name:5s}: "
                f"{rate:.2f} steps/s ({1000 / rate:.0f} ms/step) after the first step; "
                f"{total:.1f} s in all for {args.steps + 1} steps (W statistics and trace included)"
            )


if __name__ == "__main__":
    main()
