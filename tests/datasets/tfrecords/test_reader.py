"""Reading the original multi-resolution TFRecord format: the original reader's values, tf.data, errors."""

import pathlib
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tfstylegan.data.tfrecords import DatasetError, TFRecordDataset, TFRecordExporter

# (fixture folder, dataset name, labels?)
DATASETS = [("small", "rgb32", False), ("small", "gray32", False), ("cond", "cond16", True)]


@pytest.fixture(scope="module")
def references(data_dir):
    return {folder: np.load(data_dir / folder / "reference.npz") for folder in ("small", "cond")}


def _dataset_dir(data_dir: pathlib.Path, folder: str, name: str) -> pathlib.Path:
    return data_dir / folder / "dataset" / name


def _copy_dataset(data_dir, tmp_path, folder="small", name="rgb32") -> pathlib.Path:
    dst = tmp_path / name
    shutil.copytree(_dataset_dir(data_dir, folder, name), dst)
    return dst


# ----------------------------------------------------------------------------
# Reading.


@pytest.mark.parametrize("folder,name,has_labels", DATASETS)
def test_reader_matches_original_reader(data_dir, references, folder, name, has_labels):
    ref = references[folder]
    dset = TFRecordDataset(str(_dataset_dir(data_dir, folder, name)), max_label_size="full")
    assert dset.num_images == ref[f"dataset/{name}/labels"].shape[0]
    assert dset.label_size == (5 if has_labels else 0)
    for lod in range(dset.resolution_log2 - 1):
        images, labels = dset.read_all_np(lod)
        expected = ref[f"dataset/{name}/images_lod{lod}"].transpose(0, 2, 3, 1)  # NCHW => NHWC
        assert images.dtype == np.uint8 and labels.dtype == np.float32
        np.testing.assert_array_equal(images, expected)
        np.testing.assert_array_equal(labels, ref[f"dataset/{name}/labels"])


def test_reader_attributes_and_label_sizes(data_dir):
    path = str(_dataset_dir(data_dir, "cond", "cond16"))
    dset = TFRecordDataset(path)
    assert (dset.resolution, dset.resolution_log2, dset.shape) == (16, 4, [16, 16, 3])
    assert (dset.num_channels, dset.dtype, dset.dynamic_range) == (3, "uint8", [0, 255])
    assert (dset.num_images, dset.label_size, dset.label_dtype) == (16, 0, "float32")  # max_label_size=0
    assert dset.label_file.endswith("cond16-rxx.labels")
    assert dset.tfrecord_file(1.7).endswith("cond16-r03.tfrecords")
    assert dset.level_shape(2) == [4, 4, 3]
    full = TFRecordDataset(path, max_label_size="full").labels
    np.testing.assert_array_equal(TFRecordDataset(path, max_label_size=3).labels, full[:, :3])
    # A smaller resolution uses the lower levels only.
    low = TFRecordDataset(path, resolution=8)
    assert (low.resolution, low.shape, sorted(low.tfr_files)) == (8, [8, 8, 3], [0, 1])
    assert low.tfrecord_file(0).endswith("cond16-r03.tfrecords")
    with pytest.raises(DatasetError, match="no level for lod 2"):
        low.tfrecord_file(2)


def test_as_dataset_shuffles_but_keeps_labels_with_their_images(data_dir, references):
    ref = references["cond"]
    dset = TFRecordDataset(
        str(_dataset_dir(data_dir, "cond", "cond16")), max_label_size="full", repeat=False, shuffle_mb=1
    )
    batches = list(dset.as_dataset(5, lod=1, seed=3).as_numpy_iterator())
    assert [b[0].shape for b in batches] == [(5, 8, 8, 3)] * 3 + [(1, 8, 8, 3)]
    images = np.concatenate([b[0] for b in batches])
    labels = np.concatenate([b[1] for b in batches])
    expected_images = ref["dataset/cond16/images_lod1"].transpose(0, 2, 3, 1)
    order = [int(np.flatnonzero((expected_images == im).all(axis=(1, 2, 3)))[0]) for im in images]
    assert sorted(order) == list(range(16)) and order != list(range(16))
    np.testing.assert_array_equal(labels, ref["dataset/cond16/labels"][order])


