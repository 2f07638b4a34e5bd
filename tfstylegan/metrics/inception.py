"""Inception-v3 pool features for FID, from the 2015 frozen graph or Keras weights.

:class:`InceptionFeatures` reads one of two user-supplied files, told apart by content
(the HDF5 signature, else a GraphDef parse), never by the file name:

- ``classify_image_graph_def.pb`` from ``inception-2015-12-05.tgz``: the graph behind every
  published FID (TTUR's reference code, the StyleGAN papers). Imported natively by
  :mod:`tfstylegan.metrics.inception_graph`; images enter as float [0, 255] at
  ``ExpandDims:0``, the graph resizes them to 299 x 299 itself, features are ``pool_3:0``.
  FIDs from this file are comparable with the papers'.
- A Keras HDF5 weights file of ``keras.applications.InceptionV3(include_top=False,
  pooling="avg")``, the ImageNet "notop" release (:data:`INCEPTION_WEIGHTS_FILENAME`) or a
  Keras 3 ``.weights.h5``. A different training of Inception-v3: its FIDs are comparable only
  with FIDs from the same file. Images are resized bilinearly by ``tf.image.resize``
  (half-pixel centres) and fed in [-1, 1].

Nothing is downloaded at run time.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import warnings
from typing import Any

import h5py
import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfstylegan.metrics import inception_graph
from tfstylegan.metrics.base import WeightsFileError

INCEPTION_WEIGHTS_FILENAME = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
"""The standard Keras ImageNet InceptionV3 weights without the classifier ("notop")."""

INCEPTION_WEIGHTS_URL = (
    "https://github.com/fchollet/deep-learning-models/releases/download/v0.5/" + INCEPTION_WEIGHTS_FILENAME
)
"""The Keras applications release of that file (87,910,968 bytes); never fetched by this code."""

INCEPTION_WEIGHTS_MD5 = "bcbd6486424b2319ff4ef7d526e38f63"
"""MD5 of the standard file, as Keras checks it."""

INCEPTION_GRAPH_FILENAME = inception_graph.GRAPH_FILENAME
"""The frozen 2015 Inception graph of the published FIDs."""

INCEPTION_GRAPH_URL = "http://download.tensorflow.org/models/image/imagenet/" + inception_graph.GRAPH_TARBALL
"""Where TTUR's reference FID code gets the tarball holding that graph; never fetched by this code."""

INCEPTION_RESOLUTION = 299
"""The input size of the standard Inception-v3 feature extractor."""

FEATURE_DIM = 2048
"""Length of the average-pooled Inception-v3 feature vector."""

_HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


class InceptionWeightsError(WeightsFileError):
    """The Inception weights file is missing, unreadable or does not fit the network."""


def _missing_weights_message(problem: str) -> str:
    return (
        f"{problem}\n"
        f"FID needs a local Inception file, passed as `inception_weights=` (the `--inception_weights` flag of "
        f"the command-line tools); Nothing is downloaded at run time. For FIDs comparable with the papers', use "
        f"the frozen graph {INCEPTION_GRAPH_FILENAME} from {inception_graph.GRAPH_TARBALL} (the file of "
        f"Heusel et al.'s TTUR reference code, github.com/bioinf-jku/TTUR, which fetches it from "
        f"{INCEPTION_GRAPH_URL}; unpack it once). Alternatively the ImageNet weights of Keras' InceptionV3 "
        f"without the classifier, {INCEPTION_WEIGHTS_FILENAME} (about 88 MB, MD5 {INCEPTION_WEIGHTS_MD5}), from "
        f"the Keras applications release ({INCEPTION_WEIGHTS_URL}) or a Keras cache (~/.keras/models/); a "
        "'.weights.h5' saved by Keras 3 from keras.applications.InceptionV3(include_top=False, pooling='avg') "
        "works as well. Keras-weight FIDs compare only with FIDs from the same file."
    )


def file_digests(path: str) -> tuple[str, str]:
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


def _is_hdf5_file(path: str) -> bool:
    with open(path, "rb") as f:
        return f.read(len(_HDF5_SIGNATURE)) == _HDF5_SIGNATURE


@contextlib.contextmanager
def _keras_named(path: str):
    """``path``, or a link to it named as Keras needs to pick the HDF5 layout (it goes by extension)."""
    with h5py.File(path, "r") as f:
        legacy = "layer_names" in f.attrs  # Keras 2 layout; Keras 3 ".weights.h5" files have none
    suffix = ".h5" if legacy else ".weights.h5"
    if path.endswith(".weights.h5") != legacy and path.endswith(".h5"):
        yield path
        return
    with tempfile.TemporaryDirectory() as tmp:
        link = os.path.join(tmp, "inception" + suffix)
        os.symlink(os.path.abspath(path), link)
        yield link


def _read_graph_def(path: str) -> tf.compat.v1.GraphDef:
    with open(path, "rb") as f:
        data = f.read()
    try:
        return inception_graph.parse_graph_def(data)
    except inception_graph.GraphDefError as e:
        raise InceptionWeightsError(
            _missing_weights_message(
                f"{path!r} is neither an HDF5 weights file nor the frozen Inception graph: {e}."
            )
        ) from None


