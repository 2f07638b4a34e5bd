"""Corrupt datasets, each read by one of six probes: open, every level, the pipeline, verify, the grid, the tool.

A case writes a small dataset (random images, optional labels) with the exporter,
damages it in one way and reads it. Damage that changes what the dataset holds must be
refused by every probe that reads the damaged part; the probes that read only part of
the data may accept damage they never see.
"""

from __future__ import annotations

import os
import random
import shutil
import struct
from pathlib import Path

import numpy as np

from .harness import Case, register, run_cli

PROBES = ("open", "read_all", "pipeline", "verify", "grid", "tool")
FULL_READS = ("read_all", "pipeline", "verify", "tool")  # The probes that read every record.


def _write(path: Path, rng: random.Random, images: np.ndarray, labels: bool) -> None:
    from tfstylegan.data.tfrecords import TFRecordExporter

    with TFRecordExporter(str(path), len(images), print_progress=False) as tfr:
        for image in images:
            tfr.add_image(image)
        if labels:
            tfr.add_labels(np.eye(len(images), 4, dtype=np.float32)[np.arange(len(images)) % 4])


def _base(rng: random.Random, workdir: Path):
    n, res, channels = rng.choice([8, 16, 17]), rng.choice([8, 16, 32]), rng.choice([1, 3])
    images = (
        np.random.RandomState(rng.getrandbits(31)).randint(0, 256, [n, res, res, channels]).astype(np.uint8)
    )
    path = workdir / "ds"
    labels = rng.random() < 0.5
    _write(path, rng, images, labels)
    levels = sorted(path.glob("*.tfrecords"))
    return path, images, labels, levels


def _records(level: Path) -> list[bytes]:
    import tensorflow as tf

    return [r.numpy() for r in tf.data.TFRecordDataset(str(level))]


def _rewrite(level: Path, records: list[bytes]) -> None:
    import tensorflow as tf

    with tf.io.TFRecordWriter(str(level)) as writer:
        for record in records:
            writer.write(record)


