"""The configuration of a training run, and the checks that turn bad input into clear errors."""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
import os
import typing
from collections.abc import Mapping

from tfstylegan.resolution import resolution_log2
from tfstylegan.schedule import SCHEDULE_ARGS, int_keys, reachable_schedules

# Network arguments that come from the dataset, not from the configuration.
DATASET_KWARGS = ("num_channels", "resolution", "label_size")


class ConfigError(ValueError):
    """A configuration value that cannot work.

    Attributes:
        field: the :class:`TrainConfig` field (the command-line flag of the same name).
        value: the offending value.
    """

    def __init__(self, field: str, value, message: str):
        self.field, self.value = field, value
        super().__init__(f"--{field}={_show(value)}: {message}")


def _show(value) -> str:
    if isinstance(value, Mapping):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value)


def setting(default=dataclasses.MISSING, help: str = "", *, factory=None, choices=None, bound=None, flag=True):
    """A :class:`TrainConfig` field with what the command line and :func:`check_config` need to know.

    Args:
        default: the default value.
        help: what the setting does (the help of its command-line flag).
        factory: a function returning the default (dicts and lists), instead of ``default``.
        choices: ``'module:NAME'``, the vocabulary the value must come from, kept by the
            module that owns it (see :func:`vocabulary`).
        bound: ``(op, limit, expected)``: the value must be a finite number with
            ``value op limit`` (``op`` is ``'>'`` or ``'>='``; int fields take ints only),
            else the error says ``expected <expected>``. None is allowed when it is the default.
        flag: False = no command-line flag of this name.
    """
    metadata = dict(help=help, choices=choices, bound=bound, flag=flag)
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


