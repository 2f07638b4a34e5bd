"""create_from_images on the folders people have: odd files, odd names, deep labels, 16-bit images."""

import errno
import io
import json
import os
import threading

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from tests.dataset_tool_runs import run_tool, tool_error
from tfstylegan.data import image_folder, image_labels
from tfstylegan.data.tfrecords import DatasetError, TFRecordDataset, shuffled_order


def _folder(tmp_path, images, name="imgs"):
    folder = tmp_path / name
    folder.mkdir()
    for idx, image in enumerate(images):
        Image.fromarray(image).save(folder / f"img{idx:03d}.png")
    return folder


def _images(n, seed=0, size=8):
    return list(np.random.RandomState(seed).randint(0, 256, [n, size, size, 3]).astype(np.uint8))


def test_every_bad_file_is_reported_in_one_run(tmp_path, capsys):
    folder = _folder(tmp_path, _images(6))
    (folder / "img001.png").write_bytes(b"not an image")
    Image.fromarray(np.zeros([4, 4, 3], np.uint8)).save(folder / "img003.png")
    Image.fromarray(np.zeros([8, 16, 3], np.uint8)).save(folder / "img004.png")
    err = tool_error(capsys, "create_from_images", tmp_path / "out", folder)
    assert (
        "img001.png: cannot read the image" in err and "2 more of the 6 images" in err and "--skip_bad" in err
    )
    capsys.readouterr()
    assert run_tool("create_from_images", tmp_path / "out", folder) == 1
    listing = capsys.readouterr().err
    assert "img003.png is 4x4 but" in listing and "img004.png is 16x8, not square" in listing
    assert not (tmp_path / "out").exists()


