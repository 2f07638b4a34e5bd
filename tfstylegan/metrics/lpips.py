"""LPIPS on VGG16 (Zhang et al. 2018): the perceptual distance of the original's PPL.

:class:`LPIPS` is a plain callable ``distance(images_a, images_b) -> [N]`` on NHWC RGB float
images in **[0, 255]** (the input convention of NVIDIA's ``vgg16_zhang_perceptual.pkl``,
which the original's PPL feeds ``(x + 1) * 127.5`` and StyleGAN2's projector likewise), of
any size (at least 16 x 16 for all five stages to see more than one pixel). Inside:

1. Preprocessing: ``"imagenet"`` (the pickle's): ``x / 255``, minus the ImageNet mean
   (0.485, 0.456, 0.406), divided by its std (0.229, 0.224, 0.225), RGB. ``"caffe"`` (for
   VGG16 weights ported from Caffe, e.g. Keras'): RGB -> BGR, minus (103.939, 116.779,
   123.68).
2. The 13 VGG16 convolutions (3 x 3, SAME, ReLU), 2 x 2 SAME max-pooling between stages;
   the ReLU outputs of conv 2, 4, 7, 10 and 13 are the features (a Keras model,
   :attr:`LPIPS.features`, reusable on its own).
3. Per stage: each pixel's feature vector divided by (its length + 1e-10); the squared
   difference of the two images' features; the 1 x 1 linear layer (C -> 1, no bias); the
   mean over pixels. The distance is the sum over the five stages.

Weights come from a user-supplied file (:mod:`tfstylegan.metrics.lpips_weights`); nothing is
downloaded.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

import keras
import tensorflow as tf
from absl import logging

from tfstylegan.metrics.lpips_weights import (
    FEATURE_CONVS,
    VGG16_CHANNELS,
    LPIPSWeights,
    VGG16WeightsError,
    load_lpips_weights,
    missing_weights_message,
    random_lpips_weights,
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
FEATURE_EPSILON = 1e-10


def vgg16_features(name: str = "vgg16_features") -> keras.Model:
    """The 13 convolutions of VGG16 as a Keras model: preprocessed images -> 5 feature maps.

    Input ``[N, H, W, 3]``; outputs the ReLU activations of conv 2, 4, 7, 10 and 13,
    ``[N, H / 2^k, W / 2^k, C_k]`` for k = 0..4 (rounded up), C = 64, 128, 256, 512, 512.
    """
    inputs = keras.Input([None, None, 3], name="images")
    x, outputs = inputs, []
    for i in range(1, 14):
        x = keras.layers.Conv2D(VGG16_CHANNELS[i], 3, padding="same", activation="relu", name=f"conv{i}")(x)
        if i in FEATURE_CONVS:
            outputs.append(x)
            if i != FEATURE_CONVS[-1]:
                x = keras.layers.MaxPooling2D(2, 2, padding="same", name=f"pool{len(outputs)}")(x)
    return keras.Model(inputs, outputs, name=name)


def downsample_to_256(images: tf.Tensor) -> tf.Tensor:
    """Box-average ``[N, H, W, C]`` by ``H // 256`` when ``H > 256`` (VGG was trained at 224)."""
    _, h, w, c = images.shape
    if h <= 256:
        return images
    factor = h // 256
    blocks = tf.reshape(images, [-1, h // factor, factor, w // factor, factor, c])  # [N, h/f, f, w/f, f, C]
    return tf.reduce_mean(blocks, axis=[2, 4])  # [N, h/f, w/f, C]


def to_lpips_input(images: tf.Tensor) -> tf.Tensor:
    """Generated NHWC images in [-1, 1] as :class:`LPIPS` takes them: RGB in [0, 255], at most 256 x 256.

    Larger images are box-averaged down (:func:`downsample_to_256`) and grayscale ones
    become three equal channels, then ``(x + 1) * 127.5``: what the original's PPL feeds
    the distance, and StyleGAN2's projector likewise.
    """
    images = downsample_to_256(images)
    if images.shape[-1] == 1:
        images = tf.tile(images, [1, 1, 1, 3])  # [N, h, w, 3]
    return (images + 1.0) * (255.0 / 2.0)


class LPIPS:
    """The LPIPS-VGG16 distance as a compiled callable.

    Args:
        vgg16_weights: ``vgg16_zhang_perceptual.pkl`` (NVIDIA) or an ``.npz`` of the
            documented layout, or ready :class:`LPIPSWeights`. Never downloaded.
        allow_random_init: with no ``vgg16_weights``, use random weights instead of failing.
            FOR TESTS AND BENCHMARKS ONLY: the distances are meaningless.

    Raises:
        VGG16WeightsError: no file given (and random init not allowed), or the file is
            missing or not of the expected layout.

    Attributes:
        features: the Keras VGG16 feature model (:func:`vgg16_features`), weights loaded.
        lin: the five linear-layer weights ``[C]``, float32 constants.
        preprocess: ``"imagenet"`` or ``"caffe"``.
        identity: names the weights (the file's digest).
    """

    def __init__(
        self,
        vgg16_weights: str | os.PathLike | LPIPSWeights | None = None,
        *,
        allow_random_init: bool = False,
    ) -> None:
        if vgg16_weights is None:
            if not allow_random_init:
                raise VGG16WeightsError(missing_weights_message("No VGG16 weights file was given."))
            message = "LPIPS uses RANDOM weights (allow_random_init=True): its distances are MEANINGLESS."
            warnings.warn(message, RuntimeWarning, stacklevel=2)
            logging.warning(message)
            weights = random_lpips_weights()
        elif isinstance(vgg16_weights, LPIPSWeights):
            weights = vgg16_weights
        else:
            weights = load_lpips_weights(vgg16_weights)
        self.features = vgg16_features()
        for i in range(13):
            self.features.get_layer(f"conv{i + 1}").set_weights([weights.kernels[i], weights.biases[i]])
        self.lin = [tf.constant(w.reshape(-1), tf.float32) for w in weights.lin]
        self.preprocess = weights.preprocess
        self.identity = weights.identity
        spec = tf.TensorSpec([None, None, None, 3], tf.float32)
        self._distance = tf.function(self._distance_impl, input_signature=[spec, spec])

    def preprocess_images(self, images: tf.Tensor) -> tf.Tensor:
        """[0, 255] RGB -> the input the VGG16 weights were trained on (see the module docstring)."""
        if self.preprocess == "caffe":
            return images[..., ::-1] - tf.constant(CAFFE_BGR_MEAN, tf.float32)
        return (images / 255.0 - tf.constant(IMAGENET_MEAN, tf.float32)) / tf.constant(
            IMAGENET_STD, tf.float32
        )

    def _distance_impl(self, images_a: tf.Tensor, images_b: tf.Tensor) -> tf.Tensor:
        n = tf.shape(images_a)[0]
        feats = self.features(self.preprocess_images(tf.concat([images_a, images_b], axis=0)), training=False)
        total = tf.zeros([n], tf.float32)
        for x, lin in zip(feats, self.lin):
            x = tf.cast(x, tf.float32)  # [2N, h, w, C]
            x = x / (tf.sqrt(tf.reduce_sum(tf.square(x), axis=-1, keepdims=True)) + FEATURE_EPSILON)
            diff = tf.square(x[:n] - x[n:])  # [N, h, w, C]
            weighted = tf.reduce_sum(diff * lin, axis=-1)  # [N, h, w], the 1 x 1 linear layer
            total += tf.reduce_mean(weighted, axis=[1, 2])  # [N]
        return total

    def __call__(self, images_a: Any, images_b: Any) -> tf.Tensor:
        """The distances of the pairs ``(images_a[i], images_b[i])``.

        Args:
            images_a, images_b: ``[N, H, W, 3]`` float RGB in [0, 255], one shape.

        Returns:
            float32 ``[N]``, >= 0 (0 for identical images).
        """
        a = tf.convert_to_tensor(images_a, tf.float32)
        b = tf.convert_to_tensor(images_b, tf.float32)
        if a.shape.rank != 4 or a.shape[-1] != 3 or a.shape != b.shape:
            raise ValueError(
                f"LPIPS takes two [N, H, W, 3] batches of one shape, got {a.shape} and {b.shape}"
            )
        return self._distance(a, b)


__all__ = [
    "CAFFE_BGR_MEAN",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "LPIPS",
    "downsample_to_256",
    "to_lpips_input",
    "vgg16_features",
]
