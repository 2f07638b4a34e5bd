"""Everything the trainer needs to know about ``tf.distribute`` (the only strategy-aware module).

The trainer runs one code path for every strategy: a single device is the default
strategy or a ``OneDeviceStrategy``, several GPUs or logical CPUs a
``MirroredStrategy``. Other strategies (multi-worker, TPU) plug in here through
:func:`make_strategy`; the rest of the trainer only uses the helpers below.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence

import tensorflow as tf

from tfstylegan.training.config import STRATEGIES


def make_strategy(name: str = "default", devices: Sequence[str] | None = None) -> tf.distribute.Strategy:
    """Creates a strategy by name.

    Args:
        name: ``'default'`` (no distribution: the current device), ``'one_device'``
            (``OneDeviceStrategy`` on ``devices[0]``, default the first GPU or the CPU),
            ``'mirrored'`` (``MirroredStrategy`` over ``devices``, default all GPUs, or
            all logical CPUs when there is no GPU).
        devices: device names, e.g. ``['/gpu:0', '/gpu:1']``.

    Raises:
        ValueError: an unknown name.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    gpus = [f"/gpu:{i}" for i, _ in enumerate(tf.config.list_logical_devices("GPU"))]
    if name == "one_device":
        device = devices[0] if devices else (gpus[0] if gpus else "/cpu:0")
        return tf.distribute.OneDeviceStrategy(device)
    if name == "mirrored":
        if not devices:
            devices = gpus or [f"/cpu:{i}" for i, _ in enumerate(tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(list(devices))
    raise ValueError(f"unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}")


def num_replicas(strategy: tf.distribute.Strategy) -> int:
    """Replicas that each compute a slice of the global minibatch."""
    return int(strategy.num_replicas_in_sync)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes logs, images and snapshots (always, except non-chief workers)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0)


def checkpoint_dir(directory: str, strategy: tf.distribute.Strategy) -> str:
    """Where this process writes checkpoints.

    Every worker must take part in a save (the variables are synchronised by
    collectives), but only the chief's copy is kept: others write to a scratch folder.
    """
    if is_chief(strategy):
        return directory
    return tempfile.mkdtemp(prefix="ckpt-worker-")


def distribute_batch(strategy: tf.distribute.Strategy, *tensors: tf.Tensor):
    """Splits a host minibatch (global batch first) evenly over the replicas.

    Returns per-replica values to pass to ``strategy.run`` (plain tensors on one replica).
    """
    replicas = num_replicas(strategy)

    def value_fn(ctx: tf.distribute.experimental.ValueContext):
        i = ctx.replica_id_in_sync_group
        return tuple(tf.split(t, replicas, axis=0)[i] if replicas > 1 else t for t in tensors)

    return strategy.experimental_distribute_values_from_function(value_fn)


def first_replica(strategy: tf.distribute.Strategy, value):
    """The value of the first local replica (for values that are identical on every replica)."""
    return strategy.experimental_local_results(value)[0]


def reduce_sum(strategy: tf.distribute.Strategy, value) -> tf.Tensor:
    """Sum over replicas (of already globally averaged per-replica losses: their global mean)."""
    return strategy.reduce(tf.distribute.ReduceOp.SUM, value, axis=None)


def all_finite(grads: Sequence[tf.Tensor]) -> tf.Tensor:
    """In replica context: True iff every gradient on **every** replica is finite.

    The replicas agree on the answer (a sum of non-finite counts is all-reduced), so the
    skip decision below is the same everywhere and the variables stay in sync.
    """
    local_bad = tf.add_n([tf.reduce_sum(tf.cast(~tf.math.is_finite(g), tf.float32)) for g in grads])
    ctx = tf.distribute.get_replica_context()
    total_bad = ctx.all_reduce(tf.distribute.ReduceOp.SUM, local_bad)
    return tf.equal(total_bad, 0.0)


def apply_if(ok: tf.Tensor, apply_fn: Callable, *args) -> None:
    """In replica context: ``apply_fn(*args)`` (an optimizer update) only when ``ok``.

    ``ok`` must be the same on every replica (see :func:`all_finite`). Keras optimizers
    all-reduce inside ``apply`` through a ``merge_call``, which a ``tf.cond`` in replica
    context cannot contain on strategies that need merge calls; there the condition is
    evaluated in cross-replica context, as Keras' ``LossScaleOptimizer`` does.
    """
    if tf.__internal__.distribute.strategy_supports_no_merge_call():
        tf.cond(ok, lambda: apply_fn(*args), lambda: None)
        return

    def cross_replica(distribution, ok, *args):
        def apply_all():
            distribution.extended.call_for_each_replica(apply_fn, args=args)

        tf.cond(distribution.experimental_local_results(ok)[0], apply_all, lambda: None)

    tf.distribute.get_replica_context().merge_call(cross_replica, args=(ok, *args))


def worker_path(path: str, strategy: tf.distribute.Strategy) -> str:
    """``path`` for the chief, a scratch path for other workers (for files only the chief keeps)."""
    if is_chief(strategy):
        return path
    return os.path.join(tempfile.mkdtemp(prefix="worker-"), os.path.basename(path))
