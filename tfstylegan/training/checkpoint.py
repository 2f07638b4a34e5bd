"""Full training checkpoints (``tf.train.Checkpoint``) and locating what to resume from.

A checkpoint holds G, D, Gs, both optimizers (moments, step counters, learning rates),
the random generator, the data iterator of the current level (its shuffle buffer and
position) and the loop counters, so a resumed run continues exactly where it stopped.
``tf.train.CheckpointManager`` writes each one under a new prefix (its data first in
``ckpt-<N>_temp/``, then ``ckpt-<N>.data-*`` and ``ckpt-<N>.index``) and only then
replaces its ``checkpoint`` file, which names the latest, through a temporary file
(``checkpoint.tmp<hex>``) and a rename: a kill never leaves a "latest" that points at a
half-written checkpoint. It can leave those temporary entries, which
:func:`remove_leftovers` deletes when the next run opens the directory, and the complete
files of a checkpoint that the ``checkpoint`` file does not name yet.
"""

from __future__ import annotations

import json
import os
import re

import tensorflow as tf
from absl import logging

from tfstylegan import atomic
from tfstylegan.paths import join
from tfstylegan.training import run_dir
from tfstylegan.training.config import ConfigError, DatasetInfo, TrainConfig

# Checkpoint objects that older runs' checkpoints lack; they keep their initial values then.
_ADDED_LATER = ("loss_scale_D", "loss_scale_G", "data_shards")
_LEFTOVER_RE = re.compile(r"checkpoint\.tmp[0-9a-f]+|ckpt-\d+_temp")  # What a killed save leaves.
_NETWORK_KEY = re.compile(r"(G|D|Gs)/values/(\d+)/\.ATTRIBUTES/VARIABLE_VALUE")  # NetworkWeights.values[i]


class Progress:
    """The loop counters: saved with everything else, and read without pulling values from TensorFlow.

    :attr:`saved` holds them as variables (on the host CPU, outside any strategy) under the
    names every checkpoint has used; the loop reads the same values as Python numbers,
    ``progress["cur_nimg"]``, every minibatch group. Every change goes through :meth:`set`,
    which assigns the variable and the number together; after a checkpoint restored the
    variables, :meth:`reload` reads them once.

    The counters: ``cur_nimg`` (real images shown), ``cur_tick`` (ticks completed),
    ``tick_start_nimg`` (images shown when the current tick started), ``prev_lod`` (the lod
    of the last minibatch group), ``total_time`` (training seconds at the last tick),
    ``data_level`` and ``data_minibatch`` (the level and global minibatch of the saved data
    iterator).
    """

    _DEFAULTS = dict(
        cur_nimg=0, cur_tick=0, tick_start_nimg=0, prev_lod=-1.0, total_time=0.0, data_level=-1, data_minibatch=0
    )

    def __init__(self):
        self.saved = tf.Module(name="progress")
        with tf.device("/cpu:0"):
            for name, value in self._DEFAULTS.items():
                dtype = tf.float64 if isinstance(value, float) else tf.int64
                setattr(self.saved, name, tf.Variable(value, name=name, dtype=dtype, trainable=False))
        self._numbers = dict(self._DEFAULTS)

    def __getitem__(self, name: str) -> int | float:
        return self._numbers[name]

    def set(self, **values) -> None:
        """Sets counters (variable and number alike), e.g. ``set(cur_nimg=..., total_time=...)``."""
        for name, value in values.items():
            getattr(self.saved, name).assign(value)
            self._numbers[name] = type(self._DEFAULTS[name])(value)

    def reload(self) -> None:
        """Takes the numbers from the variables (after a checkpoint restored them)."""
        self._numbers = {name: getattr(self.saved, name).numpy().item() for name in self._DEFAULTS}

    def values(self) -> dict:
        """``{name: value}`` of every counter (as :func:`progress_values` reads a checkpoint's)."""
        return dict(self._numbers)


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


