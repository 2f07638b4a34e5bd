"""Datasets: the original multi-resolution TFRecord format, the tf.data pipeline, process_reals,
and a built-in synthetic dataset.

Behind the dataset tool: :mod:`~tfstylegan.data.builders` (the ``create_*`` commands, with
:mod:`~tfstylegan.data.archives` and :mod:`~tfstylegan.data.image_folder` reading their
inputs) and :mod:`~tfstylegan.data.inspection` (display, extract, compare, info).
"""

from tfstylegan.data.errors import DatasetError
from tfstylegan.data.pipeline import process_reals
from tfstylegan.data.synthetic import SHAPES, create_synthetic_dataset, generate_shapes
from tfstylegan.data.tfrecords import TFRecordDataset, TFRecordExporter, load_dataset, shuffled_order
from tfstylegan.images import adjust_dynamic_range

__all__ = [
    "SHAPES",
    "DatasetError",
    "TFRecordDataset",
    "TFRecordExporter",
    "adjust_dynamic_range",
    "create_synthetic_dataset",
    "generate_shapes",
    "load_dataset",
    "process_reals",
    "shuffled_order",
]
