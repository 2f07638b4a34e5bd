"""Frechet Inception Distance (FID), as the original StyleGAN reports it (``fid50k``).

FID compares the Gaussian statistics (mean and covariance) of Inception-v3 pool
features of real and generated images (Heusel et al. 2017):

    FID = |mu_r - mu_g|^2 + tr(S_r + S_g - 2 (S_r S_g)^(1/2))

What the original does, and what this module keeps:

- ``num_images`` (50,000 for ``fid50k``) reals and fakes; the real statistics are
  computed once per dataset and cached on disk.
- Fakes come from ``Gs`` with its validation settings (``is_validation=True``, so the
  network's own default truncation, and ``randomize_noise=True``) on standard normal
  latents. That choice belongs to the caller's ``generate`` function here.
- Fakes are rounded to 8 bits before Inception, like the reals
  (:func:`quantize_images`).
- Inception resizes every image to 299 x 299 bilinearly (no antialiasing). The
  original's TF1 resize sampled without half-pixel centres; ``tf.image.resize`` uses
  them, a sub-pixel shift.
- Features are the 2048-d average-pooled activations; the covariance is
  ``np.cov(features, rowvar=False)`` (unbiased, N - 1).

What differs: the original loads a pickled TF1 Inception graph. Offline, this port
builds ``keras.applications.InceptionV3`` and fills it from a weights file that the
user supplies (:data:`INCEPTION_WEIGHTS_FILENAME`); nothing is downloaded at run time.
The Keras ImageNet weights are a different training of Inception-v3 than the graph
behind the published FIDs, so the numbers are not comparable with the paper's: compare
FIDs computed with the same weights file.

Typical use::

    features = InceptionFeatures(inception_weights="inception_v3_..._notop.h5")
    metric = get_metric("fid50k")
    result = metric.compute(generate, features, reals, latent_size=512,
                            dataset_path="datasets/ffhq", resolution=1024,
                            cache_dir="cache")
    # -> {"fid50k": 4.4, "fid50k_time_s": 1234.5}
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from typing import Any

import h5py
import keras
import numpy as np
import tensorflow as tf
from absl import logging

INCEPTION_WEIGHTS_FILENAME = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
"""The standard Keras ImageNet InceptionV3 weights without the classifier ("notop")."""

INCEPTION_WEIGHTS_URL = (
    "https://github.com/fchollet/deep-learning-models/releases/download/v0.5/" + INCEPTION_WEIGHTS_FILENAME
)
"""The Keras applications release of that file (87,910,968 bytes); never fetched by this code."""

INCEPTION_WEIGHTS_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"
"""MD5 of the standard file, as Keras checks it."""

INCEPTION_RESOLUTION = 299
"""The input size of the standard Inception-v3 feature extractor."""

FEATURE_DIM = 2048
"""Length of the average-pooled Inception-v3 feature vector."""

FeatureFn = Callable[[tf.Tensor], Any]
"""A feature function: float32 NHWC images in [-1, 1] -> features ``[N, D]``.

To be cached, it needs a string attribute ``identity`` that changes whenever its
output would (weights, input size); :class:`InceptionFeatures` has one.
"""


class InceptionWeightsError(ValueError):
    """The Inception weights file is missing, unreadable or does not fit the network."""


# ----------------------------------------------------------------------------------
# The math.


def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of a set of feature vectors.

    Args:
        features: ``[N, D]`` array, one feature vector per row, N >= 2.

    Returns:
        ``(mu, sigma)``: float64 ``[D]`` mean and ``[D, D]`` unbiased covariance
        (``np.cov(features, rowvar=False)``, normalised by N - 1, as the original).
    """
    features = np.asarray(features)
    if features.ndim != 2 or features.shape[0] < 2:
        raise ValueError(f"features must be [N, D] with N >= 2, got shape {features.shape}")
    mu = np.mean(features, axis=0, dtype=np.float64)
    sigma = np.cov(features, rowvar=False)
    return mu, np.atleast_2d(sigma)


