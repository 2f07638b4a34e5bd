"""The original StyleGAN multi-resolution TFRecord dataset format: writer and reader.

A dataset is a directory ``<dir>`` holding one uncompressed TFRecord file per level of
detail, ``<dir>/<basename(dir)>-rNN.tfrecords`` with ``NN = log2(resolution)``, from the
full resolution down to ``r02`` (4x4), plus optionally ``<basename>-rxx.labels``.

- Every record is a ``tf.train.Example`` with two features: ``shape`` (int64 list
  ``[C, H, W]``) and ``data`` (the raw uint8 bytes in C, H, W order).
- Every file holds the same images in the same order, so record ``i`` of every level is
  the same picture, and row ``i`` of the labels array belongs to it.
- Level ``k+1`` is the 2x2 box average of the **float, unquantised** level ``k``; each
  level is quantised on its own (``np.rint``, clip to [0, 255], uint8).
- Labels are ``np.save`` of a float32 ``[N, label_size]`` array.

The writer emits the Example's feature map in the order ``shape``, ``data`` by encoding
the (tiny, fixed) protobuf by hand, so its bytes are identical from run to run and to the
files written by the original tool; TensorFlow's own protobuf serialiser does not
guarantee the order of map entries.

Inside this project images are NHWC: the writer takes ``[H, W, C]`` arrays and the reader
yields ``[N, H, W, C]`` uint8 minibatches with float32 ``[N, label_size]`` labels.

Modules: :mod:`~tfstylegan.data.tfrecords.format` (one record, the levels of one image,
the record order), :mod:`~tfstylegan.data.tfrecords.writer` (:class:`TFRecordExporter`),
:mod:`~tfstylegan.data.tfrecords.files` (finding and checking the files of a dataset),
:mod:`~tfstylegan.data.tfrecords.reader` (:class:`TFRecordDataset`, the ``tf.data``
pipeline).
"""

from tfstylegan.data.errors import DatasetError
from tfstylegan.data.tfrecords.format import (
    LABELS_SUFFIX,
    TFRECORDS_EXT,
    decode_example,
    encode_example,
    image_levels,
    shuffled_order,
)
from tfstylegan.data.tfrecords.reader import TFRecordDataset, load_dataset
from tfstylegan.data.tfrecords.writer import TFRecordExporter

__all__ = [
    "LABELS_SUFFIX",
    "TFRECORDS_EXT",
    "DatasetError",
    "TFRecordDataset",
    "TFRecordExporter",
    "decode_example",
    "encode_example",
    "image_levels",
    "load_dataset",
    "shuffled_order",
]
