"""What opening and reading a dataset checks: levels that belong together, record shapes, labels, odd paths."""

import os
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tfstylegan.data import tfrecords
from tfstylegan.data.tfrecords import DatasetError, TFRecordDataset, TFRecordExporter, records
from tfstylegan.training import grid


def _write(out, images, labels=None):
    with TFRecordExporter(str(out), len(images), print_progress=False) as tfr:
        for image in images:
            tfr.add_image(image)
        if labels is not None:
            tfr.add_labels(labels)
    return out


def _random_images(seed, n=16, res=16, channels=3):
    return np.random.RandomState(seed).randint(0, 256, [n, res, res, channels]).astype(np.uint8)


def _example(shape, data: bytes) -> bytes:
    feature = {
        "shape": tf.train.Feature(int64_list=tf.train.Int64List(value=list(shape))),
        "data": tf.train.Feature(bytes_list=tf.train.BytesList(value=[data])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _rewrite(path, edit):
    """Rewrites a level file (with valid CRCs) after ``edit(index, shape, data) -> (shape, data)``."""
    raw = [r.numpy() for r in tf.data.TFRecordDataset(str(path))]
    with tf.io.TFRecordWriter(str(path)) as writer:
        for index, record in enumerate(raw):
            image = tfrecords.decode_example(record)
            shape, data = edit(index, list(image.shape), image.tobytes())
            writer.write(_example(shape, data))


@pytest.fixture
def dataset(tmp_path):
    return _write(tmp_path / "ds", _random_images(0), np.eye(16, 4, dtype=np.float32))


def test_a_level_from_another_dataset_is_refused(tmp_path, dataset):
    other = _write(tmp_path / "other", _random_images(1))
    shutil.copy(other / "other-r03.tfrecords", dataset / "ds-r03.tfrecords")  # Same size, other images.
    with pytest.raises(
        DatasetError,
        match=r"ds-r03\.tfrecords: record 0 is not the 2x2 box average of record 0 of .*ds-r04\.tfrecords",
    ):
        TFRecordDataset(str(dataset))


def test_a_changed_pixel_in_a_sampled_record_is_refused(dataset):
    path = dataset / "ds-r03.tfrecords"
    original = path.read_bytes()

    def nudge(step):
        def edit(index, shape, data):
            pixels = np.frombuffer(data, np.uint8).copy()
            if index == 15:
                pixels[7] = (
                    np.clip(int(pixels[7]) + step, 0, 255) if pixels[7] < 128 else int(pixels[7]) - step
                )
            return shape, pixels.tobytes()

        return edit

    _rewrite(path, nudge(3))
    with pytest.raises(DatasetError, match=r"record 15 is not the 2x2 box average .*a pixel is [2-9]"):
        TFRecordDataset(str(dataset))
    path.write_bytes(original)
    TFRecordDataset(str(dataset))  # Unchanged files open.


@pytest.mark.parametrize("seed", range(4))
def test_the_rounding_bound_holds_for_every_written_dataset(tmp_path, seed):
    """Adversarial pixel patterns (0/255 checkers, x.5 averages at every level) stay within the bound."""
    rnd = np.random.RandomState(seed)
    images = rnd.choice([0, 1, 2, 127, 128, 254, 255], size=[8, 32, 32, 1]).astype(np.uint8)
    dset = TFRecordDataset(str(_write(tmp_path / "adv", images)))
    for lod in range(1, 4):
        above, below = dset.read_all_np(lod - 1)[0], dset.read_all_np(lod)[0]
        for a, b in zip(above, below):
            diff = np.abs(4 * b.transpose(2, 0, 1).astype(int) - records.box_sum(a.transpose(2, 0, 1)))
            assert diff.max() <= 4


def test_a_shape_feature_that_disagrees_with_the_level_is_named(dataset):
    path = dataset / "ds-r04.tfrecords"
    _rewrite(path, lambda i, shape, data: ([3, 8, 32] if i == 0 else shape, data))  # Same bytes, other shape.
    with pytest.raises(
        DatasetError, match=r"ds-r04\.tfrecords holds images of shape \[C, H, W\] = \[3, 8, 32\]"
    ):
        TFRecordDataset(str(dataset))  # The first record gives the level's shape.
    _rewrite(path, lambda i, shape, data: ([3, 8, 32] if i == 5 else [3, 16, 16], data))  # A sampled record.
    with pytest.raises(
        DatasetError,
        match=r"ds-r04\.tfrecords: record 5 has the shape feature \[3, 8, 32\]; expected \[3, 16, 16\]",
    ):
        TFRecordDataset(str(dataset))
    _rewrite(
        path, lambda i, shape, data: ([3, 8, 32] if i == 1 else [3, 16, 16], data)
    )  # Not a sampled record.
    dset = TFRecordDataset(str(dataset), repeat=False, shuffle_mb=0)
    with pytest.raises(
        DatasetError, match=r"ds-r04\.tfrecords is corrupt: record 1 has the shape feature \[3, 8, 32\]"
    ):
        dset.read_all_np(0)
    with pytest.raises(DatasetError, match=r"record 1 has the shape feature"):
        with dset.naming_read_errors(0):
            list(dset.as_dataset(4, lod=0).take(8))


def test_compensating_record_lengths_are_named(dataset):
    path = dataset / "ds-r04.tfrecords"
    _rewrite(path, lambda i, shape, data: (shape, data[:-1] if i == 6 else data + b"\0" if i == 7 else data))
    assert records.sample_indices(16) == [0, 5, 10, 15]  # Records 6 and 7 are not sampled: it opens.
    dset = TFRecordDataset(str(dataset), repeat=False, shuffle_mb=0)
    with pytest.raises(
        DatasetError,
        match=r"ds-r04\.tfrecords is corrupt: record 6 holds (\d+) bytes; expected (\d+) bytes like record 0",
    ):
        dset.read_all_np(0)


def test_a_crc_error_in_the_snapshot_grid_names_the_file(dataset):
    path = dataset / "ds-r04.tfrecords"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    dset = TFRecordDataset(str(dataset), max_label_size="full")
    for layout in ("random", "row_per_class"):
        with pytest.raises(
            DatasetError,
            match=r"ds-r04\.tfrecords is corrupt or truncated: corrupted record at \d+ \(record \d+ of 16\)",
        ):
            grid.setup_snapshot_image_grid(dset, 8, (4, 4), seed=0, layout=layout)


@pytest.mark.parametrize("kind", ["directory", "dangling link", "link loop", "fifo"])
def test_a_level_that_is_not_a_regular_file_is_named(dataset, kind):
    path = dataset / "ds-r03.tfrecords"
    path.unlink()
    if kind == "directory":
        path.mkdir()
        expected = "is a directory, not a regular file"
    elif kind == "dangling link":
        path.symlink_to(dataset / "nowhere")
        expected = "cannot read a level file (No such file or directory)"
    elif kind == "link loop":
        path.symlink_to(path)
        expected = "cannot read a level file (Too many levels of symbolic links)"
    else:
        os.mkfifo(path)
        expected = "is a FIFO (named pipe), not a regular file"
    with pytest.raises(DatasetError, match=rf"ds-r03\.tfrecords: .*{re.escape(expected)}"):
        TFRecordDataset(str(dataset))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            lambda: np.full([16, 4], np.nan, np.float32),
            r"the labels of 16 image\(s\) are not finite .* row 0",
        ),
        (
            lambda: np.eye(16, 4, dtype=np.complex64),
            r"holds complex64 \[16, 4\]; expected an np.save of float32",
        ),
        (lambda: np.eye(16, 4), r"holds float64 \[16, 4\]"),
        (lambda: np.eye(20, 4, dtype=np.float32), r"holds 20 labels for 16 images"),
        (lambda: np.zeros([16], np.float32), r"holds float32 \[16\]"),
    ],
)
def test_bad_labels_are_refused(dataset, content, message):
    with open(dataset / "ds-rxx.labels", "wb") as f:
        np.save(f, content())
    with pytest.raises(DatasetError, match=message):
        TFRecordDataset(str(dataset), max_label_size="full")


def test_npz_and_oversized_label_headers_are_refused(dataset):
    path = dataset / "ds-rxx.labels"
    with open(path, "wb") as f:
        np.savez(f, labels=np.eye(16, 4, dtype=np.float32))
    with pytest.raises(DatasetError, match=r"is an \.npz \(zip\) archive, not a numpy \.npy array"):
        TFRecordDataset(str(dataset), max_label_size="full")
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (16, 2000000000000), }"
    header += b" " * (63 - len(header) % 64) + b"\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header + b"\0" * 64)
    with pytest.raises(DatasetError, match=r"holds 64 bytes of data for \[16, 2000000000000\] float32"):
        TFRecordDataset(str(dataset), max_label_size="full")
    path.write_bytes(b"not numpy")
    with pytest.raises(DatasetError, match=r"is not a numpy \.npy array"):
        TFRecordDataset(str(dataset), max_label_size="full")