def _numerical_zero(eigvals: np.ndarray) -> float:
    """Eigenvalues at or below this are round-off (the usual matrix-rank tolerance)."""
    return max(float(np.max(eigvals)), 0.0) * eigvals.shape[0] * np.finfo(np.float64).eps


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Frechet distance between two Gaussians N(mu1, sigma1) and N(mu2, sigma2).

    ``|mu1 - mu2|^2 + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^(1/2))``, in float64.

    The original takes ``scipy.linalg.sqrtm`` of the product ``sigma1 @ sigma2``, which
    is not symmetric and can come back complex or inaccurate when the covariances are
    singular (fewer images than feature dimensions). Here only symmetric
    eigendecompositions are used:

    1. ``sigma1 = U diag(l) U^T`` (``eigh``), keeping the r eigenvalues above round-off
       (``l > max(l) * D * eps``), so ``R = U diag(sqrt(l)) U^T`` is its PSD square root.
    2. ``S1 S2`` has the spectrum of the symmetric PSD ``R S2 R``, whose nonzero part is
       that of the r x r matrix ``diag(sqrt(l)) U^T S2 U diag(sqrt(l))`` (U has
       orthonormal columns).
    3. ``tr((S1 S2)^(1/2))`` is the sum of the square roots of those eigenvalues
       (``eigvalsh``), again with round-off ones set to zero.

    Singular covariances need no regularising offset, and dropping the round-off
    eigenvalues keeps their square roots (~1e-8 each) out of the trace. Low-rank
    ``sigma1`` also makes step 2 cheap.

    Args:
        mu1: ``[D]`` mean of the first set.
        sigma1: ``[D, D]`` covariance of the first set (symmetric PSD).
        mu2: ``[D]`` mean of the second set.
        sigma2: ``[D, D]`` covariance of the second set (symmetric PSD).

    Returns:
        The distance as a Python float, >= 0 (a round-off negative result is returned
        as 0).

    Raises:
        ValueError: on mismatched shapes or non-finite values.
    """
    mu1 = np.atleast_1d(np.asarray(mu1, dtype=np.float64))
    mu2 = np.atleast_1d(np.asarray(mu2, dtype=np.float64))
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    d = mu1.shape[0]
    if mu1.shape != (d,) or mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"shape mismatch: mu1 {mu1.shape}, sigma1 {sigma1.shape}, mu2 {mu2.shape}, sigma2 {sigma2.shape}"
        )
    for name, value in (("mu1", mu1), ("sigma1", sigma1), ("mu2", mu2), ("sigma2", sigma2)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} has non-finite values (NaN or inf features?)")
    sigma1 = 0.5 * (sigma1 + sigma1.T)
    sigma2 = 0.5 * (sigma2 + sigma2.T)

    eigvals, eigvecs = np.linalg.eigh(sigma1)
    keep = eigvals > _numerical_zero(eigvals)
    roots = np.sqrt(eigvals[keep])  # [r]
    basis = eigvecs[:, keep]  # [D, r], orthonormal columns
    middle = (basis.T @ sigma2 @ basis) * roots[:, None] * roots[None, :]  # [r, r]
    middle = 0.5 * (middle + middle.T)
    tr_covmean = 0.0
    if middle.size:
        middle_eigvals = np.linalg.eigvalsh(middle)
        middle_eigvals = middle_eigvals[middle_eigvals > _numerical_zero(middle_eigvals)]
        tr_covmean = float(np.sum(np.sqrt(middle_eigvals)))

    diff = mu1 - mu2
    dist = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * tr_covmean
    return float(max(dist, 0.0))


# ----------------------------------------------------------------------------------
# Image conventions.


def quantize_images(images: tf.Tensor) -> tf.Tensor:
    """Round float images in [-1, 1] to the 256 levels of 8-bit images, kept in [-1, 1].

    The original converts its fakes to uint8 before Inception
    (``x * 127.5 + 127.5``, rounded half up, clipped to [0, 255]); the reals are uint8
    anyway. Doing the same keeps fakes and reals on the same footing.
    """
    images = tf.convert_to_tensor(images, dtype=tf.float32)
    levels = tf.clip_by_value(tf.floor(images * 127.5 + 128.0), 0.0, 255.0)  # 0..255
    return levels / 127.5 - 1.0


def _to_float_images(images: Any) -> tf.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]; float images are taken as [-1, 1] already."""
    images = tf.convert_to_tensor(images)
    if images.dtype == tf.uint8:
        return tf.cast(images, tf.float32) / 127.5 - 1.0
    if not images.dtype.is_floating:
        raise TypeError(f"images must be uint8 or float, got {images.dtype.name}")
    return tf.cast(images, tf.float32)


