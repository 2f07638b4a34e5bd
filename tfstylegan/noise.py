"""Sources of random numbers for the networks and the losses.

A random source is any object with the two methods of ``tf.random.Generator`` that the
networks and the losses call (:class:`RandomSource`):

- ``normal(shape, dtype)``: the synthesis network's per-pixel noise, the second latents
  of style mixing, the losses' latents;
- ``uniform(shape, minval, maxval, dtype)``: the style-mixing decision and cutoff, the
  gradient penalties' mixing factors.

A ``tf.random.Generator`` is one. The others live here:

- :data:`DEFAULT_RANDOM`: TensorFlow's global stateful ops, used when no source is given.
- :class:`PerImageNoise`: one ``tf.random.Generator`` per image, so that an image's draws
  do not depend on the other images of its batch (seed images, the paper's figures).
- :class:`FixedNoise`: stateless draws that are the same on every call (the snapshot
  fakes of a training run).
- :class:`SharedNoise`: one draw for the whole batch (the perceptual path length metric).
- :class:`NoiseFeed`: given noise maps instead of draws (projection, editing, videos).
- :class:`SampleNoise`: stateless draws keyed by one integer per row, for graphs that
  must not hold state (the SavedModel's ``random_noise`` signatures).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import tensorflow as tf


class RandomSource(Protocol):
    """What the networks and losses draw from (a subset of ``tf.random.Generator``)."""

    def normal(self, shape, dtype=tf.float32) -> tf.Tensor: ...

    def uniform(self, shape, minval=0, maxval=None, dtype=tf.float32) -> tf.Tensor: ...


class DefaultRandom:
    """Random draws through TensorFlow's global stateful ops, used when no source is given."""

    @staticmethod
    def normal(shape, dtype=tf.float32):
        return tf.random.normal(shape, dtype=dtype)

    @staticmethod
    def uniform(shape, minval=0, maxval=None, dtype=tf.float32):
        return tf.random.uniform(shape, minval, maxval, dtype=dtype)


DEFAULT_RANDOM = DefaultRandom()


class PerImageNoise:
    """One ``tf.random.Generator`` per image: draws of shape ``[N, ...]`` with N = the generators.

    Row ``i`` of draw ``k`` is the ``k``-th draw of ``generators[i]`` with batch size 1, so
    an image's noise does not depend on the other images of the batch. The generators
    may be reseeded between calls (:meth:`reseed`), so a compiled function that draws
    from them is traced once and serves every batch.

    Args:
        generators: One generator per row of every draw.
    """

    def __init__(self, generators: Sequence[tf.random.Generator]):
        self.generators = list(generators)

    @classmethod
    def from_seeds(cls, seeds: Sequence[int]) -> PerImageNoise:
        """Row ``i`` draws from ``tf.random.Generator.from_seed(seeds[i])``."""
        return cls(seed_noise(seeds))

    def reseed(self, seeds: Sequence[int]) -> None:
        """Reset generator ``i`` to the state of ``tf.random.Generator.from_seed(seeds[i])``."""
        if len(seeds) != len(self.generators):
            raise ValueError(f"{len(seeds)} seeds for {len(self.generators)} generators")
        for generator, seed in zip(self.generators, seeds):
            generator.reset_from_seed(int(seed))

    def _rows(self, shape, draw) -> tf.Tensor:
        rows = tf.get_static_value(tf.convert_to_tensor(shape[0]))
        if rows is not None and int(rows) != len(self.generators):
            raise ValueError(f"a draw for {int(rows)} images, but {len(self.generators)} generators")
        row_shape = [1, *shape[1:]]
        return tf.concat([draw(g, row_shape) for g in self.generators], axis=0)  # [N, ...]

    def normal(self, shape, dtype=tf.float32):
        return self._rows(shape, lambda g, row_shape: g.normal(row_shape, dtype=dtype))

    def uniform(self, shape, minval=0, maxval=None, dtype=tf.float32):
        return self._rows(shape, lambda g, row_shape: g.uniform(row_shape, minval, maxval, dtype=dtype))


def seed_noise(seeds: Sequence[int]) -> list[tf.random.Generator]:
    """The noise generator of each seed's image: ``tf.random.Generator.from_seed(seed)``."""
    return [tf.random.Generator.from_seed(int(seed)) for seed in seeds]


def split_noise(seed: int, count: int) -> list[tf.random.Generator]:
    """``count`` independent generators split from ``tf.random.Generator.from_seed(seed)``.

    The noise of the images of a figure that draws all its latents from one seed.
    """
    return list(tf.random.Generator.from_seed(int(seed)).split(int(count)))


