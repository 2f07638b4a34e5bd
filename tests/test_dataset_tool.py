"""The dataset tool: byte-exact output on the fixture inputs, the other commands, clear errors."""

import gzip
import io
import json
import os
import pathlib
import pickle
import shutil
import subprocess
import sys
import types

import numpy as np
import pytest
from PIL import Image

from tfstylegan.cli import dataset_tool
from tfstylegan.data import inspection
from tfstylegan.data.tfrecords import DatasetError, TFRecordDataset, shuffled_order

REPO = pathlib.Path(__file__).resolve().parents[1]


def run_tool(*args):
    """Runs the tool in-process; returns (exit status, stdout + stderr)."""
    return dataset_tool.main([str(a) for a in args])


def tool_error(capsys, *args) -> str:
    """Runs a command that must fail cleanly; returns its one-line error message."""
    capsys.readouterr()
    assert run_tool(*args) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    lines = [ln for ln in captured.err.splitlines() if ln.startswith("Error: ")]
    assert len(lines) == 1, captured.err
    return lines[0]


def write_png(path, array):
    Image.fromarray(np.asarray(array, np.uint8)).save(path)


def image_dir(tmp_path, arrays, name="imgs"):
    folder = tmp_path / name
    folder.mkdir()
    for idx, arr in enumerate(arrays):
        write_png(folder / f"img{idx:03d}.png", arr)
    return folder


def rand_images(n, shape, seed=0):
    return list(np.random.RandomState(seed).randint(0, 256, size=[n, *shape]).astype(np.uint8))


def files_of(folder):
    return sorted(p.name for p in pathlib.Path(folder).iterdir())


# The original tool's commands, then the two added ones.
ORIGINAL_COMMANDS = [
    "display",
    "extract",
    "compare",
    "create_mnist",
    "create_mnistrgb",
    "create_cifar10",
    "create_cifar100",
    "create_svhn",
    "create_lsun",
    "create_lsun_wide",
    "create_celeba",
    "create_from_images",
    "create_from_hdf5",
]


def test_every_command_runs_the_function_of_its_name():
    assert sorted(dataset_tool.COMMANDS) == sorted(ORIGINAL_COMMANDS + ["info", "create_synthetic"])
    for name, command in dataset_tool.COMMANDS.items():
        assert command.run.__name__ == name
        module = "tfstylegan.data.builders" if name.startswith("create_") else "tfstylegan.data.inspection"
        assert command.run.__module__ == module


# ----------------------------------------------------------------------------
# Byte-exact output and reading back.


@pytest.mark.parametrize(
    "folder,name,command",
    [
        ("small", "rgb32", ["create_from_images", "{out}", "{src}/rgb32_png", "--shuffle", "1"]),
        ("small", "gray32", ["create_from_images", "{out}", "{src}/gray32_png", "--shuffle", "0"]),
        ("cond", "cond16", ["create_from_hdf5", "{out}", "{src}/cond16.h5", "--shuffle", "1"]),
    ],
)
def test_tool_writes_fixture_bytes(data_dir, tmp_path, folder, name, command):
    src = data_dir / folder / "dataset"
    inputs = tmp_path / "inputs"
    shutil.copytree(src, inputs, ignore=shutil.ignore_patterns(name))  # The inputs, not the expected output.
    out = tmp_path / name
    assert run_tool(*[c.format(out=out, src=inputs) for c in command]) == 0
    assert files_of(out) == files_of(src / name)
    for fname in files_of(out):
        assert (out / fname).read_bytes() == (src / name / fname).read_bytes(), fname


def test_extract_gives_back_the_original_pixels(data_dir, tmp_path, capsys):
    src = data_dir / "small" / "dataset"
    assert run_tool("extract", src / "rgb32", tmp_path / "rgb") == 0
    assert "Extracted 16 images." in capsys.readouterr().out
    pngs = sorted(src.joinpath("rgb32_png").iterdir())
    for idx, original in enumerate(shuffled_order(16)):  # Record idx holds input image order[idx].
        extracted = np.asarray(Image.open(tmp_path / "rgb" / f"img{idx:08d}.png"))
        np.testing.assert_array_equal(extracted, np.asarray(Image.open(pngs[original])))
    assert run_tool("extract", src / "gray32", tmp_path / "gray") == 0
    for idx, png in enumerate(sorted(src.joinpath("gray32_png").iterdir())):  # --shuffle 0
        extracted = Image.open(tmp_path / "gray" / f"img{idx:08d}.png")
        assert extracted.mode == "L"
        np.testing.assert_array_equal(np.asarray(extracted), np.asarray(Image.open(png)))


