"""Input pipeline throughput: TFRecord reading + parsing + batching, and process_reals on top.

Writes a temporary dataset of random RGB images at each resolution (original multi-level
format), then prints images/s of ``TFRecordDataset.as_dataset`` (uint8 NHWC minibatches
pulled in Python) and of the same minibatches passed through ``process_reals`` (range
conversion, mirror, fade, upscale) in a ``tf.function``, at lod 0 and at a mid-fade lod.

Usage: python bench/bench_input_pipeline.py [--resolutions 64,256] [--batch 32] [--seconds 3]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfstylegan.data.pipeline import process_reals  # noqa: E402
from tfstylegan.data.tfrecords import TFRecordDataset, TFRecordExporter  # noqa: E402


def write_random_dataset(tfrecord_dir: str, resolution: int, num_images: int) -> float:
    """Writes random images; returns the writer's images/s."""
    rnd = np.random.RandomState(0)
    images = rnd.randint(0, 256, size=[min(num_images, 64), resolution, resolution, 3]).astype(np.uint8)
    start = time.perf_counter()
    with TFRecordExporter(tfrecord_dir, num_images, print_progress=False) as tfr:
        for idx in range(num_images):
            tfr.add_image(images[idx % images.shape[0]])
    return num_images / (time.perf_counter() - start)


def images_per_second(next_batch, batch: int, seconds: float) -> float:
    for _ in range(3):  # warm up (trace, fill buffers)
        next_batch()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        next_batch()
        count += batch
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolutions", default="64,256", help="comma-separated resolutions")
    parser.add_argument("--batch", type=int, default=32, help="minibatch size")
    parser.add_argument(
        "--num_images", type=int, default=0, help="images per dataset, 0 = 8 MiB-ish per level 0"
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="measuring time per figure")
    args = parser.parse_args()

    print(f"TensorFlow {tf.__version__}, {os.cpu_count()} CPUs, batch {args.batch}")
    for resolution in [int(r) for r in args.resolutions.split(",")]:
        num_images = args.num_images or max(256, (16 << 20) // (resolution * resolution * 3))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, f"random{resolution}")
            write_rate = write_random_dataset(path, resolution, num_images)
            dset = TFRecordDataset(path, shuffle_mb=64, prefetch_mb=64)
            print(f"{resolution}x{resolution}: {num_images} images, written at {write_rate:.0f} img/s")
            lod_var = tf.Variable(0.0)

            @tf.function
            def reals(iterator):
                images, _ = next(iterator)
                return process_reals(images, lod_var, mirror_augment=True)  # noqa: B023

            for lod in (0.0, 0.5, 1.5):
                lod_var.assign(lod)
                it = iter(dset.as_dataset(args.batch, lod=lod))
                raw = images_per_second(lambda it=it: next(it)[0].numpy(), args.batch, args.seconds)
                it = iter(dset.as_dataset(args.batch, lod=lod))
                proc = images_per_second(lambda it=it: reals(it).numpy(), args.batch, args.seconds)
                level = dset.level_shape(lod)[0]
                print(
                    f"  lod {lod:.1f} (reads {level}x{level}): parsed+batched uint8 {raw:8.0f} img/s, "
                    f"+ process_reals {proc:8.0f} img/s"
                )


if __name__ == "__main__":
    main()
