"""What a run writes while it trains: image grids, network pickles, metric results, TensorBoard, checkpoints.

The chief writes all of it into the run directory (see :mod:`~tfstylegan.training.run_dir`);
the other workers of a multi-worker run write only their own checkpoints, since every
worker takes part in each save.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfstylegan.paths import join
from tfstylegan.training import grid
from tfstylegan.training.checkpoint import TrainingState, remove_leftovers
from tfstylegan.training.config import TrainConfig, parse_grid_size
from tfstylegan.training.report import RunLog, write_scalars
from tfstylegan.training.run_dir import (
    METRICS_CACHE,
    REALS_PNG,
    checkpoint_dir,
    fakes_png,
    metric_txt,
    snapshot_pkl,
)
from tfstylegan.training.steps import DRANGE_NET


class RunOutputs:
    """The writers of one process of a run.

    Creating it writes ``reals.png`` and the first fakes grid (on the chief), as the original,
    unless ``first_grids`` is False (a run continued in its directory has them already).

    Args:
        cfg: the configuration (what to write how often).
        directory: the run directory.
        networks: ``(G, D, Gs)``.
        training_set: the dataset (the snapshot grid's reals, the metrics' reference).
        state: the run's :class:`~tfstylegan.training.checkpoint.TrainingState`, which the checkpoints save.
        chief: whether this process writes the run directory.
        worker: this process' worker index (other workers: ``checkpoints/worker-<i>``).
        log: the run's log.
        nimg: real images shown so far (the TensorBoard step of the first grids).
        metric_features: the Inception features of FID metrics; None = built from
            ``cfg.inception_weights`` at the first snapshot that needs them.
        metric_distance: the LPIPS distance of PPL metrics; None = ``LPIPS(cfg.vgg16_weights)``.
        first_grids: write ``reals.png`` and the fakes grid at ``nimg`` now.
    """

    def __init__(
        self,
        cfg: TrainConfig,
        directory: str,
        networks,
        training_set,
        state: TrainingState,
        chief: bool,
        worker: int,
        log: RunLog,
        nimg: int,
        metric_features=None,
        metric_distance=None,
        first_grids: bool = True,
    ):
        self.cfg, self.directory, self.chief, self.log = cfg, directory, chief, log
        self.G, self.D, self.Gs = networks
        self.training_set = training_set
        self.metric_features, self.metric_distance = metric_features, metric_distance
        self._metrics_announced = False  # The log names weight-free snapshot metrics once.
        # The snapshot grid: fixed reals, labels and latents, as the original.
        self.grid_size = parse_grid_size(cfg.grid_size, training_set.resolution)
        reals, labels, latents = grid.setup_snapshot_image_grid(
            training_set, self.G.cfg.latent_size, self.grid_size, cfg.seed, cfg.grid_layout
        )
        self.render = grid.FakesRenderer(self.Gs, latents, labels, cfg.seed, chunk=min(len(latents), 32))
        self.writer = tf.summary.create_file_writer(directory) if chief else tf.summary.create_noop_writer()
        checkpoints = checkpoint_dir(directory, 0 if chief else worker)
        remove_leftovers(checkpoints)
        self.manager = tf.train.CheckpointManager(state.checkpoint, checkpoints, max_to_keep=cfg.checkpoints_to_keep)
        if chief and first_grids:
            path = join(directory, REALS_PNG)
            self._image("reals", grid.save_image_grid(reals, path, training_set.dynamic_range, self.grid_size), nimg)
            self.fakes(nimg)

    def fakes(self, nimg: int) -> None:
        """``fakes<kimg>.png``: Gs on the grid's latents."""
        path = join(self.directory, fakes_png(nimg))
        self._image("fakes", grid.save_image_grid(self.render(), path, DRANGE_NET, self.grid_size), nimg)

    def network(self, name: str) -> str:
        """Writes ``(G, D, Gs)`` as the original-style pickle ``name``; returns its path."""
        from tfstylegan.legacy.network_pkl import save_network_pkl

        path = join(self.directory, name)
        save_network_pkl(path, self.G, self.D, self.Gs)
        return path

    def snapshot(self, nimg: int, tick: int, done: bool, first: bool) -> str | None:
        """The chief's fakes grid, network pickle and metrics of a tick, as configured.

        Args:
            nimg: real images shown so far.
            tick: ticks completed.
            done: the run's last tick (it always writes both).
            first: this process' first tick (it always writes a pickle, as the original).

        Returns:
            The path of the pickle written, or None.
        """
        if not self.chief:
            return None
        if tick % self.cfg.image_snapshot_ticks == 0 or done:
            self.fakes(nimg)
        if not (tick % self.cfg.network_snapshot_ticks == 0 or done or first):
            return None
        name = snapshot_pkl(nimg)
        path = self.network(name)
        self._metrics(name, nimg)
        return path

    def checkpoint(self, tick: int) -> str:
        """A full checkpoint (every process writes its own); returns its prefix."""
        return self.manager.save(checkpoint_number=tick)

    def scalars(self, values: dict, nimg: int) -> None:
        if self.chief:
            write_scalars(self.writer, values, nimg)

    def flush(self) -> None:
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()

    def _image(self, tag: str, image: np.ndarray, nimg: int) -> None:
        with self.writer.as_default():
            tf.summary.image(tag, image[np.newaxis], step=nimg)

    def _metrics(self, pkl_name: str, nimg: int) -> None:
        """``cfg.metrics`` of Gs, as the original runs them on each network snapshot."""
        cfg = self.cfg
        if not cfg.metrics:
            return
        from tfstylegan.metrics import registry, runner

        needs = registry.metric_needs(registry.get_metrics(cfg.metrics))
        if self.metric_features is None and "features" in needs:
            from tfstylegan.metrics.inception import InceptionFeatures

            self.metric_features = InceptionFeatures(cfg.inception_weights)
        if self.metric_distance is None and "distance" in needs:
            from tfstylegan.metrics.lpips import LPIPS

            self.metric_distance = LPIPS(cfg.vgg16_weights)
        if not self._metrics_announced:
            self._metrics_announced = True
            if "features" not in needs and not cfg.inception_weights:
                self.log(
                    f"Snapshot metrics {','.join(cfg.metrics)} (no Inception weights given; the original's fid50k "
                    "needs --metrics=fid50k --inception_weights=<classify_image_graph_def.pb>)"
                )
        results = runner.run_metrics(
            self.Gs,
            self.training_set.tfrecord_dir,
            cfg.metrics,
            features=self.metric_features,
            distance=self.metric_distance,
            cache_dir=join(cfg.result_dir, METRICS_CACHE),
            mirror_augment=cfg.mirror_augment,
            seed=cfg.seed,
        )
        for name in cfg.metrics:
            line = runner.result_line(pkl_name, name, results)
            self.log(line)
            with tf.io.gfile.GFile(join(self.directory, metric_txt(name)), "a") as f:
                f.write(line + "\n")
            self.scalars({f"Metrics/{key}": value for key, value in runner.metric_values(name, results).items()}, nimg)
