"""Real minibatches for the training steps, resumable from a checkpoint.

Like the original's ``training_set.configure(minibatch, lod)``, a new pipeline starts
whenever the level (``floor(lod)``) or the minibatch size changes. The iterator is a
plain ``tf.data`` iterator on the host, which ``tf.train.Checkpoint`` can save (shuffle
buffer and position included). On one machine it yields the global minibatch; with
several workers each worker reads a disjoint shard of the records at its share of the
minibatch. Each worker's minibatch is split evenly over its replicas.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from tfstylegan.training import distribute


class RealFeed:
    """Serves ``(reals, labels)`` per replica at the schedule's level and minibatch.

    Args:
        training_set: a :class:`tfstylegan.data.TFRecordDataset`.
        strategy: the run's strategy (the data is sharded over its workers and each
            worker's batch split over its replicas).
        seed: shuffle seed; each (level, minibatch) pipeline gets its own stream.
    """

    def __init__(self, training_set, strategy: tf.distribute.Strategy, seed: int):
        self.training_set = training_set
        self.strategy = strategy
        self.seed = int(seed)
        self.level = -1
        self.minibatch = 0
        self.iterator = None

    def configure(self, minibatch: int, lod: float) -> bool:
        """Starts a new pipeline when the level or the minibatch changes; True if it did."""
        level = int(math.floor(lod))
        if (level, minibatch) == (self.level, self.minibatch) and self.iterator is not None:
            return False
        seed = int(np.random.SeedSequence([self.seed, level, minibatch]).generate_state(1)[0] & 0x7FFFFFFF)
        self.iterator = None  # Let the old pipeline (and its reader threads) go first.
        context = distribute.input_context(self.strategy)
        dataset = self.training_set.as_dataset(minibatch, lod=level, seed=seed, input_context=context)
        self.level, self.minibatch = level, minibatch
        self.iterator = iter(dataset)
        return True

    def next(self):
        """The next minibatch as per-replica ``(reals, labels)``: uint8 NHWC and float32."""
        with self.training_set.naming_read_errors(self.level):
            images, labels = next(self.iterator)
        return distribute.distribute_batch(self.strategy, images, labels)
