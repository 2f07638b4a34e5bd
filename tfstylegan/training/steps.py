"""The compiled training phases: a D step (+ the Gs moving average) and a G step.

Per replica, a step processes its slice of the minibatch, computes per-example losses,
reduces them over the **global** batch, takes gradients, and applies them with the
network's optimizer unless the loss or some gradient on some replica is non-finite (the
whole update is then skipped and counted, as the original's optimizer wrapper does for
gradients). Under float16
the loss is multiplied by a dynamic loss scale first and the gradients divided by it
(see :mod:`~tfstylegan.training.precision`); an overflow is skipped by the same guard.
Everything that changes during training (lod, learning rates, the loss scale) lives in
variables, so each ``tf.function`` is traced once per input shape, i.e. at most once per
resolution. With ``xla=True`` the per-replica work is compiled with XLA.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Callable, Mapping, Sequence

import keras
import tensorflow as tf

from tfstylegan.data.pipeline import process_reals
from tfstylegan.losses import LossSpec
from tfstylegan.optim import reset_optimizer_state
from tfstylegan.training import distribute
from tfstylegan.training.graph_options import disable_addn_rewrite
from tfstylegan.training.precision import DynamicLossScale, uses_loss_scaling

DRANGE_NET = (-1, 1)  # The networks' image range.

# The optimizers (--optimizer): the Keras class and its arguments (--G_opt_args, --D_opt_args) with
# their defaults. Adam as the original's TF1 AdamOptimizer (Keras 3 Adam computes the same update);
# RMSProp as the WGAN paper's.
OPTIMIZERS = {
    "adam": ("Adam", dict(beta_1=0.0, beta_2=0.99, epsilon=1e-8)),
    "rmsprop": ("RMSprop", dict(rho=0.99, epsilon=1e-8, momentum=0.0)),
}


def make_optimizer(kind: str, learning_rate: float, name: str, **kwargs) -> keras.optimizers.Optimizer:
    """The optimizer of one network.

    Args:
        kind: a key of :data:`OPTIMIZERS`.
        learning_rate: initial learning rate (the trainer sets it from the schedule).
        name: optimizer name.
        **kwargs: arguments that replace the defaults in :data:`OPTIMIZERS`.
    """
    if kind not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {kind!r}; expected one of {', '.join(OPTIMIZERS)}")
    class_name, defaults = OPTIMIZERS[kind]
    return getattr(keras.optimizers, class_name)(learning_rate, name=name, **{**defaults, **kwargs})


def moving_average_pairs(Gs: keras.Model, G: keras.Model) -> tuple[list, list]:
    """``(trainable, other)`` lists of ``(Gs_var, G_var)`` pairs, matched by position.

    Gs is built from G's configuration, so both list their weights in the same order.
    """
    if len(Gs.weights) != len(G.weights):
        raise ValueError(f"Gs has {len(Gs.weights)} weights but G has {len(G.weights)}; build Gs from G's config")
    trainable, other = [], []
    for gs, g in zip(Gs.weights, G.weights):
        if tuple(gs.shape) != tuple(g.shape) or gs.trainable != g.trainable:
            raise ValueError(f"Gs weight {gs.path} {gs.shape} does not match G weight {g.path} {g.shape}")
        (trainable if g.trainable else other).append((gs, g))
    return trainable, other


class AtLevel:
    """A network called with a static ``lod_range = (level, level + 1)``.

    Every compiled step trains one level of detail (``floor(lod)``, fixed by the data
    it reads), so the recursive structure can be pruned at trace time; see
    ``tfstylegan.networks.base.lod_cond``. Other attributes are the network's.
    """

    def __init__(self, net: keras.Model, level: int):
        self.net = net
        self.lod_range = (level, level + 1)

    def __call__(self, *args, **kwargs):
        return self.net(*args, lod_range=self.lod_range, **kwargs)

    def __getattr__(self, name):
        return getattr(self.net, name)


@dataclasses.dataclass(frozen=True, eq=False)
class NetworkUpdate:
    """What the update of one network uses and counts (:attr:`TrainSteps.G`, :attr:`TrainSteps.D`).

    Attributes:
        name: ``'G'`` or ``'D'``; the step's outputs are ``Loss/<name>`` and ``Loss/<name>_skipped``.
        net: the network.
        optimizer: its optimizer.
        loss: its loss.
        loss_args: the loss's keyword arguments.
        loss_scale: its :class:`DynamicLossScale` (disabled unless ``precision='mixed_float16'``).
        skipped: int64 variable counting the updates skipped because the loss or a gradient
            was not finite.
        bad: int64 variable counting the bad steps in a row: skipped updates that loss
            scaling does not explain (the loss itself was not finite, or the scale is at its
            floor, or there is no scaling). The trainer stops a run when one reaches
            ``max_nonfinite_steps``.
    """

    name: str
    net: keras.Model
    optimizer: keras.optimizers.Optimizer
    loss: LossSpec
    loss_args: dict
    loss_scale: DynamicLossScale
    skipped: tf.Variable
    bad: tf.Variable

    @classmethod
    def create(cls, name: str, net, optimizer, loss: LossSpec, loss_args: Mapping, precision: str) -> NetworkUpdate:
        """The update of ``net``, with new counters and loss scale (call inside ``strategy.scope()``)."""
        counter = dict(dtype=tf.int64, trainable=False)
        return cls(
            name=name,
            net=net,
            optimizer=optimizer,
            loss=loss,
            loss_args=dict(loss_args),
            loss_scale=DynamicLossScale(uses_loss_scaling(precision), f"loss_scale_{name}"),
            skipped=tf.Variable(0, name=f"skipped_{name}", **counter),
            bad=tf.Variable(0, name=f"bad_{name}", **counter),
        )


class TrainSteps:
    """The D and G steps of one training run, as ``tf.function`` s under a strategy.

    Build it (and the networks, optimizers and ``rng`` it is given) inside
    ``strategy.scope()``.

    Attributes:
        d_step: ``d_step(reals, labels)`` with per-replica uint8 NHWC reals of level
            ``floor(lod)`` (their size gives the level) and their labels: one D update,
            then the Gs update. Returns a dict of scalars (``Loss/D``, ``Loss/D_skipped``).
        g_step: ``g_step(batch_per_replica, level, reals=None, labels=None)``: one G
            update at level ``floor(lod)``. G losses condition on random dataset labels;
            those that need reals (the relativistic ones) get a real minibatch and its
            labels instead. Returns ``Loss/G``, ``Loss/G_skipped``.
        G, D: the :class:`NetworkUpdate` of each network (network, optimizer, loss, loss
            scale, skip counters).
        Gs: the moving average of G.
        traces: how many times each step function has been traced.
    """

    def __init__(
        self,
        strategy: tf.distribute.Strategy,
        G: keras.Model,
        D: keras.Model,
        Gs: keras.Model,
        G_opt: keras.optimizers.Optimizer,
        D_opt: keras.optimizers.Optimizer,
        rng: tf.random.Generator,
        *,
        G_loss: LossSpec,
        G_loss_args: Mapping[str, float],
        D_loss: LossSpec,
        D_loss_args: Mapping[str, float],
        random_labels: Callable[[int, tf.random.Generator], tf.Tensor],
        mirror_augment: bool = False,
        drange_data: Sequence[float] = (0, 255),
        drange_net: Sequence[float] = DRANGE_NET,
        G_smoothing_kimg: float = 10.0,
        D_weight_clip: float | None = None,
        precision: str = "float32",
        xla: bool = False,
    ):
        disable_addn_rewrite()  # Grappler's AddN rewrite breaks R1 through D's tf.cond (see graph_options).
        self.strategy = strategy
        self.Gs = Gs
        self.rng = rng
        self.random_labels = random_labels
        self.mirror_augment = bool(mirror_augment)
        self.drange_data, self.drange_net = tuple(drange_data), tuple(drange_net)
        self.G_smoothing_kimg = float(G_smoothing_kimg)
        self.D_weight_clip = D_weight_clip
        self.replicas = distribute.num_replicas(strategy)
        self.ema_pairs, self.copy_pairs = moving_average_pairs(Gs, G)
        self.precision, self.xla = precision, bool(xla)
        with strategy.scope():
            self.D = NetworkUpdate.create("D", D, D_opt, D_loss, D_loss_args, precision)
            self.G = NetworkUpdate.create("G", G, G_opt, G_loss, G_loss_args, precision)
        self.traces = collections.Counter()
        # XLA compiles what runs on each replica (the networks, losses and optimizer
        # updates); the cross-replica part (Gs average, counters) stays a plain graph.
        # This is the form MirroredStrategy compiles on GPUs with collectives.
        compile_replica = (lambda fn: tf.function(fn, jit_compile=True)) if self.xla else (lambda fn: fn)
        self._d_replica_fn = compile_replica(self._d_replica)
        self._g_replica_fn = compile_replica(self._g_replica)
        self.d_step = tf.function(self._d_step)
        self.g_step = tf.function(self._g_step)

    # ------------------------------------------------------------------ per replica

    def _process(self, reals: tf.Tensor, level: int) -> tf.Tensor:
        return process_reals(
            reals,
            self.D.net.lod,
            self.mirror_augment,
            self.drange_data,
            self.drange_net,
            rng=self.rng,
            resolution=self.D.net.cfg.resolution,
            level=level,
        )

    def _loss(self, update: NetworkUpdate, G, D, labels, reals, scale) -> tf.Tensor:
        """Per-example float32 losses; the R1 / GP losses get the loss scale for their inner gradient."""
        kwargs = dict(update.loss_args)
        if update.loss.takes_loss_scale and scale is not None:
            kwargs["loss_scale"] = scale
        return update.loss.fn(G, D, None, labels, reals, rng=self.rng, **kwargs)

    def _update(self, tape, loss, scaled_loss, scale, update: NetworkUpdate) -> tf.Tensor:
        variables = update.net.trainable_weights
        grads = tape.gradient(scaled_loss, variables)
        # Layers the current lod does not reach get zero gradients, as in the original.
        grads = [tf.zeros(v.shape, v.dtype) if g is None else g for v, g in zip(variables, grads)]
        if scale is not None:
            grads = [g / scale for g in grads]
        # A non-finite loss can come with finite gradients (an infinite bias has a finite
        # gradient): such a step is garbage too and is skipped.
        ok = distribute.all_finite([loss, *grads])
        distribute.apply_if(ok, update.optimizer.apply, grads, variables)
        return ok

    def _level(self, reals) -> int:
        """The level of detail ``floor(lod)`` of a real minibatch, from its size."""
        size = int(reals.shape[1])
        return self.D.net.resolution_log2 - (size.bit_length() - 1)

    def _d_replica(self, reals, labels):
        global_batch = reals.shape[0] * self.replicas
        level = self._level(reals)
        G, D = AtLevel(self.G.net, level), AtLevel(self.D.net, level)
        reals = self._process(reals, level)
        scale = self.D.loss_scale.scale()
        with tf.GradientTape() as tape:
            per_example = self._loss(self.D, G, D, labels, reals, scale)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
            scaled = loss if scale is None else loss * scale
        ok = self._update(tape, loss, scaled, scale, self.D)
        return loss, ok

    def _g_replica(self, reals, labels, *, batch: int, level: int):
        G, D = AtLevel(self.G.net, level), AtLevel(self.D.net, level)
        if reals is not None:
            reals = self._process(reals, level)
        else:
            labels = self.random_labels(batch, self.rng)
        scale = self.G.loss_scale.scale()
        with tf.GradientTape() as tape:
            per_example = self._loss(self.G, G, D, labels, reals, scale)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=batch * self.replicas)
            scaled = loss if scale is None else loss * scale
        ok = self._update(tape, loss, scaled, scale, self.G)
        return loss, ok

    # ------------------------------------------------------------------ cross replica

    def _update_Gs(self, minibatch: int) -> None:
        """Gs <- G + (Gs - G) * beta for trainables; non-trainables copied (lod, dlatent_avg, noise)."""
        if self.G_smoothing_kimg > 0.0:
            beta = 0.5 ** (minibatch / (self.G_smoothing_kimg * 1000.0))
        else:
            beta = 0.0
        for gs, g in self.ema_pairs:
            gs.assign(g + (gs - g) * beta)
        for gs, g in self.copy_pairs:
            gs.assign(g)

    def _after_step(self, loss, ok, update: NetworkUpdate) -> dict:
        """Skip counters, the loss scale and the bad-step run of one update (cross-replica)."""
        skipped = 1 - tf.cast(ok, tf.int64)
        # A skip that lowering the scale can explain is an overflow, not a bad step.
        bad = tf.logical_and(
            tf.logical_not(ok), tf.logical_or(tf.logical_not(tf.math.is_finite(loss)), update.loss_scale.at_floor())
        )
        update.loss_scale.update(ok)
        update.skipped.assign_add(skipped)
        update.bad.assign(tf.where(bad, update.bad + 1, tf.zeros_like(update.bad)))
        return {f"Loss/{update.name}": loss, f"Loss/{update.name}_skipped": tf.cast(skipped, tf.int32)}

    def _d_step(self, reals, labels):
        self.traces["D"] += 1
        loss, ok = self.strategy.run(self._d_replica_fn, args=(reals, labels))
        ok = distribute.first_replica(self.strategy, ok)
        if self.D_weight_clip is not None:
            for var in self.D.net.trainable_weights:
                var.assign(tf.clip_by_value(var, -self.D_weight_clip, self.D_weight_clip))
        minibatch = distribute.first_replica(self.strategy, reals).shape[0] * self.replicas
        self._update_Gs(minibatch)
        return self._after_step(distribute.reduce_sum(self.strategy, loss), ok, self.D)

    def _g_step(self, batch_per_replica: int, level: int, reals=None, labels=None):
        self.traces["G"] += 1
        loss, ok = self.strategy.run(
            self._g_replica_fn, args=(reals, labels), kwargs=dict(batch=batch_per_replica, level=level)
        )
        ok = distribute.first_replica(self.strategy, ok)
        return self._after_step(distribute.reduce_sum(self.strategy, loss), ok, self.G)

    def set_schedule(self, lod: float, G_lrate: float, D_lrate: float, reset_optimizers: bool = False) -> None:
        """Puts a minibatch group's lod and learning rates into their variables (no retrace).

        Args:
            lod: the level of detail of G and D (Gs copies G's in the Gs update).
            G_lrate, D_lrate: the learning rates.
            reset_optimizers: first zero both optimizers' state (a new resolution fades in).
        """
        for update, lrate in ((self.G, G_lrate), (self.D, D_lrate)):
            if reset_optimizers:
                reset_optimizer_state(update.optimizer)
            update.net.lod.assign(lod)
            update.optimizer.learning_rate.assign(lrate)

    def bad_steps(self) -> tf.Tensor:
        """The longer of the D and G runs of bad steps (an int64 scalar; reading it does not wait)."""
        return tf.maximum(self.D.bad.read_value(), self.G.bad.read_value())
