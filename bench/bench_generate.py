"""Gs generation speed for the FFHQ architecture, of the network alone and of the generate tool.

Prints images/s at each resolution for the configuration of the original FFHQ networks
(fmap_base 8192, fmap_max 512, latent/dlatent 512, 8 mapping layers), batch 8,
truncation psi 0.7 / cutoff 8, stored noise, next to what the original code measured
on the same kind of 2-core CPU machine (about 9 img/s at 128x128, 6.5 img/s at 256x256).

With ``--cli``, the same network is also written to a temporary ``.keras`` file and
``tfstylegan-generate --network=<file> --seeds=0-<N-1> --batch_size=<batch>`` (its
defaults otherwise: compiled batches, PNG files) is run in this process, back to back
with the network-only measurement, ``--repeats`` times. The tool's figure is its steady
time per batch after the first (network, 8-bit conversion and the batch's PNG files; loading
the network and tracing are left out and printed as the time to the first batch), best
and median, next to the network's best and median call; and the best of each over the
repeats.

Timings on a shared CPU vary with background load: the best of ``--iters`` runs is the
figure for a quiet machine, the median shows the spread.

Usage: python bench/bench_generate.py [--resolutions 128,256] [--batch 8] [--iters 7]
       [--cli] [--cli_seeds 64] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
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
    return compiled_generate(ffhq_gs(resolution, precision, num_fp16_res, **net_args), batch)


def ffhq_gs(resolution: int, precision: str = "float32", num_fp16_res: int | None = None, **net_args) -> GStyle:
    """Gs of the FFHQ networks' configuration (or ``net_args``) in ``precision`` (see :func:`build_generate`)."""
    from tfstylegan.training import precision as mixed

    Gs = GStyle(
        num_channels=3, resolution=resolution, label_size=0, name="Gs",
        dtype=mixed.network_dtype(precision, num_fp16_res), **net_args,
    )
    if num_fp16_res is not None:
        mixed.set_top_resolutions(precision, num_fp16_res, Gs.synthesis)
    return Gs


def compiled_generate(Gs: GStyle, batch: int):
    """``(generate, latents)`` of :func:`build_generate` for a given Gs."""
    latents = tf.constant(np.random.RandomState(0).randn(batch, Gs.cfg.latent_size).astype(np.float32))

    @tf.function
    def generate(z):
        return Gs.generate(z, truncation_psi=0.7, truncation_cutoff=8, randomize_noise=False)

    return generate, latents


def bench(Gs: GStyle, batch: int, iters: int) -> dict:
    generate, latents = compiled_generate(Gs, batch)
    t0 = time.perf_counter()
    generate(latents).numpy()  # trace + first run
    first = time.perf_counter() - t0
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        generate(latents).numpy()
        times.append(time.perf_counter() - t0)
    best, median = min(times), float(np.median(times))
    return dict(batch=batch, first_call_s=first, best_s=best, median_s=median)


class _LineTimes(io.StringIO):
    """Standard output that records when each line was written."""

    def __init__(self):
        super().__init__()
        self.times = []

    def write(self, text):
        self.times += [time.perf_counter()] * text.count("\n")
        return super().write(text)


def bench_cli(network: str, outdir: str, seeds: int, batch: int) -> dict:
    """One run of the generate tool; its steady images/s after the first batch."""
    from tfstylegan.cli import generate as generate_cli

    args = ["tfstylegan-generate", f"--network={network}", f"--seeds=0-{seeds - 1}", f"--outdir={outdir}"]
    out = _LineTimes()
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(out):
        code = generate_cli.main([*args, f"--batch_size={batch}"])
    total = time.perf_counter() - t0
    if code != 0 or len(out.times) != seeds or seeds % batch or seeds < 3 * batch:
        raise RuntimeError(
            f"the generate tool failed (exit status {code}, {len(out.times)} of {seeds} files), or the seeds "
            "are not a multiple (>= 3) of the batch"
        )
    done = out.times[batch - 1 :: batch]  # when each batch's last file was written
    per_batch = np.diff(done)  # compute + conversion + PNG files of one batch (after the first)
    return dict(
        total_s=total,
        first_batch_s=done[0] - t0,
        best_s=float(per_batch.min()),
        median_s=float(np.median(per_batch)),
        steady_img_per_s=(len(done) - 1) * batch / (done[-1] - done[0]),
    )


def _report(res: int, r: dict) -> float:
    best, median = r["batch"] / r["best_s"], r["batch"] / r["median_s"]
    ref = ORIGINAL_IMG_PER_S.get(res)
    ratio = f"  best/original {best / ref:.2f}x (original {ref} img/s)" if ref else ""
    print(
        f"{res:4d}x{res:<4d} batch {r['batch']}: best {r['best_s'] * 1000:7.0f} ms = {best:5.2f} img/s, "
        f"median {r['median_s'] * 1000:7.0f} ms = {median:5.2f} img/s, first call {r['first_call_s']:.1f} s{ratio}"
    )
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resolutions", default="128,256")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--iters", type=int, default=7)
    parser.add_argument("--cli", action="store_true", help="also time the generate tool, back to back")
    parser.add_argument("--cli_seeds", type=int, default=64, help="seeds per run of the tool")
    parser.add_argument("--repeats", type=int, default=3, help="with --cli: network/tool pairs per resolution")
    args = parser.parse_args()
    devices = [d.device_type for d in tf.config.list_logical_devices()]
    print(f"tensorflow {tf.__version__}, devices {devices}, cpu threads {os.cpu_count()}")
    for res in [int(r) for r in args.resolutions.split(",")]:
        Gs = ffhq_gs(res)
        if not args.cli:
            _report(res, bench(Gs, args.batch, args.iters))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            network = os.path.join(tmp, "gs.keras")
            Gs.save(network)
            nets, tools = [], []
            for repeat in range(args.repeats):
                nets.append(_report(res, bench(Gs, args.batch, args.iters)))
                r = bench_cli(network, os.path.join(tmp, f"out{repeat}"), args.cli_seeds, args.batch)
                tools.append(args.batch / r["best_s"])
                print(
                    f"{res:4d}x{res:<4d} tool, {args.cli_seeds} seeds, batch {args.batch}: best batch "
                    f"{r['best_s'] * 1000:7.0f} ms = {args.batch / r['best_s']:5.2f} img/s, median "
                    f"{args.batch / r['median_s']:5.2f} img/s, {r['steady_img_per_s']:5.2f} img/s after the first "
                    f"batch (first batch after {r['first_batch_s']:.1f} s, whole run {r['total_s']:.1f} s)"
                )
            best_net, best_tool = max(nets), max(tools)
            print(
                f"{res:4d}x{res:<4d} best of {args.repeats}: network {best_net:5.2f} img/s, tool {best_tool:5.2f} "
                f"img/s, tool/network {best_tool / best_net:.2f}"
            )


if __name__ == "__main__":
    main()
