"""Projection of images into the latent space of Gs, after StyleGAN2's projector, for v1's synthesis.

For each target image the projector searches dlatents and noise maps from which
``Gs.synthesis`` reproduces it:

- **Targets** are center-cropped to a square and resized to the network's resolution
  with a Lanczos filter (:func:`prepare_target`), then mapped to [-1, 1] as the training
  data is (``x * 2/255 - 1``).
- **Start**: every target starts at the average w: ``Gs.dlatent_avg``, or the mean of
  ``dlatent_avg_samples`` mapped latents when the network's average is all zeros.
- **Spaces**: ``'w'`` optimises one w per target, broadcast to every layer (StyleGAN2's
  choice); ``'wplus'`` one w per layer ``[num_layers, dlatent_size]``, which reaches
  more images and edits less cleanly.
- **Schedule** at ``t = step / steps``: learning rate ``initial_learning_rate`` times a
  linear ramp up over the first ``lr_rampup_length`` and a cosine ramp down over the
  last ``lr_rampdown_length``; Gaussian noise of std
  ``dlatent_std * initial_noise_factor * max(0, 1 - t / noise_ramp_length)**2`` is added
  to the dlatents at each step (``dlatent_std = sqrt(E ||w - mean w||^2)``).
- **Noise maps**: each target has its own ``[H, W]`` map per layer (v1's stored noise
  is one map shared by the batch). They start as fresh N(0, 1) draws (``noise_init=
  'random'``, StyleGAN2's) or as the stored maps (``'stored'``), are optimised too, are
  penalised by the multi-scale regulariser and are renormalised to zero mean and unit
  variance after every step.
- **Loss** per target: ``distance(images, targets)`` on images in [0, 255],
  box-downsampled to 256 x 256 when larger (the LPIPS network's scale), plus
  ``mse_weight`` times the mean squared pixel error in [-1, 1], plus
  ``regularize_noise_weight`` times the noise regulariser. The batch loss is the sum
  over targets, each with its own variables, so targets do not interact (the random
  draws depend on a target's position in its batch).
- Adam with TF1's defaults (``beta1=0.9, beta2=0.999, epsilon=1e-8``), as StyleGAN2.
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfstylegan.generation import tile_label
from tfstylegan.images import convert_images_to_uint8
from tfstylegan.metrics.lpips import to_lpips_input
from tfstylegan.optim import reset_optimizer_state
from tfstylegan.projection_files import (  # noqa: F401 (the files of a projection, for users)
    load_progress,
    load_projection,
    load_target,
    prepare_target,
    write_progress,
    write_projection,
)
from tfstylegan.rendering import static_lod_range, synthesize

SPACES = ("w", "wplus")
NOISE_INITS = ("random", "stored")

# distance(images_a, images_b): NHWC float32 RGB in [0, 255] -> per-image distances [N] (or [N, 1]),
# e.g. tfstylegan.metrics.lpips.LPIPS. Grayscale images are given as three equal channels.
Distance = Callable[[tf.Tensor, tf.Tensor], tf.Tensor]


# ----------------------------------------------------------------------------------
# Pure pieces: statistics, schedule, regulariser.


def dlatent_stats(
    Gs: keras.Model, samples: int = 10000, seed: int = 123, label=None
) -> tuple[np.ndarray, float]:
    """``(avg [dlatent_size], std)`` of W from ``samples`` latents ``RandomState(seed).randn``.

    ``avg`` is ``Gs.dlatent_avg`` unless that is all zeros (then the sample mean);
    ``std = sqrt(mean ||w - sample mean||^2)``, StyleGAN2's scale for the dlatent noise.
    ``label`` (``[label_size]``) conditions the mapping of a conditional network.
    """
    if samples < 2:
        raise ValueError(f"dlatent_avg_samples must be at least 2, got {samples}")
    latents = np.random.RandomState(seed).randn(samples, Gs.cfg.latent_size).astype(np.float32)
    w = []
    for chunk in np.array_split(latents, -(-samples // 1000)):
        labels = tile_label(Gs, label, len(chunk))
        w.append(tf.cast(Gs.mapping(chunk, labels)[:, 0], tf.float32).numpy())  # [chunk, dlatent_size]
    w = np.concatenate(w)  # [samples, dlatent_size]
    mean = w.mean(axis=0)
    std = float(np.sqrt(np.sum((w - mean) ** 2) / samples))
    avg = Gs.dlatent_avg.numpy().astype(np.float32)
    return (avg if np.any(avg) else mean.astype(np.float32)), std


def learning_rate_at(t: float, initial: float = 0.1, rampdown: float = 0.25, rampup: float = 0.05) -> float:
    """StyleGAN2's projection learning rate at ``t = step / steps`` (0 at t = 0 and 1)."""
    ramp = min(1.0, (1.0 - t) / rampdown)
    ramp = 0.5 - 0.5 * math.cos(ramp * math.pi)
    return initial * ramp * min(1.0, t / rampup)


