"""Datasets: the original multi-resolution TFRecord format, the tf.data pipeline, process_reals."""

from tfstylegan.data.pipeline import adjust_dynamic_range, process_reals
from tfstylegan.data.tfrecords import (
    DatasetError,
    TFRecordDataset,
    TFRecordExporter,
    load_dataset,
    shuffled_order,
)

__all__ = [
    "DatasetError",
    "TFRecordDataset",
    "TFRecordExporter",
    "adjust_dynamic_range",
    "load_dataset",
    "process_reals",
    "shuffled_order",
]
