"""Opening a dataset: the checks of ``TFRecordDataset`` on a 10k-image 64x64 dataset.

Writes (once, unless ``--dataset`` names one) a dataset of random RGB images with labels,
then prints the best of ``--repeats`` timings of opening it with labels
(``TFRecordDataset(dir, max_label_size='full')``: level files, sampled records checked
against the level above, labels) and, for scale, of reading every record of level 0.

Usage: python bench/bench_dataset_open.py [--dataset DIR] [--num_images 10000] [--resolution 64]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from tfstylegan.data.tfrecords import TFRecordDataset, TFRecordExporter  # noqa: E402


def write_dataset(tfrecord_dir: str, num_images: int, resolution: int) -> None:
    images = np.random.RandomState(0).randint(0, 256, [64, resolution, resolution, 3]).astype(np.uint8)
    with TFRecordExporter(tfrecord_dir, num_images, print_progress=False) as tfr:
        for idx in range(num_images):
            tfr.add_image(images[idx % len(images)])
        tfr.add_labels(np.eye(10, dtype=np.float32)[np.arange(num_images) % 10])


def best(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default=None, help="dataset directory (default: write one)")
    parser.add_argument("--num_images", type=int, default=10000)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.dataset or os.path.join(tmp, "random")
        if args.dataset is None:
            write_dataset(path, args.num_images, args.resolution)
        TFRecordDataset(path, max_label_size="full")  # Warm up (TensorFlow start-up, page cache).
        dset = TFRecordDataset(path, max_label_size="full", repeat=False, shuffle_mb=0)
        print(
            f"{path}: {dset.num_images} images {dset.resolution}x{dset.resolution}, {len(dset.tfr_files)} levels"
        )
        opening = best(lambda: TFRecordDataset(path, max_label_size="full"), args.repeats)
        print(f"  open with labels         {opening * 1e3:8.1f} ms")
        reading = best(lambda: sum(len(b[0]) for b in dset.iter_np(0, 1024)), max(1, args.repeats // 5))
        print(f"  read every image of lod 0 {reading * 1e3:7.0f} ms")


if __name__ == "__main__":
    main()
