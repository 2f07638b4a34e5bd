"""The host-side training loop of the original ``training_loop.py``.

Per minibatch group: evaluate the schedule, (re)configure the data, reset the
optimizers when a new resolution starts fading in, push lod and learning rates into
variables, then ``minibatch_repeats`` times: ``D_repeats`` D steps (each followed by the
Gs update) and one G step. Every ``tick_kimg``: a log line, TensorBoard scalars, image
grids, network pickles and a full checkpoint, as configured.

Under a multi-worker strategy every worker runs this loop in lockstep: the chief writes
the run directory (logs, grids, pickles, TensorBoard, checkpoints), the others only
their own checkpoints (``checkpoints/worker-<i>``, for their data iterators). A run
whose steps stay non-finite stops without saving the diverged state (see
:mod:`~tfstylegan.training.guard`).
"""

from __future__ import annotations

import math
import time
import types

import keras
import numpy as np
import tensorflow as tf
from absl import logging

from tfstylegan import losses
from tfstylegan.networks import DBasic, GStyle
from tfstylegan.paths import join
from tfstylegan.schedule import training_schedule
from tfstylegan.training import distribute, grid, precision
from tfstylegan.training.checkpoint import (
    DataState,
    NetworkWeights,
    Progress,
    locate_resume,
    progress_values,
    stored_objects,
)
from tfstylegan.training.config import CheckedConfig, ConfigError, TrainConfig, check_config, parse_grid_size
from tfstylegan.training.feed import RealFeed
from tfstylegan.training.guard import NonFiniteGuard
from tfstylegan.training.report import RunLog, Tick, TickStats, format_time, peak_memory, write_scalars
from tfstylegan.training.run_dir import (
    FINAL_PKL,
    LOG_TXT,
    REALS_PNG,
    checkpoint_dir,
    fakes_png,
    metric_txt,
    open_run_dir,
    snapshot_pkl,
    worker_of_checkpoint,
    write_config,
)
from tfstylegan.training.steps import TrainSteps, make_optimizer, reset_optimizer_state
from tfstylegan.training.training_set import info_of, open_training_set

DRANGE_NET = (-1, 1)
_ADDED_LATER = ("loss_scale_D", "loss_scale_G", "data_shards")  # Checkpoint objects older runs lack.


