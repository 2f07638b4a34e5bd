"""Full training checkpoints (``tf.train.Checkpoint``) and locating what to resume from.

A checkpoint holds G, D, Gs, both optimizers (moments, step counters, learning rates),
the random generator, the data iterator of the current level (its shuffle buffer and
position) and the loop counters, so a resumed run continues exactly where it stopped.
``tf.train.CheckpointManager`` writes each one under a new prefix and only then
updates its index file, so a crash never leaves a half-written "latest" checkpoint.
"""

from __future__ import annotations

import os

import tensorflow as tf

from tfstylegan.paths import join
from tfstylegan.training import run_dir
from tfstylegan.training.config import ConfigError


class Progress(tf.Module):
    """The loop counters, as variables so they are saved with everything else.

    Create it inside ``strategy.scope()``.
    """

    def __init__(self):
        super().__init__(name="progress")
        int64 = dict(dtype=tf.int64, trainable=False)
        self.cur_nimg = tf.Variable(0, name="cur_nimg", **int64)  # Real images shown.
        self.cur_tick = tf.Variable(0, name="cur_tick", **int64)  # Ticks completed.
        self.tick_start_nimg = tf.Variable(0, name="tick_start_nimg", **int64)
        self.prev_lod = tf.Variable(-1.0, name="prev_lod", dtype=tf.float64, trainable=False)
        self.total_time = tf.Variable(0.0, name="total_time", dtype=tf.float64, trainable=False)  # Seconds.
        self.data_level = tf.Variable(-1, name="data_level", **int64)  # Level of the saved data iterator.
        self.data_minibatch = tf.Variable(0, name="data_minibatch", **int64)  # Its global minibatch.


class NetworkWeights(tf.Module):
    """Every weight of a Keras network, listed in ``net.weights`` order.

    ``tf.train.Checkpoint(G=G)`` only reaches the weights of layers stored as direct
    attributes: Keras 3 layers kept in Python lists (the per-resolution layers of these
    networks) are invisible to it, and would be saved only through the optimizer that
    holds them, so Gs and the noise inputs would be lost. Listing the weights makes the
    checkpoint complete; a different architecture fails to restore with a shape error.
    """

    def __init__(self, net):
        super().__init__(name=f"{net.name}_weights")
        self.values = list(net.weights)


class DataState(tf.Module):
    """Holds the current data iterator (replaced whenever the level or minibatch changes)."""

    def __init__(self):
        super().__init__(name="data")
        self.iterator = None


def progress_values(prefix: str) -> dict:
    """The :class:`Progress` values stored in a checkpoint, read without restoring anything.

    Also ``data_shards`` (the number of input pipelines of the run; 1 when not stored).
    """
    reader = tf.train.load_checkpoint(prefix)
    names = reader.get_variable_to_shape_map()
    keys = {k.split("/")[1]: k for k in names if k.startswith("progress/")}
    values = {name: reader.get_tensor(key).item() for name, key in keys.items()}
    shards = [k for k in names if k.split("/")[0] == "data_shards"]
    values["data_shards"] = reader.get_tensor(shards[0]).item() if shards else 1
    return values


def stored_objects(prefix: str) -> set[str]:
    """The names of the top-level objects a checkpoint holds (``G``, ``progress``, ...)."""
    return {k.split("/")[0] for k in tf.train.load_checkpoint(prefix).get_variable_to_shape_map()}


def locate_resume(path: str, worker: int = 0) -> tuple[str, str]:
    """What ``--resume`` points at.

    Args:
        path: the ``--resume`` value.
        worker: this process' worker index. Worker ``i > 0`` of a multi-worker run keeps
            its own checkpoints in ``checkpoints/worker-<i>`` (see
            :func:`~tfstylegan.training.run_dir.checkpoint_dir`) and prefers them, so it resumes its own data
            order; it falls back to the chief's.

    Returns:
        ``('checkpoint', prefix)`` for a run directory with checkpoints, a checkpoint
        directory or a checkpoint prefix (``.../ckpt-12``); ``('pickle', path)`` for a
        network pickle, or a run directory that holds pickles but no checkpoint (its
        ``network-final.pkl``, else the snapshot with the highest kimg).

    Raises:
        ConfigError: none of those.
    """
    expected = (
        "expected a run directory (with checkpoints/ or network-*.pkl), a checkpoint directory or "
        "prefix (.../checkpoints/ckpt-N) or a network .pkl file"
    )
    if worker:
        own = join(run_dir.worker_dir(os.path.dirname(path), worker), os.path.basename(path))
        if tf.io.gfile.exists(own + ".index"):
            return "checkpoint", own
    if tf.io.gfile.isdir(path):
        candidates = [join(path, run_dir.CHECKPOINTS), path]
        if worker:
            candidates = [run_dir.worker_dir(c, worker) for c in candidates] + candidates
        for directory in candidates:
            latest = tf.train.latest_checkpoint(directory) if tf.io.gfile.isdir(directory) else None
            if latest:
                return "checkpoint", latest
        pickle = run_dir.latest_snapshot(path)
        if pickle:
            return "pickle", pickle
        raise ConfigError("resume", path, f"the directory holds no checkpoint and no network pickle; {expected}")
    if tf.io.gfile.exists(path + ".index"):
        return "checkpoint", path
    if tf.io.gfile.exists(path):
        if path.endswith(".pkl"):
            return "pickle", path
        raise ConfigError("resume", path, f"not a checkpoint or pickle; {expected}")
    raise ConfigError("resume", path, f"no such file or directory; {expected}")
