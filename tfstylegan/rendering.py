"""Synthesis from dlatents with explicit noise maps, and compiled batched rendering to uint8.

The original synthesis network adds either its stored noise inputs (one ``[1, H, W, 1]``
map per layer, shared by the batch) or fresh draws. Projection, editing and videos need
a third kind: given maps per image. :class:`~tfstylegan.noise.NoiseFeed` supplies them through the
synthesis network's public ``rng`` argument, without touching the network.

:class:`Renderer` turns many dlatents into uint8 images in compiled batches of a fixed
size (one trace; the last batch is padded), for videos and edit grids.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
import tensorflow as tf

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


def _pad(array: np.ndarray, size: int) -> np.ndarray:
    """``array`` with its last row repeated up to ``size`` rows."""
    return np.concatenate([array, np.repeat(array[-1:], size - len(array), axis=0)])


class Renderer:
    """Compiled synthesis of dlatents into uint8 images, ``batch_size`` images per call.

    Each of :meth:`images` (stored noise), :meth:`images` with noise maps, and :meth:`map`
    is traced once; a shorter batch is padded and the padding dropped. Gs's ``lod`` must
    not change after the renderer is built.
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

    def _check(self, n: int) -> None:
        if not 0 < n <= self.batch_size:
            raise ValueError(f"a batch of {n} images; this renderer takes 1 to {self.batch_size}")

    def images(self, dlatents: np.ndarray, noise: Sequence[np.ndarray] | None = None) -> np.ndarray:
        """uint8 ``[n, R, R, C]`` of dlatents ``[n, num_layers, dlatent_size]`` (n <= batch_size).

        ``noise``: None = the stored noise; else one map per layer, ``[n, H, W, 1]`` (per
        image) or ``[1, H, W, 1]`` (shared).
        """
        n = len(dlatents)
        self._check(n)
        w = tf.constant(_pad(np.asarray(dlatents, np.float32), self.batch_size))
        if noise is None:
            return self._stored(w).numpy()[:n]
        maps = [np.broadcast_to(np.asarray(m, np.float32), [n, *np.shape(m)[1:]]) for m in noise]
        return self._explicit(w, [tf.constant(_pad(m, self.batch_size)) for m in maps]).numpy()[:n]

    def map(self, latents: np.ndarray, labels: np.ndarray | None = None) -> np.ndarray:
        """float32 dlatents ``[n, num_layers, dlatent_size]`` of latents ``[n, latent_size]`` (no truncation)."""
        n = len(latents)
        self._check(n)
        z = tf.constant(_pad(np.asarray(latents, np.float32), self.batch_size))
        y = None if labels is None else tf.constant(_pad(np.asarray(labels, np.float32), self.batch_size))
        return self._map(z, y).numpy()[:n]
