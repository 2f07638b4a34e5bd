"""Writing the original multi-resolution TFRecord format: record bytes, the fixture files, safe replacement."""

import pathlib
import shutil

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tfstylegan.data import tfrecords
from tfstylegan.data.tfrecords import DatasetError, TFRecordDataset, TFRecordExporter

# (fixture folder, dataset name, labels?)
DATASETS = [("small", "rgb32", False), ("small", "gray32", False), ("cond", "cond16", True)]


def _dataset_dir(data_dir: pathlib.Path, folder: str, name: str) -> pathlib.Path:
    return data_dir / folder / "dataset" / name


def _copy_dataset(data_dir, tmp_path, folder="small", name="rgb32") -> pathlib.Path:
    dst = tmp_path / name
    shutil.copytree(_dataset_dir(data_dir, folder, name), dst)
    return dst


@pytest.mark.parametrize("shape", [(3, 4, 4), (1, 32, 32), (3, 64, 64)])
def test_encode_example_parses_back(shape):
    image = np.random.RandomState(0).randint(0, 256, size=shape).astype(np.uint8)
    serialized = tfrecords.encode_example(image)
    example = tf.train.Example.FromString(serialized)
    assert list(example.features.feature["shape"].int64_list.value) == list(shape)
    assert example.features.feature["data"].bytes_list.value[0] == image.tobytes()
    # The order of the map entries is fixed: "shape" is the first key, "data" the second.
    assert serialized.index(b"shape") < serialized.index(b"data")
    np.testing.assert_array_equal(tfrecords.decode_example(serialized), image)


def _write_like_tool(data_dir, folder, name, out_dir):
    """Writes a fixture dataset from its inputs with the exporter (the tool's exact steps)."""
    src = data_dir / folder / "dataset"
    if name == "cond16":
        import h5py

        with h5py.File(src / "cond16.h5", "r") as f:
            images = f["data16x16"][:].transpose(0, 2, 3, 1)  # NCHW => NHWC
        labels = np.load(src / "cond16-labels.npy")
        shuffle = True
    else:
        files = sorted((src / f"{name}_png").iterdir())
        images = [np.asarray(Image.open(p)) for p in files]
        labels, shuffle = None, name == "rgb32"
    with TFRecordExporter(str(out_dir), len(images), print_progress=False) as tfr:
        order = tfr.choose_shuffled_order() if shuffle else np.arange(len(images))
        for idx in order:
            tfr.add_image(images[idx])
        if labels is not None:
            tfr.add_labels(labels[order])


@pytest.mark.parametrize("folder,name,_", DATASETS)
def test_exporter_writes_fixture_bytes(data_dir, tmp_path, folder, name, _):
    out = tmp_path / name
    _write_like_tool(data_dir, folder, name, out)
    expected = sorted(p.name for p in _dataset_dir(data_dir, folder, name).iterdir())
    assert sorted(p.name for p in out.iterdir()) == expected
    for fname in expected:
        assert (out / fname).read_bytes() == (_dataset_dir(data_dir, folder, name) / fname).read_bytes(), (
            fname
        )


def test_levels_are_box_averages_of_unquantised_levels():
    img = np.random.RandomState(1).randint(0, 256, size=[8, 8, 3]).astype(np.uint8)
    levels = list(tfrecords.image_levels(img, 2))
    assert levels[0] is img
    f = img.astype(np.float64)
    box = (f[0::2, 0::2] + f[0::2, 1::2] + f[1::2, 0::2] + f[1::2, 1::2]) / 4
    np.testing.assert_array_equal(levels[1], np.rint(box).astype(np.uint8))
    # Level 1 is [[1.5, 0.5], [0.5, 0.5]], quantised half to even to [[2, 0], [0, 0]]. Level 2
    # comes from the floats, mean 0.75 -> 1; from the quantised level it would be 0.5 -> 0.
    block = np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], np.uint8)
    img = (np.tile(np.array([[1, 1], [0, 0]], np.uint8), [2, 2]) + block)[:, :, None]
    levels = list(tfrecords.image_levels(img, 3))
    assert levels[1][:, :, 0].tolist() == [[2, 0], [0, 0]]
    assert levels[2][0, 0, 0] == 1