class TrainingState:
    """What a run's checkpoints hold, under the object names every checkpoint of the project used.

    Args:
        networks: ``(G, D, Gs)``.
        steps: the run's :class:`~tfstylegan.training.steps.TrainSteps` (optimizers, skip
            counters, loss scales).
        rng: the training random generator.
        num_workers: the input pipelines of this run (one per worker), saved as ``data_shards``.
    """

    def __init__(self, networks, steps, rng: tf.random.Generator, num_workers: int):
        self.networks = tuple(networks)
        self.num_workers = int(num_workers)
        self.progress = Progress()
        with tf.device("/cpu:0"):
            # Input pipelines the saved data iterators belong to (one per worker).
            self.data_shards = tf.Variable(self.num_workers, dtype=tf.int64, trainable=False, name="data_shards")
        self.data = DataState()
        G, D, Gs = (NetworkWeights(net) for net in self.networks)
        self.objects = dict(
            G=G,
            D=D,
            Gs=Gs,
            G_opt=steps.G.optimizer,
            D_opt=steps.D.optimizer,
            rng=rng,
            progress=self.progress.saved,
            skipped_D=steps.D.skipped,
            skipped_G=steps.G.skipped,
            loss_scale_D=steps.D.loss_scale,
            loss_scale_G=steps.G.loss_scale,
            data_shards=self.data_shards,
        )
        self.checkpoint = tf.train.Checkpoint(**self.objects, data=self.data)

    def follow(self, feed) -> None:
        """Saves the data position of ``feed``'s current pipeline from now on (call when it changes)."""
        self.data.iterator = feed.iterator
        self.progress.set(data_level=feed.level, data_minibatch=feed.minibatch)

    def restore(
        self, prefix: str, feed, worker: int = 0, chief: bool = True, run: tuple[TrainConfig, DatasetInfo] | None = None
    ) -> None:
        """Restores the checkpoint at ``prefix`` into this run (``feed`` gets the saved data pipeline).

        The networks' shapes are checked first (:func:`check_fits`; ``run`` = this run's
        configuration and data, whose differences from the checkpoint's run the error names).

        A worker's data iterator is its own: a worker other than the chief restores it only
        from its own checkpoint (``checkpoints/worker-<i>``) of a run with as many input
        pipelines. Otherwise this worker's data order restarts (its shard stays disjoint
        from the others').

        Raises:
            ConfigError: the checkpoint does not fit this run's networks or data.
        """
        check_fits(prefix, self.networks, run)
        values = progress_values(prefix)
        own = chief or run_dir.worker_of_checkpoint(prefix) == worker
        with_data = own and int(values.get("data_shards", 1)) == self.num_workers
        if with_data and values.get("data_level", -1) >= 0:  # Rebuild the saved pipeline, then restore its state.
            try:
                feed.configure(int(values["data_minibatch"]), float(values["data_level"]))
            except ValueError as e:
                raise ConfigError("resume", prefix, f"the checkpoint's data pipeline does not fit this run: {e}") from None
            self.data.iterator = feed.iterator
        elif not with_data:
            logging.warning(
                "Worker %d: %s holds no data iterator of this worker's shard (saved by another worker, or with "
                "%d input pipelines instead of %d); its data order restarts",
                worker, prefix, int(values.get("data_shards", 1)), self.num_workers,
            )
        stored = stored_objects(prefix)
        objects = {k: v for k, v in self.objects.items() if k in stored or k not in _ADDED_LATER}
        # A new Checkpoint object: its save counter is not the one later saves count on.
        checkpoint = tf.train.Checkpoint(**objects, data=self.data) if with_data else tf.train.Checkpoint(**objects)
        try:
            # The networks fit (check_fits): what the checkpoint holds beyond this run's objects
            # (its save counter, another worker's data) is left out on purpose, without warnings.
            status = checkpoint.restore(prefix).expect_partial()
            status.assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as e:
            raise ConfigError("resume", prefix, f"the checkpoint does not fit this run: {e}") from None
        self.progress.reload()
        self.data_shards.assign(self.num_workers)

    def load_pickle(self, path: str, kimg: float, seconds: float) -> None:
        """Loads the weights of a network pickle; the progress becomes ``kimg`` and ``seconds`` (as the original).

        Raises:
            ConfigError: the pickle's networks do not match this run's.
        """
        from tfstylegan.legacy.network_pkl import load_network_pkl

        for mine, theirs, name in zip(self.networks, load_network_pkl(path), ("G", "D", "Gs")):
            if [tuple(w.shape) for w in mine.weights] != [tuple(w.shape) for w in theirs.weights]:
                diff = "; ".join(_versus(vars(theirs.cfg), vars(mine.cfg)))
                raise ConfigError("resume", path, f"the pickle's {name} does not fit this run (pickle vs this run): {diff}")
            for dst, src in zip(mine.weights, theirs.weights):
                dst.assign(src.numpy())
        nimg = int(kimg * 1000)
        self.progress.set(cur_nimg=nimg, tick_start_nimg=nimg, total_time=float(seconds))


