"""The one check of a training configuration, against its dataset and its strategy's replicas.

:func:`check_config` turns every value that cannot work into a :class:`ConfigError` naming the
flag, the value and what was expected, before anything is built. The command line calls it
once (for ``--dry_run`` and for the run); ``Trainer(cfg)`` calls it for a plain configuration.
"""

from __future__ import annotations

import dataclasses
import math
import os
import typing

from tfstylegan.resolution import resolution_log2
from tfstylegan.schedule import SCHEDULE_ARGS, int_keys, reachable_schedules
from tfstylegan.training.config import (
    DATASET_KWARGS,
    ConfigError,
    DatasetInfo,
    TrainConfig,
    parse_grid_size,
    vocabulary,
)


def _power_of_two(value) -> bool:
    try:
        resolution_log2(value)
    except ValueError:
        return False
    return True


def _check_fields(cfg: TrainConfig) -> None:
    """Every field's vocabulary and bounds, as their metadata state them."""
    hints = typing.get_type_hints(TrainConfig)
    for field in dataclasses.fields(cfg):
        value = getattr(cfg, field.name)
        if field.metadata.get("choices"):
            choices = vocabulary(field.name)
            if value not in choices:
                raise ConfigError(field.name, value, f"expected one of {', '.join(choices)}")
        bound = field.metadata.get("bound")
        if bound is None or (value is None and field.default is None):
            continue
        op, limit, expected = bound
        integer = int in (hints[field.name], *typing.get_args(hints[field.name]))
        number = isinstance(value, int) if integer else isinstance(value, (int, float)) and math.isfinite(value)
        if not (number and (value > limit if op == ">" else value >= limit)):
            raise ConfigError(field.name, value, f"expected {expected}")


@dataclasses.dataclass(frozen=True)
class CheckedConfig:
    """A configuration that :func:`check_config` accepted for a dataset and a replica count.

    Attributes:
        cfg: the configuration.
        data: the dataset it was checked against.
        replicas: the replica count it was checked for.
        loss_args: the resolved loss arguments ``{'G': {...}, 'D': {...}}``.
    """

    cfg: TrainConfig
    data: DatasetInfo
    replicas: int
    loss_args: dict

    @property
    def num_gpus(self) -> int:
        """The schedule's GPU count: ``cfg.num_gpus``, or the replicas."""
        return self.cfg.num_gpus or self.replicas

    def to_json(self, data: DatasetInfo | None = None, **extra) -> str:
        """The configuration and what it resolved (``--dry_run`` prints it; ``config.json`` adds ``extra``)."""
        dataset = dataclasses.asdict(data or self.data)
        resolved = dict(dataset=dataset, replicas=self.replicas, resolved_num_gpus=self.num_gpus, **extra)
        return self.cfg.to_json(**resolved, resolved_loss_args=self.loss_args)


def check_config(cfg: TrainConfig, data: DatasetInfo, replicas: int) -> CheckedConfig:
    """Checks ``cfg`` against the data and the replica count: the one check of a configuration.

    The command line calls it once (for ``--dry_run`` and for the run, whose :class:`Trainer`
    takes the result); ``Trainer(cfg)`` calls it for a plain :class:`TrainConfig`.

    Raises:
        ConfigError: naming the field, the value and what was expected.
    """
    _check_fields(cfg)
    if cfg.num_fp16_res is not None and cfg.precision == "float32":
        raise ConfigError("num_fp16_res", cfg.num_fp16_res, "needs --precision=mixed_float16 or mixed_bfloat16")
    num_gpus = cfg.num_gpus if cfg.num_gpus is not None else replicas
    if num_gpus != replicas:
        raise ConfigError(
            "num_gpus",
            cfg.num_gpus,
            f"the {cfg.strategy} strategy has {replicas} replica(s); leave --num_gpus unset or set it to {replicas}",
        )
    _check_networks(cfg)
    loss_args = _check_losses(cfg)
    _check_outputs(cfg, data)
    _check_schedule(cfg, data, replicas, num_gpus)
    if cfg.resume:
        from tfstylegan.training.checkpoint import locate_resume

        locate_resume(cfg.resume)
    return CheckedConfig(cfg, data, replicas, loss_args)


def _check_networks(cfg: TrainConfig) -> None:
    from tfstylegan.networks import D_KWARGS, G_KWARGS  # TensorFlow: imported only when checking.

    for field, known in (("G_args", G_KWARGS), ("D_args", D_KWARGS)):
        args = getattr(cfg, field)
        for key in args:
            if key in DATASET_KWARGS:
                raise ConfigError(field, args, f"{key} comes from the dataset and cannot be set")
            if key not in known:
                raise ConfigError(field, args, f"unknown argument {key!r}; expected some of {', '.join(sorted(known))}")


