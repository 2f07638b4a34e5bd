"""Single records of a level file, read by index: the spot check of the levels, finding a bad record.

Every record of a level has the same shape, so the same size: record ``i`` starts at
``i * record_bytes`` (framing: uint64 length, uint32 CRC of the length, payload, uint32
CRC of the payload). That makes a few records of every level cheap to read when a
dataset is opened, and a bad record cheap to find when the ``tf.data`` reader fails.
"""

from __future__ import annotations

import struct

import numpy as np
import tensorflow as tf

from tfstylegan.data.errors import DatasetError
from tfstylegan.data.tfrecords.format import decode_example

FRAME_BYTES = 16  # TFRecord framing per record: uint64 length, uint32 CRC, payload, uint32 CRC.
SPOT_CHECKS = 4  # Records of every level compared with the level above when a dataset is opened.
MAX_PARSE_BYTES = 1 << 30  # Level files up to this size are parsed record by record to find a bad one.


def sample_indices(num_records: int) -> list[int]:
    """The records that the spot check reads: the first, the last and some evenly between."""
    return sorted({(num_records - 1) * k // (SPOT_CHECKS - 1) for k in range(SPOT_CHECKS)})


def read_record(f, path: str, index: int, record_bytes: int) -> bytes:
    """The payload of record ``index`` of an open level file whose records are ``record_bytes`` long."""
    f.seek(index * record_bytes)
    header = f.read(12)
    (length,) = struct.unpack("<Q", header[:8]) if len(header) == 12 else (None,)
    if length != record_bytes - FRAME_BYTES:
        raise DatasetError(
            f"{path}: record {index} {'is cut off' if length is None else f'holds {length} bytes'}; "
            f"expected {record_bytes - FRAME_BYTES} bytes like record 0 (every record of a level has one size)"
        )
    return f.read(length)


def decode_record(payload: bytes, path: str, index: int, shape: tuple[int, int, int]) -> np.ndarray:
    """Record ``index`` as a uint8 ``[C, H, W]`` image; its ``shape`` feature must be ``shape``."""
    try:
        image = decode_example(payload)
    except Exception as e:  # noqa: BLE001 - any parse failure means a corrupt record.
        raise DatasetError(f"{path}: record {index} cannot be parsed ({str(e)[:200]})") from None
    if image.shape != tuple(shape):
        raise DatasetError(
            f"{path}: record {index} has the shape feature {list(image.shape)}; expected {list(shape)} like "
            "record 0 of the level"
        )
    return image


def box_sum(image: np.ndarray) -> np.ndarray:
    """Sums of the 2x2 blocks of a ``[C, H, W]`` image, as int32 ``[C, H/2, W/2]``."""
    x = image.astype(np.int32)
    return x[:, 0::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 0::2] + x[:, 1::2, 1::2]


def check_levels_agree(
    files: dict[int, str], shapes: dict[int, tuple], record_bytes: dict[int, int], num_records: int
) -> None:
    """Reads a few records of every level and checks each against the same record of the level above.

    The writer computes level ``k+1`` as the 2x2 box average of the unquantised (float)
    level ``k`` and rounds each level on its own. The float level ``k`` is within 0.5 of
    the stored level ``k``, and the stored level ``k+1`` within 0.5 of the box average of
    the float level ``k``; so every stored pixel of level ``k+1`` is within 1 of the box
    average of the stored level ``k`` (within 4 of its 2x2 sum), and nothing else is: an
    image from another dataset, or another image of this one, breaks it.

    Raises:
        DatasetError: naming the file and record that is cut off, of another size or shape,
            unparseable, or not the box average of the level above.
    """
    handles = {lod: tf.io.gfile.GFile(path, "rb") for lod, path in files.items()}
    try:
        for index in sample_indices(num_records):
            above = None
            for lod in sorted(files):
                payload = read_record(handles[lod], files[lod], index, record_bytes[lod])
                image = decode_record(payload, files[lod], index, shapes[lod])
                if above is not None:
                    diff = int(np.max(np.abs(4 * image.astype(np.int32) - box_sum(above))))
                    if diff > 4:
                        raise DatasetError(
                            f"{files[lod]}: record {index} is not the 2x2 box average of record {index} of "
                            f"{files[lod - 1]} (a pixel is {diff / 4:g} away, at most 1 is rounding); the level "
                            "files do not belong to one dataset"
                        )
                above = image
    except tf.errors.OpError as e:
        raise DatasetError(f"cannot read the level files of the dataset ({e.message[:200]})") from None
    finally:
        for f in handles.values():
            f.close()


def find_bad_record(path: str, shape: tuple[int, int, int], record_bytes: int) -> str | None:
    """What is wrong with the first bad record of a level file, or None if none is found.

    Reads the framing of every record (cheap), then parses every record if the file is at
    most :data:`MAX_PARSE_BYTES` long. Used after the ``tf.data`` reader failed, to name
    the record.
    """
    try:
        size = tf.io.gfile.stat(path).length
        count = size // record_bytes
        with tf.io.gfile.GFile(path, "rb") as f:
            for index in range(count):
                read_record(f, path, index, record_bytes)
            if size % record_bytes:
                return f"{size % record_bytes} bytes after record {count - 1} do not make a record"
            if size > MAX_PARSE_BYTES:
                return None
            for index in range(count):
                decode_record(read_record(f, path, index, record_bytes), path, index, shape)
    except DatasetError as e:
        return str(e).removeprefix(f"{path}: ")
    except tf.errors.OpError:
        return None
    return None