def test_compare_info_display(data_dir, tmp_path, capsys, monkeypatch):
    cond = data_dir / "cond" / "dataset" / "cond16"
    copy = tmp_path / "copy"
    shutil.copytree(cond, copy)
    assert inspection.compare(str(cond), str(copy)) == (16, 16, 16)
    labels = np.load(copy / "cond16-rxx.labels")
    labels[3] = 1 - labels[3]
    with open(copy / "cond16-rxx.labels", "wb") as f:
        np.save(f, labels)
    assert inspection.compare(str(cond), str(copy)) == (16, 16, 15)
    assert "Label 3 is different" in capsys.readouterr().out
    assert inspection.compare(str(cond), str(copy), ignore_labels=1) == (16, 16, 16)

    capsys.readouterr()
    assert run_tool("info", cond, "--verify") == 0
    out = capsys.readouterr().out
    assert "images       16" in out and "16x16, 3 channels" in out
    assert "5 components (one-hot, images per class [4, 3, 3, 5, 1])" in out
    for fname, size in [("cond16-r04.tfrecords", 13168), ("cond16-r02.tfrecords", 1568)]:
        assert any(fname in ln and f"{size} bytes" in ln for ln in out.splitlines())
    assert "size on disk 19136 bytes" in out and "verified" in out

    monkeypatch.chdir(tmp_path)
    assert run_tool("display", cond, "--num_images", 6) == 0
    grid = np.asarray(Image.open(tmp_path / "cond16-grid.png"))
    assert grid.shape == (2 * 16, 3 * 16, 3)  # 6 images: 2 rows of 3
    first = TFRecordDataset(str(cond)).read_all_np()[0]
    np.testing.assert_array_equal(grid[16:32, 32:48], first[5])
    assert "label = [" in capsys.readouterr().out


# ----------------------------------------------------------------------------
# create_from_images: policies.


def test_channels_policy(tmp_path, capsys):
    rgba = rand_images(4, [8, 8, 4])
    folder = image_dir(tmp_path, rgba)
    err = tool_error(capsys, "create_from_images", tmp_path / "a", folder)
    assert "img000.png is a RGBA image; pass --channels 1 (grayscale) or 3 (RGB)" in err
    assert not (tmp_path / "a").exists()
    assert run_tool("create_from_images", tmp_path / "a", folder, "--channels", 3, "--shuffle", 0) == 0
    images = TFRecordDataset(str(tmp_path / "a")).read_all_np()[0]
    np.testing.assert_array_equal(images, np.stack(rgba)[:, :, :, :3])  # Alpha dropped.

    palette = tmp_path / "pal"
    palette.mkdir()
    gray = rand_images(2, [4, 4], seed=1)
    for idx, g in enumerate(gray):
        Image.fromarray(g).convert("P").save(palette / f"p{idx}.png")
    err = tool_error(capsys, "create_from_images", tmp_path / "p", palette)
    assert "p0.png is a P image" in err
    assert run_tool("create_from_images", tmp_path / "p", palette, "--channels", 1, "--shuffle", 0) == 0
    dset = TFRecordDataset(str(tmp_path / "p"))
    assert dset.shape == [4, 4, 1]
    expected = [np.asarray(Image.open(palette / f"p{i}.png").convert("L")) for i in range(2)]
    np.testing.assert_array_equal(dset.read_all_np()[0][:, :, :, 0], np.stack(expected))

    mixed = image_dir(tmp_path, [rand_images(1, [4, 4, 3])[0], rand_images(1, [4, 4])[0]], name="mixed")
    err = tool_error(capsys, "create_from_images", tmp_path / "m", mixed, "--shuffle", 0)
    assert "img001.png is a L image but" in err and "img000.png is RGB" in err and "--channels" in err


