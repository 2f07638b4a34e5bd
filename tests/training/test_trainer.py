"""A whole (tiny) training run: outputs, trace counts, and exact resume from a checkpoint."""

import glob
import json
import os
import re

import numpy as np
import pytest
import tensorflow as tf

from tests.tiny_networks import TRAIN_D_ARGS, TRAIN_G_ARGS
from tfstylegan import load_network_pkl
from tfstylegan.training.config import TrainConfig
from tfstylegan.training.trainer import Trainer


def _config(data_dir, result_dir, **changes):
    cfg = TrainConfig(
        data_dir=str(data_dir / "small" / "dataset" / "rgb32"),
        G_args=dict(TRAIN_G_ARGS),
        D_args=dict(TRAIN_D_ARGS),
        mirror_augment=True,
        total_kimg=0.384,
        G_smoothing_kimg=0.1,
        sched_args=dict(
            lod_initial_resolution=16,  # lod 1 (16x16), then 16 -> 32 fades in from kimg 0.128 to 0.256.
            lod_training_kimg=0.128,
            lod_transition_kimg=0.128,
            minibatch_base=8,
            minibatch_dict={32: 4},  # The minibatch changes with the resolution too.
            G_lrate_base=0.002,
            D_lrate_base=0.002,
            tick_kimg_base=0.064,
            tick_kimg_dict={},
        ),
        image_snapshot_ticks=2,
        network_snapshot_ticks=3,
        checkpoint_ticks=1,
        checkpoints_to_keep=20,
        grid_size="4x2",
        result_dir=str(result_dir),
        config="test",
        seed=123,
    )
    return cfg.replace(**changes)


def _weights(trainer):
    return [w.numpy() for net in (trainer.G, trainer.D, trainer.Gs) for w in net.weights]


def _scalars_and_images(run_dir):
    tags = {}
    for path in glob.glob(os.path.join(run_dir, "events.out.tfevents.*")):
        for record in tf.data.TFRecordDataset(path):
            event = tf.compat.v1.Event.FromString(record.numpy())
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
    return tags


@pytest.mark.slow
def test_train_snapshots_traces_and_exact_resume(data_dir, tmp_path):
    run = Trainer(_config(data_dir, tmp_path))
    run_dir = run.train()

    # One trace per resolution (16 then 32) for each step, across the lod fade and the
    # minibatch change (8 at 16x16, 4 at 32x32).
    assert run.steps.traces == {"D": 2, "G": 2}
    assert run.cur_nimg >= 384 and run.cur_tick == len(glob.glob(os.path.join(run_dir, "checkpoints", "ckpt-*.index")))
    assert float(run.G.lod.numpy()) == 0.0 and float(run.Gs.lod.numpy()) == 0.0

    names = set(os.listdir(run_dir))
    assert {"reals.png", "fakes000000.png", "network-final.pkl", "config.json", "log.txt"} <= names
    assert any(n.startswith("network-snapshot-") for n in names)
    config = json.loads(open(os.path.join(run_dir, "config.json")).read())
    assert config["dataset"]["resolution"] == 32 and config["resolved_loss_args"]["D"]["r1_gamma"] == 10.0
    log = open(os.path.join(run_dir, "log.txt")).read()
    assert "tick 1 " in log and "sec/kimg" in log and "\r" not in log

    tags = _scalars_and_images(run_dir)
    for tag in ("Loss/G", "Loss/D", "Progress/lod", "TrainG/learning_rate", "TrainD/skipped_steps", "Timing/sec_per_kimg"):
        assert tag in tags, tag
    # fakes<kimg>.png is named by whole kimg (as the original), so this short run overwrites
    # one file; TensorBoard keeps every grid: the initial one and every 2nd tick.
    assert len(tags["fakes"]) == 1 + run.cur_tick // 2 + (run.cur_tick % 2) and len(tags["reals"]) == 1

    # The final pickle holds the trained networks.
    G, D, Gs = load_network_pkl(os.path.join(run_dir, "network-final.pkl"))
    for mine, theirs in zip((run.G, run.D, run.Gs), (G, D, Gs)):
        for a, b in zip(mine.weights, theirs.weights):
            np.testing.assert_array_equal(a.numpy(), b.numpy())

    # Resume from the tick-3 checkpoint (mid-fade) to the end: exactly the uninterrupted weights.
    final = _weights(run)
    prefix = os.path.join(run_dir, "checkpoints", "ckpt-3")
    resumed = Trainer(_config(data_dir, tmp_path, resume=prefix))
    resumed_dir = resumed.train()
    assert resumed_dir != run_dir and resumed.cur_nimg == run.cur_nimg and resumed.cur_tick == run.cur_tick
    assert resumed.steps.traces == {"D": 1, "G": 1}
    for a, b in zip(final, _weights(resumed)):
        np.testing.assert_array_equal(a, b)
    for net in ("G", "D"):
        for a, b in zip(getattr(run.steps, net).optimizer.variables, getattr(resumed.steps, net).optimizer.variables):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert "Resuming from checkpoint" in open(os.path.join(resumed_dir, "log.txt")).read()

    # Resume from a pickle (weights only; progress from resume_kimg, as the original).
    pkl = os.path.join(run_dir, "network-final.pkl")
    from_pkl = Trainer(_config(data_dir, tmp_path, resume=pkl, resume_kimg=0.384, resume_time=60.0))
    assert from_pkl.resume(pkl) == f"pickle {pkl}" and from_pkl.cur_nimg == 384
    assert from_pkl.progress.values()["total_time"] == 60.0
    for a, b in zip(final, _weights(from_pkl)):
        np.testing.assert_array_equal(a, b)


