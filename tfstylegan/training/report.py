"""What a run reports: the tick line, its TensorBoard scalars, durations and peak memory.

One line per tick, as the original's ``training_loop.py`` prints it (kimg, lod, minibatch,
time, sec/tick, sec/kimg, maintenance, memory), followed by the tick's mean losses, its
skipped steps and, under float16, the loss scales. The same values go to TensorBoard.
"""

from __future__ import annotations

import collections
import dataclasses
import resource
import time

import numpy as np
import tensorflow as tf
from absl import logging

from tfstylegan.progress import format_time
from tfstylegan.schedule import TrainingSchedule


def peak_memory() -> tuple[str, float]:
    """``('gpumem', GiB)`` of the first GPU's peak, else ``('cpumem', GiB)`` of this process' peak RSS."""
    if tf.config.list_logical_devices("GPU"):
        return "gpumem", tf.config.experimental.get_memory_info("GPU:0")["peak"] / 2**30
    return "cpumem", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux.


class RunLog:
    """Report lines: absl ``logging.info`` and, on the chief, ``<run_dir>/log.txt``.

    Args:
        path: the log file; None = logging only.
        prefix: put before each logged line (other workers name themselves).
    """

    def __init__(self, path: str | None = None, prefix: str = ""):
        self.file = tf.io.gfile.GFile(path, "a") if path else None
        self.prefix = prefix

    def __call__(self, line: str) -> None:
        logging.info(self.prefix + line)
        if self.file:
            self.file.write(time.strftime("%Y-%m-%d %H:%M:%S ") + line + "\n")
            self.file.flush()

    def close(self) -> None:
        if self.file:
            self.file.close()


class TickStats:
    """The step outputs of one tick (``Loss/D``, ``Loss/D_skipped``, ...), kept as tensors until the tick ends."""

    def __init__(self):
        self._values = collections.defaultdict(list)

    def add(self, outputs: dict) -> None:
        for k, v in outputs.items():
            self._values[k].append(v)

    def drain(self) -> tuple[dict, dict]:
        """``(means, skips)``: the mean of each loss and the sum of each ``*_skipped`` count; then empty.

        Reading the values waits for the steps still running, so it belongs to the tick.
        """
        values, self._values = self._values, collections.defaultdict(list)
        means = {k: float(np.mean([float(x) for x in v])) for k, v in values.items()}
        skips = {k: int(np.sum([int(x) for x in v])) for k, v in values.items() if k.endswith("_skipped")}
        return means, skips


class TickTimer:
    """The wall clock of the ticks, as the original reports it.

    A tick's time runs from the end of the previous tick's maintenance (snapshots,
    checkpoints, ...) to the end of its last minibatch group; the maintenance is reported
    with the next tick. The first tick's maintenance is the set-up time before training.

    Args:
        setup_start: when the run started (``time.time()``).
        offset: training time of the run before this process (a resumed run's).
    """

    def __init__(self, setup_start: float, offset: float = 0.0):
        self.loop_start = self.tick_start = self.tick_end = time.time()
        self.maintenance = self.loop_start - setup_start
        self.offset = offset

    def end_tick(self) -> tuple[float, float]:
        """``(seconds of this tick, total training seconds of the run)``."""
        self.tick_end = time.time()
        return self.tick_end - self.tick_start, self.total(self.tick_end)

    def start_tick(self) -> None:
        """After the maintenance: the next tick starts."""
        self.tick_start = time.time()
        self.maintenance = self.tick_start - self.tick_end

    def total(self, now: float | None = None) -> float:
        """Training seconds of the run up to ``now`` (default: now)."""
        return self.offset + (time.time() if now is None else now) - self.loop_start


