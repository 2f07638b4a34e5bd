"""The run directory: its number, the names of what a run writes, its ``config.json``, its latest snapshot.

A run writes everything to ``<result_dir>/<NNNNN>-<desc>/``:

- ``config.json``: the configuration and what the run resolved (dataset, replicas, ...);
- ``log.txt`` and ``events.out.tfevents.*``: one line per tick, TensorBoard;
- ``reals.png``, ``fakes<kimg>.png``: the snapshot image grids;
- ``network-snapshot-<kimg>.pkl``, ``network-final.pkl``: original-style ``(G, D, Gs)`` pickles;
- ``metric-<name>.txt``: one line per metric evaluation;
- ``checkpoints/ckpt-<tick>``: full training checkpoints (``checkpoints/worker-<i>/`` for the
  other workers of a multi-worker run).

Paths may be local or on any filesystem TensorFlow reads and writes (``gs://...``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import posixpath
import re
from collections.abc import Callable

import tensorflow as tf

from tfstylegan.atomic import atomic_output
from tfstylegan.paths import basename, join
from tfstylegan.training.config import ConfigError, TrainConfig

CONFIG_JSON = "config.json"
LOG_TXT = "log.txt"
REALS_PNG = "reals.png"
FINAL_PKL = "network-final.pkl"
CHECKPOINTS = "checkpoints"
METRICS_CACHE = "_metrics-cache"  # In <result_dir>: the datasets' reference statistics, shared by the runs.
_RUN_RE = re.compile(r"(\d+)-.*")  # <NNNNN>-<desc>
_PKL_RE = re.compile(r"network-(?:snapshot-(\d+)|final)\.pkl")  # network-snapshot-<kimg>.pkl, network-final.pkl
_WORKER_RE = re.compile(r"worker-(\d+)")  # checkpoints/worker-<i>


# ---------------------------------------------------------------------- numbering


def run_number(path: str) -> int | None:
    """The number of a run directory ``<NNNNN>-<desc>`` (None for another name)."""
    match = _RUN_RE.fullmatch(basename(path))
    return int(match.group(1)) if match else None


def run_path(result_dir: str, number: int, desc: str) -> str:
    """``<result_dir>/<NNNNN>-<desc>``."""
    return join(result_dir, f"{number:05d}-{desc}")


def create_run_dir(result_dir: str, desc: str) -> str:
    """Creates ``<result_dir>/<NNNNN>-<desc>`` with the next free number and returns it."""
    tf.io.gfile.makedirs(result_dir)
    while True:
        numbers = [n for n in map(run_number, tf.io.gfile.listdir(result_dir)) if n is not None]
        path = run_path(result_dir, max(numbers, default=-1) + 1, desc)
        try:
            os.makedirs(path)  # Fails if a concurrent run took the number: try the next.
            return path
        except FileExistsError:
            continue


def open_run_dir(
    result_dir: str, desc: str, given: str | None, chief: bool, share: Callable[[int], int] | None = None
) -> str:
    """The directory a process of a run writes to.

    Args:
        result_dir: the root of the runs.
        desc: the run name suffix.
        given: a directory to write to; None = a new numbered one.
        chief: whether this process creates the run directory (the others only write
            their checkpoints under the same path).
        share: with several workers and no ``given`` directory, ``share(number)``
            returns the chief's run number on every worker (all workers call it together).
    """
    path = None
    if chief:
        path = given or create_run_dir(result_dir, desc)
        tf.io.gfile.makedirs(path)
    if given is None and share is not None:
        # The chief picked the number; the other workers keep their checkpoints under
        # the same path (in the chief's folder when result_dir is shared).
        path = run_path(result_dir, share(run_number(path) if chief else 0), desc)
    return path if path is not None else given


def is_run_dir(path: str) -> bool:
    """Whether ``path`` is a run directory (a folder with a ``config.json``), as opposed to its checkpoints or a file."""
    return tf.io.gfile.isdir(path) and tf.io.gfile.exists(join(path, CONFIG_JSON))


# ---------------------------------------------------------------------- names


def snapshot_pkl(nimg: int) -> str:
    """``network-snapshot-<kimg>.pkl`` at ``nimg`` real images (whole kimg, as the original)."""
    return f"network-snapshot-{nimg // 1000:06d}.pkl"


def fakes_png(nimg: int) -> str:
    """``fakes<kimg>.png`` at ``nimg`` real images."""
    return f"fakes{nimg // 1000:06d}.png"


def metric_txt(metric: str) -> str:
    return f"metric-{metric}.txt"


def checkpoint_dir(run_dir: str, worker: int = 0) -> str:
    """Where a process writes its checkpoints: ``checkpoints/``, or ``checkpoints/worker-<i>/`` for worker ``i > 0``.

    Every worker takes part in each save (the variables are synchronised by
    collectives). The chief writes ``checkpoints/``; every other worker keeps its own
    complete copy, because each worker's data iterator (its shard's shuffle buffer and
    position) is its own and is needed to resume its data order exactly.
    """
    directory = join(run_dir, CHECKPOINTS)
    return worker_dir(directory, worker) if worker else directory


def worker_dir(directory: str, worker: int) -> str:
    """``directory/worker-<i>``: worker ``i``'s own checkpoints beside the chief's in ``directory``."""
    return join(directory, f"worker-{worker}")


def worker_of_checkpoint(prefix: str) -> int:
    """The worker whose checkpoint ``prefix`` is (``.../worker-<i>/ckpt-N`` -> i; else 0)."""
    match = _WORKER_RE.fullmatch(posixpath.basename(posixpath.dirname(prefix.replace(os.sep, "/"))))
    return int(match.group(1)) if match else 0


def snapshot_kimg(path: str) -> int | None:
    """The kimg in the name of a ``network-snapshot-<kimg>.pkl`` (None for another name, ``network-final.pkl`` too)."""
    match = _PKL_RE.fullmatch(basename(path))
    return int(match.group(1)) if match and match.group(1) is not None else None


def latest_snapshot(directory: str) -> str | None:
    """``network-final.pkl``, else the ``network-snapshot-<kimg>.pkl`` with the highest kimg; None if neither."""
    ranked = []
    for name in tf.io.gfile.listdir(directory):
        match = _PKL_RE.fullmatch(name)
        if match:
            ranked.append((float("inf") if match.group(1) is None else int(match.group(1)), name))
    return join(directory, max(ranked)[1]) if ranked else None


# ---------------------------------------------------------------------- config.json


def write_config(run_dir: str, text: str) -> None:
    """Writes ``config.json`` atomically (:func:`tfstylegan.atomic.atomic_output`)."""
    with atomic_output(join(run_dir, CONFIG_JSON)) as temp, tf.io.gfile.GFile(temp, "w") as f:
        f.write(text + "\n")


def read_config(path: str) -> TrainConfig:
    """The :class:`TrainConfig` saved in a run directory's ``config.json``.

    The file also holds what the run resolved (dataset, replicas, ...); only the
    configuration fields are read. JSON turns the per-resolution tables' keys into strings;
    they are made integers again.

    Raises:
        ConfigError: the file cannot be read or is not a configuration.
    """
    try:
        with tf.io.gfile.GFile(path) as f:
            values = json.load(f)
        names = {f.name for f in dataclasses.fields(TrainConfig)}
        values = {k: v for k, v in values.items() if k in names}
        sched = dict(values.get("sched_args") or {})
        for key, table in sched.items():
            if key.endswith("_dict") and isinstance(table, dict):
                sched[key] = {int(res): value for res, value in table.items()}
        values["sched_args"] = sched
        return TrainConfig.from_dict(values)
    except (OSError, ValueError, TypeError, AttributeError, tf.errors.OpError) as e:
        raise ConfigError("resume", path, f"cannot read the run's configuration: {e}") from None


def find_config(path: str | None) -> str | None:
    """The ``config.json`` of the run directory that ``path`` points into, or None.

    ``path`` may be the run directory, its ``checkpoints/`` (or a worker's), a checkpoint
    prefix or a pickle in it: the nearest ``config.json`` up to two folders above is the run's.
    """
    if not path:
        return None
    folder = path.rstrip("/") if tf.io.gfile.isdir(path) else os.path.dirname(path)
    for _ in range(3):
        if not folder or folder == os.path.dirname(folder):
            break  # Not inside a run directory (stop before the current or root folder).
        candidate = join(folder, CONFIG_JSON)
        if tf.io.gfile.exists(candidate):
            return candidate
        folder = os.path.dirname(folder)
    return None