def _example(shape, data: bytes) -> bytes:
    import tensorflow as tf

    feature = {
        "shape": tf.train.Feature(int64_list=tf.train.Int64List(value=list(shape))),
        "data": tf.train.Feature(bytes_list=tf.train.BytesList(value=[data])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def truncate(rng, path, images, labels, levels):
    level = rng.choice(levels)
    data = level.read_bytes()
    level.write_bytes(data[: rng.randrange(len(data))])
    return f"{level.name} cut"


def flip_no_crc(rng, path, images, labels, levels):
    level = rng.choice(levels)
    data = bytearray(level.read_bytes())
    for _ in range(rng.randint(1, 4)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    level.write_bytes(bytes(data))
    return f"{level.name} bits flipped"


def flip_fixed_crc(rng, path, images, labels, levels):
    level = rng.choice(levels)
    records = _records(level)
    index = rng.randrange(len(records))
    record = bytearray(records[index])
    for _ in range(rng.randint(1, 4)):
        record[rng.randrange(len(record))] = rng.randrange(256)
    records[index] = bytes(record)
    _rewrite(level, records)
    return f"{level.name} record {index} edited, CRC fixed"


def random_record(rng, path, images, labels, levels):
    level = rng.choice(levels)
    records = _records(level)
    index = rng.randrange(len(records))
    records[index] = rng.randbytes(rng.choice([0, 1, len(records[index]), rng.randint(2, 4096)]))
    _rewrite(level, records)
    return f"{level.name} record {index} random, CRC valid"


def swapped_level(rng, path, images, labels, levels):
    other = path.parent / "other"
    fresh = np.random.RandomState(rng.getrandbits(31)).randint(0, 256, images.shape).astype(np.uint8)
    _write(other, rng, fresh, False)
    level = rng.choice(levels)
    shutil.copy(other / level.name.replace("ds-", "other-"), level)
    return f"{level.name} from another dataset"


def swapped_between(rng, path, images, labels, levels):
    """Two level files trade contents: levels are known by their shape, so it must read as before."""
    a, b = rng.sample(levels, 2)
    data = a.read_bytes()
    a.write_bytes(b.read_bytes())
    b.write_bytes(data)
    return f"{a.name} <-> {b.name} (must read unchanged)"


def shape_feature(rng, path, images, labels, levels):
    level = rng.choice(levels)
    records = _records(level)
    index = rng.randrange(len(records))
    from tfstylegan.data.tfrecords import decode_example

    image = decode_example(records[index])
    c, h, w = image.shape
    shape = rng.choice(
        [[c, h // 2 or 1, w * 2], [c, w, h + 1], [3 if c == 1 else 1, h, w], [c, h, w, 1], [c * h * w]]
    )
    data = image.tobytes() if rng.random() < 0.7 else image.tobytes() + b"\0" * rng.randint(1, 64)
    records[index] = _example(shape, data)
    _rewrite(level, records)
    return f"{level.name} record {index} shape {shape}"


def compensating(rng, path, images, labels, levels):
    level = rng.choice(levels)
    records = _records(level)
    if len(records) < 2:
        return "too few records"
    i = rng.randrange(len(records) - 1)
    from tfstylegan.data.tfrecords import decode_example

    a, b = decode_example(records[i]), decode_example(records[i + 1])
    records[i] = _example(a.shape, a.tobytes()[:-1])
    records[i + 1] = _example(b.shape, b.tobytes() + b"\0")
    _rewrite(level, records)
    return f"{level.name} records {i} and {i + 1} one byte short and long"


def bad_labels(rng, path, images, labels, levels):
    target = path / "ds-rxx.labels"
    n = len(images)
    kind = rng.choice(
        [
            "nan",
            "inf",
            "complex",
            "float64",
            "more rows",
            "fewer rows",
            "npz",
            "object",
            "cut",
            "huge header",
            "1-D",
            "3-D",
            "text",
            "empty",
            "random",
            "dir",
            "fifo",
        ]
    )
    target.unlink(missing_ok=True)
    if kind in ("dir", "fifo"):
        os.mkdir(target) if kind == "dir" else os.mkfifo(target)
        return f"labels: {kind}"
    arrays = {
        "nan": np.full([n, 4], np.nan, np.float32),
        "inf": np.full([n, 4], np.inf, np.float32),
        "complex": np.ones([n, 4], np.complex64),
        "float64": np.ones([n, 4]),
        "more rows": np.ones([n + 3, 4], np.float32),
        "fewer rows": np.ones([n - 1, 4], np.float32),
        "1-D": np.ones([n], np.float32),
        "3-D": np.ones([n, 2, 2], np.float32),
        "text": np.array(["a"] * n),
        "object": np.array([None] * n),
    }
    with open(target, "wb") as f:
        if kind in arrays:
            np.save(f, arrays[kind], allow_pickle=True)
        elif kind == "npz":
            np.savez(f, labels=np.ones([n, 4], np.float32))
        elif kind == "cut":
            np.save(f, np.ones([n, 4], np.float32))
        elif kind == "huge header":
            header = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({n}, {2**40}), }}".encode()
            header += b" " * (63 - (len(header) + 10) % 64) + b"\n"
            f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * 64)
        elif kind == "random":
            f.write(rng.randbytes(rng.randint(1, 4096)))
    if kind == "cut":
        target.write_bytes(target.read_bytes()[: rng.randint(1, target.stat().st_size - 1)])
    return f"labels: {kind}"


def level_path(rng, path, images, labels, levels):
    kind = rng.choice(["missing", "dir", "dangling", "loop", "fifo", "empty", "stray", "duplicate"])
    level = rng.choice(levels)
    if kind == "missing" and level == levels[-1]:
        level = levels[0]  # Without its top level a dataset is a genuine smaller one: not detectable.
    if kind in ("missing", "dir", "dangling", "loop", "fifo", "empty"):
        level.unlink()
        {
            "missing": lambda: None,
            "dir": lambda: level.mkdir(),
            "dangling": lambda: level.symlink_to(path / "nowhere"),
            "loop": lambda: level.symlink_to(level),
            "fifo": lambda: os.mkfifo(level),
            "empty": lambda: level.write_bytes(b""),
        }[kind]()
    elif kind == "stray":
        (path / "ds-r09.tfrecords").write_bytes(rng.randbytes(100))
    else:
        shutil.copy(level, path / f"copy-{level.name}")
    return f"{level.name}: {kind}"


# family -> (damage, refused when opened, refused by the probes that read everything)
FAMILIES = {
    "truncate": (truncate, True, True),
    "flip_no_crc": (flip_no_crc, False, True),
    "flip_fixed_crc": (flip_fixed_crc, False, False),
    "random_record": (random_record, False, True),
    "swapped_level": (swapped_level, True, True),
    "swapped_between": (swapped_between, False, False),
    "shape_feature": (shape_feature, False, True),
    "compensating": (compensating, False, True),
    "bad_labels": (bad_labels, True, True),
    "level_path": (level_path, True, True),
}


def _probe(kind: str, path: Path, labels: bool, seed: int, images: np.ndarray | None = None):
    """The probe; with ``images``, whatever it reads of the full-resolution level must be those images."""
    from tfstylegan.data.tfrecords import TFRecordDataset
    from tfstylegan.training import grid

    def open_():
        return TFRecordDataset(str(path), max_label_size="full", repeat=False, shuffle_mb=1)

    def probe():
        if kind == "tool":
            from tfstylegan.cli import dataset_tool

            run_cli(lambda argv: dataset_tool.main(argv), ["info", str(path), "--verify"])
            return
        dset = open_()
        if images is not None:
            stored = dset.read_all_np(0)[0]
            if not np.array_equal(stored, images):
                raise AssertionError(
                    f"the dataset reads {stored.shape} images that differ from the ones written"
                )
        if kind == "read_all":
            for lod in sorted(dset.tfr_files):
                dset.read_all_np(lod)
        elif kind == "pipeline":
            for lod in sorted(dset.tfr_files):
                with dset.naming_read_errors(lod):
                    for _ in dset.as_dataset(4, lod=lod, seed=seed).as_numpy_iterator():
                        pass
        elif kind == "verify":
            dset.verify()
        elif kind == "grid":
            layout = "row_per_class" if dset.label_size else "random"
            grid.setup_snapshot_image_grid(dset, 8, (4, 2), seed, layout)

    return probe


def _family_case(family: str):
    damage, at_open, on_read = FAMILIES[family]

    def make(rng: random.Random, workdir: Path) -> Case:
        path, images, labels, levels = _base(rng, workdir)
        note = damage(rng, path, images, labels, levels)
        kind = PROBES[rng.randrange(len(PROBES))]
        refuse = at_open or (on_read and kind in FULL_READS)
        if note == "too few records":
            refuse = False
        check = images if family == "swapped_between" else None
        probe = _probe(kind, path, labels, rng.getrandbits(16), check)
        return Case(probe, "refuse" if refuse else "any", f"{kind}: {note}")

    return make


for _family in FAMILIES:
    register(f"datasets.{_family}", _family_case(_family), 3, 36)
