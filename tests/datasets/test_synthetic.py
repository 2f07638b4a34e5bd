"""The built-in coloured-shapes dataset: deterministic, varied, readable, fast."""

import time

import numpy as np

from tfstylegan.data.synthetic import SHAPES, create_synthetic_dataset, generate_shapes
from tfstylegan.data.tfrecords import TFRecordDataset


def test_generate_shapes_is_deterministic_and_varied():
    images, classes = generate_shapes(200, 32, seed=7)
    again, classes_again = generate_shapes(200, 32, seed=7)
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(classes, classes_again)
    assert images.shape == (200, 32, 32, 3) and images.dtype == np.uint8
    assert not np.array_equal(generate_shapes(200, 32, seed=8)[0], images)
    assert sorted(set(classes.tolist())) == list(range(len(SHAPES)))
    assert len({img.tobytes() for img in images}) == 200
    # Every image has a shape brighter than its background: a wide range of values per image.
    spread = images.reshape(200, -1).max(axis=1).astype(int) - images.reshape(200, -1).min(axis=1)
    assert spread.min() > 60
    # Anti-aliased edges: values between background and shape exist.
    assert len(np.unique(images[0].reshape(-1, 3), axis=0)) > 20


def test_shape_classes_are_what_is_drawn():
    """A circle covers about pi/4 of its bounding box, a square all of it, a triangle about half."""
    images, classes = generate_shapes(400, 64, seed=1)
    fill = []
    for img in images:
        fg = (
            np.abs(img.astype(int) - img[:, :1].astype(int)).sum(axis=2) > 60
        )  # differs from its row's left pixel
        ys, xs = np.nonzero(fg)
        box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
        fill.append(fg.sum() / box)
    fill = np.array(fill)
    medians = [np.median(fill[classes == k]) for k in range(len(SHAPES))]
    circle, square, triangle, cross = medians
    assert square > circle > cross and circle > triangle
    assert abs(circle - np.pi / 4) < 0.08 and square > 0.9 and abs(triangle - 0.5) < 0.1


def test_create_synthetic_dataset_is_readable_and_fast(tmp_path):
    start = time.time()
    create_synthetic_dataset(str(tmp_path / "a"), num_images=1000, labels=True, seed=3)
    assert time.time() - start < 10
    create_synthetic_dataset(str(tmp_path / "b"), num_images=1000, labels=True, seed=3)
    for name in ("a-r05.tfrecords", "a-r02.tfrecords", "a-rxx.labels"):
        assert (tmp_path / "a" / name).read_bytes() == (
            tmp_path / "b" / name.replace("a-", "b-")
        ).read_bytes()
    dset = TFRecordDataset(str(tmp_path / "a"), max_label_size="full")
    assert (dset.resolution, dset.num_channels, dset.num_images, dset.label_size) == (
        32,
        3,
        1000,
        len(SHAPES),
    )
    images, labels = dset.read_all_np()
    expected, classes = generate_shapes(1000, 32, seed=3)
    np.testing.assert_array_equal(images, expected)
    np.testing.assert_array_equal(labels, np.eye(len(SHAPES), dtype=np.float32)[classes])
    plain = TFRecordDataset(
        str(create_synthetic_dataset(str(tmp_path / "c"), num_images=16)), max_label_size="full"
    )
    assert plain.label_size == 0 and plain.num_images == 16