def test_as_dataset_repeats_with_static_batch(data_dir):
    dset = TFRecordDataset(str(_dataset_dir(data_dir, "small", "gray32")), shuffle_mb=0)
    ds = dset.as_dataset(3, lod=2.5)
    assert ds.element_spec[0].shape.as_list() == [3, 8, 8, 1]
    assert ds.element_spec[1].shape.as_list() == [3, 0]
    images = np.concatenate([b[0] for b in ds.take(6).as_numpy_iterator()])  # 18 = 2 epochs + 2
    all_images = dset.read_all_np(2)[0]
    np.testing.assert_array_equal(images, np.concatenate([all_images, all_images, all_images[:2]]))


def test_input_context_shards_are_disjoint_and_complete(data_dir):
    dset = TFRecordDataset(str(_dataset_dir(data_dir, "small", "rgb32")), repeat=False)
    all_images = dset.read_all_np(0)[0]
    seen = []
    for pipeline_id in range(2):
        ctx = tf.distribute.InputContext(
            num_input_pipelines=2, input_pipeline_id=pipeline_id, num_replicas_in_sync=2
        )
        batches = list(dset.as_dataset(8, lod=0, input_context=ctx, seed=0).as_numpy_iterator())
        assert [b[0].shape[0] for b in batches] == [4, 4]  # per-replica batch = 8 / 2
        idx = [int(np.flatnonzero((all_images == im).all(axis=(1, 2, 3)))[0]) for b in batches for im in b[0]]
        assert sorted(idx) == list(range(pipeline_id, 16, 2))  # shard = every 2nd record
        seen += idx
    assert sorted(seen) == list(range(16))


def test_random_labels_are_dataset_rows(data_dir):
    path = str(_dataset_dir(data_dir, "cond", "cond16"))
    dset = TFRecordDataset(path, max_label_size="full")
    rows = {tuple(r) for r in dset.labels}
    lab = dset.get_random_labels_tf(64, rng=tf.random.Generator.from_seed(1)).numpy()
    assert lab.shape == (64, 5) and lab.dtype == np.float32
    assert {tuple(r) for r in lab} <= rows and len({tuple(r) for r in lab}) > 1
    again = dset.get_random_labels_tf(64, rng=tf.random.Generator.from_seed(1)).numpy()
    np.testing.assert_array_equal(lab, again)
    traced = tf.function(lambda: dset.get_random_labels_tf(4))()
    assert traced.shape == (4, 5) and {tuple(r) for r in traced.numpy()} <= rows
    np_lab = dset.get_random_labels_np(10, np.random.RandomState(0))
    assert {tuple(r) for r in np_lab} <= rows
    none = TFRecordDataset(path)
    assert none.get_random_labels_tf(3).shape == (3, 0) and none.get_random_labels_np(3).shape == (3, 0)


# ----------------------------------------------------------------------------
# Errors.


def test_missing_or_empty_directory(tmp_path):
    with pytest.raises(DatasetError, match=r"nowhere does not exist"):
        TFRecordDataset(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match=r"empty holds no \*\.tfrecords files; expected empty-rNN"):
        TFRecordDataset(str(tmp_path / "empty"))


def test_truncated_file_names_the_file(data_dir, tmp_path):
    out = _copy_dataset(data_dir, tmp_path)
    path = out / "rgb32-r04.tfrecords"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(
        DatasetError, match=r"rgb32-r04\.tfrecords is truncated or corrupt.*not a whole number"
    ):
        TFRecordDataset(str(out))
    path.write_bytes(b"")
    with pytest.raises(DatasetError, match=r"rgb32-r04\.tfrecords is empty"):
        TFRecordDataset(str(out))


def test_corrupt_record_names_the_file(data_dir, tmp_path):
    out = _copy_dataset(data_dir, tmp_path)
    path = out / "rgb32-r05.tfrecords"
    data = bytearray(path.read_bytes())
    data[5000] ^= 0xFF  # A pixel byte of the second record: the CRC no longer matches.
    path.write_bytes(bytes(data))
    dset = TFRecordDataset(str(out))  # The first record and the size are fine.
    with pytest.raises(DatasetError, match=r"rgb32-r05\.tfrecords is corrupt or truncated: corrupted record"):
        dset.read_all_np(0)
    with pytest.raises(DatasetError, match=r"rgb32-r05\.tfrecords"):
        dset.verify()
    it = iter(dset.as_dataset(4, lod=0))
    step = tf.function(lambda iterator: next(iterator)[0])  # As a training step pulls its data.
    with pytest.raises(
        DatasetError, match=r"rgb32-r05\.tfrecords is corrupt or truncated: corrupted record at"
    ):
        with dset.naming_read_errors(lod=0):
            for _ in range(8):
                step(it)
    TFRecordDataset(str(_dataset_dir(data_dir, "small", "rgb32"))).verify()  # The intact one passes.


