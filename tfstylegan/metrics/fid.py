"""Frechet Inception Distance (FID), as the original StyleGAN reports it (``fid50k``).

FID compares the Gaussian statistics (mean and covariance) of Inception-v3 pool
features of real and generated images (Heusel et al. 2017; the math is in
:mod:`tfstylegan.metrics.frechet`, the feature networks in
:mod:`tfstylegan.metrics.inception`).

What the original does, and what this module keeps:

- ``num_images`` (50,000 for ``fid50k``) reals and fakes; the real statistics are
  computed once per dataset and feature network and cached on disk.
- Fakes come from ``Gs`` with its validation settings (``is_validation=True``, so the
  network's own default truncation, and ``randomize_noise=True``) on standard normal
  latents. That choice belongs to the caller's ``generate`` function here.
- Fakes are rounded to 8 bits before Inception (:func:`quantize_images`, the
  original's ``convert_images_to_uint8``), like the reals.
- Features are the 2048-d average-pooled activations; the covariance is
  ``np.cov(features, rowvar=False)`` (unbiased, N - 1).

With the 2015 frozen graph (``classify_image_graph_def.pb``) the numbers are those of the
papers' FID code; with Keras weights they compare only with FIDs from the same file.

Typical use::

    features = InceptionFeatures("classify_image_graph_def.pb")
    ctx = MetricContext(generate=generate, latent_size=512, reals=reals, features=features,
                        dataset_path="datasets/ffhq", resolution=1024, cache_dir="cache")
    get_metric("fid50k").compute(ctx)  # -> {"fid50k": 4.4, "fid50k_time_s": 1234.5}
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import tensorflow as tf
from absl import logging

from tfstylegan.atomic import atomic_output
from tfstylegan.images import quantize_images
from tfstylegan.metrics.base import MetricContext, count_in_name, fake_batches, label_sampler_from_array
from tfstylegan.metrics.frechet import feature_statistics, frechet_distance
from tfstylegan.metrics.inception import (
    FEATURE_DIM,
    INCEPTION_GRAPH_FILENAME,
    INCEPTION_WEIGHTS_FILENAME,
    InceptionFeatures,
    InceptionWeightsError,
)
from tfstylegan.progress import ProgressBar

FeatureFn = Callable[[tf.Tensor], Any]
"""A feature function: float32 NHWC images in [-1, 1] -> features ``[N, D]``.

To be cached, it needs a string attribute ``identity`` that changes whenever its
output would (weights, input size); :class:`InceptionFeatures` has one.
"""


# ----------------------------------------------------------------------------------
# Image conventions.


def _to_float_images(images: Any) -> tf.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]; float images are taken as [-1, 1] already."""
    images = tf.convert_to_tensor(images)
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 127.5 - 1.0
    if not images.dtype.is_floating:
        raise TypeError(f"images must be uint8 or float, got {images.dtype.name}")
    return tf.cast(images, tf.float32)


# ----------------------------------------------------------------------------------
# Statistics of real and generated images.


def _collect_features(
    batches: Iterable[Any], features: FeatureFn, num_images: int, progress: ProgressBar | None = None
) -> np.ndarray:
    out = None
    filled = 0
    for batch in batches:
        feats = np.asarray(features(batch))
        feats = feats.reshape(feats.shape[0], -1)
        if out is None:
            out = np.empty([num_images, feats.shape[1]], dtype=np.float32)
        take = min(feats.shape[0], num_images - filled)
        out[filled : filled + take] = feats[:take]
        filled += take
        if progress is not None:
            progress.update(take)
        if filled == num_images:
            return out
    raise ValueError(f"the images ran out after {filled} of {num_images}; repeat the dataset")


def _stats_cache_path(
    cache_dir: str, dataset_path: str, num_images: int, resolution: int, mirror_augment: bool, identity: str
) -> str:
    key = {
        "dataset": os.path.abspath(os.fspath(dataset_path)),
        "num_images": int(num_images),
        "resolution": int(resolution),
        "mirror_augment": bool(mirror_augment),
        "features": identity,
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode("utf-8")).hexdigest()[:20]
    name = os.path.basename(os.path.normpath(key["dataset"])) or "dataset"
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return os.path.join(cache_dir, f"fid-stats-{name}-{num_images}-{digest}.npz")


def _save_npz_atomic(path: str, **arrays: np.ndarray) -> None:
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    with atomic_output(path) as temp, open(temp, "wb") as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())