# ----------------------------------------------------------------------------------
# The Inception feature extractor.


def _missing_weights_message(problem: str) -> str:
    return (
        f"{problem}\n"
        "FID needs the ImageNet weights of Keras InceptionV3 without the classifier, as a "
        f"local file named {INCEPTION_WEIGHTS_FILENAME} (about 88 MB, MD5 "
        f"{INCEPTION_WEIGHTS_MD5}). Nothing is downloaded at run time: get that file once "
        f"from the Keras applications release ({INCEPTION_WEIGHTS_URL}), or copy it from a "
        "Keras cache (~/.keras/models/), and pass its path as `inception_weights=` (the "
        "`--inception_weights` flag of the command-line tools). A '.weights.h5' file saved "
        "by Keras 3 from keras.applications.InceptionV3(include_top=False, pooling='avg') "
        "works as well."
    )


def _file_digests(path: str) -> tuple[str, str]:
    """(sha256, md5) hex digests of a file's bytes."""
    sha256, md5 = hashlib.sha256(), hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha256.update(block)
            md5.update(block)
    return sha256.hexdigest(), md5.hexdigest()


def _weights_identity(weights: list[np.ndarray]) -> str:
    digest = hashlib.sha256()
    for w in weights:
        digest.update(np.ascontiguousarray(w).tobytes())
    return "weights-sha256:" + digest.hexdigest()