_POSITIVE = (">", 0, "a positive number")


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a training run (the original train.py's option groups, flattened).

    Field names are the command-line flags and, where the original has one, its name. Each
    field's help, vocabulary and bounds are in its metadata (see :func:`setting`).
    """

    # Data.
    data_dir: str | None = setting(
        None, "Dataset directory in the original TFRecord format; unset = the built-in 32x32 shapes."
    )
    resolution: int | None = setting(None, "Train at this dataset resolution (<= the dataset's); unset = the dataset's.")
    max_label_size: int | str = setting(
        0, "Label components to use: 0 = unconditional, N = the first N, 'full' = all (overrides --cond)."
    )
    mirror_augment: bool = setting(False, "Random horizontal flips of the reals.")
    synthetic_images: int = setting(1000, "Images in the built-in dataset (without --data_dir).", bound=(">=", 1, "at least 1 image"))
    # Networks (the original G_style / D_basic keyword arguments; channels, resolution, labels come from the data).
    G_args: dict = setting(help="G_style keyword arguments as key=value (e.g. fmap_base=1024).", factory=dict)
    D_args: dict = setting(help="D_basic keyword arguments as key=value (e.g. mbstd_group_size=2).", factory=dict)
    # Losses and optimizers.
    G_loss: str = setting(
        "G_logistic_nonsaturating", "G loss (a tfstylegan.losses function, e.g. G_logistic_nonsaturating, G_wgan)."
    )
    G_loss_args: dict = setting(help="G loss parameters as key=value.", factory=dict)
    D_loss: str = setting("D_logistic_simplegp", "D loss (e.g. D_logistic_simplegp, D_wgan_gp, D_hinge).")
    D_loss_args: dict = setting(help="D loss parameters as key=value (e.g. r1_gamma=10).", factory=lambda: {"r1_gamma": 10.0})
    optimizer: str = setting(
        "adam",
        "Optimizer of both networks: adam (the original's: beta1 0, beta2 0.99, epsilon 1e-8) or rmsprop.",
        choices="tfstylegan.training.steps:OPTIMIZERS",
    )
    G_opt_args: dict = setting(help="Optimizer overrides (beta_1, beta_2, epsilon; rho, momentum).", factory=dict, flag=False)
    D_opt_args: dict = setting(help="Optimizer overrides of D.", factory=dict, flag=False)
    D_weight_clip: float | None = setting(
        None, "Clip D's weights to [-c, c] after each update (WGAN); unset = off.", bound=(">", 0, "a positive number (or unset)")
    )
    # Schedule (training_schedule keyword arguments, one flag each) and length.
    sched_args: dict = setting(help="training_schedule keyword arguments.", factory=dict, flag=False)
    total_kimg: float = setting(15000.0, "Length of the run in thousands of real images.", bound=_POSITIVE)
    # Loop.
    G_smoothing_kimg: float = setting(
        10.0, "Half-life of Gs, the moving average of G, in kimg; 0 = Gs is a copy of G.", bound=(">=", 0, "a number >= 0")
    )
    D_repeats: int = setting(1, "D updates per G update.", bound=_POSITIVE)
    minibatch_repeats: int = setting(4, "Minibatches between re-evaluations of the schedule.", bound=_POSITIVE)
    reset_opt_for_new_lod: bool = setting(True, "Reset the optimizer state when a new resolution starts fading in.")
    image_snapshot_ticks: int = setting(1, "Write fakes<kimg>.png every N ticks.", bound=_POSITIVE)
    network_snapshot_ticks: int = setting(10, "Write network-snapshot-<kimg>.pkl every N ticks.", bound=_POSITIVE)
    checkpoint_ticks: int = setting(1, "Write a full training checkpoint every N ticks.", bound=_POSITIVE)
    checkpoints_to_keep: int = setting(3, "Checkpoints kept in <run_dir>/checkpoints.", bound=_POSITIVE)
    grid_size: str = setting("1080p", "Snapshot grid: 1080p, 4k (sized like the original's) or WxH images.")
    grid_layout: str = setting(
        "random",
        "Snapshot grid contents: random reals, or one class per row, column or 4x4 block: row_per_class, "
        "col_per_class, class4x4 (conditional runs, --cond).",
        choices="tfstylegan.training.grid:GRID_LAYOUTS",
    )
    metrics: list = setting(
        help="Metrics run at every network snapshot: fid50k (needs --inception_weights), ppl_wend (needs "
        "--vgg16_weights), swd16k, swd1k, ...; '' = none.",
        factory=list,
    )
    inception_weights: str | None = setting(
        None, "Inception file for FID: classify_image_graph_def.pb (2015 graph) or Keras .h5."
    )
    vgg16_weights: str | None = setting(None, "LPIPS-VGG16 weights for PPL: vgg16_zhang_perceptual.pkl or .npz.")
    # Run.
    config: str = setting("custom", "The preset this configuration started from.", flag=False)
    seed: int = setting(1000, "Seed of the weights, every random draw and the data order.")
    result_dir: str = setting("results", "Root directory of the runs: <result_dir>/<NNNNN>-<desc>/.")
    desc: str = setting("", "Run directory name suffix; empty = sgan-<config>-<N>gpu.")
    strategy: str = setting(
        "default",
        "tf.distribute strategy: default, one_device, mirrored (all local GPUs), multi_worker (every worker in "
        "TF_CONFIG, each with all its GPUs) or tpu.",
        choices="tfstylegan.training.distribute:STRATEGIES",
    )
    tpu: str | None = setting(None, "TPU name or grpc:// address for --strategy=tpu; unset = the local TPU.")
    precision: str = setting(
        "float32",
        "Compute dtype of G and D: float32, mixed_float16 (dynamic loss scaling; GPUs) or mixed_bfloat16 "
        "(TPUs, recent GPUs).",
        choices="tfstylegan.training.precision:PRECISIONS",
    )
    num_fp16_res: int | None = setting(
        None,
        "With --precision=mixed_*: only the highest N resolutions compute in the 16-bit type (the rest and G's "
        "mapping in float32); unset = all.",
        bound=(">=", 0, "a number of resolutions >= 0 (or unset = all)"),
    )
    xla: bool = setting(False, "Compile the per-replica steps with XLA (jit_compile): faster on GPUs, slower on CPUs.")
    max_nonfinite_steps: int = setting(
        20,
        "Stop when this many D or G steps in a row had non-finite losses or gradients, keeping the last good "
        "snapshot and checkpoint; 0 = never.",
        bound=(">=", 0, "a number of steps >= 0 (0 = never stop)"),
    )
    num_gpus: int | None = setting(None, "GPU count of the schedule's minibatch tables; unset = the strategy's replicas.")
    resume: str | None = setting(None, "Run directory, checkpoint prefix or network .pkl to resume from.")
    resume_kimg: float = setting(
        0.0, "Progress (kimg) assumed when resuming from a pickle (affects the schedule).", bound=(">=", 0, "a number >= 0")
    )
    resume_time: float = setting(
        0.0, "Seconds assumed when resuming from a pickle (affects reporting).", bound=(">=", 0, "a number >= 0")
    )

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self, **extra) -> str:
        return json.dumps({**self.to_dict(), **extra}, indent=2, sort_keys=False, default=str)

    @classmethod
    def from_dict(cls, values: Mapping) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown configuration field(s) {unknown}")
        return cls(**values)

    def replace(self, **changes) -> TrainConfig:
        return dataclasses.replace(self, **changes)


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What the configuration needs to know about the data."""

    path: str
    resolution: int  # The resolution training uses (the dataset's, or TrainConfig.resolution).
    num_channels: int
    label_size: int
    num_images: int
    full_resolution: int | None = None  # The largest level in the files (None = resolution).


def _power_of_two(value) -> bool:
    try:
        resolution_log2(value)
    except ValueError:
        return False
    return True


def vocabulary(field: str) -> tuple[str, ...]:
    """The values a :class:`TrainConfig` field takes, read from the module that owns them.

    ``strategy``: :data:`training.distribute.STRATEGIES`; ``precision``:
    :data:`training.precision.PRECISIONS`; ``optimizer``: :data:`training.steps.OPTIMIZERS`;
    ``grid_layout``: :data:`training.grid.GRID_LAYOUTS`. Those modules import TensorFlow,
    so they are imported only here, when a value is checked.
    """
    module, _, name = TrainConfig.__dataclass_fields__[field].metadata["choices"].partition(":")
    return tuple(getattr(importlib.import_module(module), name))


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


def parse_grid_size(size: str, resolution: int) -> tuple[int, int]:
    """``(gw, gh)`` of the snapshot grid: '1080p' / '4k' as the original, or 'WxH'."""
    if size == "1080p":
        return int(min(max(1920 // resolution, 3), 32)), int(min(max(1080 // resolution, 2), 32))
    if size == "4k":
        return int(min(max(3840 // resolution, 7), 32)), int(min(max(2160 // resolution, 4), 32))
    parts = str(size).lower().split("x")
    if len(parts) == 2 and all(p.isdigit() and int(p) > 0 for p in parts):
        return int(parts[0]), int(parts[1])
    raise ConfigError("grid_size", size, "expected '1080p', '4k' or WxH (e.g. 8x4)")