def dataset_statistics(
    reals: Iterable[Any],
    features: FeatureFn,
    *,
    num_images: int,
    dataset_path: str | os.PathLike,
    resolution: int,
    cache_dir: str | os.PathLike | None = None,
    mirror_augment: bool = False,
    seed: int = 0,
    progress: ProgressBar | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Feature statistics of the first ``num_images`` real images, cached on disk.

    The cache file (``.npz`` in ``cache_dir``) is keyed by a hash of the absolute
    ``dataset_path``, ``num_images``, ``resolution``, ``mirror_augment`` and the feature
    extractor's ``identity`` (which covers the weights file's contents). When it exists,
    ``reals`` is not read at all; otherwise it is written atomically (temporary file +
    ``os.replace``), so concurrent writers never leave a torn file.

    Args:
        reals: minibatches of uint8 NHWC images ``[N, r, r, C]``, e.g. a
            ``tf.data.Dataset``; an element that is a tuple/list counts by its first
            item (``(images, labels)``). It must yield at least ``num_images`` images.
        features: the feature function (usually :class:`InceptionFeatures`); it gets
            float32 images in [-1, 1].
        num_images: how many images to use.
        dataset_path: names the dataset in the cache key (its folder or file).
        resolution: the images' resolution, part of the cache key; batches of another
            size are rejected.
        cache_dir: where to cache; None = compute every time, no file written.
        mirror_augment: flip a random half of the images left-right first, as the
            original does for datasets trained with mirror augmentation.
        seed: seed of those flips.
        progress: where to count the images done (a progress line); None = silent.

    Returns:
        ``(mu, sigma)``, float64 ``[D]`` and ``[D, D]``.
    """
    cache_file = None
    if cache_dir is not None:
        identity = getattr(features, "identity", None)
        if not isinstance(identity, str):
            raise ValueError("caching needs a feature function with a string `identity` attribute")
        cache_file = _stats_cache_path(
            os.fspath(cache_dir), os.fspath(dataset_path), num_images, resolution, mirror_augment, identity
        )
        if os.path.isfile(cache_file):
            with np.load(cache_file) as data:
                logging.info("FID: real statistics from cache %s", cache_file)
                return data["mu"], data["sigma"]

    rng = np.random.default_rng(seed)

    def batches():
        for batch in reals:
            images = batch[0] if isinstance(batch, (tuple, list)) else batch
            images = tf.convert_to_tensor(images)
            if images.dtype != tf.uint8:
                raise TypeError(f"real images must be uint8 NHWC, got {images.dtype.name}")
            if images.shape.rank != 4 or tuple(images.shape[1:3]) != (resolution, resolution):
                raise ValueError(
                    f"real images must be [N, {resolution}, {resolution}, C], got {images.shape}"
                )
            if mirror_augment:
                flip = rng.random(images.shape[0]) < 0.5  # [N]
                images = tf.where(flip[:, None, None, None], images[:, :, ::-1, :], images)
            yield _to_float_images(images)

    start = time.time()
    mu, sigma = feature_statistics(_collect_features(batches(), features, num_images, progress))
    logging.info("FID: real statistics of %d images in %.1f s", num_images, time.time() - start)
    if cache_file is not None:
        _save_npz_atomic(cache_file, mu=mu, sigma=sigma)
        logging.info("FID: cached real statistics in %s", cache_file)
    return mu, sigma


def generator_statistics(
    generate: Callable[[tf.Tensor, tf.Tensor], Any],
    features: FeatureFn,
    *,
    latent_size: int,
    num_images: int,
    minibatch_size: int,
    label_size: int = 0,
    label_sampler: Callable[[int], Any] | None = None,
    seed: int = 0,
    quantize: bool = True,
    progress: ProgressBar | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Feature statistics of ``num_images`` generated images.

    Every call of ``generate`` gets a full minibatch (fixed shapes, so a compiled
    generator is traced once); the surplus of the last one is dropped.

    Args:
        generate: ``(latents [n, latent_size] float32, labels [n, label_size] float32)
            -> images [n, H, W, C]`` float in [-1, 1]. The caller decides the network's
            settings (the original: ``is_validation=True``, ``randomize_noise=True``).
        features: the feature function (usually :class:`InceptionFeatures`).
        latent_size: length of a latent vector.
        num_images: how many images to generate.
        minibatch_size: images per ``generate`` call.
        label_size: label length; used by the default label sampler.
        label_sampler: ``n -> labels [n, label_size]``; None = zeros, which is what the
            original's FID feeds (it passes no labels, and the network fills in zeros).
        seed: seed of the latents (standard normal, numpy).
        quantize: round the images to 8 bits first, as the original
            (:func:`quantize_images`).
        progress: where to count the images done (a progress line); None = silent.

    Returns:
        ``(mu, sigma)``, float64 ``[D]`` and ``[D, D]``.
    """
    if num_images < 2:
        raise ValueError(f"need num_images >= 2, got {num_images}")
    fakes = fake_batches(generate, latent_size, minibatch_size, label_size, label_sampler, seed)
    batches = (quantize_images(images) if quantize else images for images in fakes)
    start = time.time()
    mu, sigma = feature_statistics(_collect_features(batches, features, num_images, progress))
    logging.info("FID: generator statistics of %d images in %.1f s", num_images, time.time() - start)
    return mu, sigma