def test_skip_bad_leaves_them_out_in_the_order_of_a_clean_folder(tmp_path, capsys):
    images = _images(7)
    folder = _folder(tmp_path, images)
    (folder / "img002.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    capsys.readouterr()
    assert run_tool("create_from_images", tmp_path / "out", folder, "--skip_bad") == 0
    assert "Warning: " in capsys.readouterr().err
    good = [im for i, im in enumerate(images) if i != 2]
    stored = TFRecordDataset(str(tmp_path / "out")).read_all_np()[0]
    np.testing.assert_array_equal(stored, np.stack(good)[shuffled_order(6)])


def _damage_pixels(path):
    """Keeps a PNG's header (so it passes the header check) but cuts its pixel data."""
    data = path.read_bytes()
    path.write_bytes(data[: data.index(b"IDAT") + 12])


def test_damage_found_only_when_decoding_is_reported_or_skipped(tmp_path, capsys):
    images = _images(5, size=16)
    folder = _folder(tmp_path, images)
    _damage_pixels(folder / "img003.png")
    image_folder.peek_image(str(folder / "img003.png"))  # The header reads fine.
    assert "img003.png: cannot read the image" in tool_error(
        capsys, "create_from_images", tmp_path / "o", folder
    )
    assert not (tmp_path / "o").exists()
    assert run_tool("create_from_images", tmp_path / "o", folder, "--skip_bad") == 0
    good = [im for i, im in enumerate(images) if i != 3]
    np.testing.assert_array_equal(
        TFRecordDataset(str(tmp_path / "o")).read_all_np()[0], np.stack(good)[shuffled_order(4)]
    )


def test_non_regular_entries_are_skipped_never_opened(tmp_path, capsys):
    folder = _folder(tmp_path, _images(3))
    (folder / "dir.png").mkdir()
    (folder / "dangling.png").symlink_to(folder / "nowhere.png")
    fifo = folder / "x.png"
    os.mkfifo(fifo)
    unblock = threading.Timer(20, lambda: os.close(os.open(fifo, os.O_WRONLY)))  # Only if a reader is stuck.
    unblock.daemon = True
    unblock.start()
    capsys.readouterr()
    assert run_tool("create_from_images", tmp_path / "out", folder, "--shuffle", 0) == 0
    err = capsys.readouterr().err
    unblock.cancel()
    assert "x.png: it is a FIFO (named pipe), not a regular file" in err
    assert "dir.png: it is a directory" in err and "dangling.png: it is unreadable (No such file" in err
    with pytest.raises(OSError) as info:  # Nobody ever opened the FIFO for reading.
        os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    assert info.value.errno == errno.ENXIO
    assert TFRecordDataset(str(tmp_path / "out")).num_images == 3


def test_file_names_that_are_not_utf8(tmp_path, capsys):
    folder = _folder(tmp_path, _images(2))
    name = os.fsencode(folder) + b"/caf\xe9.png"
    with open(name, "wb") as f:
        f.write(b"broken")
    err = tool_error(capsys, "create_from_images", tmp_path / "out", folder)
    assert "'" in err and "caf\\udce9.png" in err and "cannot read the image" in err
    Image.fromarray(_images(1)[0]).save(name, format="PNG")
    assert run_tool("create_from_images", tmp_path / "out", folder) == 0
    assert TFRecordDataset(str(tmp_path / "out")).num_images == 3


def test_sixteen_bit_images_are_scaled_not_truncated(tmp_path):
    rnd = np.random.RandomState(0)
    rgb16 = rnd.randint(0, 65536, [8, 8, 3]).astype(np.uint16)
    rgb16[0, 0] = [511, 65535, 128]  # PIL alone keeps the high byte: 1, 255, 0.
    gray16 = rnd.randint(0, 65536, [8, 8, 1]).astype(np.uint16)
    folder = tmp_path / "deep"
    folder.mkdir()
    (folder / "a.png").write_bytes(tf.io.encode_png(rgb16).numpy())
    (folder / "b.png").write_bytes(tf.io.encode_png(gray16).numpy())
    rgb = image_folder.ImageLoader()(str(folder / "a.png"))
    expected = np.floor(rgb16 / 257 + 0.5).astype(np.uint8)
    np.testing.assert_array_equal(rgb, expected)
    assert rgb[0, 0].tolist() == [2, 255, 0]
    gray = image_folder.ImageLoader()(str(folder / "b.png"))
    np.testing.assert_array_equal(gray, np.floor(gray16 / 257 + 0.5).astype(np.uint8))
    assert image_folder.peek_image(str(folder / "a.png")) == ("RGB", (8, 8))
    tiff = io.BytesIO()
    Image.fromarray(gray16[:, :, 0]).save(tiff, format="TIFF")
    (folder / "c.tif").write_bytes(tiff.getvalue())
    np.testing.assert_array_equal(image_folder.ImageLoader()(str(folder / "c.tif")), gray)
    Image.fromarray(np.zeros([8, 8], np.float32)).save(folder / "d.tif")
    with pytest.raises(
        DatasetError, match=r"d\.tif: F images of more than 8 bits per sample are not supported"
    ):
        image_folder.peek_image(str(folder / "d.tif"))


def _labels(tmp_path, name, content, names=("a.png", "b.png")):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return image_labels.read_labels_file(str(path), list(names))


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("l.csv", "a.png,1000000000\nb.png,0\n", r"class indices must lie in \[0, 100000\), got 1000000000"),
        ("l.csv", "a.png,-1\nb.png,0\n", r"got -1"),
        ("l.csv", "a.png,1\nb.png,0\n\xff\xfe,1\n".encode("latin1"), r"line 3 is not valid UTF-8 text"),
        ("l.csv", b"a.png,1\nb.png,0\x00\n", r"line 2: '0\\x00' is not a number"),
        (
            "l.csv",
            "a.png,1\nb.png," + "1" * 200_000 + "\n",
            r"line 2 is not valid CSV \(field larger than field limit",
        ),
        ("l.csv", "a.png,nan\nb.png,1.0\n", r"finite numbers"),
        ("l.json", "[" * 100_000 + "]" * 100_000, r"JSON nested 100000 levels deep"),
        ("l.json", '{"a.png": ' + "9" * 5000 + ', "b.png": 1}', r"invalid JSON"),
        ("l.json", '{"a.png": [NaN], "b.png": [1]}', r"finite numbers"),
        ("l.json", b'{"a.png": 1, "b.png": "\xc3"}', r"line 1 is not valid UTF-8 text"),
    ],
)
def test_bad_labels_files_are_clear_errors(tmp_path, name, content, message):
    with pytest.raises(DatasetError, match=message):
        _labels(tmp_path, name, content)


def test_one_hot_labels_are_bounded(tmp_path):
    names = [f"{i}.png" for i in range(3000)]
    content = json.dumps({n: (99_999 if i == 0 else 0) for i, n in enumerate(names)})
    with pytest.raises(
        DatasetError, match=r"3000 images and 100000 classes would take 1\.1 GiB; at most 1 GiB"
    ):
        _labels(tmp_path, "l.json", content, names)
    assert _labels(tmp_path, "l.json", json.dumps({"a.png": 2, "b.png": 0})).tolist() == [
        [0, 0, 1],
        [1, 0, 0],
    ]


def test_a_labels_fifo_is_not_opened(tmp_path):
    fifo = tmp_path / "labels.json"
    os.mkfifo(fifo)
    with pytest.raises(
        DatasetError, match=r"cannot read it \(it is a FIFO \(named pipe\), not a regular file\)"
    ):
        image_labels.read_labels_file(str(fifo), ["a.png"])
