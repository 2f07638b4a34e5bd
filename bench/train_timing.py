"""The timed training step shared by the training benchmarks (logistic loss + R1).

One step = one D update (with the Gs update) + one G update on a full minibatch of
random uint8 reals at lod 0, as the training loop runs them.
"""

from __future__ import annotations

import time
import types


def build_train_step(
    strategy,
    resolution: int,
    minibatch: int,
    fmap_base: int,
    precision: str = "float32",
    num_fp16_res: int | None = None,
    xla: bool = False,
    D_loss: str = "D_logistic_simplegp",
    **net_args,
) -> types.SimpleNamespace:
    """Builds G, D, Gs, their optimizers and the :class:`TrainSteps` under ``strategy``.

    Args:
        D_loss: D's loss (with its default arguments; R1 with gamma 10 by default).
        net_args: further G and D arguments (``fmap_max``, ``latent_size``, ...); the
            ones D does not take (the mapping network's) go to G only.

    Returns:
        ``train`` (the :class:`TrainSteps`), ``inputs`` (per-replica ``(reals, labels)``),
        ``batch`` (the per-replica minibatch), ``G``, ``D``, ``Gs`` and ``step()``: one
        D and one G update at lod 0, returning G's loss.
    """
    import numpy as np
    import tensorflow as tf

    from tfstylegan import losses
    from tfstylegan.networks import D_KWARGS, DBasic, GStyle
    from tfstylegan.training import distribute
    from tfstylegan.training import precision as mixed
    from tfstylegan.training import steps as train_steps

    dtype = mixed.network_dtype(precision, num_fp16_res)
    d_args = {k: v for k, v in net_args.items() if k in D_KWARGS}
    with strategy.scope():
        G = GStyle(num_channels=3, resolution=resolution, fmap_base=fmap_base, dtype=dtype, **net_args)
        D = DBasic(num_channels=3, resolution=resolution, fmap_base=fmap_base, dtype=dtype, **d_args)
        if num_fp16_res is not None:
            mixed.set_top_resolutions(precision, num_fp16_res, G.synthesis, D)
        Gs = GStyle.from_config({**G.get_config(), "name": "Gs", "dtype": "float32"})
        G_opt = train_steps.make_optimizer("adam", 0.001, "TrainG")
        D_opt = train_steps.make_optimizer("adam", 0.001, "TrainD")
        G_opt.build(G.trainable_weights)
        D_opt.build(D.trainable_weights)
        rng = tf.random.Generator.from_seed(0)
    train = train_steps.TrainSteps(
        strategy, G, D, Gs, G_opt, D_opt, rng,
        G_loss=losses.get_loss("G_logistic_nonsaturating"), G_loss_args={},
        D_loss=losses.get_loss(D_loss), D_loss_args=losses.resolve_loss_args(D_loss),
        random_labels=lambda n, rng: tf.zeros([n, 0]), mirror_augment=True,
        precision=precision, xla=xla,
    )
    reals = tf.constant(np.random.RandomState(0).randint(0, 256, [minibatch, resolution, resolution, 3]), tf.uint8)
    inputs = distribute.distribute_batch(strategy, reals, tf.zeros([minibatch, 0]))
    batch = minibatch // distribute.num_replicas(strategy)

    def step():
        train.d_step(*inputs)
        return train.g_step(batch, 0)["Loss/G"]

    return types.SimpleNamespace(train=train, inputs=inputs, batch=batch, G=G, D=D, Gs=Gs, step=step)


def time_steps(step, warmup: int, steps: int) -> float:
    """Seconds per call of ``step()`` (which returns a tensor) after ``warmup`` untimed calls."""
    for _ in range(warmup):
        float(step())
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    float(loss)  # Wait for the last step.
    return (time.perf_counter() - start) / steps


def time_train_step(
    strategy,
    resolution: int,
    minibatch: int,
    fmap_base: int,
    warmup: int,
    steps: int,
    precision: str = "float32",
    num_fp16_res: int | None = None,
    xla: bool = False,
    **net_args,
):
    """Builds the training step (:func:`build_train_step`) and times ``steps`` steps.

    Returns:
        ``(seconds_per_step, train_steps)``; the :class:`TrainSteps` holds the skip counters.
    """
    setup = build_train_step(strategy, resolution, minibatch, fmap_base, precision, num_fp16_res, xla, **net_args)
    return time_steps(setup.step, warmup, steps), setup.train
