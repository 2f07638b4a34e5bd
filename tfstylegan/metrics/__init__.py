"""Metrics of the original StyleGAN: the Frechet Inception Distance (``fid50k``)."""

from tfstylegan.metrics.fid import (
    FEATURE_DIM,
    FID,
    INCEPTION_WEIGHTS_FILENAME,
    InceptionFeatures,
    InceptionWeightsError,
    dataset_statistics,
    feature_statistics,
    frechet_distance,
    generator_statistics,
    get_metric,
    label_sampler_from_array,
    quantize_images,
)

__all__ = [
    "FEATURE_DIM",
    "FID",
    "INCEPTION_WEIGHTS_FILENAME",
    "InceptionFeatures",
    "InceptionWeightsError",
    "dataset_statistics",
    "feature_statistics",
    "frechet_distance",
    "generator_statistics",
    "get_metric",
    "label_sampler_from_array",
    "quantize_images",
]