def test_resize_policy(tmp_path, capsys):
    wide = np.zeros([8, 16, 3], np.uint8)
    wide[:, 4:12] = 200  # The centre 8 columns.
    wide[:, :4] = 50
    folder = image_dir(tmp_path, [wide])
    err = tool_error(capsys, "create_from_images", tmp_path / "x", folder)
    assert "img000.png is 16x8, not square; pass --resize RES" in err

    assert run_tool("create_from_images", tmp_path / "crop", folder, "--resize", 8) == 0
    crop = TFRecordDataset(str(tmp_path / "crop")).read_all_np()[0][0]
    np.testing.assert_array_equal(crop, wide[:, 4:12])  # Centre square, no resampling needed.

    assert (
        run_tool("create_from_images", tmp_path / "pad", folder, "--resize", 16, "--resize_mode", "pad") == 0
    )
    pad = TFRecordDataset(str(tmp_path / "pad")).read_all_np()[0][0]
    np.testing.assert_array_equal(pad[4:12], wide)
    assert not pad[:4].any() and not pad[12:].any()  # Black bands.

    mixed = image_dir(
        tmp_path, [np.full([32, 32, 3], 90), np.full([16, 16, 3], 90), np.full([20, 40, 3], 90)], "mix"
    )
    err = tool_error(capsys, "create_from_images", tmp_path / "y", mixed, "--shuffle", 0)
    assert "img001.png is 16x16 but" in err and "img000.png is 32x32" in err and "--resize" in err
    assert not (tmp_path / "y").exists()
    assert run_tool("create_from_images", tmp_path / "y", mixed, "--resize", 16) == 0
    images = TFRecordDataset(str(tmp_path / "y")).read_all_np()[0]
    assert images.shape == (3, 16, 16, 3) and np.abs(images.astype(int) - 90).max() <= 1

    odd = image_dir(tmp_path, [np.zeros([24, 24])], "odd")
    err = tool_error(capsys, "create_from_images", tmp_path / "z", odd)
    assert "img000.png is 24x24; the size must be a power of two" in err
    assert "--resize must be a power of two" in tool_error(
        capsys, "create_from_images", tmp_path / "z", odd, "--resize", 24
    )


def test_labels_files(tmp_path, capsys):
    images = rand_images(5, [4, 4, 3])
    folder = image_dir(tmp_path, images)
    names = [f"img{i:03d}.png" for i in range(5)]
    classes = [2, 0, 1, 2, 0]
    (tmp_path / "labels.json").write_text(json.dumps(dict(zip(names, classes)) | {"unused.png": 7}))
    assert run_tool("create_from_images", tmp_path / "j", folder, "--labels", tmp_path / "labels.json") == 0
    dset = TFRecordDataset(str(tmp_path / "j"), max_label_size="full")
    order = shuffled_order(5)
    np.testing.assert_array_equal(dset.labels, np.eye(3, dtype=np.float32)[np.array(classes)[order]])
    np.testing.assert_array_equal(dset.read_all_np()[0], np.stack(images)[order])

    vectors = np.random.RandomState(2).uniform(size=[5, 2]).astype(np.float32)
    rows = ["file,a,b", "# a comment"] + [f"{n},{v[0]!r},{v[1]!r}" for n, v in zip(names, vectors.tolist())]
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    assert (
        run_tool(
            "create_from_images", tmp_path / "c", folder, "--labels", tmp_path / "labels.csv", "--shuffle", 0
        )
        == 0
    )
    np.testing.assert_array_equal(TFRecordDataset(str(tmp_path / "c"), max_label_size="full").labels, vectors)

    (tmp_path / "short.json").write_text(json.dumps({names[0]: 1}))
    err = tool_error(
        capsys, "create_from_images", tmp_path / "s", folder, "--labels", tmp_path / "short.json"
    )
    assert "short.json has no label for 4 image(s): img001.png" in err
    (tmp_path / "mixed.json").write_text(json.dumps({n: (1 if i else [0.5]) for i, n in enumerate(names)}))
    err = tool_error(
        capsys, "create_from_images", tmp_path / "s", folder, "--labels", tmp_path / "mixed.json"
    )
    assert "mixes class indices and label vectors" in err
    (tmp_path / "l.txt").write_text("x")
    assert "unknown format '.txt'" in tool_error(
        capsys, "create_from_images", tmp_path / "s", folder, "--labels", tmp_path / "l.txt"
    )
    assert not (tmp_path / "s").exists()