def test_metrics_run_on_network_snapshots(data_dir, tmp_path, monkeypatch):
    from tfstylegan.metrics import runner

    calls = []

    def fake_run_metrics(Gs, data, metrics, *, features, distance, cache_dir, mirror_augment, seed):
        assert distance is None  # FID needs no LPIPS
        calls.append((Gs.name, data, list(metrics), features, mirror_augment))
        return {"fid500": 12.5, "fid500_time_s": 3.0}

    monkeypatch.setattr(runner, "run_metrics", fake_run_metrics)
    weights = tmp_path / "inception.h5"
    weights.write_bytes(b"")  # Only checked for existence: the features are a stand-in.
    cfg = _config(data_dir, tmp_path, total_kimg=0.064, metrics=["fid500"], inception_weights=str(weights))
    run = Trainer(cfg, metric_features="features")
    run_dir = run.train()
    # One tick: the first (and final) snapshot runs the metric once, on Gs, as the original.
    assert calls == [("Gs", cfg.data_dir, ["fid500"], "features", True)]
    line = open(os.path.join(run_dir, "metric-fid500.txt")).read()
    assert line.startswith("network-snapshot-000000") and "fid500 12.5" in line
    assert "Metrics/fid500" in _scalars_and_images(run_dir)


def test_weight_free_swd_runs_on_network_snapshots(data_dir, tmp_path):
    cfg = _config(data_dir, tmp_path, total_kimg=0.064, metrics=["swd64"])
    run_dir = Trainer(cfg).train()
    line = open(os.path.join(run_dir, "metric-swd64.txt")).read()
    assert re.match(r"network-snapshot-000000\s+time \d+s\s+swd64_32 \S+\s+swd64_16 \S+\s+swd64 \S+\n$", line), line
    scalars = _scalars_and_images(run_dir)
    assert {"Metrics/swd64", "Metrics/swd64_32", "Metrics/swd64_16"} <= set(scalars)
    log = open(os.path.join(run_dir, "log.txt")).read()
    assert log.count("Snapshot metrics swd64 (no Inception weights given") == 1


def test_a_configuration_is_checked_once_per_route(data_dir, tmp_path, monkeypatch):
    """Trainer(cfg) checks cfg; Trainer(checked) takes what check_config returned (the command line's route)."""
    from tfstylegan.training import trainer as trainer_module
    from tfstylegan.training.checks import check_config
    from tfstylegan.training.training_set import dataset_info

    calls = []
    monkeypatch.setattr(trainer_module, "check_config", lambda *args: calls.append(args) or check_config(*args))
    cfg = _config(data_dir, tmp_path)
    run = Trainer(cfg)
    assert len(calls) == 1 and run.checked.loss_args["D"]["r1_gamma"] == 10.0
    checked = check_config(cfg, dataset_info(cfg), 1)
    assert Trainer(checked).checked is checked and len(calls) == 1
    with pytest.raises(ValueError, match="checked for 2 replica"):
        Trainer(check_config(cfg, dataset_info(cfg), 2))
