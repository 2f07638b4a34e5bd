"""The dataset tool on the public archives (MNIST, CIFAR, SVHN, LSUN, CelebA), read safely."""

import gzip
import io
import os
import pickle
import sys
import types

import numpy as np
import pytest
from PIL import Image

from tests.dataset_tool_runs import run_tool, tool_error
from tfstylegan.data.tfrecords import DatasetError, TFRecordDataset, shuffled_order


def _pickle_file(path, obj, protocol=2):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


def test_cifar10_and_svhn_through_the_guarded_unpickler(tmp_path, capsys):
    rnd = np.random.RandomState(3)
    cifar = tmp_path / "cifar10"
    cifar.mkdir()
    data, labels = [], []
    for batch in range(1, 6):
        d = rnd.randint(0, 256, size=[2, 3072]).astype(np.uint8)
        lab = [int(v) for v in rnd.randint(0, 10, size=2)]
        lab[0] = 9 if batch == 5 else lab[0]
        _pickle_file(cifar / f"data_batch_{batch}", {"data": d, "labels": lab, "batch_label": "b"})
        data.append(d)
        labels += lab
    assert run_tool("create_cifar10", tmp_path / "c10", cifar) == 0
    dset = TFRecordDataset(str(tmp_path / "c10"), max_label_size="full")
    order = shuffled_order(10)
    expected = np.concatenate(data).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # NCHW => NHWC
    np.testing.assert_array_equal(dset.read_all_np()[0], expected[order])
    np.testing.assert_array_equal(dset.labels, np.eye(10, dtype=np.float32)[np.array(labels)[order]])

    svhn = tmp_path / "svhn"
    svhn.mkdir()
    for batch in range(1, 4):
        _pickle_file(
            svhn / f"train_{batch}.pkl",
            (rnd.randint(0, 256, [2, 3, 32, 32]).astype(np.uint8), np.arange(2, dtype=np.uint8)),
        )
    assert run_tool("create_svhn", tmp_path / "sv", svhn) == 0
    assert TFRecordDataset(str(tmp_path / "sv"), max_label_size="full").label_size == 2

    # A pickle that would run a command is refused, and nothing runs.
    class Evil:
        def __reduce__(self):
            return (os.system, ("touch " + str(tmp_path / "pwned"),))

    _pickle_file(svhn / "train_2.pkl", (Evil(), [0]))
    err = tool_error(capsys, "create_svhn", tmp_path / "sv2", svhn)
    assert "train_2.pkl: cannot load the pickle (refusing to load global" in err and "system" in err
    assert not (tmp_path / "pwned").exists()
    assert "cifar100/train does not exist" in tool_error(
        capsys, "create_cifar100", tmp_path / "c100", tmp_path / "cifar100"
    )


