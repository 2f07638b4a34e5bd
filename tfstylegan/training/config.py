"""The configuration of a training run, and the checks that turn bad input into clear errors."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Mapping

from tfstylegan.resolution import resolution_log2
from tfstylegan.schedule import SCHEDULE_ARGS, int_keys, training_schedule

# Network arguments that come from the dataset, not from the configuration.
DATASET_KWARGS = ("num_channels", "resolution", "label_size")
# Names training.distribute.make_strategy takes.
STRATEGIES = ("default", "one_device", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")  # Keras dtype policies of G and D.
# Snapshot grid contents, as the original: random reals, or one class per row / column / 4x4 block.
GRID_LAYOUTS = ("random", "row_per_class", "col_per_class", "class4x4")
OPTIMIZERS = ("adam", "rmsprop")


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


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a training run (the original train.py's option groups, flattened).

    Field names are the command-line flags and, where the original has one, its name.
    """

    # Data.
    data_dir: str | None = None  # Dataset directory (original TFRecord format); None = built-in synthetic shapes.
    resolution: int | None = None  # Train at this dataset resolution (<= the dataset's); None = the dataset's.
    max_label_size: int | str = 0  # 0 = unconditional, 'full' = all label components, N = the first N.
    mirror_augment: bool = False  # Random horizontal flips of the reals.
    synthetic_images: int = 1000  # Size of the built-in synthetic dataset (data_dir None).
    # Networks (the original G_style / D_basic keyword arguments; channels, resolution, labels from the data).
    G_args: dict = dataclasses.field(default_factory=dict)
    D_args: dict = dataclasses.field(default_factory=dict)
    # Losses and optimizers.
    G_loss: str = "G_logistic_nonsaturating"
    G_loss_args: dict = dataclasses.field(default_factory=dict)
    D_loss: str = "D_logistic_simplegp"
    D_loss_args: dict = dataclasses.field(default_factory=lambda: {"r1_gamma": 10.0})
    optimizer: str = "adam"  # 'adam' (the original: beta1 0, beta2 0.99, eps 1e-8) or 'rmsprop'.
    G_opt_args: dict = dataclasses.field(default_factory=dict)  # Optimizer overrides (beta_1, beta_2, epsilon, rho).
    D_opt_args: dict = dataclasses.field(default_factory=dict)
    D_weight_clip: float | None = None  # Clip D's weights to [-c, c] after each update (WGAN); None = off.
    # Schedule (training_schedule keyword arguments) and length.
    sched_args: dict = dataclasses.field(default_factory=dict)
    total_kimg: float = 15000.0  # Length of the run in thousands of real images.
    # Loop.
    G_smoothing_kimg: float = 10.0  # Half-life of Gs, the moving average of G; 0 = Gs is a copy of G.
    D_repeats: int = 1  # D updates per G update.
    minibatch_repeats: int = 4  # Minibatches between re-evaluations of the schedule.
    reset_opt_for_new_lod: bool = True  # Reset the optimizer state when a new resolution starts fading in.
    image_snapshot_ticks: int = 1  # Write fakes<kimg>.png every N ticks.
    network_snapshot_ticks: int = 10  # Write network-snapshot-<kimg>.pkl every N ticks.
    checkpoint_ticks: int = 1  # Write a full training checkpoint every N ticks.
    checkpoints_to_keep: int = 3  # Checkpoints kept in <run_dir>/checkpoints.
    grid_size: str = "1080p"  # Snapshot grid: '1080p', '4k' (sized like the original) or 'WxH' images.
    grid_layout: str = "random"  # 'random', or by class (conditional runs): 'row_per_class', 'col_per_class', 'class4x4'.
    metrics: list = dataclasses.field(default_factory=list)  # Run at every network snapshot, e.g. ['fid50k'].
    inception_weights: str | None = None  # The Inception file the FID metrics need (2015 graph .pb or Keras .h5).
    vgg16_weights: str | None = None  # The LPIPS-VGG16 weights the PPL metrics need (vgg16_zhang_perceptual.pkl).
    # Run.
    config: str = "custom"  # The preset this configuration started from.
    seed: int = 1000  # Seed of the weights, every random draw and the data order.
    result_dir: str = "results"  # Runs go to <result_dir>/<NNNNN>-<desc>/.
    desc: str = ""  # Run name suffix; '' = derived from the preset and the replica count.
    strategy: str = "default"  # tf.distribute strategy (see training.distribute.STRATEGIES).
    tpu: str | None = None  # TPU name or grpc:// address for strategy 'tpu'; None = the local one.
    precision: str = "float32"  # G and D compute dtype: float32, mixed_float16 (loss scaled), mixed_bfloat16.
    num_fp16_res: int | None = None  # Only the highest N resolutions in the 16-bit type; None = all of them.
    xla: bool = False  # Compile the per-replica steps with XLA (jit_compile): faster on GPUs, slower on CPUs.
    max_nonfinite_steps: int = 20  # Stop after this many bad (skipped, non-finite) D or G steps in a row; 0 = never.
    num_gpus: int | None = None  # The schedule's GPU count (minibatch tables, rounding); None = replicas.
    resume: str | None = None  # Run directory, checkpoint prefix or network pickle to resume from.
    resume_kimg: float = 0.0  # Progress assumed when resuming from a pickle (affects the schedule).
    resume_time: float = 0.0  # Seconds assumed when resuming from a pickle (affects reporting).

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


