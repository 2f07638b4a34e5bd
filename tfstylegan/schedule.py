"""The progressive-growing schedule of the original training loop, as a pure function of kimg."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from tfstylegan.resolution import resolution_log2

DEFAULT_TICK_KIMG_DICT = {4: 160, 8: 140, 16: 120, 32: 100, 64: 80, 128: 60, 256: 40, 512: 30, 1024: 20}

# The keyword arguments of training_schedule (beyond cur_nimg, resolution, num_gpus), with defaults.
SCHEDULE_ARGS = dict(
    lod_initial_resolution=4,  # Resolution trained first.
    lod_training_kimg=600,  # kimg shown per resolution before fading in the next one.
    lod_transition_kimg=600,  # kimg over which the next resolution is faded in.
    minibatch_base=16,  # Global minibatch size, divided evenly among the GPUs.
    minibatch_dict={},  # Per-resolution overrides of minibatch_base.
    max_minibatch_per_gpu={},  # Per-resolution cap of the minibatch per GPU.
    G_lrate_base=0.001,  # G learning rate.
    G_lrate_dict={},  # Per-resolution overrides of G_lrate_base.
    D_lrate_base=0.001,  # D learning rate.
    D_lrate_dict={},  # Per-resolution overrides of D_lrate_base.
    lrate_rampup_kimg=0,  # Linear learning-rate ramp-up from kimg 0; 0 = none.
    tick_kimg_base=160,  # kimg between progress reports.
    tick_kimg_dict=DEFAULT_TICK_KIMG_DICT,  # Per-resolution overrides of tick_kimg_base.
)


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
    minibatch_dict: Mapping | None = None,
    max_minibatch_per_gpu: Mapping | None = None,
    G_lrate_base: float = 0.001,
    G_lrate_dict: Mapping | None = None,
    D_lrate_base: float = 0.001,
    D_lrate_dict: Mapping | None = None,
    lrate_rampup_kimg: float = 0,
    tick_kimg_base: float = 160,
    tick_kimg_dict: Mapping | None = DEFAULT_TICK_KIMG_DICT,
) -> TrainingSchedule:
    """The original ``training_schedule``: lod, minibatch, learning rates and tick length.

    Training alternates phases of ``lod_training_kimg`` (stable) and
    ``lod_transition_kimg`` (fading in the next resolution), starting at
    ``lod_initial_resolution``. Dict arguments map a resolution (int or str key) to an
    override.

    Args:
        cur_nimg: real images shown so far.
        resolution: the dataset resolution (an int), or an object with ``resolution_log2``
            (e.g. a dataset, as the original's ``training_set`` argument).
        num_gpus: replicas; the minibatch is rounded down to a multiple of it.
        (the others): see :data:`SCHEDULE_ARGS`.

    Returns:
        A :class:`TrainingSchedule`.
    """
    resolution_log2 = _resolution_log2(resolution)
    minibatch_dict = int_keys(minibatch_dict)
    max_minibatch_per_gpu = int_keys(max_minibatch_per_gpu)
    G_lrate_dict = int_keys(G_lrate_dict)
    D_lrate_dict = int_keys(D_lrate_dict)
    tick_kimg_dict = int_keys(tick_kimg_dict)

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

    minibatch = minibatch_dict.get(cur_resolution, minibatch_base)
    minibatch -= minibatch % num_gpus
    if cur_resolution in max_minibatch_per_gpu:
        minibatch = min(minibatch, max_minibatch_per_gpu[cur_resolution] * num_gpus)

    G_lrate = G_lrate_dict.get(cur_resolution, G_lrate_base)
    D_lrate = D_lrate_dict.get(cur_resolution, D_lrate_base)
    if lrate_rampup_kimg > 0:
        rampup = min(kimg / lrate_rampup_kimg, 1.0)
        G_lrate *= rampup
        D_lrate *= rampup

    tick_kimg = tick_kimg_dict.get(cur_resolution, tick_kimg_base)
    return TrainingSchedule(
        kimg=kimg,
        lod=lod,
        resolution=int(cur_resolution),
        minibatch=int(minibatch),
        G_lrate=float(G_lrate),
        D_lrate=float(D_lrate),
        tick_kimg=tick_kimg,
    )