class FixedNoise:
    """Stateless draws that are the same on every call of a traced function.

    Draw ``k`` of a trace is ``stateless_*(seed=[seed + offset, k])``: the snapshot fakes
    of a run use the same noise each time and do not advance the training generator.

    Args:
        seed: The run's seed.
        offset: Added to ``seed`` (a tensor is fine), e.g. the first row of a chunk.
    """

    def __init__(self, seed: int, offset: tf.Tensor | int = 0):
        self.seed, self.offset, self.count = int(seed), offset, 0

    def _key(self):
        self.count += 1
        return tf.stack([tf.cast(self.seed + self.offset, tf.int32), tf.constant(self.count, tf.int32)])

    def normal(self, shape, dtype=tf.float32):
        return tf.random.stateless_normal(shape, seed=self._key(), dtype=dtype)

    def uniform(self, shape, minval=0, maxval=None, dtype=tf.float32):
        return tf.random.stateless_uniform(shape, seed=self._key(), minval=minval, maxval=maxval, dtype=dtype)


class SharedNoise:
    """Draws shared by the whole batch: ``normal([n, ...])`` is one ``[1, ...]`` draw repeated n times.

    Every image of a synthesis call then sees the same noise inputs, as in the original's
    perceptual path length metric.

    Args:
        rng: The generator of the one draw.
    """

    def __init__(self, rng: tf.random.Generator) -> None:
        self.rng = rng

    def normal(self, shape, dtype=tf.float32) -> tf.Tensor:
        one = self.rng.normal([1, *shape[1:]], dtype=dtype)  # [1, ...]
        return tf.broadcast_to(one, tf.stack(shape))  # [n, ...]

    def uniform(self, shape, minval=0, maxval=None, dtype=tf.float32) -> tf.Tensor:
        one = self.rng.uniform([1, *shape[1:]], minval, maxval, dtype=dtype)  # [1, ...]
        return tf.broadcast_to(one, tf.stack(shape))  # [n, ...]


class NoiseFeed:
    """A synthesis ``rng`` whose draws are given noise maps, one per layer in layer order.

    ``Gs.synthesis(dlatents, randomize_noise=True, rng=NoiseFeed(maps))`` adds ``maps[k]``
    (``[N or 1, H, W, 1]``, broadcast over the batch) in layer k instead of fresh noise:
    the synthesis network draws its noise layer by layer. One feed serves one call.
    """

    def __init__(self, maps: Sequence):
        self.maps = list(maps)
        self.used = 0

    def normal(self, shape, dtype=tf.float32):
        if self.used >= len(self.maps):
            raise ValueError(f"the synthesis network drew more than the {len(self.maps)} noise maps given")
        noise = tf.cast(self.maps[self.used], dtype)
        want = tuple(int(s) for s in shape[1:])
        if tuple(noise.shape[1:]) != want:
            raise ValueError(f"noise map {self.used} is {tuple(noise.shape)}; the layer needs [N, *{want}]")
        self.used += 1
        return tf.broadcast_to(noise, [shape[0], *want])

    def uniform(self, shape, minval=0, maxval=None, dtype=tf.float32):
        raise ValueError("a NoiseFeed holds noise maps for the synthesis network; it has no uniform draws")


class SampleNoise:
    """Stateless draws keyed per row: row ``i`` of draw ``k`` depends only on ``seeds[i]`` and ``k``.

    An image therefore does not depend on the other rows of its batch, and a graph that
    draws from it holds no state (as a served SavedModel must not).

    Args:
        seeds: ``[N]`` integers (int32 or int64; equal values give equal draws).
    """

    def __init__(self, seeds: tf.Tensor):
        self.seeds = tf.cast(seeds, tf.int64)  # [N]
        self.draws = 0

    def _rows(self, shape, dtype, draw) -> tf.Tensor:
        self.draws += 1
        index = tf.constant(self.draws, tf.int64)
        row_shape = list(shape[1:])

        def row(seed):
            return draw(row_shape, tf.stack([seed, index]))

        return tf.map_fn(row, self.seeds, fn_output_signature=tf.TensorSpec(row_shape, dtype))  # [N, ...]

    def normal(self, shape, dtype=tf.float32):
        return self._rows(shape, dtype, lambda s, key: tf.random.stateless_normal(s, seed=key, dtype=dtype))

    def uniform(self, shape, minval=0, maxval=None, dtype=tf.float32):
        return self._rows(
            shape,
            dtype,
            lambda s, key: tf.random.stateless_uniform(
                s, seed=key, minval=minval, maxval=maxval, dtype=dtype
            ),
        )


__all__ = [
    "DEFAULT_RANDOM",
    "DefaultRandom",
    "FixedNoise",
    "NoiseFeed",
    "PerImageNoise",
    "RandomSource",
    "SampleNoise",
    "SharedNoise",
    "seed_noise",
    "split_noise",
]
