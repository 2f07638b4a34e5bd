"""Training-step speed and peak memory per precision and XLA setting (logistic loss + R1).

One step = one D update (with the Gs update) + one G update on a full minibatch at
lod 0, as the training loop runs them. Each configuration runs in its own process, so
its peak memory is its own: the GPU allocator's peak (``get_memory_info``) on a GPU,
the process' peak resident set on a CPU.

    python bench/bench_precision.py                       # CPU: float32 vs mixed_bfloat16 (+ float16, tiny net)
    python bench/bench_precision.py --resolutions=256 --minibatch=32   # GPU: + float16, XLA
    python bench/bench_precision.py --configs=float32,mixed_float16:xla --strategy=mirrored

A configuration is ``<precision>[:xla][:fp16res=N]``. The default list depends on the
machine: with a GPU, float32, mixed_float16, mixed_float16 with only the top 4
resolutions in float16, and both precisions under XLA; on a CPU, float32 and
mixed_bfloat16, then float32 and mixed_float16 again on a tiny network
(``--tiny_fmap_base``): float16 is emulated on CPUs and far slower. No XLA on a CPU
(slower there).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

flags.DEFINE_list("resolutions", None, "Resolutions to time. Default: 32 on a CPU, 256 on a GPU.")
flags.DEFINE_integer("minibatch", None, "Global minibatch. Default: 16 on a CPU, 32 on a GPU.")
flags.DEFINE_integer("fmap_base", None, "Feature-map base of G and D. Default: 2048 on a CPU, 8192 (the original's) on a GPU.")
flags.DEFINE_list("configs", None, "Configurations <precision>[:xla][:fp16res=N]. Default: by machine (see above).")
flags.DEFINE_integer("warmup", 2, "Untimed steps (tracing and compilation included).")
flags.DEFINE_integer("steps", 5, "Timed steps.")
flags.DEFINE_string("strategy", "default", "default, one_device or mirrored.")
flags.DEFINE_integer("tiny_fmap_base", 256, "CPU only: feature-map base of the tiny float32 vs float16 comparison; 0 = skip it.")
flags.DEFINE_string("child", None, "Internal: run one configuration '<config>@<resolution>' and print JSON.")
FLAGS = flags.FLAGS


def _parse(config: str) -> dict:
    parts = config.split(":")
    out = dict(precision=parts[0], xla=False, num_fp16_res=None)
    for part in parts[1:]:
        if part == "xla":
            out["xla"] = True
        elif part.startswith("fp16res="):
            out["num_fp16_res"] = int(part.split("=", 1)[1])
        else:
            raise app.UsageError(f"--configs: unknown part {part!r} in {config!r}; expected xla or fp16res=N")
    if out["precision"] not in ("float32", "mixed_float16", "mixed_bfloat16"):
        raise app.UsageError(f"--configs: unknown precision {out['precision']!r} in {config!r}")
    return out


def _peak_memory_gib() -> tuple[str, float]:
    import tensorflow as tf

    if tf.config.list_logical_devices("GPU"):
        return "GPU", tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**30
    return "RSS", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux.


def run_one(config: str, resolution: int, minibatch: int, fmap_base: int) -> dict:
    """Times one configuration in this process; returns ms/step, images/s and peak memory."""
    from train_timing import time_train_step

    from tfstylegan.training import distribute

    cfg = _parse(config)
    strategy = distribute.make_strategy(FLAGS.strategy)
    sec, train = time_train_step(
        strategy, resolution, minibatch, fmap_base, FLAGS.warmup, FLAGS.steps,
        precision=cfg["precision"], num_fp16_res=cfg["num_fp16_res"], xla=cfg["xla"],
    )
    kind, peak = _peak_memory_gib()
    skipped = int(train.D.skipped.numpy()) + int(train.G.skipped.numpy())
    return dict(ms=sec * 1000.0, img_s=minibatch / sec, mem_kind=kind, mem_gib=peak, skipped=skipped)


def _sections(gpu: bool) -> tuple[list[int], int, list[tuple[int, list[str]]]]:
    """Default ``(resolutions, minibatch, [(fmap_base, configs), ...])`` of this machine."""
    if gpu:
        configs = ["float32", "mixed_float16", "mixed_float16:fp16res=4", "float32:xla", "mixed_float16:xla"]
        return [256], 32, [(8192, configs)]
    sections = [(2048, ["float32", "mixed_bfloat16"])]
    if FLAGS.tiny_fmap_base:
        sections.append((FLAGS.tiny_fmap_base, ["float32", "mixed_bfloat16", "mixed_float16"]))
    return [32], 16, sections


def main(argv) -> None:
    del argv
    if FLAGS.child:
        config, resolution = FLAGS.child.rsplit("@", 1)
        print(json.dumps(run_one(config, int(resolution), FLAGS.minibatch, FLAGS.fmap_base)))
        return
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    resolutions, minibatch, sections = _sections(bool(gpus))
    resolutions = [int(r) for r in FLAGS.resolutions] if FLAGS.resolutions else resolutions
    minibatch = FLAGS.minibatch or minibatch
    if FLAGS.fmap_base or FLAGS.configs:
        sections = [(FLAGS.fmap_base or sections[0][0], FLAGS.configs or sections[0][1])]
    for _, configs in sections:
        for config in configs:
            _parse(config)
    device = (
        f"{len(gpus)} GPU(s): {tf.config.experimental.get_device_details(gpus[0]).get('device_name', 'GPU')}"
        if gpus else f"CPU ({os.cpu_count()} cores)"
    )
    print(f"tensorflow {tf.__version__}, {device}, strategy {FLAGS.strategy}, minibatch {minibatch}")
    print(f"{'res':>5} {'fmap_base':>9} {'config':<26} {'ms/step':>9} {'img/s':>8} {'peak GiB':>12} {'vs float32':>10} {'skipped':>7}")
    for fmap_base, configs in sections:
        for res in resolutions:
            base = None
            for config in configs:
                r = _child(config, res, minibatch, fmap_base)
                if isinstance(r, str):
                    print(f"{res:>5} {fmap_base:>9} {config:<26} failed: {r}", flush=True)
                    continue
                base = r["img_s"] if config == "float32" else base
                ratio = f"{r['img_s'] / base:.2f}x" if base else "-"
                memory = f"{r['mem_gib']:.2f} {r['mem_kind']}"
                print(
                    f"{res:>5} {fmap_base:>9} {config:<26} {r['ms']:>9.1f} {r['img_s']:>8.1f} {memory:>12} {ratio:>10} "
                    f"{r['skipped']:>7}",
                    flush=True,
                )


def _child(config: str, res: int, minibatch: int, fmap_base: int) -> dict | str:
    """Runs one configuration in a fresh process: its result, or the error line."""
    args = [
        sys.executable, os.path.abspath(__file__), f"--child={config}@{res}", f"--minibatch={minibatch}",
        f"--fmap_base={fmap_base}", f"--warmup={FLAGS.warmup}", f"--steps={FLAGS.steps}", f"--strategy={FLAGS.strategy}",
    ]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        return out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit status {out.returncode}"
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    app.run(main, argv=sys.argv)
