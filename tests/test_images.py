"""tfstylegan.images: the two 8-bit roundings, quantization, grids, PIL images and PNG files."""

import os

import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

import tfstylegan
from tfstylegan import images, ops
from tfstylegan.metrics import fid
from tfstylegan.training import grid


def test_one_conversion_under_every_public_name():
    assert tfstylegan.convert_images_to_uint8 is images.to_uint8_half_up
    assert ops.convert_images_to_uint8 is images.to_uint8_half_up
    assert fid.quantize_images is images.quantize_images


# drange (0, 510) scales by 0.5 exactly, so every level below is exact in float32.
HALVES = np.array([[0.0, 1.0, 3.0, 253.0, 255.0, 509.0, 511.0, -1.0, -3.0, 510.0, 600.0]], np.float32)
HALF_UP = [[0, 1, 2, 127, 128, 255, 255, 0, 0, 255, 255]]  # 0.5 -> 1, 1.5 -> 2, 126.5 -> 127, 254.5 -> 255
HALF_EVEN = [[0, 0, 2, 126, 128, 254, 255, 0, 0, 255, 255]]  # 0.5 -> 0, 1.5 -> 2, 126.5 -> 126, 254.5 -> 254


def test_half_up_rounds_halves_up_and_saturates():
    np.testing.assert_array_equal(images.to_uint8_half_up(HALVES, (0, 510)), HALF_UP)
    np.testing.assert_array_equal(images.to_uint8_half_up(tf.constant(HALVES), (0, 510)).numpy(), HALF_UP)
    assert images.to_uint8_half_up(HALVES, (0, 510)).dtype == np.uint8
    # The network range: x * 127.5 + 128 truncated (0 -> 127.5 + 0.5 = 128, 0.3 -> 166.25 -> 166).
    x = np.array([-1.0, 1.0, 0.0, -2.0, 2.0, 0.3, -0.3], np.float32)
    np.testing.assert_array_equal(images.to_uint8_half_up(x), [0, 255, 128, 0, 255, 166, 89])


def test_half_even_is_np_rint():
    np.testing.assert_array_equal(images.to_uint8_half_even(HALVES, (0, 510)), HALF_EVEN)
    assert images.to_uint8_half_even(HALVES, (0, 510)).dtype == np.uint8
    x = np.array([-1.0, 0.0, 1.0, 2.0], np.float32)
    np.testing.assert_array_equal(images.to_uint8_half_even(x, (-1, 1)), [0, 128, 255, 255])  # 127.5 -> 128 (even)
    np.testing.assert_array_equal(images.to_uint8_half_even(np.array([126.5, 127.5]), (0, 255)), [126, 128])


def test_quantize_keeps_the_half_up_levels_in_the_network_range():
    x = np.random.RandomState(0).uniform(-1.2, 1.2, [4096]).astype(np.float32)
    levels = np.rint((images.quantize_images(x).numpy() + 1) * 127.5)
    np.testing.assert_array_equal(levels, images.to_uint8_half_up(x))
    q = images.quantize_images(np.array([np.nan, -1.0, 1.0], np.float32)).numpy()
    assert np.isnan(q[0]) and q[1] == -1 and q[2] == 1


def test_image_grid_layouts():
    x = np.arange(5 * 2 * 3, dtype=np.uint8).reshape(5, 2, 3, 1) + 1
    g = images.image_grid(x)  # ceil(sqrt(5)) = 3 columns, 2 rows
    assert g.shape == (4, 9, 1)
    for i in range(5):
        y, c = (i // 3) * 2, (i % 3) * 3
        np.testing.assert_array_equal(g[y : y + 2, c : c + 3], x[i])
    assert not g[2:, 6:].any()  # the empty cell
    assert images.image_grid(x, cols=5).shape == (2, 15, 1)
    small = images.image_grid(x, cols=2, rows=2)  # a fixed (gw, gh) grid: the fifth image is left out
    assert small.shape == (4, 6, 1)
    np.testing.assert_array_equal(small[2:, 3:], x[3])
    wide = images.image_grid(x[:2], cols=2, rows=3)
    assert wide.shape == (6, 6, 1) and not wide[2:].any()
    np.testing.assert_array_equal(grid.create_image_grid(x, (2, 2)), small)


def test_to_pil_modes_and_errors():
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    gray = rgb[:, :, :1]
    assert images.to_pil(rgb).mode == "RGB" and images.to_pil(rgb).size == (3, 2)
    assert images.to_pil(gray).mode == "L" and images.to_pil(gray[:, :, 0]).mode == "L"
    np.testing.assert_array_equal(np.asarray(images.to_pil(gray)), gray[:, :, 0])
    with pytest.raises(ValueError, match="uint8"):
        images.to_pil(rgb.astype(np.float32))
    with pytest.raises(ValueError, match=r"\[2, 3, 4\]"):
        images.to_pil(np.zeros([2, 3, 4], np.uint8))
    assert images.blank_image(4, 2, 1).mode == "L" and images.blank_image(4, 2, 3).getpixel((3, 1)) == (255,) * 3


def test_write_png_round_trip_and_atomic_replace(tmp_path):
    rgb = np.random.RandomState(1).randint(0, 256, [5, 7, 3]).astype(np.uint8)
    gray = rgb[:, :, 1:2]
    path = tmp_path / "a.png"
    images.write_png(path, rgb)
    with PIL.Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "RGB"
        np.testing.assert_array_equal(np.asarray(im), rgb)
    images.write_png(str(path), images.to_pil(gray))  # replaces the file
    with PIL.Image.open(path) as im:
        assert im.mode == "L"
        np.testing.assert_array_equal(np.asarray(im), gray[:, :, 0])
    with pytest.raises(ValueError):
        images.write_png(path, rgb.astype(np.float32))  # a failed write leaves the old file
    with PIL.Image.open(path) as im:
        np.testing.assert_array_equal(np.asarray(im), gray[:, :, 0])
    assert os.listdir(tmp_path) == ["a.png"]  # no temporary files left
    with pytest.raises(tf.errors.NotFoundError):
        images.write_png(tmp_path / "missing" / "b.png", rgb)
    assert os.listdir(tmp_path) == ["a.png"]


def test_snapshot_grid_png(tmp_path):
    fakes = np.stack([np.full([2, 2, 3], v, np.float32) for v in (-1.0, 0.0, 1.0)])  # [3, 2, 2, 3]
    out = grid.save_image_grid(fakes, str(tmp_path / "fakes.png"), (-1, 1), (2, 2))
    assert out.shape == (4, 4, 3) and out[0, 0, 0] == 0 and out[0, 2, 0] == 128 and out[2, 0, 0] == 255
    with PIL.Image.open(tmp_path / "fakes.png") as im:
        np.testing.assert_array_equal(np.asarray(im), out)