def check_fits(prefix: str, networks, run: tuple[TrainConfig, DatasetInfo] | None = None) -> None:
    """Raises, before anything is restored, when the networks saved at ``prefix`` are not ``networks``' shapes.

    Args:
        prefix: a checkpoint prefix.
        networks: ``(G, D, Gs)`` of this run.
        run: this run's configuration and data; the error then names every difference from
            the ``config.json`` of the checkpoint's run (resolution, channels, labels,
            ``G_args``, ``D_args``), else the first weight whose shape differs.

    Raises:
        ConfigError: in one message.
    """
    saved = {}
    for key, shape in tf.train.list_variables(prefix):
        match = _NETWORK_KEY.fullmatch(key)
        if match:
            saved.setdefault(match.group(1), {})[int(match.group(2))] = tuple(shape)
    for name, net in zip(("G", "D", "Gs"), networks):
        theirs, mine = saved.get(name, {}), [tuple(w.shape) for w in net.weights]
        if len(theirs) != len(mine) or any(theirs.get(i) != shape for i, shape in enumerate(mine)):
            break
    else:
        return
    config = run_dir.find_config(prefix) if run else None
    differences = _run_differences(config, *run) if config else []
    if not differences:  # No config.json to compare with: the first weight that differs.
        i = next((i for i, shape in enumerate(mine) if theirs.get(i) != shape), len(mine))
        what, here = (net.weights[i].path, mine[i]) if i < len(mine) else (f"weight {i}", None)
        differences = [f"{name} {len(theirs)} vs {len(mine)} weights; {what} {theirs.get(i)} vs {here}"]
    where = f"its run's {config} vs this run" if config else "checkpoint vs this run"
    raise ConfigError("resume", prefix, f"the checkpoint does not fit this run ({where}): {'; '.join(differences)}")


def _run_differences(config: str, cfg: TrainConfig, data: DatasetInfo) -> list[str]:
    """What the networks depend on that differs between a run's ``config.json`` and this run: ``'resolution 64 vs 32'``, ..."""
    try:
        with tf.io.gfile.GFile(config) as f:
            saved = json.load(f)
        dataset = dict(saved["dataset"])
    except (OSError, ValueError, TypeError, KeyError, tf.errors.OpError):
        return []
    names = dict(resolution="resolution", num_channels="channels", label_size="label size")
    differences = [
        f"{names[key]} {dataset[key]} vs {getattr(data, key)}" for key in names if dataset.get(key) != getattr(data, key)
    ]
    if differences and dataset.get("path") != data.path:
        differences.append(f"data {dataset.get('path')} vs {data.path}")
    for field in ("G_args", "D_args"):
        changed = _versus(saved.get(field) or {}, getattr(cfg, field))
        if changed:
            differences.append(f"{field} {', '.join(changed)}")
    return differences


def _versus(theirs: dict, mine: dict) -> list[str]:
    """``['fmap_base 64 vs 128', ...]``: the keys whose values differ (``unset`` where one lacks the key)."""
    keys = sorted(set(theirs) | set(mine))
    return [f"{k} {theirs.get(k, 'unset')} vs {mine.get(k, 'unset')}" for k in keys if theirs.get(k) != mine.get(k)]


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


def remove_leftovers(directory: str) -> None:
    """Deletes the temporary entries of killed saves in the local checkpoint ``directory``.

    Only those untouched since this process started (:func:`tfstylegan.atomic.remove_if_stale`).
    """
    if "://" in directory or not os.path.isdir(directory):
        return
    for name in os.listdir(directory):
        if _LEFTOVER_RE.fullmatch(name):
            atomic.remove_if_stale(join(directory, name))


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
