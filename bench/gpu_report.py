"""One-shot GPU report: training and generation speed and peak GPU memory on one GPU.

    python bench/gpu_report.py          # one NVIDIA GPU, about 5 minutes
    python bench/gpu_report.py --tiny   # the same code path on tiny networks, on a CPU (seconds)

One table, with the FFHQ architecture (fmap_base 8192, 512-d latents, 8 mapping layers):

- training steps, as the training loop runs them (one D update with R1 and the Gs
  update, then one G update, at lod 0), at 256x256 with minibatch 32 and at 1024x1024
  with minibatch 4 and with the largest minibatch that fits (doubled until the GPU runs
  out of memory), in float32, mixed_float16, and mixed_float16 with only the top four
  resolutions in float16 (``--num_fp16_res=4``), each without and with XLA;
- Gs generation at 1024x1024 (psi 0.7, batch 8 and 32, float32 and float16);
- the FID feature extractor (Inception-v3 at 299x299 with random weights: the speed
  does not depend on them).

img/s counts the images of the minibatch (training) or batch (generation, features)
per second after ``--warmup`` untimed calls (tracing and compilation). Peak GiB is the
GPU allocator's peak during the row. The search for larger minibatches, which runs
last, stops once ``--budget_minutes`` have passed. For reference, the original code
trained FFHQ at 1024x1024 on one V100 at about 7 images/s averaged over the whole
progressive run (25M images in 41 days); the rows here are full-resolution steps.
"""

from __future__ import annotations

import dataclasses
import gc
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402


@dataclasses.dataclass(frozen=True)
class Scale:
    """What one report measures."""

    fmap_base: int
    net_args: dict  # Further G/D arguments.
    D_loss: str  # The training steps' D loss (G's is the non-saturating logistic loss).
    configs: tuple  # (precision, num_fp16_res, xla) of the training rows.
    train: tuple  # ((resolution, minibatch), ...)
    search: tuple  # (resolution, first minibatch) of the largest-minibatch search.
    max_minibatch: int  # Where the search stops.
    generate: tuple  # (resolution, (batch, ...))
    fid: tuple  # (Inception input size, batch, timed calls)


GPU_SCALE = Scale(
    fmap_base=8192,
    net_args={},
    D_loss="D_logistic_simplegp",
    configs=tuple(
        (precision, num_fp16_res, xla)
        for xla in (False, True)
        for precision, num_fp16_res in (("float32", None), ("mixed_float16", None), ("mixed_float16", 4))
    ),
    train=((256, 32), (1024, 4)),
    search=(1024, 4),
    max_minibatch=64,
    generate=(1024, (8, 32)),
    fid=(299, 64, 5),
)
# Every function of the GPU report on a CPU-sized network, in seconds: one training
# configuration (mixed_float16 with a float32 4x4 under a float16 8x8), no R1 and no XLA
# (they only slow tracing and compiling on a CPU; the GPU report has them), one doubling
# of the minibatch.
TINY_SCALE = Scale(
    fmap_base=64,
    net_args=dict(fmap_max=16, latent_size=16, dlatent_size=16, mapping_fmaps=16, mapping_layers=1),
    D_loss="D_logistic",
    configs=(("mixed_float16", 1, False),),
    train=((8, 2),),
    search=(8, 2),
    max_minibatch=4,
    generate=(8, (2,)),
    fid=(75, 1, 1),
)


class Report:
    """Prints the rows as they are measured; ``vs float32`` compares with the float32 row of the same size."""

    def __init__(self, gpu: bool):
        self.gpu = gpu
        self.base = {}
        print(f"{'what':<14} {'res':>5} {'batch':>5} {'precision':<22} {'xla':<4} {'img/s':>8} {'ms/call':>9} "
              f"{'peak GiB':>8} {'vs float32':>10}", flush=True)

    def row(self, what, res, batch, precision, xla, sec=None, peak=None, note=None):
        head = f"{what:<14} {res:>5} {batch:>5} {precision:<22} {'yes' if xla else 'no':<4}"
        if sec is None:
            print(f"{head} {note}", flush=True)
            return
        img_s = batch / sec
        key = (what.split()[0], res, batch)
        if precision == "float32" and not xla:
            self.base[key] = img_s
        ratio = f"{img_s / self.base[key]:.2f}x" if key in self.base else "-"
        memory = f"{peak:.2f}" if peak is not None else "-"
        print(f"{head} {img_s:>8.1f} {sec * 1000:>9.1f} {memory:>8} {ratio:>10}", flush=True)


def _precision_name(precision: str, num_fp16_res: int | None) -> str:
    return precision if num_fp16_res is None else f"{precision}, top {num_fp16_res} res"


def _out_of_memory(error: Exception) -> bool:
    import tensorflow as tf

    text = str(error)
    return isinstance(error, tf.errors.ResourceExhaustedError) or "RESOURCE_EXHAUSTED" in text or "out of memory" in text


def _measure(gpu: bool, build, timing: tuple[int, int]) -> tuple[float, float | None]:
    """``(seconds per call, peak GiB)`` of ``build()``'s step (a callable returning a scalar tensor)."""
    import keras
    import tensorflow as tf
    from train_timing import time_steps

    if gpu:
        tf.config.experimental.reset_memory_stats("GPU:0")
    try:
        sec = time_steps(build(), *timing)
        peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**30 if gpu else None
    finally:
        keras.backend.clear_session()
        gc.collect()  # Free this row's networks before the next one is built.
    return sec, peak