class InceptionFeatures:
    """Inception-v3 pool features (2048-d) of NHWC images, batched, in a ``tf.function``.

    Images of any size and 1 or 3 channels (grayscale is tiled to RGB) are resized
    bilinearly to ``resolution`` x ``resolution`` and fed to
    ``keras.applications.InceptionV3(include_top=False, pooling="avg")``. Keras's
    InceptionV3 expects pixels in [-1, 1] (its ``preprocess_input`` is ``x / 127.5 - 1``),
    which is the project's image convention, so no further mapping is needed.

    Args:
        inception_weights: path of the weights file: the Keras ImageNet "notop" file
            (:data:`INCEPTION_WEIGHTS_FILENAME`, legacy ``.h5``) or a Keras 3
            ``.weights.h5`` of the same network. Never downloaded.
        resolution: input size of the network; 299 for real FIDs. Smaller values
            (>= 75) only make tests faster.
        allow_random_init: with no ``inception_weights``, build a randomly initialised
            network instead of failing. FOR TESTS ONLY: its FIDs are meaningless.

    Raises:
        InceptionWeightsError: no weights file given (and random init not allowed), or
            the file is missing or does not fit the network.

    Attributes:
        identity: a string that changes whenever the features would (weights, size);
            part of the cache key of real-image statistics.
        feature_dim: 2048.
        is_random_init: True when the weights are random (meaningless FIDs).
        is_standard_weights: True when the file is byte-identical to the standard
            Keras release file (by :data:`INCEPTION_WEIGHTS_MD5`).
    """

    def __init__(
        self,
        inception_weights: str | os.PathLike | None = None,
        *,
        resolution: int = INCEPTION_RESOLUTION,
        allow_random_init: bool = False,
    ) -> None:
        if resolution < 75:
            raise ValueError(f"InceptionV3 needs resolution >= 75, got {resolution}")
        self.resolution = int(resolution)
        self.feature_dim = FEATURE_DIM
        path = None if inception_weights is None else os.fspath(inception_weights)
        self.is_random_init = path is None
        self.is_standard_weights = False
        if path is None and not allow_random_init:
            raise InceptionWeightsError(_missing_weights_message("No Inception weights file was given."))
        if path is not None:
            if not os.path.isfile(path):
                raise InceptionWeightsError(
                    _missing_weights_message(f"Inception weights file not found: {path!r}.")
                )
            if not path.endswith((".h5", ".hdf5")) or not h5py.is_hdf5(path):
                raise InceptionWeightsError(
                    _missing_weights_message(f"Inception weights must be an HDF5 (.h5) file: {path!r}.")
                )

        self._model = keras.applications.InceptionV3(
            include_top=False,
            weights=None,
            input_shape=(self.resolution, self.resolution, 3),
            pooling="avg",
        )
        if path is None:
            message = (
                "InceptionFeatures uses RANDOM weights (allow_random_init=True): every FID it "
                "produces is MEANINGLESS. This is for tests only; pass inception_weights= for "
                "real numbers."
            )
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            logging.warning(message)
            self.identity = f"random-init-{self.resolution}-{_weights_identity(self._model.get_weights())}"
        else:
            self._load_weights(path)
            sha256, md5 = _file_digests(path)
            self.identity = f"inception-v3-{self.resolution}-file-sha256:{sha256}"
            self.is_standard_weights = md5 == INCEPTION_WEIGHTS_MD5
            if not self.is_standard_weights:
                logging.info(
                    "Inception weights %s are not byte-identical to the standard %s; FIDs are "
                    "comparable only with FIDs computed from the same weights.",
                    path,
                    INCEPTION_WEIGHTS_FILENAME,
                )

        self._forward = tf.function(
            self._forward_impl,
            input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)],
        )

    def _load_weights(self, path: str) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self._model.load_weights(path)
            except Exception as e:  # h5py and Keras raise many types here
                raise InceptionWeightsError(
                    _missing_weights_message(
                        f"Could not load Inception weights from {path!r}: {type(e).__name__}: {e}"
                    )
                ) from e
        for w in caught[:5]:
            warnings.warn(w.message, w.category, stacklevel=3)

    def _forward_impl(self, images: tf.Tensor) -> tf.Tensor:
        images = tf.image.resize(images, [self.resolution, self.resolution], method="bilinear")
        return self._model(images, training=False)  # [N, 2048]

    def __call__(self, images: Any) -> tf.Tensor:
        """Features of a batch of images.

        Args:
            images: ``[N, H, W, C]``, C in {1, 3}: float in [-1, 1] (the project's
                convention) or uint8 in [0, 255].

        Returns:
            float32 ``[N, 2048]``.
        """
        images = _to_float_images(images)
        if images.shape.rank != 4 or images.shape[-1] not in (1, 3):
            raise ValueError(f"images must be NHWC with 1 or 3 channels, got shape {images.shape}")
        if images.shape[-1] == 1:
            images = tf.tile(images, [1, 1, 1, 3])  # grayscale -> RGB
        return self._forward(images)


# ----------------------------------------------------------------------------------
# Statistics of real and generated images.