def noise_strength_at(t: float, dlatent_std: float, factor: float = 0.05, ramp_length: float = 0.75) -> float:
    """Std of the noise added to the dlatents at ``t = step / steps``."""
    return dlatent_std * factor * max(0.0, 1.0 - t / ramp_length) ** 2


def noise_regularizer(noise_maps: Sequence) -> tf.Tensor:
    """StyleGAN2's multi-scale noise regulariser of each sample, ``[N]``.

    For every map ``[N, H, W, 1]`` and every scale down to 8 x 8: the squared mean product
    of each pixel with its right neighbour plus that with its lower neighbour (wrapping
    around); between scales the map is 2 x 2 box-averaged.
    """
    total = 0.0
    for v in noise_maps:
        size = int(v.shape[1])
        while True:
            total += tf.reduce_mean(v * tf.roll(v, 1, axis=2), axis=[1, 2, 3]) ** 2
            total += tf.reduce_mean(v * tf.roll(v, 1, axis=1), axis=[1, 2, 3]) ** 2
            if size <= 8:
                break
            v = tf.reshape(v, [-1, size // 2, 2, size // 2, 2, 1])  # [N, H/2, 2, W/2, 2, 1]
            v = tf.reduce_mean(v, axis=[2, 4])  # [N, H/2, W/2, 1]
            size //= 2
    return total


def normalize_noise(v: tf.Tensor) -> tf.Tensor:
    """Each sample's map ``[N, H, W, 1]`` shifted and scaled to zero mean, unit variance."""
    mean = tf.reduce_mean(v, axis=[1, 2, 3], keepdims=True)
    std = tf.sqrt(tf.reduce_mean(tf.square(v - mean), axis=[1, 2, 3], keepdims=True))
    return (v - mean) / std


# ----------------------------------------------------------------------------------
# The projector.


@dataclasses.dataclass(frozen=True)
class ProjectionStatus:
    """What the progress callback receives after each step (arrays have one value per target)."""

    step: int  # steps done
    steps: int  # steps in all
    loss: np.ndarray  # [n] total loss of the step
    distance: np.ndarray  # [n] perceptual distance (0 without a distance)
    mse: np.ndarray  # [n] mean squared pixel error in [-1, 1]
    seconds: float  # time since the first step
    eta: float  # estimated seconds left


@dataclasses.dataclass(frozen=True)
class ProjectionResult:
    """The projection of ``n`` targets."""

    dlatents: np.ndarray  # [n, num_layers, dlatent_size] float32 (the same w in every layer for space 'w')
    noise: list  # one float32 [n, H, W, 1] map per noise input
    images: np.ndarray  # [n, R, R, C] uint8: the projections
    targets: np.ndarray  # [n, R, R, C] uint8: the targets as projected
    loss: np.ndarray  # [n] loss of the last step


class Projector:
    """Projects batches of targets; built once per network and batch size, run many times.

    Args:
        Gs: The generator (its weights are not changed).
        distance: Perceptual distance such as LPIPS: NHWC float32 RGB images in [0, 255]
            -> ``[N]`` distances (grayscale as three equal channels). None = the pixel loss
            alone, with a warning.
        space: ``'w'`` (one w per target) or ``'wplus'`` (one w per layer).
        batch_size: Targets per :meth:`run` (fewer are padded with copies of the last).
        mse_weight: Weight of the mean squared pixel error; None = 0 with a distance, 1 without.
        initial_learning_rate: Peak learning rate.
        lr_rampdown_length: Fraction of the steps of the cosine ramp down at the end.
        lr_rampup_length: Fraction of the steps of the linear ramp up at the start.
        initial_noise_factor: Initial dlatent noise, as a fraction of W's std.
        noise_ramp_length: Fraction of the steps over which that noise decays to 0.
        regularize_noise_weight: Weight of the noise-map regulariser.
        optimize_noise: Optimise the noise maps (else they keep their initial values).
        dlatent_avg_samples: Latents mapped to find W's mean and std.
        label: ``[label_size]`` label of a conditional network (for W's statistics).
    """

    def __init__(
        self,
        Gs: keras.Model,
        distance: Distance | None = None,
        *,
        space: str = "wplus",
        batch_size: int = 1,
        mse_weight: float | None = None,
        initial_learning_rate: float = 0.1,
        lr_rampdown_length: float = 0.25,
        lr_rampup_length: float = 0.05,
        initial_noise_factor: float = 0.05,
        noise_ramp_length: float = 0.75,
        regularize_noise_weight: float = 1e5,
        optimize_noise: bool = True,
        dlatent_avg_samples: int = 10000,
        label=None,
    ):
        if space not in SPACES:
            raise ValueError(f"space must be one of {', '.join(SPACES)}, got {space!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if distance is None:
            warnings.warn(
                "projecting with no perceptual distance: the pixel loss alone gives blurrier, "
                "less faithful projections than LPIPS",
                stacklevel=2,
            )
        self.Gs, self.distance, self.space, self.batch_size = Gs, distance, space, int(batch_size)
        self.mse_weight = float((0.0 if distance is not None else 1.0) if mse_weight is None else mse_weight)
        self.schedule = dict(
            initial=initial_learning_rate, rampdown=lr_rampdown_length, rampup=lr_rampup_length
        )
        self.noise_schedule = dict(factor=initial_noise_factor, ramp_length=noise_ramp_length)
        self.regularize_noise_weight = float(regularize_noise_weight)
        self.dlatent_avg, self.dlatent_std = dlatent_stats(Gs, dlatent_avg_samples, label=label)
        b, res, syn = self.batch_size, Gs.cfg.resolution, Gs.synthesis
        self.num_layers = Gs.num_layers
        styles = 1 if space == "w" else self.num_layers
        self.dlatents = keras.Variable(
            np.zeros([b, styles, Gs.cfg.dlatent_size], np.float32), name="dlatents"
        )
        self.noise = [
            keras.Variable(
                np.zeros([b, *v.shape[1:]], np.float32), name=f"noise{i}", trainable=optimize_noise
            )
            for i, v in enumerate(syn.noise_inputs)
        ]
        self.targets = keras.Variable(
            np.zeros([b, res, res, Gs.cfg.num_channels], np.float32), trainable=False
        )
        self.variables = [self.dlatents] + (self.noise if optimize_noise else [])
        self.optimizer = keras.optimizers.Adam(0.0, beta_1=0.9, beta_2=0.999, epsilon=1e-8, name="projector")
        self.optimizer.build(self.variables)
        self.rng = tf.random.Generator.from_seed(0)
        self._lod_range = static_lod_range(Gs)  # the recursive synthesis is pruned at trace time
        self._step = tf.function(self._step_fn)
        self._render = tf.function(lambda: convert_images_to_uint8(self._synthesize(self.dlatents)))

    def _synthesize(self, dlatents):
        full = tf.broadcast_to(dlatents, [self.batch_size, self.num_layers, dlatents.shape[2]])  # [B, L, D]
        return synthesize(self.Gs, full, self.noise, self._lod_range)

    def _losses(self, images):
        """``(distance, mse)`` per target, ``[B]`` each."""
        mse = tf.reduce_mean(tf.square(images - self.targets), axis=[1, 2, 3])
        if self.distance is None:
            return tf.zeros_like(mse), mse
        dist = self.distance(to_lpips_input(images), to_lpips_input(self.targets))
        dist = tf.cast(tf.reshape(dist, [self.batch_size]), tf.float32)  # [B, 1] or [B] -> [B]
        return dist, mse

    def _step_fn(self, learning_rate, noise_strength):
        with tf.GradientTape() as tape:
            dlatents = self.dlatents + noise_strength * self.rng.normal(self.dlatents.shape)
            dist, mse = self._losses(self._synthesize(dlatents))
            loss = dist + self.mse_weight * mse  # [B]
            if self.regularize_noise_weight and len(self.variables) > 1:
                loss += self.regularize_noise_weight * noise_regularizer(self.noise)
            total = tf.reduce_sum(loss)
        grads = tape.gradient(total, self.variables)
        self.optimizer.learning_rate.assign(learning_rate)
        self.optimizer.apply(grads, self.variables)
        for v in self.variables[1:]:
            v.assign(normalize_noise(v))
        return loss, dist, mse

    def _start(self, targets: np.ndarray, seed: int, noise_init: str) -> None:
        if noise_init not in NOISE_INITS:
            raise ValueError(f"noise_init must be one of {', '.join(NOISE_INITS)}, got {noise_init!r}")
        b = self.batch_size
        padded = np.concatenate([targets, np.repeat(targets[-1:], b - len(targets), axis=0)])  # [B, R, R, C]
        self.targets.assign(padded.astype(np.float32) * np.float32(2 / 255) - 1)
        self.dlatents.assign(np.broadcast_to(self.dlatent_avg, self.dlatents.shape))
        rnd = np.random.RandomState(seed)
        for var, stored in zip(self.noise, self.Gs.synthesis.noise_inputs):
            if noise_init == "random":
                var.assign(rnd.randn(*var.shape).astype(np.float32))
            else:
                var.assign(np.broadcast_to(tf.cast(stored, tf.float32).numpy(), var.shape))
        reset_optimizer_state(self.optimizer)
        self.rng.reset_from_seed(seed)

    def run(
        self,
        targets: np.ndarray,
        steps: int = 1000,
        seed: int = 0,
        noise_init: str = "random",
        progress: Callable[[ProjectionStatus], None] | None = None,
        on_frame: Callable[[int, np.ndarray], None] | None = None,
        frame_every: int = 1,
        on_dlatents: Callable[[int, np.ndarray], None] | None = None,
    ) -> ProjectionResult:
        """Project up to ``batch_size`` targets.

        Args:
            targets: uint8 ``[n, R, R, C]`` (see :func:`prepare_target`).
            steps: Optimisation steps.
            seed: Seeds the initial noise maps and the dlatent noise.
            noise_init: ``'random'`` (fresh N(0, 1) maps) or ``'stored'`` (the network's maps).
            progress: Called after every step with a :class:`ProjectionStatus`.
            on_frame: Called as ``on_frame(step, images)`` with the uint8 projections
                ``[n, R, R, C]`` before the first step and every ``frame_every`` steps.
            frame_every: Steps between two ``on_frame`` calls (and after the last step).
            on_dlatents: Called as ``on_dlatents(step, dlatents)`` with the current dlatents
                ``[n, num_layers, dlatent_size]`` at the steps of ``on_frame``.
        """
        targets = self._check_targets(targets)
        if int(steps) < 0 or int(frame_every) < 1:
            raise ValueError(f"steps must be >= 0 and frame_every >= 1, got {steps} and {frame_every}")
        n = len(targets)
        self._start(targets, seed, noise_init)

        def snapshot(step):
            if on_frame is not None:
                on_frame(step, self._render().numpy()[:n])
            if on_dlatents is not None:
                on_dlatents(step, self._full_dlatents()[:n])

        snapshot(0)
        start, loss = time.perf_counter(), np.zeros([n], np.float32)
        for step in range(int(steps)):
            t = step / steps
            lr = learning_rate_at(t, **self.schedule)
            strength = noise_strength_at(t, self.dlatent_std, **self.noise_schedule)
            loss, dist, mse = (
                x.numpy()[:n]
                for x in self._step(tf.constant(lr, tf.float32), tf.constant(strength, tf.float32))
            )
            if progress is not None:
                seconds = time.perf_counter() - start
                eta = seconds / (step + 1) * (steps - step - 1)
                progress(ProjectionStatus(step + 1, steps, loss, dist, mse, seconds, eta))
            if (step + 1) % frame_every == 0 or step + 1 == steps:
                snapshot(step + 1)
        return ProjectionResult(
            dlatents=self._full_dlatents()[:n],
            noise=[v.numpy()[:n] for v in self.noise],
            images=self._render().numpy()[:n],
            targets=targets,
            loss=loss,
        )

    def _full_dlatents(self) -> np.ndarray:
        """The dlatents of every layer, ``[batch_size, num_layers, dlatent_size]`` (w repeated in space 'w')."""
        shape = [self.batch_size, self.num_layers, self.dlatents.shape[2]]
        return np.array(np.broadcast_to(self.dlatents.numpy(), shape))

    def _check_targets(self, targets) -> np.ndarray:
        targets = np.asarray(targets)
        res, channels = self.Gs.cfg.resolution, self.Gs.cfg.num_channels
        fits = targets.shape[1:] == (res, res, channels) and 0 < len(targets) <= self.batch_size
        if targets.dtype != np.uint8 or not fits:
            raise ValueError(
                f"targets must be uint8 [n, {res}, {res}, {channels}] with 1 <= n <= {self.batch_size}, "
                f"got {targets.dtype} {targets.shape}; see prepare_target"
            )
        return targets


def project(
    Gs: keras.Model,
    targets: np.ndarray,
    distance: Distance | None = None,
    *,
    batch_size: int = 1,
    steps: int = 1000,
    seed: int = 0,
    noise_init: str = "random",
    progress: Callable[[ProjectionStatus], None] | None = None,
    **settings,
) -> ProjectionResult:
    """Project every target of ``targets`` (uint8 ``[N, R, R, C]``), ``batch_size`` at a time.

    ``settings`` are the other :class:`Projector` arguments (``space``, ``mse_weight``, ...);
    the rest are those of :meth:`Projector.run`. Every batch uses the same ``seed``.
    """
    batch_size = max(1, min(int(batch_size), len(targets)))
    projector = Projector(Gs, distance, batch_size=batch_size, **settings)
    parts = [
        projector.run(targets[i : i + batch_size], steps, seed, noise_init, progress)
        for i in range(0, len(targets), batch_size)
    ]
    return ProjectionResult(
        dlatents=np.concatenate([p.dlatents for p in parts]),
        noise=[np.concatenate(maps) for maps in zip(*(p.noise for p in parts))],
        images=np.concatenate([p.images for p in parts]),
        targets=np.concatenate([p.targets for p in parts]),
        loss=np.concatenate([p.loss for p in parts]),
    )
