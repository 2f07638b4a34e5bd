"""Where and from what a run continues: what ``--resume`` loads, and the run directory it then writes.

``--resume`` names a run directory, a checkpoint prefix or a network pickle (see
:func:`~tfstylegan.training.checkpoint.locate_resume`). A checkpoint brings back the whole
training state; a pickle only the weights, the progress being ``resume_kimg`` and
``resume_time``, as the original. A run directory with snapshots but no checkpoint resumes from
its latest snapshot, at the kimg in its name (``network-snapshot-<kimg>.pkl``) unless
``resume_kimg`` is given; the log says which.

A run directory resumed from its checkpoint is continued in place: its log, TensorBoard
events, snapshots and checkpoints go on. ``resume_new_dir``, a directory given to the run, a
checkpoint prefix or a pickle start a new run directory instead. A resume already at
``total_kimg`` has nothing to do, and a run that fails before its first tick removes the run
directory it created. Every worker of a multi-worker run continues where the chief does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import tensorflow as tf
from absl import logging

from tfstylegan.training import distribute
from tfstylegan.training.checkpoint import TrainingState, locate_resume
from tfstylegan.training.config import MAX_KIMG, ConfigError, DatasetInfo, TrainConfig
from tfstylegan.training.feed import RealFeed
from tfstylegan.training.run_dir import is_run_dir, open_run_dir, snapshot_kimg


class Resume:
    """Where and from what one process of a run continues.

    Args:
        cfg: the run's configuration (``resume``, ``resume_kimg``, ``resume_new_dir``, ...).
        data: the run's data (a checkpoint that does not fit names how its run differs).
        state: the run's :class:`~tfstylegan.training.checkpoint.TrainingState`, which :meth:`load` fills.
        feed: the run's :class:`~tfstylegan.training.feed.RealFeed` (a checkpoint brings back its data pipeline).
        strategy: the run's strategy.
    """

    def __init__(
        self, cfg: TrainConfig, data: DatasetInfo, state: TrainingState, feed: RealFeed, strategy: tf.distribute.Strategy
    ):
        self.cfg, self.data, self.state, self.feed, self.strategy = cfg, data, state, feed, strategy
        self.chief = distribute.is_chief(strategy)
        self.worker, self.num_workers = distribute.workers(strategy)
        self.loaded: tuple[str, str] | None = None  # (kind, path) of what load() loaded.
        self.kimg_from = ""  # A pickle's: where its kimg came from.

    def load(self, source: str) -> tuple[str, str]:
        """Loads a run directory's latest checkpoint, a checkpoint prefix or a network pickle.

        Returns:
            ``('checkpoint', prefix)`` or ``('pickle', path)``.

        Raises:
            ConfigError: ``source`` is none of those, or does not fit this run.
        """
        kind, path = locate_resume(source, self.worker)
        if kind == "checkpoint":
            self.state.restore(path, self.feed, self.worker, self.chief, run=(self.cfg, self.data))
        else:
            kimg, self.kimg_from = self._pickle_kimg(source, path)
            self.state.load_pickle(path, kimg, self.cfg.resume_time)
        self.loaded = kind, path
        return self.loaded

    def _pickle_kimg(self, source: str, path: str) -> tuple[float, str]:
        """The kimg a pickle resumes at, and where it came from.

        ``resume_kimg`` if set; else the kimg in the name of a snapshot that the run directory
        ``source`` resumes from, as ``resume_kimg`` was used with the original's run directories; else 0.
        """
        if self.cfg.resume_kimg is not None:
            return self.cfg.resume_kimg, "kimg from --resume_kimg"
        kimg = snapshot_kimg(path) if tf.io.gfile.isdir(source) else None
        if kimg is None:
            return 0.0, "kimg 0: no --resume_kimg"
        if kimg > MAX_KIMG:
            raise ConfigError("resume", path, f"the kimg in the snapshot's name is above {MAX_KIMG:,}; give --resume_kimg")
        return float(kimg), "kimg from its file name"

    def nothing_to_do(self, total_nimg: int) -> bool:
        """Whether the loaded resume is at ``total_nimg`` real images already (logged, with what to do)."""
        nimg = self.state.progress["cur_nimg"]
        if nimg < total_nimg:
            return False
        logging.info(
            f"Nothing to do: {self.cfg.resume} is at kimg {nimg / 1000:.1f} of --total_kimg="
            f"{self.cfg.total_kimg:g}; give a larger --total_kimg to continue it."
        )
        return True

    @contextlib.contextmanager
    def directory(self, run_dir: str | None, desc: str) -> Iterator[tuple[str, bool]]:
        """Opens the directory this process writes: the resumed run's, ``run_dir``, or a new ``<result_dir>/<NNNNN>-<desc>``.

        A directory that this process created is removed again if the run fails before its
        first tick (its first tick line, snapshot or checkpoint): a failed start leaves no
        half-made run behind. A directory that existed, the one a run continues in among them,
        is never removed.

        Yields:
            ``(path, continuing)``: continuing = goes on in the resumed run directory.
        """
        continuing = self._continues(run_dir)
        share = (lambda number: distribute.broadcast_int(self.strategy, number)) if self.num_workers > 1 else None
        given = self.cfg.resume if continuing else run_dir
        created = self.chief and not (given and tf.io.gfile.exists(given))
        path = open_run_dir(self.cfg.result_dir, desc, given, self.chief, share)
        tick = self.state.progress["cur_tick"]
        try:
            yield path, continuing
        except BaseException:
            if created and self.state.progress["cur_tick"] == tick:
                logging.info(f"Removing {path}: the run failed before its first tick")
                tf.io.gfile.rmtree(path)
            raise

    def _continues(self, run_dir: str | None) -> bool:
        """Whether this run goes on in the resumed run directory: resumed from its checkpoint, no other directory given.

        Every worker takes the chief's answer (another worker's copy of the run directory
        may hold only its checkpoints), so all of them open the same directory.
        """
        if not self.cfg.resume:
            return False
        continuing = run_dir is None and not self.cfg.resume_new_dir and self.loaded[0] == "checkpoint"
        continuing = continuing and (not self.chief or is_run_dir(self.cfg.resume))
        return bool(distribute.broadcast_int(self.strategy, int(continuing)))

    def line(self, continuing: bool) -> str | None:
        """``Continuing from checkpoint <prefix> at kimg 0.1 (tick 3)`` (``Resuming`` in a new directory); None without a resume.

        A pickle's line also says where its kimg came from: ``(tick 0; kimg from its file name)``.
        """
        if not self.cfg.resume:
            return None
        (kind, path), progress = self.loaded, self.state.progress
        verb = "Continuing" if continuing else "Resuming"
        where = f"tick {progress['cur_tick']}" + (f"; {self.kimg_from}" if kind == "pickle" else "")
        return f"{verb} from {kind} {path} at kimg {progress['cur_nimg'] / 1000:.1f} ({where})"


__all__ = ["Resume"]