def test_progress_lines(tmp_path, capsys):
    folder = image_dir(tmp_path, rand_images(9, [4, 4]))
    capsys.readouterr()
    assert run_tool("create_from_images", tmp_path / "o", folder, "--progress_interval", 4) == 0
    out = capsys.readouterr().out
    assert "\r" not in out
    progress = [ln.split("(")[0].strip() for ln in out.splitlines() if "/ 9 images" in ln]
    assert progress == ["4 / 9 images", "8 / 9 images"]
    assert out.splitlines()[-1] == "Added 9 images."


# ----------------------------------------------------------------------------
# create_from_images: clear errors, nothing half-written.


def test_bad_inputs_give_clear_errors(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("not an image")
    assert "no images found in" in tool_error(
        capsys, "create_from_images", tmp_path / "o", tmp_path / "empty"
    )
    assert "image folder" in tool_error(capsys, "create_from_images", tmp_path / "o", tmp_path / "missing")

    folder = image_dir(tmp_path, rand_images(6, [8, 8, 3]))
    (folder / "img003.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    err = tool_error(capsys, "create_from_images", tmp_path / "o", folder)
    assert "img003.png: cannot read the image" in err
    # The failure came after other images were written (shuffled order 1, 3, ...; image 0 is read
    # first to learn the size): nothing is left behind.
    assert list(shuffled_order(6)[:2]) == [1, 3]
    assert not (tmp_path / "o").exists()

    # An output folder that the tool did not create is kept, with no temporary files in it.
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "keep.txt").write_text("user file")
    assert "img003.png: cannot read the image" in tool_error(
        capsys, "create_from_images", tmp_path / "o", folder
    )
    assert files_of(tmp_path / "o") == ["keep.txt"]


def test_existing_dataset_needs_overwrite(data_dir, tmp_path, capsys):
    folder = image_dir(tmp_path, rand_images(3, [4, 4, 3]))
    out = tmp_path / "out"
    shutil.copytree(data_dir / "small" / "dataset" / "gray32", out)
    before = {f: (out / f).read_bytes() for f in files_of(out)}
    err = tool_error(capsys, "create_from_images", out, folder)
    assert f"{out} already holds a dataset (gray32-r02.tfrecords" in err and "--overwrite" in err
    assert {f: (out / f).read_bytes() for f in files_of(out)} == before
    assert run_tool("create_from_images", out, folder, "--overwrite") == 0
    assert files_of(out) == ["out-r02.tfrecords"]  # The old 32x32 levels are gone.
    assert TFRecordDataset(str(out)).num_images == 3


def test_truncated_dataset_error_names_the_file(data_dir, tmp_path, capsys):
    out = tmp_path / "rgb32"
    shutil.copytree(data_dir / "small" / "dataset" / "rgb32", out)
    path = out / "rgb32-r03.tfrecords"
    path.write_bytes(path.read_bytes()[:1000])
    for command in ("info", "extract", "display"):
        extra = [tmp_path / "x"] if command == "extract" else []
        err = tool_error(capsys, command, out, *extra)
        assert "rgb32-r03.tfrecords is truncated or corrupt" in err


# ----------------------------------------------------------------------------
# Archives and other sources.


def _pickle_file(path, obj, protocol=2):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


def test_cifar10_and_svhn_with_restricted_unpickler(tmp_path, capsys):
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


def test_module_entry_point_reports_errors_without_traceback(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run(
        [sys.executable, "-m", "tfstylegan.dataset_tool", "info", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert proc.returncode == 1
    assert f"Error: dataset directory {tmp_path / 'missing'} does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


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
        with pytest.raises(DatasetError, match=r"batch: cannot load the pickle \(the pickle tries to modify "):
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