# ----------------------------------------------------------------------------------
# The metric.


@dataclasses.dataclass(frozen=True)
class FID:
    """An FID metric over a fixed number of images, e.g. ``fid50k``.

    Attributes:
        name: the metric's name, the key of its value in :meth:`compute`'s result.
        num_images: real and generated images (each).
        minibatch_size: images per generator call (the original: 8 per GPU).
    """

    name: str
    num_images: int
    minibatch_size: int = 8

    needs = ("features",)

    def compute(self, ctx: MetricContext) -> dict[str, float]:
        """FID between ``num_images`` reals and as many fakes.

        Args:
            ctx: uses ``features``, ``reals``, ``dataset_path``, ``resolution``,
                ``cache_dir``, ``mirror_augment`` (:func:`dataset_statistics`) and
                ``generate``, ``latent_size``, ``label_size``, ``label_sampler``, ``seed``,
                ``minibatch_size`` (:func:`generator_statistics`).

        Returns:
            ``{name: fid, name + "_time_s": seconds}``, e.g.
            ``{"fid50k": 4.4, "fid50k_time_s": 1234.5}``.
        """
        start = time.time()
        features = ctx.require("features", self.name)
        mu_real, sigma_real = dataset_statistics(
            _LazyReals(ctx),
            features,
            num_images=self.num_images,
            dataset_path=ctx.require("dataset_path", self.name),
            resolution=ctx.require("resolution", self.name),
            cache_dir=ctx.cache_dir,
            mirror_augment=ctx.mirror_augment,
            progress=ctx.progress(f"{self.name} reals", self.num_images),
        )
        mu_fake, sigma_fake = generator_statistics(
            ctx.require("generate", self.name),
            features,
            latent_size=ctx.latent_size,
            num_images=self.num_images,
            minibatch_size=ctx.minibatch_size or self.minibatch_size,
            label_size=ctx.label_size,
            label_sampler=ctx.label_sampler,
            seed=ctx.seed,
            progress=ctx.progress(f"{self.name} fakes", self.num_images),
        )
        value = frechet_distance(mu_fake, sigma_fake, mu_real, sigma_real)
        return {self.name: value, f"{self.name}_time_s": time.time() - start}


class _LazyReals:
    """Iterates ``ctx.iter_reals()`` only when read, so a cache hit opens no dataset."""

    def __init__(self, ctx: MetricContext) -> None:
        self.ctx = ctx

    def __iter__(self):
        return iter(self.ctx.iter_reals())


def fid_from_name(name: str) -> FID | None:
    """The FID metric called ``name`` (``fid50k``, ``fid<N>k``, ``fid<N>``), None if not that form.

    Raises:
        ValueError: the form, but fewer than 2 images.
    """
    parsed = count_in_name(name, "fid", "FID", per_k=1000, minimum=2, unit="image")
    return None if parsed is None else FID(name=name, num_images=parsed[1])


__all__ = [
    "FEATURE_DIM",
    "FID",
    "INCEPTION_GRAPH_FILENAME",
    "INCEPTION_WEIGHTS_FILENAME",
    "InceptionFeatures",
    "InceptionWeightsError",
    "dataset_statistics",
    "fake_batches",
    "feature_statistics",
    "fid_from_name",
    "frechet_distance",
    "generator_statistics",
    "label_sampler_from_array",
    "quantize_images",
]
