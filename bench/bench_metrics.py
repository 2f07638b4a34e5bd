"""Metric throughput on this machine at 256 x 256: FID (Keras .h5 and a frozen .pb), PPL, SWD.

All networks have RANDOM weights (speed does not depend on the values):

- FID: Inception-v3 features of 256 x 256 images, once through the Keras network
  (random init, the .h5 route) and once through a frozen GraphDef with the 2015 graph's
  interface (``ExpandDims:0`` -> ``pool_3:0``): a random Keras Inception-v3 frozen here,
  with the graph's own resize to 299 and [0, 255] scaling in front. The real 2015 graph has
  a similar cost, but its exact speed is not measured here.
- PPL: ``ppl_wfull`` pairs on a random 256 x 256 generator (``fmap_base`` as given) with a
  random LPIPS-VGG16; images/s counts both images of a pair; the crop makes VGG see 128 x 128.
- SWD: pyramid + descriptors of 256 x 256 uint8 images (reals and fakes from a cheap
  stand-in, so the generator is not timed), plus the distance of the two sets.

Usage: python bench/bench_metrics.py [--batch 16] [--iters 3] [--fmap_base 2048] [--swd_images 512]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfstylegan.metrics import swd  # noqa: E402
from tfstylegan.metrics.base import MetricContext  # noqa: E402
from tfstylegan.metrics.inception import InceptionFeatures  # noqa: E402
from tfstylegan.metrics.lpips import LPIPS  # noqa: E402
from tfstylegan.metrics.ppl import PPL, SharedNoise  # noqa: E402
from tfstylegan.networks import GStyle  # noqa: E402


def _rate(fn, images_per_call: int, iters: int) -> float:
    fn()  # trace and warm up
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    return images_per_call * iters / (time.perf_counter() - start)


def _frozen_inception_pb(path: str) -> None:
    """A random Keras Inception-v3 frozen as a GraphDef with the 2015 graph's input and output names."""
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    model = keras.applications.InceptionV3(include_top=False, weights=None, pooling="avg")

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32, name="ExpandDims")])
    def graph(pixels):
        x = tf.compat.v1.image.resize_bilinear(pixels, [299, 299])
        x = (x - 128.0) / 128.0
        return tf.reshape(model(x, training=False), [-1, 1, 1, 2048], name="pool_3")

    graph_def = convert_variables_to_constants_v2(graph.get_concrete_function()).graph.as_graph_def()
    with open(path, "wb") as f:
        f.write(graph_def.SerializeToString())


def bench_fid(batch: int, iters: int) -> dict:
    images = tf.random.uniform([batch, 256, 256, 3], -1.0, 1.0, seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        keras_features = InceptionFeatures(allow_random_init=True)
    out = {"fid_h5_img_s": _rate(lambda: keras_features(images).numpy(), batch, iters)}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "frozen_inception.pb")
        _frozen_inception_pb(path)
        graph_features = InceptionFeatures(path)
        out["fid_pb_img_s"] = _rate(lambda: graph_features(images).numpy(), batch, iters)
    return out


def bench_ppl(batch: int, iters: int, fmap_base: int) -> dict:
    Gs = GStyle(num_channels=3, resolution=256, label_size=0, fmap_base=fmap_base, name="Gs")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        distance = LPIPS(allow_random_init=True)
    pairs = max(1, batch // 2)
    metric = PPL("ppl_wfull", "w", "full", minibatch_size=pairs)
    noise = SharedNoise(tf.random.Generator.from_seed(0))
    rng = np.random.default_rng(0)
    latents = tf.constant(rng.standard_normal([2 * pairs, Gs.cfg.latent_size]).astype(np.float32))
    lerp_t = tf.constant(rng.uniform(0, 1, [pairs]).astype(np.float32))
    step = tf.function(lambda z, t: metric.distances(metric.image_pairs(Gs, z, t, None, noise), distance))
    generate_only = tf.function(lambda z, t: metric.image_pairs(Gs, z, t, None, noise))
    return {
        "ppl_img_s": _rate(lambda: step(latents, lerp_t).numpy(), 2 * pairs, iters),
        "ppl_generator_only_img_s": _rate(lambda: generate_only(latents, lerp_t).numpy(), 2 * pairs, iters),
    }


def bench_swd(num_images: int) -> dict:
    rng = np.random.default_rng(0)
    reals = rng.integers(0, 256, [num_images, 256, 256, 3], dtype=np.uint8)
    fakes = tf.constant(reals[::-1].astype(np.float32) / 127.5 - 1.0)

    def generate(latents, labels):
        return fakes[: latents.shape[0]]

    ctx = MetricContext(
        generate=generate, latent_size=4, reals=lambda: [reals], resolution=256, minibatch_size=num_images
    )
    result = swd.SWD("swd", num_images).compute(ctx)
    return {"swd_img_s": 2 * num_images / result["swd_time_s"], "swd_s_per_1k_images": result["swd_time_s"] / num_images * 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--fmap_base", type=int, default=2048, help="generator width for PPL (8192 = FFHQ)")
    parser.add_argument("--swd_images", type=int, default=512)
    args = parser.parse_args()
    print(f"device: {'GPU' if tf.config.list_physical_devices('GPU') else 'CPU'}, batch {args.batch}, random weights")
    for name, value in {
        **bench_fid(args.batch, args.iters),
        **bench_ppl(args.batch, args.iters, args.fmap_base),
        **bench_swd(args.swd_images),
    }.items():
        print(f"{name:22s} {value:10.2f}")


if __name__ == "__main__":
    main()
