"""Multi-worker training: two train.py processes on 127.0.0.1, and the strategy flags' usage errors."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tests import ROOT
from tests.tiny_networks import TRAIN_D_ARGS, TRAIN_G_ARGS, as_flag
from tfstylegan.cli import train as train_cli
from tfstylegan.training.checkpoint import locate_resume

RGB32 = str(ROOT / "tests" / "data" / "small" / "dataset" / "rgb32")
# No deadline: a slow or loaded machine just takes longer. A run counts as hung only when
# no worker's output grows for this long (the longest silence, tracing the steps, takes
# seconds on a quiet machine).
STALL_S = 900


def _free_ports(count: int) -> list[int]:
    """Ports the OS hands out now (held together, so they differ; released just before use)."""
    socks = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _launch(tmp_path, args):
    """Starts one train.py per worker; returns the processes and their log files."""
    ports = _free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    procs, logs = [], []
    for index in range(2):
        env = {
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "CUDA_VISIBLE_DEVICES": "",
            "TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
        }
        log = open(tmp_path / f"worker{index}.log", "w")
        procs.append(
            subprocess.Popen(
                [sys.executable, "train.py", *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,  # Its own process group, so teardown reaches its children too.
            )
        )
        logs.append(log)
    return procs, logs


def _wait(procs, logs, tmp_path) -> list[str]:
    """Waits for the workers while they make progress; stops them all when one fails or all stall."""
    paths = [tmp_path / f"worker{i}.log" for i in range(len(procs))]
    sizes, last_progress, stalled = None, time.monotonic(), False
    try:
        while any(p.poll() is None for p in procs):
            if any(p.returncode for p in procs):
                break  # A failed worker: the others would wait for it in their collectives.
            now = [path.stat().st_size for path in paths]
            if now != sizes:
                sizes, last_progress = now, time.monotonic()
            elif time.monotonic() - last_progress > STALL_S:
                stalled = True
                break
            time.sleep(1.0)
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for log in logs:
            log.close()
    outputs = [path.read_text() for path in paths]
    for i, (p, out) in enumerate(zip(procs, outputs)):
        why = f"no output for {STALL_S} s, stopped" if stalled else f"exited with {p.returncode}"
        assert p.returncode == 0, f"worker {i}: {why}:\n{out[-3000:]}"
    return outputs


def _tensors(prefix: str) -> dict:
    reader = tf.train.load_checkpoint(prefix)
    return {k: reader.get_tensor(k) for k, dtype in reader.get_variable_to_dtype_map().items() if dtype != tf.variant}


@pytest.mark.slow
def test_two_workers_train_in_lockstep(tmp_path):
    """Two MultiWorkerMirroredStrategy workers (one CPU replica each) train 2 ticks through train.py, then resume."""
    results = tmp_path / "results"
    args = [
        f"--data_dir={RGB32}",
        f"--result_dir={results}",
        "--strategy=multi_worker",
        "--desc=mw",
        f"--G_args={as_flag(TRAIN_G_ARGS)}",
        f"--D_args={as_flag(TRAIN_D_ARGS)}",
        "--lod_initial_resolution=32",
        "--minibatch_base=8",  # 4 per worker: one minibatch-stddev group each.
        "--total_kimg=0.064",
        "--tick_kimg_base=0.032",
        "--grid_size=2x2",
    ]
    start = time.monotonic()
    chief, other = _wait(*_launch(tmp_path, args), tmp_path)
    print(f"two workers, 2 ticks of 4 D + 4 G steps: {time.monotonic() - start:.1f}s")

    run_dir = results / "00000-mw"
    assert "Strategy: multi_worker, 2 replica(s) on 2 worker(s)" in chief and "tick 2 " in chief
    assert "worker 1: tick 2 " in other and f"checkpoints are in {run_dir}/checkpoints/worker-1" in other
    assert {"log.txt", "config.json", "network-final.pkl", "reals.png"} <= set(os.listdir(run_dir))
    assert json.loads((run_dir / "config.json").read_text())["workers"] == 2
    assert sorted(os.listdir(results)) == ["00000-mw"]  # The other worker wrote into the chief's run number.

    # Both workers hold the same weights, optimizer state, counters and random state;
    # only the data iterators (their own shards) and the wall clock differ.
    mine = _tensors(str(run_dir / "checkpoints" / "ckpt-2"))
    theirs = _tensors(str(run_dir / "checkpoints" / "worker-1" / "ckpt-2"))
    assert mine.keys() == theirs.keys()
    differ = sorted(k for k in mine if not np.array_equal(mine[k], theirs[k]))
    assert differ == ["progress/total_time/.ATTRIBUTES/VARIABLE_VALUE"]
    assert mine["data_shards/.ATTRIBUTES/VARIABLE_VALUE"] == 2 and mine["D_opt/_iterations/.ATTRIBUTES/VARIABLE_VALUE"] == 8
    weights = [k for k in mine if k.startswith(("G/", "D/"))]
    assert len(weights) > 50 and all(np.all(np.isfinite(mine[k])) for k in weights)

    # Resuming, each worker finds its own checkpoint (and with it its own data iterator).
    assert locate_resume(str(run_dir)) == ("checkpoint", str(run_dir / "checkpoints" / "ckpt-2"))
    assert locate_resume(str(run_dir), worker=1) == ("checkpoint", str(run_dir / "checkpoints" / "worker-1" / "ckpt-2"))
    prefix = str(run_dir / "checkpoints" / "ckpt-1")
    assert locate_resume(prefix, worker=1) == ("checkpoint", str(run_dir / "checkpoints" / "worker-1" / "ckpt-1"))

    # Resumed from tick 1, both workers replay tick 2 exactly: the same weights as before.
    chief, other = _wait(*_launch(tmp_path, [*args, f"--resume={prefix}"]), tmp_path)
    assert f"Resuming from checkpoint {prefix}" in chief
    assert f"worker 1: Resuming from checkpoint {run_dir}/checkpoints/worker-1/ckpt-1" in other
    resumed = _tensors(str(results / "00001-mw" / "checkpoints" / "ckpt-2"))
    differ = sorted(k for k in mine if not np.array_equal(mine[k], resumed[k]))
    assert differ == ["progress/total_time/.ATTRIBUTES/VARIABLE_VALUE", "save_counter/.ATTRIBUTES/VARIABLE_VALUE"]


@pytest.mark.parametrize(
    "env, args, expected",
    [
        ({}, ["--strategy=multi_worker"], "--strategy=multi_worker: TF_CONFIG is not set; set TF_CONFIG on every worker"),
        ({"TF_CONFIG": "{not json"}, ["--strategy=multi_worker"], "--strategy=multi_worker: TF_CONFIG is not valid"),
        (
            {"TF_CONFIG": '{"cluster": {"worker": ["127.0.0.1:1"]}, "task": {"type": "worker", "index": 2}}'},
            ["--strategy=multi_worker"],
            "TF_CONFIG's task 'worker' 2 is not one of its cluster's chief/worker tasks",
        ),
        ({}, ["--precision=float8"], "--precision=float8: value should be one of <float32|mixed_float16|mixed_bfloat16>"),
        ({}, ["--num_fp16_res=2"], "--num_fp16_res=2: needs --precision=mixed_float16 or mixed_bfloat16"),
        ({}, ["--precision=mixed_float16", "--num_fp16_res=-1"], "--num_fp16_res=-1: expected a number of resolutions"),
        ({}, ["--max_nonfinite_steps=-1"], "--max_nonfinite_steps=-1: expected a number of steps >= 0"),
        ({}, ["--strategy=mirrored", "--minibatch_base=12"], "each replica gets 6 images, which is not divisible by the minibatch-stddev group size 4"),
    ],
)
def test_strategy_and_precision_usage_errors(capsys, monkeypatch, env, args, expected):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code = train_cli.main(["train.py", "--dry_run", *args], prog="train.py")
    err = capsys.readouterr().err
    assert code == 1 and expected in err, err
    assert "Traceback" not in err and err.startswith("train.py: error: ")


def test_precision_flags_in_the_resolved_config(capsys):
    code = train_cli.main(
        ["train.py", "--dry_run", "--precision=mixed_float16", "--num_fp16_res=2", "--xla", "--max_nonfinite_steps=5"],
        prog="train.py",
    )
    cfg = json.loads(capsys.readouterr().out)
    assert code == 0 and (cfg["precision"], cfg["num_fp16_res"], cfg["xla"], cfg["max_nonfinite_steps"]) == (
        "mixed_float16", 2, True, 5)
