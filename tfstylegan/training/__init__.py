"""Training StyleGAN as the original ``training_loop.py`` does, under a ``tf.distribute`` strategy.

Modules, from the inside out:

- :mod:`~tfstylegan.training.steps`: :class:`TrainSteps`, the compiled per-replica D and G
  updates (losses over the global batch, the non-finite skip, the Gs moving average), the
  optimizers; one :class:`NetworkUpdate` per network.
- :mod:`~tfstylegan.training.precision`: mixed-precision policies, float16's dynamic loss
  scale, float16 for the highest resolutions only.
- :mod:`~tfstylegan.training.distribute`: the only strategy-aware code (strategy creation,
  including multi-worker and TPU; workers and data shards; splitting a minibatch over
  replicas; the replica-consistent skip; the chief).
- :mod:`~tfstylegan.training.guard`: stopping a diverged run without saving its state.
- :mod:`~tfstylegan.training.feed`, :mod:`~tfstylegan.training.training_set`: real minibatches per
  level of detail; the dataset a configuration names (or the built-in shapes).
- :mod:`~tfstylegan.training.checkpoint`: the loop counters (:class:`Progress`), what a full
  checkpoint holds and how it is restored; locating a resume source.
- :mod:`~tfstylegan.training.run_dir`: the run directory: its number, the names of what a run
  writes, ``config.json``, the latest snapshot.
- :mod:`~tfstylegan.training.grid`, :mod:`~tfstylegan.training.outputs`,
  :mod:`~tfstylegan.training.report`: snapshot image grids; writing grids, pickles, metrics,
  TensorBoard and checkpoints; the tick line, its scalars, durations and memory.
- :mod:`~tfstylegan.training.config`, :mod:`~tfstylegan.training.checks`,
  :mod:`~tfstylegan.training.presets`: :class:`TrainConfig` (each field with its flag's help,
  vocabulary and bounds); :func:`check_config`, the one check of a configuration; the
  original train.py configurations and ``tiny``.
- :mod:`~tfstylegan.training.resume`: where and from what a run continues (in place, in a new
  run directory, or nothing to do).
- :mod:`~tfstylegan.training.trainer`: :class:`Trainer`, the host loop (schedule, ticks, reports).
- :mod:`~tfstylegan.training.graph_audit`, :mod:`~tfstylegan.training.loop_audit`: checks for
  GPU readiness that run on a CPU: the dtype and FLOPs of every convolution of a traced
  step; the retraces and host syncs of a training run.

Names are imported on first use, so reading the presets does not load TensorFlow.
"""

from tfstylegan._lazy import lazy_exports

_EXPORTS = {
    "TrainConfig": "tfstylegan.training.config",
    "ConfigError": "tfstylegan.training.config",
    "PRESETS": "tfstylegan.training.presets",
    "preset_config": "tfstylegan.training.presets",
    "Trainer": "tfstylegan.training.trainer",
    "train": "tfstylegan.training.trainer",
    "TrainSteps": "tfstylegan.training.steps",
    "make_strategy": "tfstylegan.training.distribute",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("tfstylegan.training", _EXPORTS, globals())
