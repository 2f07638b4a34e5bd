"""Perceptual path length (PPL), as the original's ``metrics/perceptual_path_length.py``.

For each sample, two latents ``z0, z1`` and ``t`` (uniform in [0, 1) for ``*full``, 0 for
``*end``) give two points ``epsilon = 1e-4`` apart on the path between them:

- ``ppl_z*``: ``slerp(z0, z1, t)`` and ``slerp(z0, z1, t + epsilon)`` on normalised latents,
  then the mapping network;
- ``ppl_w*``: the mapping network first (``is_validation``: no truncation), then
  ``lerp(w0, w1, t)`` and ``lerp(w0, w1, t + epsilon)``.

The synthesis network is called directly (no truncation) on the ``[2N]`` interleaved
dlatents, with one noise draw per minibatch shared by every image in it (the original
assigns fresh random values to the noise variables and runs with
``randomize_noise=False``; here :class:`SharedNoise` gives the same draw to the whole
batch). The images are cropped to the face region (rows 3/8..7/8, columns 2/8..6/8, an
FFHQ-specific choice that ``crop=False`` turns off), box-downsampled to 256 x 256 when
larger, scaled from [-1, 1] to [0, 255], and compared pairwise by the LPIPS distance
(``ctx.distance``, :class:`tfstylegan.metrics.lpips.LPIPS`), divided by ``epsilon^2``.
Distances outside the 1st ('lower') .. 99th ('higher') percentile are dropped before the
mean. 100,000 samples by default, 16 pairs per minibatch.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import tensorflow as tf

from tfstylegan import ops
from tfstylegan.metrics.base import MetricContext, count_in_name
from tfstylegan.metrics.lpips import to_lpips_input
from tfstylegan.noise import SharedNoise


def normalize(v: tf.Tensor) -> tf.Tensor:
    """Each vector (last axis) divided by its length."""
    return v / tf.sqrt(tf.reduce_sum(tf.square(v), axis=-1, keepdims=True))


def slerp(a: tf.Tensor, b: tf.Tensor, t: tf.Tensor) -> tf.Tensor:
    """Spherical interpolation of the normalised ``a`` and ``b`` by ``t`` (unit-length result)."""
    a, b = normalize(a), normalize(b)
    d = tf.reduce_sum(a * b, axis=-1, keepdims=True)  # cos of the angle
    p = t * tf.acos(d)  # angle travelled
    c = normalize(b - d * a)  # unit vector orthogonal to a, towards b
    return normalize(a * tf.cos(p) + c * tf.sin(p))


def crop_face(images: tf.Tensor) -> tf.Tensor:
    """``[N, R, R, C] -> [N, R/2, R/2, C]``: rows ``3c..7c`` and columns ``2c..6c``, ``c = R // 8``."""
    c = images.shape[1] // 8
    return images[:, c * 3 : c * 7, c * 2 : c * 6, :]


def filter_percentiles(distances: np.ndarray) -> np.ndarray:
    """The distances within [1st percentile ('lower'), 99th percentile ('higher')], as the original."""
    distances = np.asarray(distances)
    lo = np.percentile(distances, 1, method="lower")
    hi = np.percentile(distances, 99, method="higher")
    return distances[np.logical_and(lo <= distances, distances <= hi)]


def _interleave(e0: tf.Tensor, e1: tf.Tensor) -> tf.Tensor:
    """``[N, ...]`` twice -> ``[2N, ...]`` as ``e0[0], e1[0], e0[1], e1[1], ...``."""
    pairs = tf.stack([e0, e1], axis=1)  # [N, 2, ...]
    return tf.reshape(pairs, tf.concat([[-1], tf.shape(e0)[1:]], 0))  # [2N, ...]


