"""Small pieces of the training loop: run directories, report formatting, grids, the config checks."""

import numpy as np
import pytest

from tfstylegan.training.config import ConfigError, DatasetInfo, TrainConfig, check_config, parse_grid_size
from tfstylegan.training.grid import create_image_grid, to_uint8
from tfstylegan.training.trainer import create_run_dir, format_time


def test_run_dirs_take_the_next_free_number(tmp_path):
    (tmp_path / "00007-old").mkdir()
    (tmp_path / "_synthetic-shapes32-1000").mkdir()
    assert create_run_dir(str(tmp_path), "sgan-tiny-1gpu").endswith("00008-sgan-tiny-1gpu")
    assert create_run_dir(str(tmp_path), "x").endswith("00009-x")


def test_format_time():
    assert [format_time(s) for s in (5, 65, 3723, 90061)] == ["5s", "1m 05s", "1h 02m 03s", "1d 01h 01m"]


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


def test_check_config_minibatch_rules():
    info = DatasetInfo("x", 32, 3, 0, 100)
    ok = TrainConfig(sched_args=dict(minibatch_base=8, lod_initial_resolution=4))
    assert check_config(ok, info, 2)["D"]["r1_gamma"] == 10.0
    # 10 images over 2 replicas: 5 per replica, not a multiple of the stddev group (4).
    with pytest.raises(ConfigError, match="each replica gets 5 images"):
        check_config(ok.replace(sched_args=dict(minibatch_base=10)), info, 2)
    with pytest.raises(ConfigError, match="not a positive multiple of the 2 replica"):
        check_config(ok.replace(sched_args=dict(minibatch_base=8, minibatch_dict={16: 1})), info, 2)
    # A resolution the run never reaches is not checked (growing from 16).
    fine = ok.replace(sched_args=dict(minibatch_base=8, minibatch_dict={8: 3}, lod_initial_resolution=16))
    check_config(fine, info, 1)
    with pytest.raises(ConfigError, match="rmsprop takes"):
        check_config(ok.replace(optimizer="rmsprop", D_opt_args={"beta_1": 0.5}), info, 1)
