"""The host-side training loop of the original ``training_loop.py``.

Per minibatch group: evaluate the schedule, (re)configure the data, reset the
optimizers when a new resolution starts fading in, push lod and learning rates into
variables, then ``minibatch_repeats`` times: ``D_repeats`` D steps (each followed by the
Gs update) and one G step. Every ``tick_kimg``: a log line, TensorBoard scalars, image
grids, network pickles and a full checkpoint, as configured.

The loop's counters live only in the checkpointed
:class:`~tfstylegan.training.checkpoint.Progress`, which the loop reads without pulling
values from TensorFlow: between ticks, the only value a minibatch group pulls is the
guard's count of bad steps, of the group before. Under a multi-worker strategy every
worker runs this loop in lockstep: the chief writes the run directory, the others only
their own checkpoints (``checkpoints/worker-<i>``, for their data iterators). A run whose
steps stay non-finite stops without saving the diverged state (see
:mod:`~tfstylegan.training.guard`).
"""

from __future__ import annotations

import contextlib
import math
import time

import keras
import tensorflow as tf

from tfstylegan import losses
from tfstylegan.networks import DBasic, GStyle
from tfstylegan.paths import join
from tfstylegan.schedule import TrainingSchedule, training_schedule
from tfstylegan.training import distribute, precision
from tfstylegan.training.checkpoint import TrainingState
from tfstylegan.training.checks import CheckedConfig, check_config
from tfstylegan.training.config import ConfigError, DatasetInfo, TrainConfig
from tfstylegan.training.feed import RealFeed
from tfstylegan.training.guard import NonFiniteGuard
from tfstylegan.training.outputs import RunOutputs
from tfstylegan.training.report import RunLog, Tick, TickStats, TickTimer, format_time, peak_memory
from tfstylegan.training.resume import Resume
from tfstylegan.training.run_dir import FINAL_PKL, LOG_TXT, write_config
from tfstylegan.training.steps import TrainSteps, make_optimizer
from tfstylegan.training.training_set import info_of, open_training_set


def build_networks(cfg: TrainConfig, data: DatasetInfo) -> tuple[GStyle, DBasic, GStyle]:
    """``(G, D, Gs)`` of a configuration for a dataset (call inside ``strategy.scope()``).

    Gs (grids, pickles, metrics) computes in float32 whatever G trains in, and starts as a copy of G.

    Raises:
        ConfigError: a bad value in ``G_args`` / ``D_args``.
    """
    data_kwargs = dict(num_channels=data.num_channels, resolution=data.resolution, label_size=data.label_size)
    dtype = precision.network_dtype(cfg.precision, cfg.num_fp16_res)
    nets = []
    for field, cls in (("G_args", GStyle), ("D_args", DBasic)):
        try:
            nets.append(cls(**data_kwargs, **getattr(cfg, field), dtype=dtype))
        except (TypeError, ValueError) as e:
            raise ConfigError(field, getattr(cfg, field), str(e)) from None
    G, D = nets
    if cfg.num_fp16_res is not None:
        precision.set_top_resolutions(cfg.precision, cfg.num_fp16_res, G.synthesis, D)
    Gs = GStyle.from_config({**G.get_config(), "name": "Gs", "dtype": "float32"})
    for gs, g in zip(Gs.weights, G.weights):
        gs.assign(g)
    return G, D, Gs


