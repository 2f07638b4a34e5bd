"""Synthesis from dlatents with explicit noise maps, and compiled batched rendering to uint8.

The original synthesis network adds either its stored noise inputs (one ``[1, H, W, 1]``
map per layer, shared by the batch) or fresh draws. Projection, editing and videos need
a third kind: given maps per image. :class:`~tfstylegan.noise.NoiseFeed` supplies them through the
synthesis network's public ``rng`` argument, without touching the network.

:class:`Renderer` turns many dlatents into uint8 images in compiled batches of a fixed
size through :func:`~tfstylegan.generation.padded_batches` (one trace; the last batch is
padded), for videos and edit grids.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfstylegan.generation import padded_batches
from tfstylegan.images import convert_images_to_uint8
from tfstylegan.noise import NoiseFeed


def synthesize(Gs: keras.Model, dlatents, noise: Sequence | None = None, lod_range=None) -> tf.Tensor:
    """float32 images of ``Gs.synthesis(dlatents)`` with the stored noise or the given maps.

    Args:
        Gs: The generator.
        dlatents: ``[N, num_layers, dlatent_size]``.
        noise: None = the stored noise inputs; else one ``[N or 1, H, W, 1]`` map per layer.
        lod_range: Passed to the synthesis network (prunes its recursive structure).
    """
    syn = Gs.synthesis
    if noise is None:
        return tf.cast(syn(dlatents, randomize_noise=False, lod_range=lod_range), tf.float32)
    if len(noise) != len(syn.noise_inputs):
        raise ValueError(
            f"{len(noise)} noise maps given; the network has {len(syn.noise_inputs)} noise inputs"
        )
    return tf.cast(syn(dlatents, randomize_noise=True, rng=NoiseFeed(noise), lod_range=lod_range), tf.float32)


def static_lod_range(Gs: keras.Model) -> tuple[int, int]:
    """``(floor(lod), floor(lod) + 1)`` of Gs now: lets a compiled synthesis prune its lod branches."""
    lod = math.floor(float(Gs.lod.numpy()))
    return lod, lod + 1


class Renderer:
    """Compiled synthesis of dlatents into uint8 images, ``batch_size`` images per call.

    Batches go through :func:`~tfstylegan.generation.padded_batches`, the route of the
    seed images: every call has one shape (the last batch is padded, the padding
    dropped), so each of stored noise, given noise maps and :meth:`map` is traced once
    and an image does not depend on the others of its run. Gs's ``lod`` must not change
    after the renderer is built.
    """

    def __init__(self, Gs: keras.Model, batch_size: int = 8):
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.Gs, self.batch_size = Gs, int(batch_size)
        lod_range = static_lod_range(Gs)
        self._stored = tf.function(lambda w: convert_images_to_uint8(synthesize(Gs, w, None, lod_range)))
        self._explicit = tf.function(
            lambda w, maps: convert_images_to_uint8(synthesize(Gs, w, maps, lod_range))
        )
        self._map = tf.function(lambda z, labels: tf.cast(Gs.mapping(z, labels), tf.float32))

    def batches(self, dlatents: np.ndarray, noise: Sequence[np.ndarray] | None = None) -> Iterator[np.ndarray]:
        """uint8 images ``[b, R, R, C]`` of each batch of dlatents ``[N, num_layers, dlatent_size]``.

        ``noise``: None = the stored noise; else one map per layer, ``[N, H, W, 1]`` (per
        image) or ``[1, H, W, 1]`` (shared).
        """
        dlatents = np.asarray(dlatents, np.float32)
        if noise is None:
            return padded_batches(lambda _, w: self._stored(tf.constant(w)), self.batch_size, dlatents)
        maps = [np.broadcast_to(np.asarray(m, np.float32), [len(dlatents), *np.shape(m)[1:]]) for m in noise]

        def batch(_, w, *maps):
            return self._explicit(tf.constant(w), [tf.constant(m) for m in maps])

        return padded_batches(batch, self.batch_size, dlatents, *maps)

    def images(self, dlatents: np.ndarray, noise: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """uint8 ``[N, R, R, C]`` of dlatents ``[N, num_layers, dlatent_size]`` (``noise`` as :meth:`batches`)."""
        return np.concatenate(list(self.batches(dlatents, noise)))

    def map(self, latents: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """float32 dlatents ``[N, num_layers, dlatent_size]`` of latents ``[N, latent_size]`` (no truncation)."""

        def batch(_, z, c):
            return self._map(tf.constant(z), None if c is None else tf.constant(c))

        latents = np.asarray(latents, np.float32)
        labels = None if labels is None else np.asarray(labels, np.float32)
        return np.concatenate(list(padded_batches(batch, self.batch_size, latents, labels)))
