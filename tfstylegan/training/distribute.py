"""Everything the trainer needs to know about ``tf.distribute`` (the only strategy-aware module).

The trainer runs one code path for every strategy: a single device is the default
strategy or a ``OneDeviceStrategy``, several GPUs or logical CPUs a
``MirroredStrategy``, several machines a ``MultiWorkerMirroredStrategy`` (configured by
the ``TF_CONFIG`` environment variable) and a TPU a ``TPUStrategy``. The rest of the
trainer only uses the helpers below: replicas and workers, the chief, splitting a
worker's minibatch over its replicas, the replica-consistent skip of non-finite steps.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence

import tensorflow as tf

from tfstylegan.training.config import ConfigError

# The strategies make_strategy creates (--strategy).
STRATEGIES = ("default", "one_device", "mirrored", "multi_worker", "tpu")
TF_CONFIG_EXAMPLE = (
    '{"cluster": {"worker": ["host0:12345", "host1:12345"]}, "task": {"type": "worker", "index": 0}}'
)


def make_strategy(
    name: str = "default", devices: Sequence[str] | None = None, tpu: str | None = None
) -> tf.distribute.Strategy:
    """Creates a strategy by name.

    Args:
        name: ``'default'`` (no distribution: the current device), ``'one_device'``
            (``OneDeviceStrategy`` on ``devices[0]``, default the first GPU or the CPU),
            ``'mirrored'`` (``MirroredStrategy`` over ``devices``, default all GPUs, or
            all logical CPUs when there is no GPU), ``'multi_worker'``
            (``MultiWorkerMirroredStrategy`` over every worker that ``TF_CONFIG`` lists,
            each with all of its GPUs; create it before any other TensorFlow op) or
            ``'tpu'`` (``TPUStrategy``).
        devices: device names, e.g. ``['/gpu:0', '/gpu:1']``.
        tpu: the TPU's name or ``grpc://`` address for ``'tpu'``; None = the one the
            environment names (a Cloud TPU VM's local TPU).

    Raises:
        ConfigError: an unknown name, a missing or malformed ``TF_CONFIG``, or no TPU.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "multi_worker":
        return _multi_worker()
    if name == "tpu":
        return _tpu(tpu)
    gpus = [f"/gpu:{i}" for i, _ in enumerate(tf.config.list_logical_devices("GPU"))]
    if name == "one_device":
        device = devices[0] if devices else (gpus[0] if gpus else "/cpu:0")
        return tf.distribute.OneDeviceStrategy(device)
    if name == "mirrored":
        if not devices:
            devices = gpus or [f"/cpu:{i}" for i, _ in enumerate(tf.config.list_logical_devices("CPU"))]
        return tf.distribute.MirroredStrategy(list(devices))
    raise ConfigError("strategy", name, f"expected one of {', '.join(STRATEGIES)}")


def _multi_worker() -> tf.distribute.Strategy:
    text = os.environ.get("TF_CONFIG")
    expected = f"set TF_CONFIG on every worker, e.g. TF_CONFIG='{TF_CONFIG_EXAMPLE}' (index 0, 1, ...)"
    if not text:
        raise ConfigError("strategy", "multi_worker", f"TF_CONFIG is not set; {expected}")
    try:
        config = json.loads(text)
        cluster, task = config["cluster"], config["task"]
        jobs = {k: list(v) for k, v in cluster.items() if k in ("chief", "worker")}
        task_type, index = task["type"], int(task["index"])
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ConfigError("strategy", "multi_worker", f"TF_CONFIG is not valid ({type(e).__name__}: {e}); {expected}") from None
    if not jobs or task_type not in jobs or not 0 <= index < len(jobs[task_type]):
        raise ConfigError(
            "strategy",
            "multi_worker",
            f"TF_CONFIG's task {task_type!r} {index} is not one of its cluster's chief/worker tasks {jobs}; {expected}",
        )
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    return tf.distribute.MultiWorkerMirroredStrategy(cluster_resolver=resolver)


def _tpu(tpu: str | None) -> tf.distribute.Strategy:
    try:
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
    except (ValueError, RuntimeError, tf.errors.OpError) as e:
        message = str(e).strip().splitlines()[0].rstrip(".") if str(e).strip() else type(e).__name__
        raise ConfigError(
            "strategy", "tpu", f"no TPU could be reached (--tpu={tpu or ''}): {message}; run on a TPU VM or pass --tpu"
        ) from None
    return tf.distribute.TPUStrategy(resolver)


def num_replicas(strategy: tf.distribute.Strategy) -> int:
    """Replicas that each compute a slice of the global minibatch."""
    return int(strategy.num_replicas_in_sync)


def local_replicas(strategy: tf.distribute.Strategy) -> int:
    """Replicas of this worker (all of them, except under a multi-worker strategy)."""
    return num_replicas(strategy) // workers(strategy)[1]


def workers(strategy: tf.distribute.Strategy) -> tuple[int, int]:
    """``(index, count)`` of this worker among the workers (``(0, 1)`` on one machine).

    The chief (task ``chief``, else ``worker`` 0) is index 0; the others follow in
    ``TF_CONFIG`` order.
    """
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return 0, 1
    spec = resolver.cluster_spec().as_dict()
    order = [("chief", i) for i in range(len(spec.get("chief", [])))]
    order += [("worker", i) for i in range(len(spec.get("worker", [])))]
    task = (resolver.task_type, int(resolver.task_id))
    if task not in order:
        return 0, 1
    return order.index(task), len(order)


def input_context(strategy: tf.distribute.Strategy) -> tf.distribute.InputContext | None:
    """This worker's share of the data: None on one machine (one pipeline feeds every replica).

    With several workers each builds its own pipeline over a disjoint shard of the
    records. The context counts one "replica" per pipeline, so that
    ``get_per_replica_batch_size(global_minibatch)`` is this worker's minibatch, which
    :func:`distribute_batch` then splits over the worker's local replicas.
    """
    index, count = workers(strategy)
    if count == 1:
        return None
    return tf.distribute.InputContext(num_input_pipelines=count, input_pipeline_id=index, num_replicas_in_sync=count)


def broadcast_int(strategy: tf.distribute.Strategy, value: int) -> int:
    """The chief's ``value`` on every worker (all workers must call this together)."""
    if workers(strategy)[1] == 1:
        return int(value)
    mine = int(value) if is_chief(strategy) else 0

    def replica_value():
        first = tf.equal(tf.distribute.get_replica_context().replica_id_in_sync_group, 0)
        return tf.where(first, tf.constant(mine, tf.int64), tf.constant(0, tf.int64))

    total = strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(replica_value), axis=None)
    return int(total.numpy())


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes logs, images and snapshots (always, except non-chief workers)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0)


def distribute_batch(strategy: tf.distribute.Strategy, *tensors: tf.Tensor):
    """Splits this worker's minibatch (batch first) evenly over its local replicas.

    Replica ``r`` of the worker gets the ``r``-th contiguous slice. Returns per-replica
    values to pass to ``strategy.run`` (plain tensors on one replica).
    """
    local = local_replicas(strategy)

    def value_fn(ctx: tf.distribute.experimental.ValueContext):
        i = ctx.replica_id_in_sync_group % local  # Every worker has the same number of replicas.
        return tuple(tf.split(t, local, axis=0)[i] if local > 1 else t for t in tensors)

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