def _check_losses(cfg: TrainConfig) -> dict:
    """The losses and their arguments (returned resolved), and the optimizer's arguments."""
    from tfstylegan import losses
    from tfstylegan.training.steps import OPTIMIZERS

    resolved = {}
    for net in ("G", "D"):
        name, args = getattr(cfg, f"{net}_loss"), getattr(cfg, f"{net}_loss_args")
        try:
            losses.get_loss(name, net)
        except ValueError as e:
            raise ConfigError(f"{net}_loss", name, str(e)) from None
        try:
            resolved[net] = losses.resolve_loss_args(name, args, net)
        except ValueError as e:
            raise ConfigError(f"{net}_loss_args", args, str(e)) from None
    allowed = set(OPTIMIZERS[cfg.optimizer][1])
    for field in ("G_opt_args", "D_opt_args"):
        if set(getattr(cfg, field)) - allowed:
            raise ConfigError(field, getattr(cfg, field), f"{cfg.optimizer} takes {', '.join(sorted(allowed))}")
    return resolved


def _check_outputs(cfg: TrainConfig, data: DatasetInfo) -> None:
    """The snapshot grid and the metrics."""
    parse_grid_size(cfg.grid_size, data.resolution)
    if cfg.grid_layout != "random" and data.label_size == 0:
        raise ConfigError("grid_layout", cfg.grid_layout, "a class layout needs labels: train with --cond on a labelled dataset")
    if not cfg.metrics:
        return
    from tfstylegan.metrics.registry import get_metrics, metric_needs

    try:
        needs = metric_needs(get_metrics(cfg.metrics))
    except ValueError as e:
        raise ConfigError("metrics", ",".join(cfg.metrics), str(e)) from None
    weights = (
        ("inception_weights", "features", "the FID metrics need the Inception-v3 weights file (never downloaded)"),
        ("vgg16_weights", "distance", "the PPL metrics need the LPIPS-VGG16 weights file (never downloaded)"),
    )
    for field, need, message in weights:
        if need in needs and not getattr(cfg, field):
            raise ConfigError(field, None, message)
        if need in needs and not os.path.isfile(getattr(cfg, field)):
            raise ConfigError(field, getattr(cfg, field), "no such file")
    if data.full_resolution not in (None, data.resolution):
        raise ConfigError(
            "metrics",
            ",".join(cfg.metrics),
            f"the metrics read the dataset at its full resolution ({data.full_resolution}), but this run trains "
            f"at {data.resolution}; use a dataset written at {data.resolution}",
        )


def _check_schedule(cfg: TrainConfig, data: DatasetInfo, replicas: int, num_gpus: int) -> None:
    """Every resolution the run can reach must have a usable minibatch, tick and learning rates."""
    from tfstylegan.networks import D_KWARGS

    unknown = sorted(set(cfg.sched_args) - set(SCHEDULE_ARGS))
    if unknown:
        raise ConfigError("sched_args", cfg.sched_args, f"unknown argument(s) {unknown}; expected some of {sorted(SCHEDULE_ARGS)}")
    sched = {**SCHEDULE_ARGS, **cfg.sched_args}
    if not _power_of_two(sched["lod_initial_resolution"]):
        raise ConfigError("lod_initial_resolution", sched["lod_initial_resolution"], "expected a power of two >= 4")
    for key in ("lod_training_kimg", "lod_transition_kimg", "lrate_rampup_kimg"):
        if not sched[key] >= 0:
            raise ConfigError(key, sched[key], "expected a number >= 0")
    for key in ("minibatch_dict", "max_minibatch_per_gpu", "G_lrate_dict", "D_lrate_dict", "tick_kimg_dict"):
        table = int_keys(sched[key])
        bad = [r for r in table if not _power_of_two(r)]
        if bad:
            raise ConfigError(key, sched[key], f"keys must be resolutions (powers of two >= 4), got {bad}")
    group = int(cfg.D_args.get("mbstd_group_size", D_KWARGS["mbstd_group_size"]))
    for s in reachable_schedules(data.resolution, num_gpus, sched):
        per_replica = s.minibatch // replicas
        where = f"at resolution {s.resolution}"
        field = "minibatch_dict" if s.resolution in int_keys(sched["minibatch_dict"]) else "minibatch_base"
        if s.minibatch < replicas or s.minibatch % replicas:
            raise ConfigError(
                field, s.minibatch, f"{where} the minibatch {s.minibatch} is not a positive multiple of the {replicas} replica(s)"
            )
        if group > 1 and per_replica % min(group, per_replica):
            raise ConfigError(
                field,
                s.minibatch,
                f"{where} each replica gets {per_replica} images, which is not divisible by the minibatch-stddev "
                f"group size {group} (D_args mbstd_group_size)",
            )
        if not s.tick_kimg > 0:
            raise ConfigError("tick_kimg_base", s.tick_kimg, f"{where} the tick length must be positive")
        if not (s.G_lrate >= 0 and s.D_lrate >= 0):
            raise ConfigError("G_lrate_base", s.G_lrate, f"{where} learning rates must be >= 0")