def _train(report: Report, scale: Scale, strategy, res: int, batch: int, config, timing) -> bool:
    """One training row; False when it ran out of memory."""
    import tensorflow as tf
    from train_timing import build_train_step

    precision, num_fp16_res, xla = config

    def build():
        return build_train_step(
            strategy, res, batch, scale.fmap_base, precision, num_fp16_res, xla, D_loss=scale.D_loss, **scale.net_args
        ).step

    name = _precision_name(precision, num_fp16_res)
    what = "train" if (res, batch) in scale.train else "train largest"
    try:
        sec, peak = _measure(report.gpu, build, timing)
    except tf.errors.OpError as e:
        if not _out_of_memory(e):
            raise
        report.row(what, res, batch, name, xla, note="out of memory")
        return False
    report.row(what, res, batch, name, xla, sec, peak)
    return True


def _search(report: Report, scale: Scale, strategy, config, timing, deadline: float) -> None:
    """Doubles the minibatch from the search start until it does not fit, the cap, or the deadline."""
    res, batch = scale.search
    while batch * 2 <= scale.max_minibatch:
        if time.time() > deadline:
            report.row("train largest", res, batch * 2, _precision_name(*config[:2]), config[2], note="skipped (time budget)")
            return
        batch *= 2
        if not _train(report, scale, strategy, res, batch, config, timing):
            return


def _generation(report: Report, scale: Scale, timing) -> None:
    from bench_generate import build_generate

    res, batches = scale.generate
    for batch in batches:
        for precision, name in (("float32", "float32"), ("mixed_float16", "float16")):
            def build(batch=batch, precision=precision):
                generate, latents = build_generate(res, batch, precision, fmap_base=scale.fmap_base, **scale.net_args)
                return lambda: generate(latents)[0, 0, 0, 0]  # A scalar: the timing waits for it.

            sec, peak = _measure(report.gpu, build, timing)
            report.row("generate", res, batch, name, False, sec, peak)


def _fid_features(report: Report, scale: Scale) -> None:
    import tensorflow as tf
    from bench_fid import bench_features

    res, batch, iters = scale.fid
    if report.gpu:
        tf.config.experimental.reset_memory_stats("GPU:0")
    img_s = bench_features(res, batch, iters, None)
    peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**30 if report.gpu else None
    report.row("fid features", res, batch, "float32", False, batch / img_s, peak)
    gc.collect()


def _device_line(gpus) -> str:
    import tensorflow as tf

    build = tf.sysconfig.get_build_info()
    cuda = f"built for CUDA {build.get('cuda_version', '-')}, cuDNN {build.get('cudnn_version', '-')}"
    if not gpus:
        return f"tensorflow {tf.__version__} ({cuda}), CPU ({os.cpu_count()} cores)"
    details = tf.config.experimental.get_device_details(gpus[0])
    capability = ".".join(map(str, details.get("compute_capability", ()))) or "?"
    return (f"tensorflow {tf.__version__} ({cuda}), {len(gpus)} GPU(s), timing the first: "
            f"{details.get('device_name', 'GPU')} (compute capability {capability})")


def run(tiny: bool = False, budget_minutes: float = 4.5, warmup: int = 1, steps: int = 3) -> None:
    """Prints the report (see the module docstring); exits with one line when no GPU is seen and not ``tiny``."""
    import tensorflow as tf

    from tfstylegan.training import distribute

    gpus = tf.config.list_physical_devices("GPU")
    if not gpus and not tiny:
        build = tf.sysconfig.get_build_info()
        sys.exit(
            f"gpu_report: TensorFlow {tf.__version__} sees no GPU (CUDA build: {build.get('is_cuda_build', False)}); "
            'install the CUDA build with pip install -e ".[gpu]", check the driver with nvidia-smi, '
            "or run --tiny for the CPU version of this report"
        )
    start = time.time()
    scale, timing = TINY_SCALE if tiny else GPU_SCALE, (warmup, steps)
    strategy = distribute.make_strategy("one_device" if gpus else "default")
    print(_device_line(gpus), flush=True)
    report = Report(bool(gpus))
    fits = {}
    for res, batch in scale.train:
        for config in scale.configs:
            fits[res, batch, config] = _train(report, scale, strategy, res, batch, config, timing)
    _generation(report, scale, timing)
    _fid_features(report, scale)
    for config in scale.configs:
        if fits.get((*scale.search, config)):
            _search(report, scale, strategy, config, timing, start + budget_minutes * 60)
    print(f"total {time.time() - start:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiny", action="store_true", help="the same report on tiny networks (on a CPU, in seconds)")
    parser.add_argument("--budget_minutes", type=float, default=4.5, help="stop searching larger minibatches after this")
    parser.add_argument("--warmup", type=int, default=1, help="untimed calls per row (tracing and compilation)")
    parser.add_argument("--steps", type=int, default=3, help="timed calls per row")
    args = parser.parse_args()
    run(args.tiny, args.budget_minutes, args.warmup, args.steps)


if __name__ == "__main__":
    main()