def test_inconsistent_levels(data_dir, tmp_path):
    out = _copy_dataset(data_dir, tmp_path)
    (out / "rgb32-r03.tfrecords").unlink()
    with pytest.raises(DatasetError, match=r"lacks the level file\(s\) r03; expected one \*\.tfrecords"):
        TFRecordDataset(str(out))
    shutil.copy(
        _dataset_dir(data_dir, "small", "gray32") / "gray32-r03.tfrecords", out / "rgb32-r03.tfrecords"
    )
    with pytest.raises(
        DatasetError, match=r"rgb32-r03\.tfrecords holds images of shape.*\[1, 8, 8\].*3 channels"
    ):
        TFRecordDataset(str(out))
    # Same shapes, different record counts: 8 gray images at every level but one.
    gray = _copy_dataset(data_dir, tmp_path, "small", "gray32")
    with TFRecordExporter(str(tmp_path / "g4"), 4, print_progress=False) as tfr:
        for _ in range(4):
            tfr.add_image(np.zeros([4, 4, 1], np.uint8))
    shutil.copy(tmp_path / "g4" / "g4-r02.tfrecords", gray / "gray32-r02.tfrecords")
    with pytest.raises(DatasetError, match=r"different numbers of records \(gray32-r02.tfrecords: 4"):
        TFRecordDataset(str(gray))


def test_bad_labels(data_dir, tmp_path):
    out = _copy_dataset(data_dir, tmp_path, "cond", "cond16")
    np.save(out / "cond16-rxx.labels", np.zeros([10, 5], np.float32))  # np.save appends .npy
    (out / "cond16-rxx.labels.npy").rename(out / "cond16-rxx.labels")
    with pytest.raises(DatasetError, match=r"cond16-rxx\.labels holds 10 labels for 16 images"):
        TFRecordDataset(str(out), max_label_size="full")
    assert TFRecordDataset(str(out)).label_size == 0  # Labels not requested: not loaded.
    (out / "cond16-rxx.labels").write_bytes(b"not numpy")
    with pytest.raises(DatasetError, match=r"cond16-rxx\.labels is not a numpy"):
        TFRecordDataset(str(out), max_label_size="full")
    with pytest.raises(DatasetError, match=r"label file other\.labels not found"):
        TFRecordDataset(str(out), label_file="other.labels", max_label_size="full")


def test_distributed_minibatches_under_mirrored_strategy(data_dir):
    """The trainer's use: distribute_datasets_from_function over 2 replicas, random labels per replica."""
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    dset = TFRecordDataset(str(_dataset_dir(data_dir, "cond", "cond16")), max_label_size="full")
    dist = strategy.distribute_datasets_from_function(
        lambda ctx: dset.as_dataset(8, lod=1, input_context=ctx, seed=0)
    )
    with strategy.scope():
        rng = tf.random.Generator.from_seed(0)

    @tf.function
    def step(iterator):
        def replica(images, labels):
            return images, labels, dset.get_random_labels_tf(4, rng=rng)

        return strategy.run(replica, args=next(iterator))

    images, labels, random_labels = step(iter(dist))
    images = [t.numpy() for t in strategy.experimental_local_results(images)]
    labels = [t.numpy() for t in strategy.experimental_local_results(labels)]
    assert [im.shape for im in images] == [(4, 8, 8, 3)] * 2  # global 8 = 2 replicas x 4
    all_images, all_labels = dset.read_all_np(1)
    idx = [int(np.flatnonzero((all_images == im).all(axis=(1, 2, 3)))[0]) for b in images for im in b]
    assert len(set(idx)) == 8  # Two different minibatches, no record twice.
    np.testing.assert_array_equal(np.concatenate(labels), all_labels[idx])
    rows = {tuple(r) for r in dset.labels}
    per_replica = [t.numpy() for t in strategy.experimental_local_results(random_labels)]
    assert all(r.shape == (4, 5) and {tuple(v) for v in r} <= rows for r in per_replica)
