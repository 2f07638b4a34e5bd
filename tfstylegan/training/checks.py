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
from collections.abc import Mapping

from tfstylegan.paths import PathError, check_output_path
from tfstylegan.resolution import MAX_RESOLUTION, resolution_log2
from tfstylegan.schedule import SCHEDULE_ARGS, int_keys, reachable_schedules
from tfstylegan.training.config import (
    DATASET_KWARGS,
    MAX_KIMG,
    ConfigError,
    DatasetInfo,
    TrainConfig,
    parse_grid_size,
    vocabulary,
    within,
)

MAX_MINIBATCH = 2**16  # Images of a global minibatch (the original's largest is 512).
_KIMG = (">=", 0, f"a finite number of kimg in [0, {MAX_KIMG:,}]", MAX_KIMG)
_TICK = (">", 0, f"a finite number of kimg in (0, {MAX_KIMG:,}]", MAX_KIMG)
_LRATE = (">=", 0, "a finite learning rate >= 0")
_MINIBATCH = (">=", 1, f"a minibatch size in [1, {MAX_MINIBATCH}]", MAX_MINIBATCH)
# training_schedule's arguments: name -> (bound of the value, or of each value of its resolution table; ints only).
_SCHEDULE_BOUNDS = {
    "lod_training_kimg": (_KIMG, False),
    "lod_transition_kimg": (_KIMG, False),
    "lrate_rampup_kimg": (_KIMG, False),
    "minibatch_base": (_MINIBATCH, True),
    "minibatch_dict": (_MINIBATCH, True),
    "max_minibatch_per_gpu": (_MINIBATCH, True),
    "G_lrate_base": (_LRATE, False),
    "G_lrate_dict": (_LRATE, False),
    "D_lrate_base": (_LRATE, False),
    "D_lrate_dict": (_LRATE, False),
    "tick_kimg_base": (_TICK, False),
    "tick_kimg_dict": (_TICK, False),
}
_FINITE = (">=", -math.inf, "a finite number")
# Loss parameters: penalty weights (*_gamma, *_lambda, *_epsilon) are >= 0; WGAN-GP divides by its target.
_LOSS_PARAM_BOUNDS = {"wgan_target": (">", 0, "a positive number")}
_NONNEGATIVE = (">=", 0, "a finite number >= 0")
# Optimizer arguments: decay rates in [0, 1), epsilon > 0.
_OPT_ARG_BOUNDS = {
    "beta_1": (lambda v: within(v, (">=", 0, "")) and v < 1, "a number in [0, 1)"),
    "beta_2": (lambda v: within(v, (">=", 0, "")) and v < 1, "a number in [0, 1)"),
    "rho": (lambda v: within(v, (">=", 0, "")) and v < 1, "a number in [0, 1)"),
    "momentum": (lambda v: within(v, (">=", 0, "")) and v < 1, "a number in [0, 1)"),
    "epsilon": (lambda v: within(v, (">", 0, "")), "a finite number > 0"),
}


def _power_of_two(value) -> bool:
    try:
        resolution_log2(value, maximum=MAX_RESOLUTION)
    except (ValueError, TypeError):
        return False
    return True


def _types(hint) -> tuple[type, ...]:
    """The classes a field annotation allows (``int | None`` -> ``(int, NoneType)``; a float also takes an int)."""
    types = typing.get_args(hint) or (hint,)
    return tuple(t for t in types if isinstance(t, type)) + ((int,) if float in types else ())


def _check_fields(cfg: TrainConfig) -> None:
    """Every field's type, vocabulary and bounds, as their annotations and metadata state them."""
    hints = typing.get_type_hints(TrainConfig)
    for field in dataclasses.fields(cfg):
        value, types = getattr(cfg, field.name), _types(hints[field.name])
        if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise ConfigError(field.name, value, f"expected a {names} value, got a {type(value).__name__}")
        if field.metadata.get("choices"):
            choices = vocabulary(field.name)
            if value not in choices:
                raise ConfigError(field.name, value, f"expected one of {', '.join(choices)}")
        bound = field.metadata.get("bound")
        if bound is None or (value is None and field.default is None):
            continue
        if not within(value, bound, integer=int in types and float not in types):
            raise ConfigError(field.name, value, f"expected {bound[2]}")
    if not _plain_name(cfg.desc):
        expected = "expected a plain name: no '/', '\\', '..' or control characters, at most 200 characters"
        raise ConfigError("desc", cfg.desc, expected)


def _plain_name(text: str) -> bool:
    """Whether ``text`` names one folder inside another (empty = the default name)."""
    return ".." not in text and not any(c in text for c in "/\\") and text.isprintable() and len(text) <= 200


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

        kind, path = locate_resume(cfg.resume)
        if kind == "pickle":
            _check_resume_pickle(path)
    return CheckedConfig(cfg, data, replicas, loss_args)


