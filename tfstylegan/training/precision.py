"""Mixed precision for training: Keras dtype policies and a dynamic loss scale.

``float32`` trains everything in float32. ``mixed_bfloat16`` and ``mixed_float16``
keep the variables in float32 and compute the layers in the 16-bit type; the networks
compute instance norm and minibatch stddev in float32 themselves, and the losses read
D's scores as float32.

float16 has a narrow exponent range: small gradients underflow to zero. As the original's
optimizer wrapper does, each network's loss is multiplied by a dynamic loss scale
``2**s`` before differentiation and the gradients are divided by it afterwards (the
inner gradient of R1 / WGAN-GP is scaled the same way). When some gradient overflows,
the update is skipped (the trainer's single non-finite guard) and ``s`` drops by one;
after ``growth_steps`` updates in a row without overflow ``s`` grows by one. bfloat16
has float32's exponent range and needs no scaling.

We scale by hand instead of using Keras' ``LossScaleOptimizer`` because its finiteness
test looks at each replica's own gradients: on a strategy without merge calls, replicas
whose gradients differ could then make different skip decisions and drift apart. Here
the decision is all-reduced first (``distribute.all_finite``).
"""

from __future__ import annotations

import tensorflow as tf

# The Keras dtype policies G and D can train in (--precision).
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


def network_dtype(precision: str, num_fp16_res: int | None) -> str:
    """The dtype policy to build G and D with: ``precision``, or float32 when only some resolutions are 16-bit."""
    return precision if num_fp16_res is None else "float32"


def set_top_resolutions(precision: str, num_fp16_res: int, *networks) -> None:
    """Gives the layers of the highest ``num_fp16_res`` resolutions of each network the ``precision`` policy.

    The rest (lower resolutions, G's mapping network) compute in float32. At the lowest
    resolutions float16 overflows first: G's 4x4 layer normalises a learned constant, and
    the float16 gradients of its weights are large, so the whole network would need a
    small loss scale. The networks cast activations to their own dtype between resolutions.

    Args:
        precision: a mixed policy (``mixed_float16`` or ``mixed_bfloat16``).
        num_fp16_res: how many resolutions, from the top.
        *networks: networks with ``resolution_layers()`` (``G.synthesis``, ``D``), built
            with the float32 policy.
    """
    for net in networks:
        layers = net.resolution_layers()
        for res in sorted(layers)[len(layers) - min(num_fp16_res, len(layers)):]:
            for layer in layers[res]:
                layer.dtype_policy = precision


def uses_loss_scaling(precision: str) -> bool:
    """Whether ``precision`` needs a dynamic loss scale (float16 only)."""
    return precision == "mixed_float16"


class DynamicLossScale(tf.Module):
    """The loss scale ``2**log2_scale`` of one network's updates (fixed at 1 when disabled).

    Create it inside ``strategy.scope()``. :meth:`scale` is read in replica context;
    :meth:`update` runs in cross-replica context after the step, with the skip decision
    every replica shares. Both variables are checkpointed, so a resumed run continues
    with the same scale.

    Args:
        enabled: False = no scaling (float32, bfloat16): :meth:`scale` is None.
        name: name of the module (``loss_scale_D``, ``loss_scale_G``).
        initial_log2: ``s`` at the start (2**15, as Keras' default).
        growth_steps: updates in a row without overflow after which ``s`` grows by one.
        min_log2: the floor of ``s``; an overflow at the floor is not explained by the
            scale, so the non-finite guard counts it as a bad step.
    """

    def __init__(
        self,
        enabled: bool,
        name: str,
        initial_log2: float = 15.0,
        growth_steps: int = 2000,
        min_log2: float = 0.0,
    ):
        super().__init__(name=name)
        self.enabled = bool(enabled)
        self.growth_steps = int(growth_steps)
        self.min_log2 = float(min_log2)
        start = float(initial_log2) if self.enabled else 0.0
        self.log2_scale = tf.Variable(start, dtype=tf.float32, trainable=False, name="log2_scale")
        self.good_steps = tf.Variable(0, dtype=tf.int64, trainable=False, name="good_steps")

    def scale(self) -> tf.Tensor | None:
        """``2**s`` as a float32 scalar, or None when scaling is disabled."""
        if not self.enabled:
            return None
        return tf.pow(2.0, self.log2_scale)

    def at_floor(self) -> tf.Tensor:
        """True when the scale cannot be lowered any further (always, when disabled)."""
        if not self.enabled:
            return tf.constant(True)
        return self.log2_scale <= self.min_log2

    def update(self, ok: tf.Tensor) -> None:
        """After a step: grow after ``growth_steps`` good steps; shrink (and reset) after a bad one."""
        if not self.enabled:
            return
        good = self.good_steps + 1
        grow = tf.logical_and(ok, good >= self.growth_steps)
        log2 = tf.where(
            ok,
            tf.where(grow, self.log2_scale + 1.0, self.log2_scale),
            tf.maximum(self.log2_scale - 1.0, self.min_log2),
        )
        self.log2_scale.assign(log2)
        self.good_steps.assign(tf.where(tf.logical_and(ok, tf.logical_not(grow)), good, tf.zeros_like(good)))


__all__ = ["PRECISIONS", "DynamicLossScale", "network_dtype", "set_top_resolutions", "uses_loss_scaling"]
