"""training_schedule against the original's worked examples (schedule.json)."""

import json

import pytest

from tfstylegan.schedule import TrainingSchedule, training_schedule


@pytest.mark.parametrize("fixture", ["small", "cond"])
def test_schedule_matches_original(data_dir, fixture):
    ref = json.loads((data_dir / fixture / "schedule.json").read_text())
    checked = 0
    for run in ref["runs"]:
        for cur_nimg, want in zip(ref["cur_nimg"], run["entries"]):
            got = training_schedule(cur_nimg, run["resolution"], run["num_gpus"], **run["sched_args"])
            assert got.as_dict() == want, (run["preset"], run["resolution"], cur_nimg)
            checked += 1
    assert checked >= 19 * 8


def test_schedule_basics():
    s = training_schedule(0, 32, 1)
    assert isinstance(s, TrainingSchedule)
    assert (s.lod, s.resolution, s.minibatch, s.tick_kimg) == (3.0, 4, 16, 160)
    # Mid-transition: 900 kimg into the first 600 + 600 phase -> half way from lod 2 to 1.
    s = training_schedule(900_000, 32, 2, lod_initial_resolution=8, minibatch_dict={"16": 7})
    assert (s.lod, s.resolution, s.minibatch) == (1.5, 16, 6)
    # The per-GPU cap and the learning-rate ramp-up.
    s = training_schedule(50_000, 8, 4, max_minibatch_per_gpu={4: 2}, lrate_rampup_kimg=100)
    assert s.minibatch == 8 and s.G_lrate == pytest.approx(0.0005) and s.D_lrate == pytest.approx(0.0005)


class _Dataset:
    resolution_log2 = 5


def test_schedule_accepts_dataset_object():
    assert training_schedule(0, _Dataset(), 1) == training_schedule(0, 32, 1)


def test_schedule_rejects_bad_resolution():
    with pytest.raises(ValueError, match="power of two"):
        training_schedule(0, 48, 1)
