"""One record of the multi-resolution format, the levels of detail of one image, the record order.

See :mod:`tfstylegan.data.tfrecords` for the layout of a dataset.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import tensorflow as tf

LABELS_SUFFIX = "-rxx.labels"
TFRECORDS_EXT = ".tfrecords"


def _varint(value: int) -> bytes:
    """Protobuf base-128 varint of a non-negative integer."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _length_delimited(field_number: int, payload: bytes) -> bytes:
    """A protobuf field of wire type 2 (bytes, strings, sub-messages, packed lists)."""
    return _varint((field_number << 3) | 2) + _varint(len(payload)) + payload


def encode_example(image_chw: np.ndarray) -> bytes:
    """Serialises one image as the original format's ``tf.train.Example``.

    The bytes are those of ``Example(features=Features(feature={'shape': Int64List(shape),
    'data': BytesList([bytes])}))`` with the map entries in the order ``shape``, ``data``.

    Args:
        image_chw: uint8 array ``[C, H, W]``.

    Returns:
        The serialised Example.
    """
    image_chw = np.ascontiguousarray(image_chw, dtype=np.uint8)
    packed_shape = b"".join(_varint(int(d)) for d in image_chw.shape)
    shape_feature = _length_delimited(3, _length_delimited(1, packed_shape))  # Feature.int64_list
    data_feature = _length_delimited(1, _length_delimited(1, image_chw.tobytes()))  # Feature.bytes_list
    entries = _length_delimited(
        1, _length_delimited(1, b"shape") + _length_delimited(2, shape_feature)
    ) + _length_delimited(1, _length_delimited(1, b"data") + _length_delimited(2, data_feature))
    return _length_delimited(1, entries)  # Example.features


def decode_example(serialized: bytes) -> np.ndarray:
    """Parses one record of the format into a uint8 ``[C, H, W]`` array (either map order)."""
    example = tf.train.Example.FromString(serialized)
    feature = example.features.feature
    if "shape" not in feature or "data" not in feature:
        raise ValueError(f"record has features {sorted(feature.keys())}, expected 'shape' and 'data'")
    shape = list(feature["shape"].int64_list.value)
    values = feature["data"].bytes_list.value
    if len(shape) != 3 or len(values) != 1:
        raise ValueError(f"record has shape {shape} and {len(values)} data values, expected [C, H, W] and 1")
    data = np.frombuffer(values[0], dtype=np.uint8)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"record holds {data.size} bytes for shape {shape}")
    return data.reshape(shape)


def image_levels(image: np.ndarray, num_levels: int) -> Iterator[np.ndarray]:
    """Yields the quantised levels of detail of one image, full resolution first.

    Each level is the 2x2 box average of the previous **unquantised** level, computed in
    float32 as ``(a + b + c + d) * 0.25``; each is then rounded half to even, clipped to
    [0, 255] and cast to uint8.

    Args:
        image: ``[H, W, C]`` array (uint8 or float).
        num_levels: how many levels to produce.

    Yields:
        uint8 arrays ``[H / 2**k, W / 2**k, C]`` for k = 0 .. num_levels - 1.
    """
    img = image
    for level in range(num_levels):
        if level:
            img = img.astype(np.float32)
            img = (img[0::2, 0::2] + img[0::2, 1::2] + img[1::2, 0::2] + img[1::2, 1::2]) * 0.25
        if img.dtype == np.uint8:
            yield img
        else:
            yield np.rint(img).clip(0, 255).astype(np.uint8)


def shuffled_order(num_images: int) -> np.ndarray:
    """The record order of ``--shuffle 1``: ``RandomState(123)`` shuffling ``arange(N)``."""
    order = np.arange(num_images)
    np.random.RandomState(123).shuffle(order)
    return order
