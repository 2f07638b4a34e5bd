"""The dataset tool: byte-exact output on the fixture inputs, the other commands, clear errors."""

import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from tests import ROOT
from tests.dataset_tool_runs import run_tool, tool_error
from tfstylegan.cli import dataset_tool
from tfstylegan.data import inspection
from tfstylegan.data.tfrecords import TFRecordDataset, shuffled_order


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


def test_display_tiles_row_by_row_and_leaves_empty_cells_black(data_dir, tmp_path, capsys):
    gray = data_dir / "small" / "dataset" / "gray32"
    inspection.display(str(gray), str(tmp_path / "grid.png"), num_images=5)
    grid = np.asarray(Image.open(tmp_path / "grid.png"))
    images = TFRecordDataset(str(gray)).read_all_np()[0][:, :, :, 0]  # [N, 32, 32]
    assert grid.shape == (2 * 32, 3 * 32)  # 5 images: ceil(sqrt(5)) = 3 columns, 2 rows
    for idx in range(5):
        y, x = divmod(idx, 3)
        np.testing.assert_array_equal(grid[32 * y : 32 * (y + 1), 32 * x : 32 * (x + 1)], images[idx])
    assert not grid[32:, 64:].any()
    assert "Wrote the first 5 images (2x3 grid, row by row)" in capsys.readouterr().out


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


def test_module_entry_point_reports_errors_without_traceback(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), TF_CPP_MIN_LOG_LEVEL="3")
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
