"""Resuming a run directory: it goes on in place, loses no progress, and ends exactly as an uninterrupted run."""

import gc
import glob
import json
import logging
import os
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tfstylegan.cli import train as train_cli
from tfstylegan.training.config import ConfigError, TrainConfig
from tfstylegan.training.trainer import Trainer

TICK_LINE = re.compile(r"tick (\d+)\s+kimg (\S+)")


def _config(data_dir, result_dir, **changes):
    cfg = TrainConfig(
        data_dir=str(data_dir / "small" / "dataset" / "rgb32"),
        resolution=8,
        G_args=dict(fmap_base=32, fmap_max=16, latent_size=8, dlatent_size=8, mapping_fmaps=8, mapping_layers=1),
        D_args=dict(fmap_base=32, fmap_max=16),
        mirror_augment=True,
        total_kimg=0.192,
        G_smoothing_kimg=0.1,
        sched_args=dict(
            lod_initial_resolution=4,  # lod 1 (4x4) to kimg 0.064, then 4 -> 8 fades in until kimg 0.128.
            lod_training_kimg=0.064,
            lod_transition_kimg=0.064,
            minibatch_base=8,
            tick_kimg_base=0.032,  # One minibatch group (4 x 8 images) per tick.
            tick_kimg_dict={},
        ),
        image_snapshot_ticks=3,
        network_snapshot_ticks=3,
        checkpoint_ticks=1,
        checkpoints_to_keep=2,
        grid_size="2x2",
        result_dir=str(result_dir),
        desc="resume",
        seed=5,
    )
    return cfg.replace(**changes)


class _Killed(BaseException):
    """Stands in for a kill: not an Exception, so the loop neither handles nor logs it."""


def _stop_after_tick(monkeypatch, last_tick):
    """The next run is killed right after tick ``last_tick`` saved its checkpoint."""
    tick = Trainer._tick

    def tick_then_stop(self, *args):
        saved = tick(self, *args)
        if self.cur_tick == last_tick:
            monkeypatch.setattr(Trainer, "_tick", tick)
            raise _Killed
        return saved

    monkeypatch.setattr(Trainer, "_tick", tick_then_stop)


def _state(trainer):
    nets = [w.numpy() for net in (trainer.G, trainer.D, trainer.Gs) for w in net.weights]
    return nets + [v.numpy() for u in (trainer.steps.G, trainer.steps.D) for v in u.optimizer.variables]