def _check_resume_pickle(path: str) -> None:
    """The legacy loader's opcode pre-scan of a pickle to resume from: cheap, and it finds a truncated file."""
    import tensorflow as tf

    from tfstylegan.legacy import PickleBoundsError
    from tfstylegan.legacy.bounds import check_pickle_bounds
    from tfstylegan.paths import open_regular_file

    try:
        with tf.io.gfile.GFile(path, "rb") if "://" in path else open_regular_file(path) as f:
            check_pickle_bounds(f)
    except PickleBoundsError as e:
        what = {"truncated": "is truncated", "invalid": "is not a pickle"}.get(e.kind, "breaks a bound of the loader")
        raise ConfigError("resume", path, f"the network pickle {what} ({e})") from None
    except (OSError, tf.errors.OpError) as e:
        why = e.message if isinstance(e, tf.errors.OpError) else (e.strerror or str(e))
        raise ConfigError("resume", path, f"cannot read the network pickle ({why})") from None


def _check_networks(cfg: TrainConfig) -> None:
    """Every G_args / D_args key is an argument of the network and its value within the bounds a pickle's must meet."""
    from tfstylegan.legacy.bounds import short_repr
    from tfstylegan.legacy.static_kwargs import KWARG_BOUNDS
    from tfstylegan.networks import D_KWARGS, G_KWARGS  # TensorFlow: imported only when checking.

    for field, known in (("G_args", G_KWARGS), ("D_args", D_KWARGS)):
        args = getattr(cfg, field)
        for key, value in args.items():
            if key in DATASET_KWARGS:
                raise ConfigError(field, args, f"{key} comes from the dataset and cannot be set")
            if key not in known:
                raise ConfigError(field, args, f"unknown argument {key!r}; expected some of {', '.join(sorted(known))}")
            check, expected = KWARG_BOUNDS[key]
            if not check(value):
                raise ConfigError(field, {key: value}, f"{key} is {short_repr(value)}; expected {expected}")


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
        for key, value in resolved[net].items():
            default = _NONNEGATIVE if key.endswith(("_gamma", "_lambda", "_epsilon")) else _FINITE
            bound = _LOSS_PARAM_BOUNDS.get(key, default)
            if not within(value, bound):
                given = {key: args.get(key, value)}
                raise ConfigError(f"{net}_loss_args", given, f"{key} is {value!r}; expected {bound[2]}")
    allowed = OPTIMIZERS[cfg.optimizer][1]
    for field in ("G_opt_args", "D_opt_args"):
        args = getattr(cfg, field)
        if set(args) - set(allowed):
            raise ConfigError(field, args, f"{cfg.optimizer} takes {', '.join(sorted(allowed))}")
        for key, value in args.items():
            check, expected = _OPT_ARG_BOUNDS[key]
            if not check(value):
                raise ConfigError(field, {key: value}, f"{key} is {value!r}; expected {expected}")
    return resolved


def _check_outputs(cfg: TrainConfig, data: DatasetInfo) -> None:
    """The result directory, the snapshot grid and the metrics."""
    try:
        check_output_path(cfg.result_dir, "dir")
    except PathError as e:
        raise ConfigError("result_dir", cfg.result_dir, str(e).removeprefix(f"{cfg.result_dir}: ")) from None
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


def _check_schedule_values(sched: Mapping) -> None:
    """Each training_schedule argument (and each value of its resolution tables) by its type and bounds."""
    if not (isinstance(sched["lod_initial_resolution"], int) and _power_of_two(sched["lod_initial_resolution"])):
        raise ConfigError(
            "lod_initial_resolution", sched["lod_initial_resolution"], f"expected a power of two in [4, {MAX_RESOLUTION}]"
        )
    for key, (bound, integer) in _SCHEDULE_BOUNDS.items():
        value = sched[key]
        if not key.endswith(("_dict", "_per_gpu")):
            if not within(value, bound, integer):
                raise ConfigError(key, value, f"expected {bound[2]}")
            continue
        if value is None:
            continue
        if not isinstance(value, Mapping):
            raise ConfigError(key, value, "expected resolution:value items (e.g. 4:128,8:64)")
        try:
            table = int_keys(value)
        except (TypeError, ValueError):
            raise ConfigError(key, value, "keys must be resolutions (powers of two >= 4)") from None
        bad = [r for r in table if not _power_of_two(r)]
        if bad:
            raise ConfigError(key, table, f"keys must be resolutions (powers of two in [4, {MAX_RESOLUTION}]), got {bad}")
        for res, item in table.items():
            if not within(item, bound, integer):
                raise ConfigError(key, {res: item}, f"resolution {res}: {item!r} is not {bound[2]}")


def _check_schedule(cfg: TrainConfig, data: DatasetInfo, replicas: int, num_gpus: int) -> None:
    """Every schedule value in bounds; every resolution the run can reach with a minibatch that splits."""
    from tfstylegan.networks import D_KWARGS

    unknown = sorted(set(cfg.sched_args) - set(SCHEDULE_ARGS))
    if unknown:
        raise ConfigError("sched_args", cfg.sched_args, f"unknown argument(s) {unknown}; expected some of {sorted(SCHEDULE_ARGS)}")
    sched = {**SCHEDULE_ARGS, **cfg.sched_args}
    _check_schedule_values(sched)
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
