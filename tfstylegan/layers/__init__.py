"""Keras layers that own the weights of the original StyleGAN networks.

- :mod:`~tfstylegan.layers.equalized`: equalized-learning-rate ``Dense`` and ``Conv2D``
  (with the original's 2x resampling convolutions), and the mapping network's
  ``LabelEmbedding``.
- :mod:`~tfstylegan.layers.synthesis`: ``SynthesisLayer``, one layer of G_synthesis with
  its noise, bias, activation, normalisation and style modulation.
"""

from tfstylegan.layers.equalized import (
    SQRT2,
    Conv2D,
    Dense,
    LabelEmbedding,
    WeightMixin,
    resolve_fused_scale,
    runtime_coef,
)
from tfstylegan.layers.synthesis import SynthesisLayer

__all__ = [
    "SQRT2",
    "Conv2D",
    "Dense",
    "LabelEmbedding",
    "SynthesisLayer",
    "WeightMixin",
    "resolve_fused_scale",
    "runtime_coef",
]