def _scalars(run_dir, tag):
    """``[(step, value)]`` of ``tag`` over every events file of ``run_dir``, in the order they were written."""
    events = []
    for path in glob.glob(os.path.join(run_dir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag == tag:
                    events.append((event.wall_time, event.step, float(tf.make_ndarray(value.tensor))))
    return [(step, value) for _, step, value in sorted(events)]


def _ticks(run_dir):
    with open(os.path.join(run_dir, "log.txt")) as f:
        return [(int(m.group(1)), float(m.group(2))) for m in map(TICK_LINE.search, f) if m]


@pytest.mark.slow
def test_a_run_killed_resumed_and_extended_ends_as_an_uninterrupted_one(data_dir, tmp_path, monkeypatch, caplog, capsys):
    caplog.set_level(logging.INFO)
    reference = Trainer(_config(data_dir, tmp_path / "reference"))
    reference_dir = reference.train()

    results = tmp_path / "results"
    _stop_after_tick(monkeypatch, 3)
    with pytest.raises(_Killed):
        Trainer(_config(data_dir, results)).train()
    (run_dir,) = glob.glob(str(results / "*-resume"))
    # Resume the killed run (mid-fade), finish it at 0.128 kimg (where the fade ends).
    resumed = Trainer(_config(data_dir, results, resume=run_dir, total_kimg=0.128))
    assert resumed.train() == run_dir and resumed.cur_tick == 4
    assert resumed.steps.traces == {"D": 1, "G": 1}  # It went on at 8x8, mid-fade; it did not restart at lod 1.

    # Finished: train.py --resume=<it> (its config.json says total_kimg 0.128) does nothing, in one line.
    before = sorted(os.listdir(run_dir))
    caplog.clear()
    assert train_cli.main(["train.py", f"--resume={run_dir}"]) == 0
    assert sorted(os.listdir(run_dir)) == before and capsys.readouterr().out == ""
    assert [r.getMessage() for r in caplog.records if "Nothing to do" in r.getMessage()] == [
        f"Nothing to do: {run_dir} is at kimg 0.1 of --total_kimg=0.128; give a larger --total_kimg to continue it."
    ]

    # A larger total_kimg goes on from the finished run's last checkpoint, in its directory.
    extended = Trainer(_config(data_dir, results, resume=run_dir))
    assert extended.train() == run_dir and os.listdir(results) == [os.path.basename(run_dir)]
    assert extended.cur_nimg == reference.cur_nimg == 192 and extended.cur_tick == reference.cur_tick == 6

    # Exactly the uninterrupted run: networks, optimizers, the final pickle, the losses.
    for a, b in zip(_state(reference), _state(extended), strict=True):
        np.testing.assert_array_equal(a, b)
    final = [open(os.path.join(d, "network-final.pkl"), "rb").read() for d in (reference_dir, run_dir)]
    assert final[0] == final[1]
    assert _scalars(run_dir, "Loss/G") == _scalars(reference_dir, "Loss/G")
    assert [step for step, _ in _scalars(run_dir, "Progress/kimg")] == [32, 64, 96, 128, 160, 192]
    # One log, the ticks in order; each process says where it took over.
    assert _ticks(run_dir) == _ticks(reference_dir) and [t for t, _ in _ticks(run_dir)] == [1, 2, 3, 4, 5, 6]
    log = open(os.path.join(run_dir, "log.txt")).read()
    assert re.findall(r"Continuing from checkpoint \S+ckpt-(\d) at kimg \S+ \(tick (\d)\)", log) == [("3", "3"), ("4", "4")]
    # The last checkpoint is kept, and the numbering went on (2 kept).
    assert sorted(os.path.basename(p) for p in glob.glob(os.path.join(run_dir, "checkpoints", "ckpt-*.index"))) == [
        "ckpt-5.index", "ckpt-6.index",
    ]

    # A resume that does not fit: one message naming the differences, before anything is created or restored.
    before = sorted(os.listdir(run_dir))
    caplog.clear()
    with pytest.raises(ConfigError) as error:
        Trainer(_config(data_dir, results, resume=run_dir, total_kimg=1, resolution=16)).train()
    assert "resolution 8 vs 16" in str(error.value) and "--config" not in str(error.value)
    bigger = {**_config(data_dir, results).G_args, "fmap_base": 64, "fmap_max": 32}
    with pytest.raises(ConfigError, match=r"G_args fmap_base 32 vs 64, fmap_max 16 vs 32$"):
        Trainer(_config(data_dir, results, resume=run_dir, total_kimg=1, G_args=bigger)).train()
    # A pickle of other networks is found out when it is loaded, still before any directory exists.
    with pytest.raises(ConfigError, match=r"the pickle's G does not fit this run \(pickle vs this run\): .*fmap_base 32 vs 64"):
        pkl = os.path.join(reference_dir, "network-final.pkl")
        Trainer(_config(data_dir, results, resume=pkl, total_kimg=1, G_args=bigger)).train()
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes(final[0][: len(final[0]) // 2])
    with pytest.raises(ConfigError, match="the network pickle is truncated"):
        Trainer(_config(data_dir, results, resume=str(truncated), total_kimg=1)).train()
    # A checkpoint outside its run (no config.json to compare with): the first weight that differs.
    loose = tmp_path / "loose"
    loose.mkdir()
    for path in glob.glob(os.path.join(run_dir, "checkpoints", "ckpt-6.*")):
        shutil.copy(path, loose)
    with pytest.raises(ConfigError, match=r"\(checkpoint vs this run\): G \d+ vs \d+ weights; \S+ \(.*\) vs \(.*\)$"):
        Trainer(_config(data_dir, results, resume=str(loose / "ckpt-6"), total_kimg=1, resolution=16)).train()
    assert os.listdir(results) == [os.path.basename(run_dir)] and sorted(os.listdir(run_dir)) == before
    gc.collect()  # A half-restored checkpoint reports its unrestored values when it is deleted.
    assert not [r for r in caplog.records if "could not be found" in r.getMessage()]

    # resume_new_dir: the original's way, a new run directory that starts at the checkpoint.
    elsewhere = Trainer(_config(data_dir, results, resume=run_dir, resume_new_dir=True, total_kimg=0.224))
    new_dir = elsewhere.train()
    assert new_dir != run_dir and sorted(os.listdir(run_dir)) == before and elsewhere.cur_tick == 7
    assert _ticks(new_dir) == [(7, 0.2)] and [step for step, _ in _scalars(new_dir, "Progress/kimg")] == [224]
    assert f"Resuming from checkpoint {run_dir}" in open(os.path.join(new_dir, "log.txt")).read()


def _old_run(data_dir, tmp_path):
    """A run directory with snapshots and no checkpoint (as older runs left), of the networks of the fixture pickle."""
    manifest = json.loads((data_dir / "small" / "manifest.json").read_text())
    cfg = TrainConfig(
        data_dir=str(data_dir / "small" / "dataset" / "rgb32"), G_args=manifest["G_args"], D_args=manifest["D_args"],
        total_kimg=120, sched_args=dict(minibatch_base=8), grid_size="2x2", result_dir=str(tmp_path / "results"),
    )
    run = tmp_path / "results" / "00000-old"
    run.mkdir(parents=True)
    (run / "config.json").write_text(cfg.to_json())
    for kimg in (60, 120):
        shutil.copy(data_dir / "small" / "network.pkl", run / f"network-snapshot-{kimg:06d}.pkl")
    return run, cfg


def test_a_run_without_checkpoints_resumes_at_the_kimg_of_its_latest_snapshot(data_dir, tmp_path, caplog, capsys):
    caplog.set_level(logging.INFO)
    run, cfg = _old_run(data_dir, tmp_path)
    latest = str(run / "network-snapshot-000120.pkl")
    # train.py --resume=<run>: its config.json says total_kimg 120, and the latest snapshot is at kimg 120.
    assert train_cli.main(["train.py", f"--resume={run}"]) == 0 and capsys.readouterr().out == ""
    assert [r.getMessage() for r in caplog.records if "Nothing to do" in r.getMessage()] == [
        f"Nothing to do: {run} is at kimg 120.0 of --total_kimg=120; give a larger --total_kimg to continue it."
    ]
    trainer = Trainer(cfg.replace(resume=str(run), total_kimg=200))
    assert trainer.resume(str(run)) == f"pickle {latest}" and trainer.cur_nimg == 120_000
    assert trainer.resumption.line(False) == f"Resuming from pickle {latest} at kimg 120.0 (tick 0; kimg from its file name)"
    # The same pickle named directly says nothing of a run's progress; --resume_kimg, given, wins.
    assert trainer.resume(latest) == f"pickle {latest}" and trainer.cur_nimg == 0
    assert trainer.resumption.line(False).endswith("at kimg 0.0 (tick 0; kimg 0: no --resume_kimg)")
    trainer = Trainer(cfg.replace(resume=str(run), resume_kimg=0.5, resume_time=30.0))
    assert trainer.resume(str(run)) == f"pickle {latest}" and trainer.cur_nimg == 500
    assert trainer.progress["total_time"] == 30.0
    assert trainer.resumption.line(False).endswith("at kimg 0.5 (tick 0; kimg from --resume_kimg)")


def test_a_run_that_fails_before_its_first_tick_removes_the_directory_it_created(data_dir, tmp_path, monkeypatch, caplog):
    from tfstylegan.training import grid

    caplog.set_level(logging.INFO)
    run, cfg = _old_run(data_dir, tmp_path)
    old = sorted(os.listdir(run))
    save_image_grid, written = grid.save_image_grid, []

    def fakes_fail(images, path, *args):
        if os.path.basename(path).startswith("fakes"):
            raise OSError(f"disk full: {path}")
        written.append(path)
        return save_image_grid(images, path, *args)

    monkeypatch.setattr(grid, "save_image_grid", fakes_fail)
    trainer = Trainer(cfg.replace(resume=str(run), total_kimg=200))
    with pytest.raises(OSError, match="disk full"):
        trainer.train()  # A new run directory, 00001-..., with config.json, log.txt and reals.png so far.
    new_dir = os.path.dirname(written[0])
    assert os.path.basename(new_dir).startswith("00001-") and written == [os.path.join(new_dir, "reals.png")]
    assert os.listdir(tmp_path / "results") == ["00000-old"] and sorted(os.listdir(run)) == old
    assert f"Removing {new_dir}: the run failed before its first tick" in caplog.text
    # A directory that existed is kept, with what the run wrote in it.
    mine = tmp_path / "mine"
    mine.mkdir()
    with pytest.raises(OSError, match="disk full"):
        trainer.train(str(mine))
    assert {"config.json", "log.txt", "reals.png"} <= set(os.listdir(mine))


def test_a_run_that_fails_after_a_tick_keeps_its_directory(data_dir, tmp_path, monkeypatch):
    tick = Trainer._tick

    def second_tick_fails(self, *args):
        if self.cur_tick == 1:
            raise RuntimeError("tick 2 failed")
        return tick(self, *args)

    monkeypatch.setattr(Trainer, "_tick", second_tick_fails)
    results = tmp_path / "results"
    with pytest.raises(RuntimeError, match="tick 2 failed"):
        Trainer(_config(data_dir, results)).train()
    (run_dir,) = glob.glob(str(results / "*-resume"))
    kept = set(os.listdir(run_dir))
    assert {"checkpoints", "network-snapshot-000000.pkl", "fakes000000.png", "reals.png", "log.txt"} <= kept
    # Continuing in it, a failure before the first tick leaves it as it was (and the new events file).
    def no_steps(self, *args):
        raise RuntimeError("no steps")

    monkeypatch.setattr(Trainer, "_loop", no_steps)
    resumed = Trainer(_config(data_dir, results, resume=run_dir))
    with pytest.raises(RuntimeError, match="no steps"):
        resumed.train()
    assert resumed.cur_tick == 1 and kept <= set(os.listdir(run_dir)) and os.listdir(results) == [os.path.basename(run_dir)]