@dataclasses.dataclass(frozen=True)
class Tick:
    """What one tick reports.

    Attributes:
        tick: ticks completed, this one included.
        nimg: real images shown so far.
        sched: the schedule of the tick's last minibatch group.
        sec_per_tick: wall time of the tick (without the previous tick's maintenance).
        tick_kimg: kimg shown during the tick.
        total_sec: training time of the run so far (all its processes).
        maintenance_sec: time spent between the previous tick and this one (snapshots, ...).
        means: the tick's mean ``Loss/G`` and ``Loss/D`` (and their skip counts).
        skips: the tick's skipped updates, ``Loss/G_skipped`` and ``Loss/D_skipped``.
        skipped_total: ``{'G': n, 'D': n}``, the run's skipped updates so far.
        loss_scale_log2: ``{'G': s, 'D': s}`` of the dynamic loss scales; None = no loss scaling.
        memory: :func:`peak_memory`.
    """

    tick: int
    nimg: int
    sched: TrainingSchedule
    sec_per_tick: float
    tick_kimg: float
    total_sec: float
    maintenance_sec: float
    means: dict
    skips: dict
    skipped_total: dict
    loss_scale_log2: dict | None
    memory: tuple[str, float]

    @property
    def sec_per_kimg(self) -> float:
        return self.sec_per_tick / max(self.tick_kimg, 1e-9)

    def line(self) -> str:
        """The log line: the original's fields, the mean losses, the skipped steps, the loss scales."""
        mem_name, mem = self.memory
        nan = float("nan")
        scaling = ""
        if self.loss_scale_log2 is not None:
            scaling = f" lscale G 2^{self.loss_scale_log2['G']:.0f} D 2^{self.loss_scale_log2['D']:.0f}"
        return (
            f"tick {self.tick:<5d} kimg {self.nimg / 1000:<8.1f} lod {self.sched.lod:<5.2f} "
            f"minibatch {self.sched.minibatch:<4d} time {format_time(self.total_sec):<12s} "
            f"sec/tick {self.sec_per_tick:<7.1f} sec/kimg {self.sec_per_kimg:<7.2f} "
            f"maintenance {self.maintenance_sec:<6.1f} {mem_name} {mem:<4.1f} "
            f"loss G {self.means.get('Loss/G', nan):<7.3f} D {self.means.get('Loss/D', nan):<7.3f} "
            f"skipped G {self.skips.get('Loss/G_skipped', 0)} D {self.skips.get('Loss/D_skipped', 0)}{scaling}"
        )

    def scalars(self) -> dict[str, float]:
        """TensorBoard tag -> value (the original's ``Progress/``, ``Timing/``, ``Resources/`` tags, and more)."""
        mem_name, mem = self.memory
        scalars = {
            "Progress/tick": self.tick,
            "Progress/kimg": self.nimg / 1000.0,
            "Progress/lod": self.sched.lod,
            "Progress/minibatch": self.sched.minibatch,
            "Timing/total_sec": self.total_sec,
            "Timing/total_hours": self.total_sec / 3600.0,
            "Timing/sec_per_tick": self.sec_per_tick,
            "Timing/sec_per_kimg": self.sec_per_kimg,
            "Timing/maintenance_sec": self.maintenance_sec,
            f"Resources/peak_{mem_name}_gb": mem,
            "TrainG/learning_rate": self.sched.G_lrate,
            "TrainD/learning_rate": self.sched.D_lrate,
            "TrainG/skipped_steps": self.skipped_total["G"],
            "TrainD/skipped_steps": self.skipped_total["D"],
        }
        for net, log2 in (self.loss_scale_log2 or {}).items():
            scalars[f"Train{net}/loss_scaling_log2"] = log2
        scalars.update({k: v for k, v in self.means.items() if not k.endswith("_skipped")})
        return scalars


def write_scalars(writer: tf.summary.SummaryWriter, scalars: dict, step: int) -> None:
    """Every ``tag: value`` of ``scalars`` at ``step`` (real images shown, as the original's x axis)."""
    with writer.as_default():
        for k, v in scalars.items():
            tf.summary.scalar(k, v, step=step)


__all__ = ["RunLog", "Tick", "TickStats", "TickTimer", "format_time", "peak_memory", "write_scalars"]