def _collect_features(batches: Iterable[Any], features: FeatureFn, num_images: int) -> np.ndarray:
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
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


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
    mu, sigma = feature_statistics(_collect_features(batches(), features, num_images))
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

    Returns:
        ``(mu, sigma)``, float64 ``[D]`` and ``[D, D]``.
    """
    if minibatch_size < 1 or num_images < 2:
        raise ValueError(f"need minibatch_size >= 1 and num_images >= 2, got {minibatch_size}, {num_images}")
    if label_sampler is None:
        label_sampler = lambda n: np.zeros([n, label_size], dtype=np.float32)
    rng = np.random.default_rng(seed)

    def batches():
        while True:
            latents = rng.standard_normal([minibatch_size, latent_size]).astype(np.float32)
            labels = np.asarray(label_sampler(minibatch_size), dtype=np.float32)
            if labels.shape[0] != minibatch_size or labels.ndim != 2:
                raise ValueError(f"label_sampler({minibatch_size}) gave shape {labels.shape}")
            images = generate(tf.constant(latents), tf.constant(labels))
            images = tf.convert_to_tensor(images, dtype=tf.float32)
            yield quantize_images(images) if quantize else images

    start = time.time()
    mu, sigma = feature_statistics(_collect_features(batches(), features, num_images))
    logging.info("FID: generator statistics of %d images in %.1f s", num_images, time.time() - start)
    return mu, sigma


def label_sampler_from_array(labels: np.ndarray, seed: int = 0) -> Callable[[int], np.ndarray]:
    """A label sampler drawing rows of ``labels`` ``[num_labels, label_size]`` at random.

    For conditional networks, to feed labels distributed like the dataset's (the
    original's FID feeds zeros instead; see :func:`generator_statistics`).
    """
    labels = np.asarray(labels, dtype=np.float32)
    rng = np.random.default_rng(seed)
    return lambda n: labels[rng.integers(0, labels.shape[0], size=n)]


# ----------------------------------------------------------------------------------
# The metric by name.


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

    def compute(
        self,
        generate: Callable[[tf.Tensor, tf.Tensor], Any],
        features: FeatureFn,
        reals: Iterable[Any],
        *,
        latent_size: int,
        dataset_path: str | os.PathLike,
        resolution: int,
        cache_dir: str | os.PathLike | None = None,
        mirror_augment: bool = False,
        label_size: int = 0,
        label_sampler: Callable[[int], Any] | None = None,
        seed: int = 0,
    ) -> dict[str, float]:
        """FID between ``num_images`` reals and as many fakes.

        Args: as :func:`dataset_statistics` (``reals``, ``dataset_path``,
            ``resolution``, ``cache_dir``, ``mirror_augment``) and
            :func:`generator_statistics` (``generate``, ``latent_size``,
            ``label_size``, ``label_sampler``, ``seed``); ``features`` serves both.

        Returns:
            ``{name: fid, name + "_time_s": seconds}``, e.g.
            ``{"fid50k": 4.4, "fid50k_time_s": 1234.5}``.
        """
        start = time.time()
        mu_real, sigma_real = dataset_statistics(
            reals,
            features,
            num_images=self.num_images,
            dataset_path=dataset_path,
            resolution=resolution,
            cache_dir=cache_dir,
            mirror_augment=mirror_augment,
        )
        mu_fake, sigma_fake = generator_statistics(
            generate,
            features,
            latent_size=latent_size,
            num_images=self.num_images,
            minibatch_size=self.minibatch_size,
            label_size=label_size,
            label_sampler=label_sampler,
            seed=seed,
        )
        value = frechet_distance(mu_fake, sigma_fake, mu_real, sigma_real)
        return {self.name: value, f"{self.name}_time_s": time.time() - start}


def get_metric(name: str) -> FID:
    """The FID metric called ``name``: ``fid50k`` (the original's), or ``fid<N>k`` /
    ``fid<N>`` for N thousand / N images (e.g. ``fid10k``, ``fid500``).

    Raises:
        ValueError: an unknown name.
    """
    match = re.fullmatch(r"fid(\d+)(k?)", name)
    if match is None:
        raise ValueError(f"unknown metric {name!r}; known: fid50k, or fid<N>k / fid<N> (e.g. fid10k, fid500)")
    num_images = int(match.group(1)) * (1000 if match.group(2) else 1)
    if num_images < 2:
        raise ValueError(f"{name!r}: FID needs at least 2 images")
    return FID(name=name, num_images=num_images)