def check_config(cfg: TrainConfig, data: DatasetInfo, replicas: int) -> dict:
    """Checks ``cfg`` against the data and the replica count.

    Returns:
        The resolved loss arguments ``{'G': {...}, 'D': {...}}``.

    Raises:
        ConfigError: naming the field, the value and what was expected.
    """
    from tfstylegan import losses  # TensorFlow: imported only when checking.
    from tfstylegan.networks import D_KWARGS, G_KWARGS

    if cfg.strategy not in STRATEGIES:
        raise ConfigError("strategy", cfg.strategy, f"expected one of {', '.join(STRATEGIES)}")
    if cfg.precision not in PRECISIONS:
        raise ConfigError("precision", cfg.precision, f"expected one of {', '.join(PRECISIONS)}")
    if cfg.num_fp16_res is not None:
        if not (isinstance(cfg.num_fp16_res, int) and cfg.num_fp16_res >= 0):
            raise ConfigError("num_fp16_res", cfg.num_fp16_res, "expected a number of resolutions >= 0 (or unset = all)")
        if cfg.precision == "float32":
            raise ConfigError("num_fp16_res", cfg.num_fp16_res, "needs --precision=mixed_float16 or mixed_bfloat16")
    if not (isinstance(cfg.max_nonfinite_steps, int) and cfg.max_nonfinite_steps >= 0):
        raise ConfigError("max_nonfinite_steps", cfg.max_nonfinite_steps, "expected a number of steps >= 0 (0 = never stop)")
    num_gpus = cfg.num_gpus if cfg.num_gpus is not None else replicas
    if num_gpus != replicas:
        raise ConfigError(
            "num_gpus",
            cfg.num_gpus,
            f"the {cfg.strategy} strategy has {replicas} replica(s); leave --num_gpus unset or set it to {replicas}",
        )

    # Networks.
    for field, known in (("G_args", G_KWARGS), ("D_args", D_KWARGS)):
        args = getattr(cfg, field)
        for key in args:
            if key in DATASET_KWARGS:
                raise ConfigError(field, args, f"{key} comes from the dataset and cannot be set")
            if key not in known:
                raise ConfigError(field, args, f"unknown argument {key!r}; expected some of {', '.join(sorted(known))}")

    # Losses and optimizers.
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
    if cfg.optimizer not in OPTIMIZERS:
        raise ConfigError("optimizer", cfg.optimizer, f"expected one of {', '.join(OPTIMIZERS)}")
    allowed_opt = {"adam": {"beta_1", "beta_2", "epsilon"}, "rmsprop": {"rho", "epsilon", "momentum"}}[cfg.optimizer]
    for field in ("G_opt_args", "D_opt_args"):
        bad = sorted(set(getattr(cfg, field)) - allowed_opt)
        if bad:
            raise ConfigError(field, getattr(cfg, field), f"{cfg.optimizer} takes {', '.join(sorted(allowed_opt))}")
    if cfg.D_weight_clip is not None and not cfg.D_weight_clip > 0:
        raise ConfigError("D_weight_clip", cfg.D_weight_clip, "expected a positive number (or unset)")

    # Loop.
    positive = ("total_kimg", "D_repeats", "minibatch_repeats", "image_snapshot_ticks", "network_snapshot_ticks")
    for field in (*positive, "checkpoint_ticks", "checkpoints_to_keep"):
        value = getattr(cfg, field)
        if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
            raise ConfigError(field, value, "expected a positive number")
    if not cfg.G_smoothing_kimg >= 0:
        raise ConfigError("G_smoothing_kimg", cfg.G_smoothing_kimg, "expected a number >= 0")
    if cfg.resume_kimg < 0 or cfg.resume_time < 0:
        field = "resume_kimg" if cfg.resume_kimg < 0 else "resume_time"
        raise ConfigError(field, getattr(cfg, field), "expected a number >= 0")
    parse_grid_size(cfg.grid_size, data.resolution)
    if cfg.grid_layout not in GRID_LAYOUTS:
        raise ConfigError("grid_layout", cfg.grid_layout, f"expected one of {', '.join(GRID_LAYOUTS)}")
    if cfg.grid_layout != "random" and data.label_size == 0:
        raise ConfigError("grid_layout", cfg.grid_layout, "a class layout needs labels: train with --cond on a labelled dataset")
    if cfg.metrics:
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
    if cfg.synthetic_images < 1:
        raise ConfigError("synthetic_images", cfg.synthetic_images, "expected at least 1 image")

    # Schedule: every resolution the run can reach must have a usable minibatch.
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
    return resolved


def reachable_schedules(resolution: int, num_gpus: int, sched: Mapping) -> list:
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
