"""How the compiled seed images of tfstylegan-generate compare with other ways of computing them.

For the seeds ``0..N-1`` it computes each seed's uint8 image with
``tfstylegan.generation.BatchGenerator`` (compiled batches of one fixed shape, padded) as
the generate tool does, and counts the 8-bit values that differ from:

- the same seeds asked for in other sets: each seed alone, and all seeds in a shuffled
  order (so at other positions of other batches); expected 0 by construction;
- eager ``Gs.generate`` of each seed alone (the eager single-image path), with the largest
  difference;
- compiled batches of another ``--other_batch`` size.

Networks: ``small`` (the 32 x 32 test fixture, trained-like weights) or ``ffhq<R>`` (the
FFHQ architecture at R x R with random weights, given a random ``dlatent_avg`` and noise
strengths so that truncation and noise matter).

Usage: python bench/generate_rounding.py [--network small|ffhq128] [--seeds 200] [--batch 8]
       [--noise const|random] [--other_batch 1]
"""

from __future__ import annotations

import argparse
import os
import pathlib
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import tfstylegan  # noqa: E402
from tfstylegan import generation  # noqa: E402

FIXTURE = pathlib.Path(__file__).resolve().parents[1] / "tests" / "data" / "small" / "network.pkl"


def load(name: str):
    if name == "small":
        return tfstylegan.load_network_pkl(FIXTURE)[2]
    Gs = tfstylegan.GStyle(num_channels=3, resolution=int(name.removeprefix("ffhq")), label_size=0, name="Gs")
    rng = np.random.RandomState(1)
    Gs.dlatent_avg.assign(rng.randn(Gs.cfg.dlatent_size).astype(np.float32) * 0.3)
    for layer in Gs.synthesis.layer_list:
        for weight in layer.weights:
            if "noise" in weight.path.lower() and len(weight.shape) == 1:
                weight.assign(rng.randn(*weight.shape).astype(np.float32) * 0.1)
    return Gs


def compiled(Gs, seeds, batch, random_noise):
    generator = generation.BatchGenerator(Gs, batch_size=batch, random_noise=random_noise)
    latents = generation.seed_latents(seeds, Gs.cfg.latent_size)
    return tfstylegan.convert_images_to_uint8(generator(latents, noise_seeds=seeds if random_noise else None))


def count(a, b) -> tuple[int, int, int]:
    """Differing values, the largest difference, images with a difference."""
    diff = np.abs(a.astype(int) - b.astype(int))
    return int((diff > 0).sum()), int(diff.max()), int((diff.reshape(len(diff), -1).max(axis=1) > 0).sum())


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--network", default="small")
    parser.add_argument("--seeds", type=int, default=200)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--noise", choices=["const", "random"], default="const")
    parser.add_argument("--other_batch", type=int, default=1)
    args = parser.parse_args()
    Gs, random_noise = load(args.network), args.noise == "random"
    seeds = list(range(args.seeds))
    t0 = time.perf_counter()
    images = compiled(Gs, seeds, args.batch, random_noise)
    print(f"{args.network}, {args.seeds} seeds, batch {args.batch}, {args.noise} noise: {images.size} 8-bit values "
          f"({time.perf_counter() - t0:.1f} s compiled)")
    order = list(np.random.RandomState(0).permutation(args.seeds))
    shuffled = compiled(Gs, order, args.batch, random_noise)[np.argsort(order)]
    alone = np.concatenate([compiled(Gs, [s], args.batch, random_noise) for s in seeds[:16]])
    print(f"  other seed sets (shuffled; first 16 alone): {count(shuffled, images)[0]} and "
          f"{count(alone, images[:16])[0]} values differ")
    eager = []
    for seed in seeds:
        rng = tf.random.Generator.from_seed(seed) if random_noise else None
        latents = generation.seed_latents([seed], Gs.cfg.latent_size)
        eager.append(tfstylegan.convert_images_to_uint8(Gs.generate(latents, randomize_noise=random_noise, rng=rng)))
    values, largest, affected = count(np.concatenate(eager), images)
    print(f"  eager Gs.generate of each seed alone: {values} values differ ({values / images.size:.1e}), "
          f"by at most {largest}, in {affected} of {args.seeds} images")
    other = compiled(Gs, seeds, args.other_batch, random_noise)
    values, largest, affected = count(other, images)
    print(f"  compiled batches of {args.other_batch}: {values} values differ, by at most {largest}, "
          f"in {affected} images")


if __name__ == "__main__":
    main()
