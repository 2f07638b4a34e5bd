"""Training-step speed of the default StyleGAN architecture (logistic loss + R1), steady state.

One step = one D update (with the Gs update) + one G update on a full minibatch at
lod 0, as the training loop runs them. Prints ms/step and images/s per resolution and
the ratio to the original code on a 2-core CPU (about 8.4 s per step at 32x32 with
minibatch 16, i.e. 1.9 images/s).

    python bench/bench_train_step.py                      # 32, 64, 128; the original's 1-GPU minibatch table
    python bench/bench_train_step.py --minibatch=16 --resolutions=32
    python bench/bench_train_step.py --strategy=mirrored  # all GPUs
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

flags.DEFINE_list("resolutions", ["32", "64", "128"], "Resolutions to time.")
flags.DEFINE_integer("minibatch", None, "Global minibatch. Default: the original 1-GPU table (32: 64, 64: 32, 128: 16).")
flags.DEFINE_integer("warmup", 2, "Untimed steps (tracing included).")
flags.DEFINE_integer("steps", 5, "Timed steps.")
flags.DEFINE_string("strategy", "default", "default, one_device or mirrored.")
flags.DEFINE_integer("fmap_base", 8192, "Feature-map base of G and D (the original's default).")
FLAGS = flags.FLAGS

ORIGINAL_SEC_PER_STEP = 8.4  # The original code, 32x32, minibatch 16, 2-core CPU.
ORIGINAL_MINIBATCH = 16
ONE_GPU_TABLE = {4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8, 512: 4}


def bench(resolution: int, minibatch: int, strategy) -> tuple[float, float]:
    """``(ms/step, images/s)`` of the default architecture in float32."""
    from train_timing import time_train_step

    sec, _ = time_train_step(strategy, resolution, minibatch, FLAGS.fmap_base, FLAGS.warmup, FLAGS.steps)
    return sec * 1000.0, minibatch / sec


def main(argv) -> None:
    del argv
    import tensorflow as tf

    from tfstylegan.training import distribute

    strategy = distribute.make_strategy(FLAGS.strategy)
    gpus = tf.config.list_logical_devices("GPU")
    device = f"{len(gpus)} GPU(s): {tf.config.experimental.get_device_details(tf.config.list_physical_devices('GPU')[0]).get('device_name', 'GPU')}" if gpus else f"CPU ({os.cpu_count()} cores)"
    print(f"tensorflow {tf.__version__}, {device}, strategy {FLAGS.strategy} ({distribute.num_replicas(strategy)} replica(s))")
    print(f"{'res':>5} {'minibatch':>9} {'ms/step':>10} {'img/s':>8} {'vs original img/s':>18}")
    original_img_s = ORIGINAL_MINIBATCH / ORIGINAL_SEC_PER_STEP
    for res in map(int, FLAGS.resolutions):
        minibatch = FLAGS.minibatch or ONE_GPU_TABLE[res]
        ms, img_s = bench(res, minibatch, strategy)
        ratio = f"{img_s / original_img_s:.1f}x" if res == 32 else "-"
        print(f"{res:>5} {minibatch:>9} {ms:>10.1f} {img_s:>8.1f} {ratio:>18}", flush=True)
    print(
        f"original code, 2-core CPU: 32x32, minibatch {ORIGINAL_MINIBATCH}: {ORIGINAL_SEC_PER_STEP * 1000:.0f} ms/step, "
        f"{original_img_s:.1f} img/s"
    )


if __name__ == "__main__":
    app.run(main, argv=sys.argv)