class Trainer:
    """One training run.

    Args:
        cfg: the configuration, checked here against the data and the strategy; or what
            :func:`~tfstylegan.training.config.check_config` returned for this strategy.
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
        self.metric_features = metric_features  # An InceptionFeatures; None = built from cfg when needed.
        self.metric_distance = metric_distance  # An LPIPS distance; None = built from cfg when needed.
        self._metrics_announced = False  # The tick log names weight-free snapshot metrics once.
        self.strategy = strategy or distribute.make_strategy(cfg.strategy)
        self.replicas = distribute.num_replicas(self.strategy)
        self.chief = distribute.is_chief(self.strategy)
        self.worker, self.num_workers = distribute.workers(self.strategy)
        if training_set is None:
            training_set = open_training_set(cfg, worker=self.worker)
        self.training_set = training_set
        self.info = info_of(self.training_set)
        self.checked = checked or check_config(cfg, self.info, self.replicas)
        if self.checked.replicas != self.replicas:
            raise ValueError(f"cfg was checked for {self.checked.replicas} replica(s); the strategy has {self.replicas}")
        self.loss_args = self.checked.loss_args
        self.num_gpus = self.checked.num_gpus
        self.G_loss = losses.get_loss(cfg.G_loss, "G")
        self.D_loss = losses.get_loss(cfg.D_loss, "D")
        self.run_dir = None
        self._build()

    # ------------------------------------------------------------------ construction

    def _build(self) -> None:
        cfg, info = self.cfg, self.info
        keras.utils.set_random_seed(cfg.seed)  # Initial weights are a function of the seed.
        data_kwargs = dict(num_channels=info.num_channels, resolution=info.resolution, label_size=info.label_size)
        dtype = precision.network_dtype(cfg.precision, cfg.num_fp16_res)
        with self.strategy.scope():
            for field, cls in (("G_args", GStyle), ("D_args", DBasic)):
                try:
                    net = cls(**data_kwargs, **getattr(cfg, field), dtype=dtype)
                except (TypeError, ValueError) as e:  # A bad value in --G_args / --D_args.
                    raise ConfigError(field, getattr(cfg, field), str(e)) from None
                setattr(self, field[0], net)
            if cfg.num_fp16_res is not None:
                precision.set_top_resolutions(cfg.precision, cfg.num_fp16_res, self.G.synthesis, self.D)
            # Gs (grids, pickles, metrics) computes in float32 whatever G trains in.
            self.Gs = GStyle.from_config({**self.G.get_config(), "name": "Gs", "dtype": "float32"})
            for gs, g in zip(self.Gs.weights, self.G.weights):
                gs.assign(g)
            G_opt = make_optimizer(cfg.optimizer, 0.0, "TrainG", **cfg.G_opt_args)
            D_opt = make_optimizer(cfg.optimizer, 0.0, "TrainD", **cfg.D_opt_args)
            G_opt.build(self.G.trainable_weights)
            D_opt.build(self.D.trainable_weights)
            self.rng = tf.random.Generator.from_seed(cfg.seed)
            self.progress = Progress()
            # Input pipelines the saved data iterators belong to (one per worker).
            self.data_shards = tf.Variable(self.num_workers, dtype=tf.int64, trainable=False, name="data_shards")
        self.steps = TrainSteps(
            self.strategy,
            self.G,
            self.D,
            self.Gs,
            G_opt,
            D_opt,
            self.rng,
            G_loss=self.G_loss,
            G_loss_args=self.loss_args["G"],
            D_loss=self.D_loss,
            D_loss_args=self.loss_args["D"],
            random_labels=self.training_set.get_random_labels_tf,
            mirror_augment=cfg.mirror_augment,
            drange_data=self.training_set.dynamic_range,
            drange_net=DRANGE_NET,
            G_smoothing_kimg=cfg.G_smoothing_kimg,
            D_weight_clip=cfg.D_weight_clip,
            precision=cfg.precision,
            xla=cfg.xla,
        )
        self.feed = RealFeed(self.training_set, self.strategy, cfg.seed)
        self.data_state = DataState()
        self._saved = dict(
            G=NetworkWeights(self.G),
            D=NetworkWeights(self.D),
            Gs=NetworkWeights(self.Gs),
            G_opt=self.steps.G.optimizer,
            D_opt=self.steps.D.optimizer,
            rng=self.rng,
            progress=self.progress,
            skipped_D=self.steps.D.skipped,
            skipped_G=self.steps.G.skipped,
            loss_scale_D=self.steps.D.loss_scale,
            loss_scale_G=self.steps.G.loss_scale,
            data_shards=self.data_shards,
        )
        self.checkpoint = tf.train.Checkpoint(**self._saved, data=self.data_state)
        self.guard = NonFiniteGuard(cfg.max_nonfinite_steps)
        # Loop state (mirrored into self.progress for checkpoints).
        self.cur_nimg, self.cur_tick, self.tick_start_nimg = 0, 0, 0
        self.prev_lod, self.time_offset = -1.0, 0.0

    # ------------------------------------------------------------------ resume

    def resume(self, source: str) -> str:
        """Loads a run directory's latest checkpoint, a checkpoint prefix or a network pickle.

        Returns:
            What was loaded: ``'checkpoint <prefix>'`` or ``'pickle <path>'``.
        """
        kind, path = locate_resume(source, self.worker)
        if kind == "checkpoint":
            self._restore_checkpoint(path)
        else:
            self._load_pickle(path)
        return f"{kind} {path}"

    def _restore_checkpoint(self, prefix: str) -> None:
        values = progress_values(prefix)
        # A worker's data iterator is its own: restore it only from this worker's own
        # checkpoint of a run with the same number of input pipelines. Otherwise this
        # worker's data order restarts (its shard stays disjoint from the others').
        own = self.chief or worker_of_checkpoint(prefix) == self.worker
        with_data = own and int(values.get("data_shards", 1)) == self.num_workers
        mismatch = (
            "the checkpoint does not fit this configuration "
            "(leave out --config to use its run's own, or give that run's flags)"
        )
        if with_data and values.get("data_level", -1) >= 0:  # Rebuild the saved pipeline, then restore its state.
            try:
                self.feed.configure(int(values["data_minibatch"]), float(values["data_level"]))
            except ValueError as e:
                raise ConfigError("resume", prefix, f"{mismatch}: {e}") from None
            self.data_state.iterator = self.feed.iterator
        elif not with_data:
            logging.warning(
                "Worker %d: %s holds no data iterator of this worker's shard (saved by another worker, or with "
                "%d input pipelines instead of %d); its data order restarts",
                self.worker, prefix, int(values.get("data_shards", 1)), self.num_workers,
            )
        # Objects added to checkpoints later (loss scales, data_shards) keep their initial
        # values when an older checkpoint lacks them.
        stored = stored_objects(prefix)
        objects = {k: v for k, v in self._saved.items() if k in stored or k not in _ADDED_LATER}
        checkpoint = tf.train.Checkpoint(**objects, data=self.data_state) if with_data else tf.train.Checkpoint(**objects)
        try:
            status = checkpoint.restore(prefix)
            if not with_data:
                status.expect_partial()
            status.assert_existing_objects_matched()
        except (AssertionError, ValueError, tf.errors.OpError) as e:
            raise ConfigError("resume", prefix, f"{mismatch}: {e}") from None
        self.data_shards.assign(self.num_workers)
        p = self.progress
        self.cur_nimg, self.cur_tick = int(p.cur_nimg.numpy()), int(p.cur_tick.numpy())
        self.tick_start_nimg, self.prev_lod = int(p.tick_start_nimg.numpy()), float(p.prev_lod.numpy())
        self.time_offset = float(p.total_time.numpy())

    def _load_pickle(self, path: str) -> None:
        from tfstylegan.legacy.network_pkl import load_network_pkl

        nets = load_network_pkl(path)
        for mine, theirs, name in zip((self.G, self.D, self.Gs), nets, ("G", "D", "Gs")):
            shapes = [tuple(w.shape) for w in mine.weights], [tuple(w.shape) for w in theirs.weights]
            if shapes[0] != shapes[1]:
                diff = {k: (v, mine.cfg.__dict__.get(k)) for k, v in theirs.cfg.__dict__.items() if mine.cfg.__dict__.get(k) != v}
                raise ConfigError(
                    "resume", path, f"its {name} does not match this configuration; (pickle, config) values differ: {diff}"
                )
            for dst, src in zip(mine.weights, theirs.weights):
                dst.assign(src.numpy())
        self.cur_nimg = int(self.cfg.resume_kimg * 1000)
        self.tick_start_nimg = self.cur_nimg
        self.time_offset = float(self.cfg.resume_time)

    # ------------------------------------------------------------------ helpers

    def schedule(self, cur_nimg: int | None = None):
        """The schedule entry at ``cur_nimg`` (default: now)."""
        nimg = self.cur_nimg if cur_nimg is None else cur_nimg
        return training_schedule(nimg, self.info.resolution, self.num_gpus, **self.cfg.sched_args)

    def _sync_progress(self, total_time: float) -> None:
        p = self.progress
        p.cur_nimg.assign(self.cur_nimg)
        p.cur_tick.assign(self.cur_tick)
        p.tick_start_nimg.assign(self.tick_start_nimg)
        p.prev_lod.assign(self.prev_lod)
        p.total_time.assign(total_time)
        p.data_level.assign(self.feed.level)
        p.data_minibatch.assign(self.feed.minibatch)
        self.data_state.iterator = self.feed.iterator

    def _write_config(self) -> None:
        write_config(self.run_dir, self.checked.to_json(self.info, workers=self.num_workers))

    def _save_pkl(self, name: str) -> None:
        from tfstylegan.legacy.network_pkl import save_network_pkl

        save_network_pkl(join(self.run_dir, name), self.G, self.D, self.Gs)

    # ------------------------------------------------------------------ the loop

    def train(self, run_dir: str | None = None) -> str:
        """Runs until ``total_kimg``; returns the run directory.

        Args:
            run_dir: where to write; None = a new ``<result_dir>/<NNNNN>-<desc>``.
        """
        cfg = self.cfg
        start = time.time()
        desc = cfg.desc or f"sgan-{cfg.config}-{self.num_gpus}gpu"
        share = (lambda number: distribute.broadcast_int(self.strategy, number)) if self.num_workers > 1 else None
        self.run_dir = open_run_dir(cfg.result_dir, desc, run_dir, self.chief, share)
        if self.chief:
            log = RunLog(join(self.run_dir, LOG_TXT))
        else:
            log = RunLog(prefix=f"worker {self.worker}: ")
        try:
            return self._train(log, start)
        finally:
            log.close()

    def _train(self, log: RunLog, start: float) -> str:
        cfg, info = self.cfg, self.info
        if self.chief:
            self._write_config()
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
            log(f"Resuming from {self.resume(cfg.resume)} at kimg {self.cur_nimg / 1000:.1f}")
        out = self._open_outputs(log)

        log("Training...")
        loop_start = tick_start_time = time.time()
        maintenance_time = loop_start - start
        ticks_this_process = 0
        stats = TickStats()
        total_nimg = int(math.ceil(cfg.total_kimg * 1000))
        saved = True
        try:
            while self.cur_nimg < total_nimg:
                sched = self.schedule()
                self._configure(sched)
                for _ in range(cfg.minibatch_repeats):
                    self._minibatch(sched, stats)
                self.guard.check(self.steps, f"kimg {self.cur_nimg / 1000:.1f}")
                done = self.cur_nimg >= total_nimg
                if self.cur_nimg < self.tick_start_nimg + sched.tick_kimg * 1000 and not done:
                    continue

                # Tick: report, then maintenance.
                self.cur_tick += 1
                ticks_this_process += 1
                tick_kimg = (self.cur_nimg - self.tick_start_nimg) / 1000.0
                self.tick_start_nimg = self.cur_nimg
                means, skips = stats.drain()
                tick_end = time.time()
                total_time = self.time_offset + tick_end - loop_start
                timing = dict(tick=tick_end - tick_start_time, kimg=tick_kimg, total=total_time, maintenance=maintenance_time)
                self._report(out, sched, timing, means, skips)
                saved = self.guard.safe_to_save(
                    self.steps, (self.G, self.D, self.Gs), f"kimg {self.cur_nimg / 1000:.1f} (tick {self.cur_tick})", log
                )
                if saved:
                    self._snapshots(out, done, ticks_this_process == 1)
                    if self.cur_tick % cfg.checkpoint_ticks == 0 or done:
                        self._sync_progress(total_time)
                        self.guard.last_checkpoint = out.manager.save(checkpoint_number=self.cur_tick)  # Every worker.
                out.writer.flush()
                tick_start_time = time.time()
                maintenance_time = tick_start_time - tick_end
        except Exception as e:
            log(f"ERROR: {e}")
            out.writer.close()
            raise

        if self.chief and saved:
            self._save_pkl(FINAL_PKL)
        out.writer.close()
        log(f"Done: {self.cur_nimg / 1000:.1f} kimg in {format_time(self.time_offset + time.time() - loop_start)}.")
        return self.run_dir

    def _snapshots(self, out, done: bool, first_tick: bool) -> None:
        """The chief's image grid, network pickle and metrics of this tick, as configured."""
        cfg = self.cfg
        if not self.chief:
            return
        if self.cur_tick % cfg.image_snapshot_ticks == 0 or done:
            self._save_fakes(out.render, out.grid_size, out.writer)
        if self.cur_tick % cfg.network_snapshot_ticks == 0 or done or first_tick:
            name = snapshot_pkl(self.cur_nimg)
            self._save_pkl(name)
            self.guard.last_snapshot = join(self.run_dir, name)
            self._run_metrics(name, out)

    def _open_outputs(self, log: RunLog) -> types.SimpleNamespace:
        """The snapshot grid (fixed reals, labels and latents, as the original), TensorBoard, checkpoints."""
        cfg = self.cfg
        grid_size = parse_grid_size(cfg.grid_size, self.info.resolution)
        reals, labels, latents = grid.setup_snapshot_image_grid(
            self.training_set, self.G.cfg.latent_size, grid_size, cfg.seed, cfg.grid_layout
        )
        render = grid.FakesRenderer(self.Gs, latents, labels, cfg.seed, chunk=min(len(latents), 32))
        writer = tf.summary.create_file_writer(self.run_dir) if self.chief else tf.summary.create_noop_writer()
        if self.chief:
            path = join(self.run_dir, REALS_PNG)
            image = grid.save_image_grid(reals, path, self.training_set.dynamic_range, grid_size)
            with writer.as_default():
                tf.summary.image("reals", image[np.newaxis], step=self.cur_nimg)
            self._save_fakes(render, grid_size, writer)
        manager = tf.train.CheckpointManager(
            self.checkpoint,
            checkpoint_dir(self.run_dir, 0 if self.chief else self.worker),
            max_to_keep=cfg.checkpoints_to_keep,
        )
        return types.SimpleNamespace(log=log, grid_size=grid_size, render=render, writer=writer, manager=manager)

    def _configure(self, sched) -> None:
        """Data, optimizer resets, lod and learning rates for the next minibatch group."""
        if self.feed.configure(sched.minibatch, sched.lod):
            self.data_state.iterator = self.feed.iterator  # The checkpoint follows the live pipeline.
        lod, prev = sched.lod, self.prev_lod
        if self.cfg.reset_opt_for_new_lod and (
            math.floor(lod) != math.floor(prev) or math.ceil(lod) != math.ceil(prev)
        ):
            reset_optimizer_state(self.steps.G.optimizer)
            reset_optimizer_state(self.steps.D.optimizer)
        self.prev_lod = lod
        self.G.lod.assign(lod)
        self.D.lod.assign(lod)  # Gs copies G's lod in the Gs update.
        self.steps.G.optimizer.learning_rate.assign(sched.G_lrate)
        self.steps.D.optimizer.learning_rate.assign(sched.D_lrate)

    def _minibatch(self, sched, stats) -> None:
        """``D_repeats`` D steps (each with the Gs update), then one G step."""
        for _ in range(self.cfg.D_repeats):
            stats.add(self.steps.d_step(*self.feed.next()))
            self.cur_nimg += sched.minibatch
        level, batch = int(math.floor(sched.lod)), sched.minibatch // self.replicas
        g_inputs = self.feed.next() if self.steps.G.loss.needs_reals else (None, None)
        stats.add(self.steps.g_step(batch, level, *g_inputs))

    def _report(self, out, sched, timing: dict, means: dict, skips: dict) -> None:
        """The tick's log line and, on the chief, its TensorBoard scalars."""
        updates = (self.steps.G, self.steps.D)
        tick = Tick(
            tick=self.cur_tick,
            nimg=self.cur_nimg,
            sched=sched,
            sec_per_tick=timing["tick"],
            tick_kimg=timing["kimg"],
            total_sec=timing["total"],
            maintenance_sec=timing["maintenance"],
            means=means,
            skips=skips,
            skipped_total={u.name: int(u.skipped.numpy()) for u in updates},
            loss_scale_log2=(
                {u.name: float(u.loss_scale.log2_scale.numpy()) for u in updates} if self.steps.D.loss_scale.enabled else None
            ),
            memory=peak_memory(),
        )
        out.log(tick.line())
        if self.chief:
            write_scalars(out.writer, tick.scalars(), self.cur_nimg)

    def _run_metrics(self, pkl_name: str, out) -> None:
        """``cfg.metrics`` of Gs, as the original runs them on each network snapshot."""
        if not self.cfg.metrics:
            return
        from tfstylegan.metrics import registry, runner

        needs = registry.metric_needs(registry.get_metrics(self.cfg.metrics))
        if self.metric_features is None and "features" in needs:
            from tfstylegan.metrics.inception import InceptionFeatures

            self.metric_features = InceptionFeatures(self.cfg.inception_weights)
        if self.metric_distance is None and "distance" in needs:
            from tfstylegan.metrics.lpips import LPIPS

            self.metric_distance = LPIPS(self.cfg.vgg16_weights)
        if not self._metrics_announced:
            self._metrics_announced = True
            if "features" not in needs and not self.cfg.inception_weights:
                out.log(
                    f"Snapshot metrics {','.join(self.cfg.metrics)} (no Inception weights given; the original's fid50k "
                    "needs --metrics=fid50k --inception_weights=<classify_image_graph_def.pb>)"
                )
        results = runner.run_metrics(
            self.Gs,
            self.training_set.tfrecord_dir,
            self.cfg.metrics,
            features=self.metric_features,
            distance=self.metric_distance,
            cache_dir=join(self.cfg.result_dir, "_metrics-cache"),
            mirror_augment=self.cfg.mirror_augment,
            seed=self.cfg.seed,
        )
        for name in self.cfg.metrics:
            line = runner.result_line(pkl_name, name, results)
            out.log(line)
            with tf.io.gfile.GFile(join(self.run_dir, metric_txt(name)), "a") as f:
                f.write(line + "\n")
            with out.writer.as_default():
                for key, value in runner.metric_values(name, results).items():
                    tf.summary.scalar(f"Metrics/{key}", value, step=self.cur_nimg)

    def _save_fakes(self, render, grid_size, writer) -> None:
        fakes = render()
        image = grid.save_image_grid(
            fakes, join(self.run_dir, fakes_png(self.cur_nimg)), DRANGE_NET, grid_size
        )
        with writer.as_default():
            tf.summary.image("fakes", image[np.newaxis], step=self.cur_nimg)


def train(cfg: TrainConfig, strategy: tf.distribute.Strategy | None = None) -> str:
    """Trains as ``cfg`` says and returns the run directory (see :class:`Trainer`)."""
    return Trainer(cfg, strategy).train()


__all__ = ["Trainer", "train"]