class Trainer:
    """One training run.

    Args:
        cfg: the configuration, checked here against the data and the strategy; or what
            :func:`~tfstylegan.training.checks.check_config` returned for this strategy.
        strategy: a ``tf.distribute`` strategy; None = ``cfg.strategy``.
        training_set: an opened dataset; None = the one ``cfg`` names.
        metric_features: the Inception features of FID metrics (tests pass a stand-in);
            None = ``InceptionFeatures(cfg.inception_weights)`` at the first snapshot.
        metric_distance: the LPIPS distance of PPL metrics; None = ``LPIPS(cfg.vgg16_weights)``.

    Raises:
        ConfigError: a configuration that cannot work (naming the field).
    """

    def __init__(
        self,
        cfg: TrainConfig | CheckedConfig,
        strategy: tf.distribute.Strategy | None = None,
        training_set=None,
        metric_features=None,
        metric_distance=None,
    ):
        checked = cfg if isinstance(cfg, CheckedConfig) else None
        self.cfg = cfg = checked.cfg if checked else cfg
        self.metric_models = metric_features, metric_distance
        self.strategy = strategy or distribute.make_strategy(cfg.strategy, tpu=cfg.tpu)
        self.replicas = distribute.num_replicas(self.strategy)
        self.chief = distribute.is_chief(self.strategy)
        self.worker, self.num_workers = distribute.workers(self.strategy)
        self.training_set = open_training_set(cfg, worker=self.worker) if training_set is None else training_set
        self.info = info_of(self.training_set)
        self.checked = checked or check_config(cfg, self.info, self.replicas)
        if self.checked.replicas != self.replicas:
            raise ValueError(f"cfg was checked for {self.checked.replicas} replica(s); the strategy has {self.replicas}")
        self.run_dir = None
        keras.utils.set_random_seed(cfg.seed)  # Initial weights are a function of the seed.
        with self.strategy.scope():
            self.G, self.D, self.Gs = build_networks(cfg, self.info)
            G_opt = make_optimizer(cfg.optimizer, 0.0, "TrainG", **cfg.G_opt_args)
            D_opt = make_optimizer(cfg.optimizer, 0.0, "TrainD", **cfg.D_opt_args)
            G_opt.build(self.G.trainable_weights)
            D_opt.build(self.D.trainable_weights)
            rng = tf.random.Generator.from_seed(cfg.seed)
        loss_args, ts = self.checked.loss_args, self.training_set
        self.steps = TrainSteps(
            self.strategy, self.G, self.D, self.Gs, G_opt, D_opt, rng,
            G_loss=losses.get_loss(cfg.G_loss, "G"), G_loss_args=loss_args["G"],
            D_loss=losses.get_loss(cfg.D_loss, "D"), D_loss_args=loss_args["D"],
            random_labels=ts.get_random_labels_tf, mirror_augment=cfg.mirror_augment, drange_data=ts.dynamic_range,
            G_smoothing_kimg=cfg.G_smoothing_kimg, D_weight_clip=cfg.D_weight_clip,
            precision=cfg.precision, xla=cfg.xla,
        )
        self.feed = RealFeed(ts, self.strategy, cfg.seed)
        self.state = TrainingState((self.G, self.D, self.Gs), self.steps, rng, self.num_workers)
        self.progress = self.state.progress
        self.resumption = Resume(cfg, self.info, self.state, self.feed, self.strategy)
        self.guard = NonFiniteGuard(cfg.max_nonfinite_steps)

    @property
    def cur_nimg(self) -> int:
        """Real images shown so far (read from :attr:`progress`)."""
        return self.progress["cur_nimg"]

    @property
    def cur_tick(self) -> int:
        """Ticks completed (read from :attr:`progress`)."""
        return self.progress["cur_tick"]

    def resume(self, source: str) -> str:
        """Loads ``source`` (see :meth:`Resume.load`); returns ``'checkpoint <prefix>'`` or ``'pickle <path>'``."""
        return " ".join(self.resumption.load(source))

    def schedule(self, cur_nimg: int | None = None) -> TrainingSchedule:
        """The schedule entry at ``cur_nimg`` (default: now)."""
        nimg = self.cur_nimg if cur_nimg is None else cur_nimg
        return training_schedule(nimg, self.info.resolution, self.checked.num_gpus, **self.cfg.sched_args)

    def train(self, run_dir: str | None = None) -> str | None:
        """Runs until ``total_kimg``; returns the run directory.

        ``cfg.resume`` is loaded first, so a resume that does not fit leaves no directory behind; a run
        directory resumed from its checkpoint goes on in place; a run that fails before its first tick
        removes the directory it created (see :meth:`Resume.directory`).

        Args:
            run_dir: where to write; None = the resumed run directory, or a new ``<result_dir>/<NNNNN>-<desc>``.

        Returns:
            The run directory; None when the resumed run is already at ``total_kimg`` (logged; nothing is written).
        """
        cfg, start = self.cfg, time.time()
        if cfg.resume:
            self.resume(cfg.resume)
            if self.resumption.nothing_to_do(self._total_nimg()):
                return None
        desc = cfg.desc or f"sgan-{cfg.config}-{self.checked.num_gpus}gpu"
        with self.resumption.directory(run_dir, desc) as (self.run_dir, continuing):
            log = RunLog(join(self.run_dir, LOG_TXT)) if self.chief else RunLog(prefix=f"worker {self.worker}: ")
            with contextlib.closing(log):
                self._start(log, continuing)
                out = RunOutputs(
                    cfg, self.run_dir, (self.G, self.D, self.Gs), self.training_set, self.state, self.chief, self.worker,
                    log, self.cur_nimg, *self.metric_models, first_grids=not continuing,
                )
                log("Training...")
                timer = TickTimer(start, offset=self.progress["total_time"])
                with contextlib.closing(out):
                    try:
                        if self._loop(out, log, timer) and self.chief:
                            out.network(FINAL_PKL)
                    except Exception as e:
                        log(f"ERROR: {e}")
                        raise
                log(f"Done: {self.cur_nimg / 1000:.1f} kimg in {format_time(timer.total())}.")
                return self.run_dir

    def _total_nimg(self) -> int:
        return int(math.ceil(self.cfg.total_kimg * 1000))

    def _start(self, log: RunLog, continuing: bool) -> None:
        """config.json (replaced: a continued run takes the new total_kimg, ...), the run's description and the resume."""
        cfg, info = self.cfg, self.info
        if self.chief:
            write_config(self.run_dir, self.checked.to_json(info, workers=self.num_workers))
        log(f"Run directory: {self.run_dir}")
        log(
            f"Dataset: {info.path}: {info.num_images} images, {info.resolution}x{info.resolution}x"
            f"{info.num_channels}, labels {info.label_size}"
        )
        log(
            f"Strategy: {cfg.strategy}, {self.replicas} replica(s) on {self.num_workers} worker(s); precision "
            f"{cfg.precision}{', XLA' if cfg.xla else ''}; G {self.G.count_params():,} and D {self.D.count_params():,} parameters"
        )
        if cfg.resume:
            log(self.resumption.line(continuing))

    def _loop(self, out: RunOutputs, log: RunLog, timer: TickTimer) -> bool:
        """Minibatch groups until ``total_kimg``, with a tick whenever ``tick_kimg`` passed; False if the last tick saved nothing."""
        total_nimg, stats, saved, first = self._total_nimg(), TickStats(), True, True
        nimg = self.cur_nimg
        while nimg < total_nimg:
            sched = self.schedule(nimg)
            self._configure(sched)
            for _ in range(self.cfg.minibatch_repeats):
                self._minibatch(sched, stats)
            nimg = self.cur_nimg
            self.guard.check(self.steps, f"kimg {nimg / 1000:.1f}")
            done = nimg >= total_nimg
            if done or nimg >= self.progress["tick_start_nimg"] + sched.tick_kimg * 1000:
                saved = self._tick(out, log, sched, stats.drain(), timer, done, first)
                first = False
        return saved

    def _tick(self, out: RunOutputs, log: RunLog, sched, drained: tuple, timer: TickTimer, done: bool, first: bool) -> bool:
        """Report (``drained``: the tick's :meth:`TickStats.drain`), then snapshots and a checkpoint, as configured.

        Returns:
            Whether the state was finite, so the tick could save it.
        """
        p, updates = self.progress, (self.steps.G, self.steps.D)
        nimg, start_nimg, tick = p["cur_nimg"], p["tick_start_nimg"], p["cur_tick"] + 1
        seconds, total = timer.end_tick()
        p.set(cur_tick=tick, tick_start_nimg=nimg, total_time=total)
        scales = {u.name: float(u.loss_scale.log2_scale.numpy()) for u in updates} if updates[0].loss_scale.enabled else None
        report = Tick(
            tick=tick, nimg=nimg, sched=sched, sec_per_tick=seconds, tick_kimg=(nimg - start_nimg) / 1000.0,
            total_sec=total, maintenance_sec=timer.maintenance, means=drained[0], skips=drained[1],
            skipped_total={u.name: int(u.skipped.numpy()) for u in updates}, loss_scale_log2=scales, memory=peak_memory(),
        )
        log(report.line())
        out.scalars(report.scalars(), nimg)
        saved = self.guard.safe_to_save(self.steps, (self.G, self.D, self.Gs), f"kimg {nimg / 1000:.1f} (tick {tick})", log)
        if saved:
            self.guard.last_snapshot = out.snapshot(nimg, tick, done, first) or self.guard.last_snapshot
            if tick % self.cfg.checkpoint_ticks == 0 or done:
                self.guard.last_checkpoint = out.checkpoint(tick)  # Every worker.
        out.flush()
        timer.start_tick()
        return saved

    def _configure(self, sched: TrainingSchedule) -> None:
        """Data, optimizer resets, lod and learning rates for the next minibatch group."""
        if self.feed.configure(sched.minibatch, sched.lod):
            self.state.follow(self.feed)  # The checkpoint follows the live pipeline.
        lod, prev = sched.lod, self.progress["prev_lod"]
        reset = math.floor(lod) != math.floor(prev) or math.ceil(lod) != math.ceil(prev)
        self.progress.set(prev_lod=lod)
        self.steps.set_schedule(lod, sched.G_lrate, sched.D_lrate, reset and self.cfg.reset_opt_for_new_lod)

    def _minibatch(self, sched: TrainingSchedule, stats: TickStats) -> None:
        """``D_repeats`` D steps (each with the Gs update), then one G step."""
        for _ in range(self.cfg.D_repeats):
            stats.add(self.steps.d_step(*self.feed.next()))
            self.progress.set(cur_nimg=self.progress["cur_nimg"] + sched.minibatch)
        level, batch = int(math.floor(sched.lod)), sched.minibatch // self.replicas
        g_inputs = self.feed.next() if self.steps.G.loss.needs_reals else (None, None)
        stats.add(self.steps.g_step(batch, level, *g_inputs))


def train(cfg: TrainConfig, strategy: tf.distribute.Strategy | None = None) -> str:
    """Trains as ``cfg`` says and returns the run directory (see :class:`Trainer`)."""
    return Trainer(cfg, strategy).train()


__all__ = ["Trainer", "build_networks", "train"]
