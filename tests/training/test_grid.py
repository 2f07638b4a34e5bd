"""Snapshot image grids: sizes, layout, rounding, and the class layouts of a labelled dataset."""

import numpy as np
import pytest

from tfstylegan.training.checks import check_config
from tfstylegan.training.config import ConfigError, DatasetInfo, TrainConfig, parse_grid_size
from tfstylegan.training.grid import create_image_grid, to_uint8


def test_grid_sizes_follow_the_original():
    assert parse_grid_size("1080p", 1024) == (3, 2) and parse_grid_size("1080p", 32) == (32, 32)
    assert parse_grid_size("4k", 1024) == (7, 4) and parse_grid_size("4k", 256) == (15, 8)
    assert parse_grid_size("12x6", 32) == (12, 6)
    with pytest.raises(ConfigError, match="grid_size"):
        parse_grid_size("0x3", 32)


def test_image_grid_layout_and_rounding():
    images = np.stack([np.full([2, 2, 1], v, np.float32) for v in (-1.0, 0.0, 1.0)])  # [3, 2, 2, 1]
    grid = create_image_grid(images, (2, 2))
    assert grid.shape == (4, 4, 1) and grid[0, 0, 0] == -1 and grid[0, 2, 0] == 0 and grid[2, 0, 0] == 1
    assert grid[2, 2, 0] == 0  # Empty cell.
    # [-1, 1] -> [0, 255] with np.rint (half to even) as the original's snapshot images.
    np.testing.assert_array_equal(to_uint8(np.array([-1.0, 0.0, 1.0, 2.0]), (-1, 1)), [0, 128, 255, 255])


@pytest.fixture(scope="module")
def cond16(data_dir):
    from tfstylegan.data import TFRecordDataset

    return TFRecordDataset(str(data_dir / "cond" / "dataset" / "cond16"), max_label_size="full")


def _dataset_pairs(ts):
    """{image bytes: label} of every image (16 records, one shuffled pass in each of a few batches)."""
    pairs = {}
    for reals, labels in ts.as_dataset(16, lod=0, seed=3).take(4):
        for real, label in zip(reals.numpy(), labels.numpy()):
            pairs[real.tobytes()] = label
    return pairs


@pytest.mark.parametrize(
    "layout, grid_size, cell_class",
    [
        ("row_per_class", (3, 5), lambda x, y: y),  # Block = one row: row y holds class y.
        ("col_per_class", (5, 2), lambda x, y: x),  # Block = one column.
        ("class4x4", (8, 4), lambda x, y: x // 4),  # Two 4x4 blocks side by side: classes 0 and 1.
    ],
)
def test_class_grid_layouts_place_each_class_in_its_block(cond16, layout, grid_size, cell_class):
    from tfstylegan.training.grid import setup_snapshot_image_grid

    # cond16: 16 images of 5 classes, with 4, 3, 3, 5 and 1 images.
    counts = [4, 3, 3, 5, 1]
    pairs = _dataset_pairs(cond16)
    assert len(pairs) == 16 and np.bincount([np.argmax(v) for v in pairs.values()]).tolist() == counts
    gw, gh = grid_size
    reals, labels, latents = setup_snapshot_image_grid(cond16, 8, grid_size, seed=1, layout=layout)
    assert reals.shape == (gw * gh, 16, 16, 3) and labels.shape == (gw * gh, 5) and latents.shape == (gw * gh, 8)
    filled = {}
    seen = set()
    for y in range(gh):
        for x in range(gw):
            real, label = reals[x + y * gw], labels[x + y * gw]
            if not label.any():
                assert not real.any()  # An empty cell: black, zero label.
                continue
            key = real.tobytes()
            assert key in pairs and np.array_equal(pairs[key], label)  # A dataset image with its own label.
            assert key not in seen  # One pass over the data: no image twice.
            seen.add(key)
            assert int(np.argmax(label)) == cell_class(x, y)
            filled[cell_class(x, y)] = filled.get(cell_class(x, y), 0) + 1
    block = {"row_per_class": gw, "col_per_class": gh, "class4x4": 16}[layout]
    blocks = {"row_per_class": gh, "col_per_class": gw, "class4x4": 2}[layout]
    assert filled == {c: min(block, counts[c]) for c in range(blocks) if counts[c]}


def test_class_grid_layout_needs_labels(data_dir):
    from tfstylegan.data import TFRecordDataset
    from tfstylegan.training.grid import setup_snapshot_image_grid

    ts = TFRecordDataset(str(data_dir / "small" / "dataset" / "rgb32"))
    with pytest.raises(ValueError, match="needs labels"):
        setup_snapshot_image_grid(ts, 8, (4, 4), seed=1, layout="row_per_class")
    with pytest.raises(ConfigError, match="--grid_layout=row_per_class: a class layout needs labels"):
        check_config(TrainConfig(grid_layout="row_per_class"), DatasetInfo("x", 32, 3, 0, 100), 1)
    with pytest.raises(ConfigError, match="--grid_layout=diagonal: expected one of random"):
        check_config(TrainConfig(grid_layout="diagonal"), DatasetInfo("x", 32, 3, 5, 100), 1)
