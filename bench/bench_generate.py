"""Gs generation speed for the FFHQ architecture.

Prints images/s at each resolution for the configuration of the original FFHQ networks
(fmap_base 8192, fmap_max 512, latent/dlatent 512, 8 mapping layers), batch 8,
truncation psi 0.7 / cutoff 8, stored noise, next to what the original code measured
on the same kind of 2-core CPU machine (about 9 img/s at 128x128, 6.5 img/s at 256x256).

Timings on a shared CPU vary with background load: the best of ``--iters`` runs is the
figure for a quiet machine, the median shows the spread.

Usage: python bench/bench_generate.py [--resolutions 128,256] [--batch 8] [--iters 7]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfstylegan.networks import GStyle  # noqa: E402

ORIGINAL_IMG_PER_S = {128: 9.0, 256: 6.5}


def build_generate(resolution: int, batch: int, precision: str = "float32", num_fp16_res: int | None = None, **net_args):
    """``(generate, latents)``: a compiled Gs generation (psi 0.7, cutoff 8, stored noise) and its input.

    Args:
        precision: the dtype policy Gs computes in (``float32``, ``mixed_float16``, ...).
        num_fp16_res: only the highest N resolutions in ``precision``, the rest in float32.
        net_args: further G arguments (``fmap_base``, ``latent_size``, ...); default the FFHQ networks'.
    """
    from tfstylegan.training import precision as mixed

    Gs = GStyle(
        num_channels=3, resolution=resolution, label_size=0, name="Gs",
        dtype=mixed.network_dtype(precision, num_fp16_res), **net_args,
    )
    if num_fp16_res is not None:
        mixed.set_top_resolutions(precision, num_fp16_res, Gs.synthesis)
    latents = tf.constant(np.random.RandomState(0).randn(batch, Gs.cfg.latent_size).astype(np.float32))

    @tf.function
    def generate(z):
        return Gs.generate(z, truncation_psi=0.7, truncation_cutoff=8, randomize_noise=False)

    return generate, latents


def bench(resolution: int, batch: int, iters: int) -> dict:
    generate, latents = build_generate(resolution, batch)
    t0 = time.perf_counter()
    generate(latents).numpy()  # trace + first run
    first = time.perf_counter() - t0
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        generate(latents).numpy()
        times.append(time.perf_counter() - t0)
    best, median = min(times), float(np.median(times))
    return dict(resolution=resolution, batch=batch, first_call_s=first, best_s=best, median_s=median)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolutions", default="128,256")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--iters", type=int, default=7)
    args = parser.parse_args()
    devices = [d.device_type for d in tf.config.list_logical_devices()]
    print(f"tensorflow {tf.__version__}, devices {devices}, cpu threads {os.cpu_count()}")
    for res in [int(r) for r in args.resolutions.split(",")]:
        r = bench(res, args.batch, args.iters)
        best, median = r["batch"] / r["best_s"], r["batch"] / r["median_s"]
        ref = ORIGINAL_IMG_PER_S.get(res)
        ratio = f"  best/original {best / ref:.2f}x (original {ref} img/s)" if ref else ""
        print(
            f"{res:4d}x{res:<4d} batch {r['batch']}: best {r['best_s'] * 1000:7.0f} ms = {best:5.2f} img/s, "
            f"median {r['median_s'] * 1000:7.0f} ms = {median:5.2f} img/s, first call {r['first_call_s']:.1f} s{ratio}"
        )


if __name__ == "__main__":
    main()