def test_mnist_and_mnistrgb(tmp_path):
    rnd = np.random.RandomState(4)
    digits = rnd.randint(0, 256, size=[6, 28, 28]).astype(np.uint8)
    labels = np.array([0, 1, 2, 3, 4, 9], np.uint8)
    mnist = tmp_path / "mnist"
    mnist.mkdir()
    (mnist / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"\0" * 16 + digits.tobytes()))
    (mnist / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\0" * 8 + labels.tobytes()))
    assert run_tool("create_mnist", tmp_path / "m", mnist) == 0
    dset = TFRecordDataset(str(tmp_path / "m"), max_label_size="full")
    order = shuffled_order(6)
    padded = np.pad(digits, [(0, 0), (2, 2), (2, 2)])[:, :, :, None]
    np.testing.assert_array_equal(dset.read_all_np()[0], padded[order])
    np.testing.assert_array_equal(dset.labels.argmax(axis=1), labels[order])
    assert dset.label_size == 10

    assert run_tool("create_mnistrgb", tmp_path / "rgb", mnist, "--num_images", 4, "--random_seed", 5) == 0
    rnd = np.random.RandomState(5)
    expected = np.stack([padded[rnd.randint(6, size=3), :, :, 0].transpose(1, 2, 0) for _ in range(4)])
    np.testing.assert_array_equal(TFRecordDataset(str(tmp_path / "rgb")).read_all_np()[0], expected)


def _png_bytes(array):
    buf = io.BytesIO()
    Image.fromarray(np.asarray(array, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def test_lsun_from_an_lmdb_database(tmp_path, capsys, monkeypatch):
    """create_lsun / create_lsun_wide on a stand-in for the lmdb module (the real one is optional)."""
    wide = np.zeros([20, 40, 3], np.uint8)
    wide[:, 10:30] = 255  # The centre square is white.
    items = [
        (b"0", _png_bytes(wide)),
        (b"1", b"not an image"),
        (b"2", _png_bytes(np.full([8, 8, 3], 60))),
        (b"3", b""),
    ]

    class Txn:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def stat(self):
            return {"entries": len(items)}

        def cursor(self):
            return iter(items)

    fake = types.SimpleNamespace(
        open=lambda path, **kw: types.SimpleNamespace(begin=lambda write=False: Txn())
    )
    monkeypatch.setitem(sys.modules, "lmdb", fake)
    capsys.readouterr()
    assert run_tool("create_lsun", tmp_path / "l", tmp_path, "--resolution", 8, "--max_images", 2) == 0
    assert "Skipping an image" in capsys.readouterr().out
    images = TFRecordDataset(str(tmp_path / "l")).read_all_np()[0]
    assert images.shape == (2, 8, 8, 3)
    np.testing.assert_array_equal(images[0], np.full([8, 8, 3], 255))  # Centre crop, then resize.
    np.testing.assert_array_equal(images[1], np.full([8, 8, 3], 60))

    assert run_tool("create_lsun_wide", tmp_path / "w", tmp_path, "--width", 16, "--height", 8) == 0
    images = TFRecordDataset(str(tmp_path / "w")).read_all_np()[0]
    assert images.shape == (1, 16, 16, 3)  # Only the 40-wide image is wide enough.
    assert not images[0, :4].any() and not images[0, 12:].any() and images[0, 4:12].any()
    assert "--width must be a power of two" in tool_error(
        capsys, "create_lsun_wide", tmp_path / "x", tmp_path, "--width", 12
    )


def test_lsun_needs_lmdb_and_celeba_needs_its_files(tmp_path, capsys):
    try:
        import lmdb  # noqa: F401
    except ImportError:
        err = tool_error(capsys, "create_lsun", tmp_path / "l", tmp_path)
        assert "needs the 'lmdb' package" in err and "pip install" in err
    err = tool_error(capsys, "create_celeba", tmp_path / "c", tmp_path)
    assert "expected 202599 images" in err and "found 0" in err


# A Python 2 (cPickle, protocol 2) pickle of {"data": uint8 array [0, 1, 255], "labels": [1, 2]}:
# its strings, the array bytes included, are py2 str, which Python 3 reads as latin-1 text.
_PY2_PICKLE = (
    b"\x80\x02}q\x00(U\x04dataq\x01cnumpy.core.multiarray\n_reconstruct\nq\x02cnumpy\nndarray\nq\x03"
    b"K\x00\x85U\x01b\x87Rq\x04(K\x01K\x03\x85cnumpy\ndtype\nq\x05U\x02u1K\x00K\x01\x87Rq\x06(K\x03"
    b"U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tbK\x00U\x03\x00\x01\xfftbU\x06labelsq\x07]q\x08"
    b"(K\x01K\x02eu."
)


def test_archive_pickles_go_through_the_guarded_unpickler(tmp_path):
    """BUILD on an allowed global is refused instead of patching it; Python 2 and 3 array pickles load."""
    from tfstylegan.data import archives
    from tfstylegan.legacy.guarded import GuardedUnpickler

    path = tmp_path / "batch"
    for module, name in GuardedUnpickler.allowed:
        path.write_bytes(b"\x80\x02c" + f"{module}\n{name}\n".encode() + b"N}X\x01\x00\x00\x00xK\x01s\x86b.")
        with pytest.raises(
            DatasetError, match=r"batch: cannot load the pickle \(the pickle tries to modify "
        ):
            archives.load_pickle(str(path))
    assert not any(hasattr(obj, "x") for obj in GuardedUnpickler.allowed.values())
    path.write_bytes(pickle.dumps({"data": np.arange(3, dtype=np.uint8), "labels": [1, 2]}, protocol=2))
    loaded = archives.load_pickle(str(path))
    np.testing.assert_array_equal(loaded["data"], [0, 1, 2])
    assert loaded["labels"] == [1, 2]
    path.write_bytes(_PY2_PICKLE)
    loaded = archives.load_pickle(str(path))
    assert loaded["data"].dtype == np.uint8 and loaded["data"].tolist() == [0, 1, 255]
    assert loaded["labels"] == [1, 2]
