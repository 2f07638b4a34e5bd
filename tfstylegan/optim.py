"""Optimizer state shared by training and projection: starting an optimizer over."""

from __future__ import annotations

import keras
import tensorflow as tf


def reset_optimizer_state(optimizer: keras.optimizers.Optimizer) -> None:
    """Zeroes the step counter and every slot (Adam moments), keeping the learning rate."""
    lr = optimizer.learning_rate
    for var in optimizer.variables:
        if var is not lr:
            var.assign(tf.zeros(var.shape, var.dtype))


__all__ = ["reset_optimizer_state"]
