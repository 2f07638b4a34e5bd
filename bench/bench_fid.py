"""FID cost on this machine: Inception feature extraction and the Frechet distance.

Prints Inception-v3 features images/s at each input size (random weights unless
``--inception_weights`` is given; speed does not depend on the weights), the input
images being 256 x 256 RGB resized by the extractor, and the time of one 2048-d
Frechet distance on full-rank covariances (what ``fid50k`` computes once per run).

Usage: python bench/bench_fid.py [--resolutions 299,75] [--batch 32] [--iters 3]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfstylegan.metrics import fid  # noqa: E402


def bench_features(resolution: int, batch: int, iters: int, weights: str | None) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the random-init warning: speed only
        features = fid.InceptionFeatures(weights, resolution=resolution, allow_random_init=weights is None)
    images = tf.random.uniform([batch, 256, 256, 3], -1.0, 1.0, seed=0)
    features(images).numpy()  # trace and warm up
    start = time.perf_counter()
    for _ in range(iters):
        features(images).numpy()
    return batch * iters / (time.perf_counter() - start)


def bench_distance(dim: int = fid.FEATURE_DIM, samples: int = 4096) -> float:
    rng = np.random.default_rng(0)
    x = rng.standard_normal([samples, dim])
    mu1, sigma1 = fid.feature_statistics(x)
    mu2, sigma2 = fid.feature_statistics(x + 0.1 * rng.standard_normal(x.shape))
    start = time.perf_counter()
    fid.frechet_distance(mu1, sigma1, mu2, sigma2)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolutions", default="299,75", help="Inception input sizes, comma separated")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--inception_weights", default=None, help="weights file (default: random init)")
    args = parser.parse_args()
    print(f"device: {'GPU' if tf.config.list_physical_devices('GPU') else 'CPU'}, batch {args.batch}")
    for resolution in [int(r) for r in args.resolutions.split(",")]:
        img_per_s = bench_features(resolution, args.batch, args.iters, args.inception_weights)
        print(
            f"inception {resolution}x{resolution}: {img_per_s:8.1f} img/s"
            f"  (50k images: {50000 / img_per_s / 60:6.1f} min)"
        )
    print(f"frechet_distance 2048-d full rank: {bench_distance():.2f} s")


if __name__ == "__main__":
    main()
