"""The configuration of a training run: :class:`TrainConfig`, its fields' metadata, and its errors.

The check of a configuration against a dataset and a strategy is :func:`training.checks.check_config`.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import math
from collections.abc import Mapping

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
    """A value as its flag takes it: ``a=1,b=x`` (key=value), ``4:128,8:64`` (resolution tables), or text."""
    if isinstance(value, Mapping):
        sep = ":" if value and all(isinstance(k, int) for k in value) else "="
        return ",".join(f"{k}{sep}{v}" for k, v in value.items())
    return str(value)


def setting(default=dataclasses.MISSING, help: str = "", *, factory=None, choices=None, bound=None, flag=True):
    """A :class:`TrainConfig` field with what the command line and :func:`~tfstylegan.training.checks.check_config` need to know.

    Args:
        default: the default value.
        help: what the setting does (the help of its command-line flag).
        factory: a function returning the default (dicts and lists), instead of ``default``.
        choices: ``'module:NAME'``, the vocabulary the value must come from, kept by the
            module that owns it (see :func:`vocabulary`).
        bound: ``(op, limit, expected)`` or ``(op, limit, expected, maximum)``: the value
            must be a finite number with ``value op limit`` (``op`` is ``'>'`` or ``'>='``)
            and ``value <= maximum``; int fields take ints only (see :func:`within`), else
            the error says ``expected <expected>``. None is allowed when it is the default.
        flag: False = no command-line flag of this name.
    """
    metadata = dict(help=help, choices=choices, bound=bound, flag=flag)
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


_POSITIVE = (">", 0, "a positive number")
MAX_SEED = 2**32 - 1  # numpy's seeds (keras.utils.set_random_seed) are below 2**32.
MAX_GRID_SIDE = 64  # Images a side of a WxH snapshot grid.
MAX_GRID_PIXELS = 2**25  # Pixels of a snapshot grid (the original's 4k grid at 1024x1024 has 29M).
MAX_SYNTHETIC_IMAGES = 100_000  # The built-in dataset is drawn in memory: 3 KiB per image.
MAX_KIMG = 10**9  # Any length in kimg (the original's longest run is 25,000); sums of them stay finite.
MAX_SECONDS = 10**10  # Any training time in seconds (about 300 years); sums of them stay finite.


def within(value, bound: tuple, integer: bool = False) -> bool:
    """Whether ``value`` is a finite number (an int if ``integer``; never a bool) within ``bound`` (see :func:`setting`)."""
    op, limit, _, *maximum = bound
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if integer and not isinstance(value, int):
        return False
    if isinstance(value, float) and not math.isfinite(value):  # An int is finite (and may not fit a float).
        return False
    above = value > limit if op == ">" else value >= limit
    return above and (not maximum or value <= maximum[0])


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
    synthetic_images: int = setting(
        1000,
        f"Images in the built-in dataset (without --data_dir), at most {MAX_SYNTHETIC_IMAGES:,}.",
        bound=(">=", 1, f"a number of images in [1, {MAX_SYNTHETIC_IMAGES}]", MAX_SYNTHETIC_IMAGES),
    )
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
    total_kimg: float = setting(
        15000.0,
        "Length of the run in thousands of real images.",
        bound=(">", 0, f"a positive number of kimg, at most {MAX_KIMG:,}", MAX_KIMG),
    )
    # Loop.
    G_smoothing_kimg: float = setting(
        10.0,
        "Half-life of Gs, the moving average of G, in kimg; 0 = Gs is a copy of G.",
        bound=(">=", 0, f"a number of kimg in [0, {MAX_KIMG:,}]", MAX_KIMG),
    )
    D_repeats: int = setting(1, "D updates per G update.", bound=_POSITIVE)
    minibatch_repeats: int = setting(4, "Minibatches between re-evaluations of the schedule.", bound=_POSITIVE)
    reset_opt_for_new_lod: bool = setting(True, "Reset the optimizer state when a new resolution starts fading in.")
    image_snapshot_ticks: int = setting(1, "Write fakes<kimg>.png every N ticks.", bound=_POSITIVE)
    network_snapshot_ticks: int = setting(10, "Write network-snapshot-<kimg>.pkl every N ticks.", bound=_POSITIVE)
    checkpoint_ticks: int = setting(1, "Write a full training checkpoint every N ticks.", bound=_POSITIVE)
    checkpoints_to_keep: int = setting(3, "Checkpoints kept in <run_dir>/checkpoints.", bound=_POSITIVE)
    grid_size: str = setting(
        "1080p",
        "Snapshot grid: 1080p, 4k (sized like the original's) or WxH images, at most 64 a side and 2^25 "
        "pixels in all (e.g. 8x4 at 1024x1024).",
    )
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
    seed: int = setting(
        1000,
        "Seed of the weights, every random draw and the data order.",
        bound=(">=", 0, f"an integer in [0, {MAX_SEED}]", MAX_SEED),
    )
    result_dir: str = setting("results", "Root directory of the runs: <result_dir>/<NNNNN>-<desc>/.")
    desc: str = setting("", "Run directory name suffix (a plain name); empty = sgan-<config>-<N>gpu.")
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
    resume: str | None = setting(
        None,
        "Run directory to continue in (from its latest checkpoint; its log, snapshots and checkpoints go on), or a "
        "checkpoint prefix or network .pkl to resume from in a new run directory.",
    )
    resume_kimg: float | None = setting(
        None,
        "Progress (kimg) assumed when resuming from a pickle (affects the schedule); unset = the kimg in the name of "
        "the snapshot that a run directory without checkpoints resumes from (network-snapshot-<kimg>.pkl), else 0.",
        bound=(">=", 0, f"a number of kimg in [0, {MAX_KIMG:,}]", MAX_KIMG),
    )
    resume_time: float = setting(
        0.0,
        "Seconds assumed when resuming from a pickle (affects reporting).",
        bound=(">=", 0, f"a number of seconds in [0, {MAX_SECONDS:,}]", MAX_SECONDS),
    )
    resume_new_dir: bool = setting(
        False, "With --resume=<run dir>: write to a new run directory instead of continuing in it (as the original)."
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


def vocabulary(field: str) -> tuple[str, ...]:
    """The values a :class:`TrainConfig` field takes, read from the module that owns them.

    ``strategy``: :data:`training.distribute.STRATEGIES`; ``precision``:
    :data:`training.precision.PRECISIONS`; ``optimizer``: :data:`training.steps.OPTIMIZERS`;
    ``grid_layout``: :data:`training.grid.GRID_LAYOUTS`. Those modules import TensorFlow,
    so they are imported only here, when a value is checked.
    """
    module, _, name = TrainConfig.__dataclass_fields__[field].metadata["choices"].partition(":")
    return tuple(getattr(importlib.import_module(module), name))


def parse_grid_size(size: str, resolution: int) -> tuple[int, int]:
    """``(gw, gh)`` of the snapshot grid: '1080p' / '4k' as the original, or 'WxH'.

    A 'WxH' grid has at most :data:`MAX_GRID_SIDE` images a side and :data:`MAX_GRID_PIXELS`
    pixels (Gs renders every image at each snapshot, and the grid is one picture).
    """
    if size == "1080p":
        return int(min(max(1920 // resolution, 3), 32)), int(min(max(1080 // resolution, 2), 32))
    if size == "4k":
        return int(min(max(3840 // resolution, 7), 32)), int(min(max(2160 // resolution, 4), 32))
    parts = str(size).lower().split("x")
    if not (len(parts) == 2 and all(p.isdigit() and len(p) <= 6 and int(p) > 0 for p in parts)):
        raise ConfigError("grid_size", size, "expected '1080p', '4k' or WxH (e.g. 8x4)")
    gw, gh = int(parts[0]), int(parts[1])
    if max(gw, gh) > MAX_GRID_SIDE or gw * gh * resolution**2 > MAX_GRID_PIXELS:
        raise ConfigError(
            "grid_size",
            size,
            f"at most {MAX_GRID_SIDE} images a side and {MAX_GRID_PIXELS:,} pixels in all; at "
            f"{resolution}x{resolution} that is {gw}x{gh} = {gw * gh * resolution**2:,} pixels",
        )
    return gw, gh