def test_exporter_refuses_existing_dataset_and_overwrites_on_request(data_dir, tmp_path):
    out = _copy_dataset(data_dir, tmp_path, "cond", "cond16")
    with pytest.raises(DatasetError, match=r"already holds a dataset.*overwrite"):
        TFRecordExporter(str(out), 2, print_progress=False)
    img = np.full([8, 8, 3], 7, np.uint8)
    with TFRecordExporter(str(out), 2, print_progress=False, overwrite=True) as tfr:
        tfr.add_image(img)
        tfr.add_image(img)
    # The old 16x16 level and the labels are gone; the new dataset is consistent.
    assert sorted(p.name for p in out.iterdir()) == ["cond16-r02.tfrecords", "cond16-r03.tfrecords"]
    dset = TFRecordDataset(str(out), max_label_size="full")
    assert (dset.resolution, dset.num_images, dset.label_size) == (8, 2, 0)
    np.testing.assert_array_equal(dset.read_all_np()[0], np.stack([img, img]))


def test_exporter_leaves_nothing_that_looks_complete(tmp_path):
    out = tmp_path / "partial"
    tfr = TFRecordExporter(str(out), 3, print_progress=False)
    tfr.add_image(np.zeros([4, 4, 3], np.uint8))
    # While writing, only temporary names exist.
    assert all(p.name.endswith(".tmp") for p in out.iterdir())
    with pytest.raises(DatasetError, match="no \\*.tfrecords"):
        TFRecordDataset(str(out))
    tfr.close()
    assert sorted(p.name for p in out.iterdir()) == ["partial-r02.tfrecords"]

    out2 = tmp_path / "failed"
    with pytest.raises(DatasetError, match=r"shape \(8, 8, 3\), expected \(4, 4, 3\)"):
        with TFRecordExporter(str(out2), 2, print_progress=False) as tfr:
            tfr.add_image(np.zeros([4, 4, 3], np.uint8))
            tfr.add_image(np.zeros([8, 8, 3], np.uint8))
    assert not out2.exists()  # Created by the exporter, emptied and removed on failure.


def test_exporter_progress_is_plain_lines(tmp_path, capsys):
    with TFRecordExporter(str(tmp_path / "p"), 5, progress_interval=2) as tfr:
        for _ in range(5):
            tfr.add_image(np.zeros([4, 4, 1], np.uint8))
    out = capsys.readouterr().out
    assert "\r" not in out
    lines = out.splitlines()
    assert lines[0].startswith("Creating dataset") and lines[-1] == "Added 5 images."
    assert [ln.split("(")[0].strip() for ln in lines[1:-1]] == ["2 / 5 images", "4 / 5 images"]


def test_exporter_renames_the_top_level_then_labels_then_levels(tmp_path, monkeypatch):
    """If the renames stop half-way, the reader sees missing levels, not a smaller dataset.

    The full-resolution level comes first, so that no moment pairs images with labels of
    another dataset (see test_outputs.py for every kill point of an overwrite).
    """
    from tfstylegan.data.tfrecords import outputs

    renamed = []
    real_rename = outputs.rename
    monkeypatch.setattr(outputs, "rename", lambda a, b: (renamed.append(b), real_rename(a, b)))
    with TFRecordExporter(str(tmp_path / "d"), 1, print_progress=False) as tfr:
        tfr.add_image(np.zeros([16, 16, 3], np.uint8))
        tfr.add_labels(np.ones([1, 2]))
    assert [pathlib.Path(p).name for p in renamed] == [
        "d-r04.tfrecords",
        "d-rxx.labels",
        "d-r03.tfrecords",
        "d-r02.tfrecords",
    ]
    (tmp_path / "d" / "d-r02.tfrecords").unlink()  # As if the last level had not been renamed.
    with pytest.raises(DatasetError, match="lacks the level file"):
        TFRecordDataset(str(tmp_path / "d"))