@dataclasses.dataclass(frozen=True)
class PPL:
    """A perceptual path length metric, e.g. ``ppl_wend``.

    Attributes:
        name: the metric's name.
        space: ``"z"`` (slerp of latents) or ``"w"`` (lerp of dlatents).
        sampling: ``"full"`` (t uniform in [0, 1)) or ``"end"`` (t = 0).
        num_samples: pairs measured (rounded up to whole minibatches, as the original).
        epsilon: the step along the path.
        minibatch_size: pairs per synthesis call (``2 * minibatch_size`` images).
        crop: crop to the face region first (the original; turn off for non-face data).
    """

    name: str
    space: str
    sampling: str
    num_samples: int = 100_000
    epsilon: float = 1e-4
    minibatch_size: int = 16
    crop: bool = True

    needs = ("distance",)

    def __post_init__(self) -> None:
        if self.space not in ("z", "w") or self.sampling not in ("full", "end"):
            raise ValueError(f"{self.name}: space must be 'z' or 'w' and sampling 'full' or 'end'")

    def image_pairs(
        self, Gs, latents: tf.Tensor, lerp_t: tf.Tensor, labels: tf.Tensor | None, noise
    ) -> tf.Tensor:
        """The ``[2N, h, w, 3]`` LPIPS inputs (:func:`~tfstylegan.metrics.lpips.to_lpips_input`) of N pairs (even rows t, odd rows t + epsilon).

        Args:
            Gs: the generator; its ``mapping(latents, labels)`` and
                ``synthesis(dlatents, randomize_noise=True, rng=noise)`` are called.
            latents: ``[2N, latent_size]``; rows ``2i`` and ``2i + 1`` are the ends of path i.
            lerp_t: ``[N]`` positions on the paths.
            labels: ``[2N, label_size]`` (equal within a pair) or None.
            noise: the synthesis noise source (:class:`SharedNoise`).
        """
        t = lerp_t[:, None]  # [N, 1]
        if self.space == "w":
            dlat = tf.cast(Gs.mapping(latents, labels), tf.float32)  # [2N, L, D]
            d0, d1 = dlat[0::2], dlat[1::2]
            dlatents = _interleave(
                ops.lerp(d0, d1, t[:, :, None]), ops.lerp(d0, d1, t[:, :, None] + self.epsilon)
            )
        else:
            z0, z1 = latents[0::2], latents[1::2]
            points = _interleave(slerp(z0, z1, t), slerp(z0, z1, t + self.epsilon))  # [2N, Z]
            dlatents = Gs.mapping(points, labels)  # [2N, L, D]
        images = tf.cast(Gs.synthesis(dlatents, randomize_noise=True, rng=noise), tf.float32)  # [2N, R, R, C]
        return to_lpips_input(crop_face(images) if self.crop else images)

    def distances(self, images: tf.Tensor, distance) -> tf.Tensor:
        """``[N]`` perceptual distances of the pairs in ``images`` (:meth:`image_pairs`) / epsilon^2."""
        return tf.cast(distance(images[0::2], images[1::2]), tf.float32) * (1.0 / self.epsilon**2)

    def compute(self, ctx: MetricContext) -> dict[str, float]:
        """The mean perceptual path length over ``num_samples`` pairs, outliers dropped.

        Args:
            ctx: uses ``Gs``, ``distance``, ``latent_size``, ``label_size``,
                ``label_sampler`` (None = zero labels, as the original), ``seed`` and
                ``minibatch_size`` (generator images per call, so ``// 2`` pairs).

        Returns:
            ``{name: ppl, name + "_time_s": seconds}``.
        """
        start = time.time()
        Gs, distance = ctx.require("Gs", self.name), ctx.require("distance", self.name)
        pairs = max(1, ctx.minibatch_size // 2) if ctx.minibatch_size else self.minibatch_size
        latent_size, label_size = int(ctx.latent_size or Gs.cfg.latent_size), int(ctx.label_size)
        noise = SharedNoise(tf.random.Generator.from_seed(ctx.seed))
        spec = [tf.TensorSpec([2 * pairs, latent_size]), tf.TensorSpec([pairs])]
        spec.append(tf.TensorSpec([2 * pairs, label_size]) if label_size else None)

        @tf.function(input_signature=[s for s in spec if s is not None])
        def step(latents, lerp_t, *labels):
            return self.distances(
                self.image_pairs(Gs, latents, lerp_t, labels[0] if labels else None, noise), distance
            )

        rng = np.random.default_rng(ctx.seed)
        num_batches = math.ceil(self.num_samples / pairs)
        progress = ctx.progress(self.name, num_batches * pairs)
        all_distances = []
        for _ in range(num_batches):
            args = [rng.standard_normal([2 * pairs, latent_size]).astype(np.float32)]
            args.append(
                rng.uniform(0.0, 1.0, [pairs]).astype(np.float32)
                if self.sampling == "full"
                else np.zeros([pairs], np.float32)
            )
            if label_size:
                args.append(np.repeat(self._labels(ctx, pairs, label_size), 2, axis=0))  # [2N, label_size]
            all_distances.append(step(*[tf.constant(a) for a in args]).numpy())
            progress.update(pairs)
        value = float(np.mean(filter_percentiles(np.concatenate(all_distances))))
        return {self.name: value, f"{self.name}_time_s": time.time() - start}

    @staticmethod
    def _labels(ctx: MetricContext, pairs: int, label_size: int) -> np.ndarray:
        if ctx.label_sampler is None:
            return np.zeros([pairs, label_size], np.float32)
        return np.asarray(ctx.label_sampler(pairs), np.float32)


def ppl_from_name(name: str) -> PPL | None:
    """The PPL metric called ``name``, None if not of the form.

    ``ppl_zfull``, ``ppl_wfull``, ``ppl_zend``, ``ppl_wend`` (100,000 samples, the
    original's), optionally followed by a sample count ``<N>k`` / ``<N>`` (``ppl_wend10k``).
    """
    parsed = count_in_name(name, "ppl_([zw])(full|end)", "PPL", per_k=1000, minimum=1, unit="sample", default=100_000)
    if parsed is None:
        return None
    match, num_samples = parsed
    return PPL(name=name, space=match.group(1), sampling=match.group(2), num_samples=num_samples)


__all__ = [
    "PPL",
    "SharedNoise",
    "crop_face",
    "filter_percentiles",
    "normalize",
    "ppl_from_name",
    "slerp",
]
