"""What every metric shares: its inputs (:class:`MetricContext`, with its progress line) and errors.

A metric is an object with a ``name`` and ``compute(ctx) -> {key: value}``; the registry
(:mod:`tfstylegan.metrics.registry`) makes one from a name such as ``fid50k``, ``ppl_wend``
or ``swd16k``. The result holds the metric's value under its name (for SWD the average
over levels, with one more key per level, ``swd16k_256`` ...) and the wall time under
``<name>_time_s``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import tensorflow as tf
from absl import logging

from tfstylegan.progress import ProgressBar


class WeightsFileError(ValueError):
    """A metric's network file (Inception, VGG16) is missing, unreadable or does not fit."""


@dataclasses.dataclass
class MetricContext:
    """The generator, the data and the feature networks a metric may use.

    Attributes:
        generate: ``(latents [n, latent_size], labels [n, label_size]) -> images [n, H, W, C]``
            float in [-1, 1], called with full minibatches; the caller fixes the network's
            settings (the original's metrics: ``is_validation=True``, fresh noise).
        latent_size: length of a latent vector.
        reals: the real images: a zero-argument callable returning a fresh iterable of
            uint8 NHWC minibatches (each metric reads from the start), or one iterable; an
            element that is a tuple/list counts by its first item. None = no dataset.
        dataset_path: names the dataset in cache keys.
        resolution: the reals' resolution (checked against each batch).
        label_size: label length of the generator.
        label_sampler: ``n -> labels [n, label_size]``; None = zeros (the original's metrics).
        cache_dir: where real-image statistics are cached; None = no cache.
        mirror_augment: flip a random half of the reals left-right (datasets trained so).
        seed: seed of every random draw of the metric.
        minibatch_size: images per generator call; None = the metric's own default.
        Gs: the generator network (PPL calls its ``mapping`` and ``synthesis``).
        features: the Inception feature function (FID).
        distance: the LPIPS distance ``(images_a, images_b) -> [n]`` (PPL).
        log: where progress lines go; None = ``absl.logging.info``.
    """

    generate: Callable[[Any, Any], Any] | None = None
    latent_size: int = 0
    reals: Callable[[], Iterable[Any]] | Iterable[Any] | None = None
    dataset_path: str | None = None
    resolution: int | None = None
    label_size: int = 0
    label_sampler: Callable[[int], Any] | None = None
    cache_dir: str | None = None
    mirror_augment: bool = False
    seed: int = 0
    minibatch_size: int | None = None
    Gs: Any = None
    features: Any = None
    distance: Any = None
    log: Callable[[str], None] | None = None

    def iter_reals(self) -> Iterable[Any]:
        """A fresh pass over the real minibatches."""
        if self.reals is None:
            raise ValueError("this metric needs real images (a dataset), and none were given")
        return self.reals() if callable(self.reals) else self.reals

    def require(self, field: str, metric: str) -> Any:
        """``getattr(self, field)``, or a clear error naming the metric that needs it."""
        value = getattr(self, field)
        if value is None:
            raise ValueError(f"metric {metric!r} needs `{field}` in its MetricContext")
        return value

    def progress(self, label: str, total: int) -> ProgressBar:
        """A progress line of ``total`` images to :attr:`log` about every 30 seconds; short work prints nothing."""
        return ProgressBar(label, log=self.log or (lambda line: logging.info("%s", line)), interval=30.0, total=total)


def count_in_name(
    name: str, head: str, what: str, *, per_k: int, minimum: int, unit: str, default: int | None = None
) -> tuple[re.Match, int] | None:
    """``(match, count)`` for a metric name ``<head><N>`` or ``<head><N>k`` (N x ``per_k``), None if not that form.

    Args:
        name: The metric name, e.g. ``fid50k`` or ``ppl_wend10k``.
        head: A regular expression for what comes before the count; its groups are in the match.
        what: The metric's family, for the error (``"FID"``).
        per_k: What ``k`` multiplies by: 1000, or 1024 for SWD (ProGAN's ``swd16k``).
        minimum: The smallest count allowed.
        unit: What is counted, in the singular (for the error).
        default: The count of a name without one; None = a name without a count is not of the form.

    Raises:
        ValueError: the form, but a count below ``minimum``.
    """
    match = re.fullmatch(f"(?:{head})(?:(?P<count>\\d+)(?P<k>k?))?", name)
    if match is None or (match["count"] is None and default is None):
        return None
    if match["count"] is None:
        return match, default
    count = int(match["count"]) * (per_k if match["k"] else 1)
    if count < minimum:
        raise ValueError(f"{name!r}: {what} needs at least {minimum} {unit}{'s' if minimum != 1 else ''}")
    return match, count


def fake_batches(
    generate: Callable[[tf.Tensor, tf.Tensor], Any],
    latent_size: int,
    minibatch_size: int,
    label_size: int = 0,
    label_sampler: Callable[[int], Any] | None = None,
    seed: int = 0,
) -> Iterator[tf.Tensor]:
    """Endless minibatches of generated float32 images in [-1, 1] on seeded latents.

    Every call of ``generate`` gets a full minibatch (fixed shapes, so a compiled generator
    is traced once) of standard normal latents from ``np.random.default_rng(seed)``;
    ``label_sampler`` (None = zeros, as the original's metrics) gives the labels.
    """
    if minibatch_size < 1:
        raise ValueError(f"need minibatch_size >= 1, got {minibatch_size}")
    if label_sampler is None:
        label_sampler = lambda n: np.zeros([n, label_size], dtype=np.float32)
    rng = np.random.default_rng(seed)
    while True:
        latents = rng.standard_normal([minibatch_size, latent_size]).astype(np.float32)
        labels = np.asarray(label_sampler(minibatch_size), dtype=np.float32)
        if labels.shape[0] != minibatch_size or labels.ndim != 2:
            raise ValueError(f"label_sampler({minibatch_size}) gave shape {labels.shape}")
        images = generate(tf.constant(latents), tf.constant(labels))
        yield tf.convert_to_tensor(images, dtype=tf.float32)


def label_sampler_from_array(labels: np.ndarray, seed: int = 0) -> Callable[[int], np.ndarray]:
    """A label sampler drawing rows of ``labels`` ``[num_labels, label_size]`` at random.

    For conditional networks, to feed labels distributed like the dataset's (the
    original's FID feeds zeros instead; see :func:`generator_statistics`).
    """
    labels = np.asarray(labels, dtype=np.float32)
    rng = np.random.default_rng(seed)
    return lambda n: labels[rng.integers(0, labels.shape[0], size=n)]


__all__ = ["MetricContext", "count_in_name", "WeightsFileError", "fake_batches", "label_sampler_from_array"]
