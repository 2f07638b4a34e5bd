"""Metrics of the original StyleGAN and ProGAN: FID, PPL (LPIPS-VGG16) and SWD, by name.

:func:`get_metric` (``fid50k``, ``ppl_wend``, ``swd16k``, ...) gives a metric object whose
``compute(MetricContext)`` returns its values; :func:`tfstylegan.metrics.runner.run_metrics`
runs metrics on a generator and a dataset directory.
"""

from tfstylegan.metrics.base import MetricContext, WeightsFileError
from tfstylegan.metrics.fid import (
    FID,
    dataset_statistics,
    generator_statistics,
    label_sampler_from_array,
    quantize_images,
)
from tfstylegan.metrics.frechet import feature_statistics, frechet_distance
from tfstylegan.metrics.inception import (
    FEATURE_DIM,
    INCEPTION_GRAPH_FILENAME,
    INCEPTION_WEIGHTS_FILENAME,
    InceptionFeatures,
    InceptionWeightsError,
)
from tfstylegan.metrics.lpips import LPIPS
from tfstylegan.metrics.lpips_weights import VGG16WeightsError
from tfstylegan.metrics.ppl import PPL
from tfstylegan.metrics.registry import DEFAULT_SNAPSHOT_METRIC, get_metric, get_metrics, metric_needs
from tfstylegan.metrics.swd import SWD

__all__ = [
    "DEFAULT_SNAPSHOT_METRIC",
    "FEATURE_DIM",
    "FID",
    "INCEPTION_GRAPH_FILENAME",
    "INCEPTION_WEIGHTS_FILENAME",
    "LPIPS",
    "PPL",
    "SWD",
    "InceptionFeatures",
    "InceptionWeightsError",
    "MetricContext",
    "VGG16WeightsError",
    "WeightsFileError",
    "dataset_statistics",
    "feature_statistics",
    "frechet_distance",
    "generator_statistics",
    "get_metric",
    "get_metrics",
    "label_sampler_from_array",
    "metric_needs",
    "quantize_images",
]
