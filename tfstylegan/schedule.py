"""The progressive-growing schedule of the original training loop, as a pure function of kimg."""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Mapping

import numpy as np

from tfstylegan.resolution import resolution_log2

DEFAULT_TICK_KIMG_DICT = {4: 160, 8: 140, 16: 120, 32: 100, 64: 80, 128: 60, 256: 40, 512: 30, 1024: 20}


@dataclasses.dataclass(frozen=True)
class TrainingSchedule:
    """The training parameters at one point of the run.

    Attributes:
        kimg: thousands of real images shown so far.
        lod: level of detail (0 = full resolution; fractional while fading in).
        resolution: the resolution whose layers are being trained, ``2**(log2R - floor(lod))``.
        minibatch: global minibatch size.
        G_lrate: G learning rate.
        D_lrate: D learning rate.
        tick_kimg: kimg between progress reports.
    """

    kimg: float
    lod: float
    resolution: int
    minibatch: int
    G_lrate: float
    D_lrate: float
    tick_kimg: float

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def int_keys(table: Mapping | None) -> dict:
    """A per-resolution dict with int keys (JSON and flag files give string keys)."""
    return {int(k): v for k, v in (table or {}).items()}


def _resolution_log2(resolution) -> int:
    log2 = getattr(resolution, "resolution_log2", None)
    if log2 is not None:
        return int(log2)
    return resolution_log2(int(resolution))


def training_schedule(
    cur_nimg: int,
    resolution,
    num_gpus: int = 1,
    lod_initial_resolution: int = 4,
    lod_training_kimg: float = 600,
    lod_transition_kimg: float = 600,
    minibatch_base: int = 16,
    minibatch_dict: Mapping[int, int] | None = None,
    max_minibatch_per_gpu: Mapping[int, int] | None = None,
    G_lrate_base: float = 0.001,
    G_lrate_dict: Mapping[int, float] | None = None,
    D_lrate_base: float = 0.001,
    D_lrate_dict: Mapping[int, float] | None = None,
    lrate_rampup_kimg: float = 0,
    tick_kimg_base: float = 160,
    tick_kimg_dict: Mapping[int, float] | None = DEFAULT_TICK_KIMG_DICT,
) -> TrainingSchedule:
    """The original ``training_schedule``: lod, minibatch, learning rates and tick length.

    Training alternates phases of ``lod_training_kimg`` (stable) and
    ``lod_transition_kimg`` (fading in the next resolution), starting at
    ``lod_initial_resolution``. Dict arguments map a resolution (int or str key) to an
    override.

    Args:
        cur_nimg: Real images shown so far.
        resolution: The dataset resolution (an int), or an object with ``resolution_log2``
            (e.g. a dataset, as the original's ``training_set`` argument).
        num_gpus: Replicas; the minibatch is rounded down to a multiple of it.
        lod_initial_resolution: Resolution trained first.
        lod_training_kimg: Length (kimg) of each resolution's stable phase, before the next fades in.
        lod_transition_kimg: Length (kimg) of each fade-in of the next resolution.
        minibatch_base: Global minibatch size, divided evenly among the GPUs.
        minibatch_dict: Per-resolution overrides of minibatch_base.
        max_minibatch_per_gpu: Per-resolution cap of the minibatch per GPU.
        G_lrate_base: G learning rate.
        G_lrate_dict: Per-resolution overrides of G_lrate_base.
        D_lrate_base: D learning rate.
        D_lrate_dict: Per-resolution overrides of D_lrate_base.
        lrate_rampup_kimg: Linear learning-rate ramp-up from kimg 0; 0 = none.
        tick_kimg_base: Length (kimg) of a tick, the interval of progress reports and snapshots.
        tick_kimg_dict: Per-resolution overrides of tick_kimg_base.

    Returns:
        A :class:`TrainingSchedule`.
    """
    resolution_log2 = _resolution_log2(resolution)
    kimg = cur_nimg / 1000.0

    # Phase: lod_training_kimg stable, then lod_transition_kimg fading in the next resolution.
    phase_dur = lod_training_kimg + lod_transition_kimg
    phase_idx = int(np.floor(kimg / phase_dur)) if phase_dur > 0 else 0
    phase_kimg = kimg - phase_idx * phase_dur

    lod = resolution_log2
    lod -= np.floor(np.log2(lod_initial_resolution))
    lod -= phase_idx
    if lod_transition_kimg > 0:
        lod -= max(phase_kimg - lod_training_kimg, 0.0) / lod_transition_kimg
    lod = float(max(lod, 0.0))
    cur_resolution = 2 ** (resolution_log2 - int(np.floor(lod)))

    minibatch = int_keys(minibatch_dict).get(cur_resolution, minibatch_base)
    minibatch -= minibatch % num_gpus
    max_minibatch_per_gpu = int_keys(max_minibatch_per_gpu)
    if cur_resolution in max_minibatch_per_gpu:
        minibatch = min(minibatch, max_minibatch_per_gpu[cur_resolution] * num_gpus)

    rampup = min(kimg / lrate_rampup_kimg, 1.0) if lrate_rampup_kimg > 0 else 1.0  # x * 1.0 is exactly x.
    G_lrate = int_keys(G_lrate_dict).get(cur_resolution, G_lrate_base) * rampup
    D_lrate = int_keys(D_lrate_dict).get(cur_resolution, D_lrate_base) * rampup

    tick_kimg = int_keys(tick_kimg_dict).get(cur_resolution, tick_kimg_base)
    return TrainingSchedule(
        kimg=kimg, lod=lod, resolution=int(cur_resolution), minibatch=int(minibatch),
        G_lrate=float(G_lrate), D_lrate=float(D_lrate), tick_kimg=tick_kimg,
    )


def reachable_schedules(resolution: int, num_gpus: int, sched: Mapping) -> list[TrainingSchedule]:
    """One schedule entry per resolution a run can train (the stable phase of each level)."""
    log2 = int(math.log2(resolution))
    first_lod = max(log2 - int(math.log2(sched["lod_initial_resolution"])), 0)
    phase_dur = sched["lod_training_kimg"] + sched["lod_transition_kimg"]
    lods = range(first_lod, -1, -1) if phase_dur > 0 else [first_lod]
    # Phase p (from the start) trains lod first_lod - p from kimg p * phase_dur on.
    return [
        training_schedule(int(round((first_lod - lod) * phase_dur * 1000)), resolution, num_gpus, **sched)
        for lod in lods
    ]


# The keyword arguments of training_schedule beyond (cur_nimg, resolution, num_gpus), with their defaults:
# what a configuration's sched_args may set (one command-line flag each).
SCHEDULE_ARGS = {
    name: p.default
    for name, p in inspect.signature(training_schedule).parameters.items()
    if name not in ("cur_nimg", "resolution", "num_gpus")
}