class InceptionFeatures:
    """Inception-v3 pool features (2048-d) of NHWC images, batched, in a ``tf.function``.

    Images of any size and 1 or 3 channels (grayscale is tiled to RGB) go in as float
    [-1, 1] (the project's convention) or uint8 [0, 255]. With the frozen graph they are
    mapped to float [0, 255] and fed to ``ExpandDims:0`` unresized (the graph resizes to
    299 x 299 itself); with Keras weights they are resized bilinearly to ``resolution`` and
    fed in [-1, 1] (Keras' ``preprocess_input`` for InceptionV3 is ``x / 127.5 - 1``).

    Args:
        inception_weights: path of the file: the frozen graph
            (:data:`INCEPTION_GRAPH_FILENAME`), or a Keras HDF5 weights file
            (:data:`INCEPTION_WEIGHTS_FILENAME`, legacy ``.h5``, or a Keras 3
            ``.weights.h5``). The kind is read from the contents. Never downloaded.
        resolution: Keras network input size; 299 for real FIDs. Smaller values (>= 75)
            only make tests faster. The frozen graph always resizes to 299.
        allow_random_init: with no ``inception_weights``, build a randomly initialised
            Keras network instead of failing. FOR TESTS ONLY: its FIDs are meaningless.

    Raises:
        InceptionWeightsError: no file given (and random init not allowed), or the file is
            missing or neither kind.

    Attributes:
        identity: a string that changes whenever the features would (the file's SHA-256,
            network kind, input size); part of the cache key of real-image statistics.
        kind: ``"graph"`` (the 2015 frozen graph), ``"keras"`` or ``"random"``.
        feature_dim: 2048.
        is_random_init: True when the weights are random (meaningless FIDs).
        is_standard_weights: True when a Keras file is byte-identical to the standard
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
        if path is not None and not os.path.isfile(path):
            raise InceptionWeightsError(
                _missing_weights_message(f"Inception weights file not found: {path!r}.")
            )
        if path is not None and not _is_hdf5_file(path):
            self._init_graph(path)
        else:
            self._init_keras(path)

    def _init_graph(self, path: str) -> None:
        graph_def = _read_graph_def(path)
        self.kind = "graph"
        self.resolution = INCEPTION_RESOLUTION
        self._graph_fn = inception_graph.load_feature_function(graph_def)
        sha256, _ = file_digests(path)
        self.identity = f"inception-2015-12-05-graph-file-sha256:{sha256}"
        self._forward = tf.function(
            self._graph_forward, input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)]
        )
        logging.info("Inception: the frozen graph %s (%d nodes)", path, len(graph_def.node))

    def _graph_forward(self, pixels: tf.Tensor) -> tf.Tensor:
        pool = self._graph_fn(pixels)  # [N, 1, 1, D]
        return tf.reshape(pool, [tf.shape(pixels)[0], -1])  # [N, D]

    def _init_keras(self, path: str | None) -> None:
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
            warnings.warn(message, RuntimeWarning, stacklevel=3)
            logging.warning(message)
            self.kind = "random"
            self.identity = f"random-init-{self.resolution}-{_weights_identity(self._model.get_weights())}"
        else:
            self._load_weights(path)
            sha256, md5 = file_digests(path)
            self.kind = "keras"
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
            self._keras_forward,
            input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)],
        )

    def _load_weights(self, path: str) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                with _keras_named(path) as named:
                    self._model.load_weights(named)
            except Exception as e:  # h5py and Keras raise many types here
                raise InceptionWeightsError(
                    _missing_weights_message(
                        f"Could not load Inception weights from {path!r}: {type(e).__name__}: {e}"
                    )
                ) from e
        for w in caught[:5]:
            warnings.warn(w.message, w.category, stacklevel=4)

    def _keras_forward(self, images: tf.Tensor) -> tf.Tensor:
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
        images = tf.convert_to_tensor(images)
        if images.shape.rank != 4 or images.shape[-1] not in (1, 3):
            raise ValueError(f"images must be NHWC with 1 or 3 channels, got shape {images.shape}")
        if images.dtype != tf.uint8 and not images.dtype.is_floating:
            raise TypeError(f"images must be uint8 or float, got {images.dtype.name}")
        if images.shape[-1] == 1:
            images = tf.tile(images, [1, 1, 1, 3])  # grayscale -> RGB
        if self.kind == "graph":  # float [0, 255], as the reference code feeds uint8 images
            if images.dtype == tf.uint8:
                return self._forward(tf.cast(images, tf.float32))
            return self._forward((tf.cast(images, tf.float32) + 1.0) * 127.5)
        if images.dtype == tf.uint8:
            return self._forward(tf.cast(images, tf.float32) / 127.5 - 1.0)
        return self._forward(tf.cast(images, tf.float32))


__all__ = [
    "FEATURE_DIM",
    "INCEPTION_GRAPH_FILENAME",
    "INCEPTION_GRAPH_URL",
    "INCEPTION_RESOLUTION",
    "INCEPTION_WEIGHTS_FILENAME",
    "INCEPTION_WEIGHTS_MD5",
    "INCEPTION_WEIGHTS_URL",
    "InceptionFeatures",
    "InceptionWeightsError",
    "file_digests",
]
