"""Train StyleGAN (v1) as the original train.py does.

With no flags, trains the CPU-sized ``tiny`` configuration on a built-in 32x32 shapes
dataset (written to <result_dir>/ on first use) and writes image grids, network pickles,
checkpoints and TensorBoard logs to results/<NNNNN>-sgan-tiny-1gpu/::

    python train.py
    python train.py --data_dir=datasets/ffhq --config=ffhq --strategy=mirrored --precision=mixed_float16
    python train.py --data_dir=datasets/ffhq --config=ffhq --strategy=multi_worker  # each machine, with its
        # TF_CONFIG='{"cluster": {"worker": ["host0:2222", "host1:2222"]}, "task": {"type": "worker", "index": 0}}'
    python train.py --data_dir=datasets/cars --config=car --cond --total_kimg=12000
    python train.py --resume=results/00003-sgan-tiny-1gpu --total_kimg=200
    python train.py --config=ffhq256 --data_dir=datasets/ffhq --dry_run

``--config`` picks a preset: the original's StyleGAN configs (ffhq, ffhq512, ffhq256,
celebahq, bedroom, car, cat, each with the original's minibatch table for 1, 2, 4 or 8
GPUs) or ``tiny``. Any flag overrides the preset. Dict flags take ``key=value`` lists
(``--G_args=fmap_base=1024,mapping_layers=4``, ``--D_loss_args=r1_gamma=5``) and
per-resolution flags ``resolution:value`` lists (``--minibatch_dict=4:64,8:32``).
``--flagfile`` reads flags from a file; ``--dry_run`` prints the resolved configuration.
"""

from __future__ import annotations

import ast
import logging as py_logging
import sys
from collections.abc import Sequence

from absl import app, flags

from tfstylegan.cli._runner import run_tool, usage_error
from tfstylegan.training.config import GRID_LAYOUTS, OPTIMIZERS, PRECISIONS, STRATEGIES, ConfigError
from tfstylegan.training.presets import PRESETS

RECIPES = {
    # Arjovsky et al.: critic loss D(fake) - D(real), weights clipped to [-0.01, 0.01], RMSProp 5e-5, 5 critic steps.
    "wgan_clip": dict(
        G_loss="G_wgan",
        D_loss="D_wgan",
        D_loss_args={"wgan_epsilon": 0.0},
        optimizer="rmsprop",
        D_weight_clip=0.01,
        D_repeats=5,
        sched=dict(G_lrate_base=5e-5, D_lrate_base=5e-5, G_lrate_dict={}, D_lrate_dict={}),
    ),
}

FLAGS = flags.FlagValues()
_d = dict(flag_values=FLAGS)
_PRESET = " Default: the preset's."

# Data.
flags.DEFINE_string("data_dir", None, "Dataset directory in the original TFRecord format. Default: the built-in shapes.", **_d)
flags.DEFINE_integer("resolution", None, "Train at this resolution (<= the dataset's)." + _PRESET, **_d)
flags.DEFINE_boolean("cond", False, "Condition on the dataset's labels (the original's max_label_size='full').", **_d)
flags.DEFINE_string("max_label_size", None, "Label components to use: 0, N or 'full' (overrides --cond).", **_d)
flags.DEFINE_boolean("mirror_augment", None, "Random horizontal flips of the reals." + _PRESET, **_d)
flags.DEFINE_integer("synthetic_images", None, "Images in the built-in dataset (default 1000).", **_d)
# Configuration, networks, losses.
flags.DEFINE_enum("config", "tiny", list(PRESETS), "Preset configuration.", **_d)
flags.DEFINE_list("G_args", None, "G_style keyword arguments as key=value (e.g. fmap_base=1024).", **_d)
flags.DEFINE_list("D_args", None, "D_basic keyword arguments as key=value (e.g. mbstd_group_size=2).", **_d)
flags.DEFINE_string("G_loss", None, "G loss (training.loss name, e.g. G_logistic_nonsaturating, G_wgan).", **_d)
flags.DEFINE_list("G_loss_args", None, "G loss parameters as key=value.", **_d)
flags.DEFINE_string("D_loss", None, "D loss (e.g. D_logistic_simplegp, D_wgan_gp, D_hinge).", **_d)
flags.DEFINE_list("D_loss_args", None, "D loss parameters as key=value (e.g. r1_gamma=10).", **_d)
flags.DEFINE_enum("recipe", None, list(RECIPES), "A loss recipe: wgan_clip = WGAN with weight clipping and RMSProp.", **_d)
flags.DEFINE_enum("optimizer", None, list(OPTIMIZERS), "Optimizer of both networks (default adam).", **_d)
flags.DEFINE_float("D_weight_clip", None, "Clip D's weights to [-c, c] after each update (WGAN).", **_d)
# Schedule.
flags.DEFINE_float("total_kimg", None, "Length of the run in thousands of real images." + _PRESET, **_d)
flags.DEFINE_integer("lod_initial_resolution", None, "Resolution trained first." + _PRESET, **_d)
flags.DEFINE_float("lod_training_kimg", None, "kimg per resolution before fading in the next." + _PRESET, **_d)
flags.DEFINE_float("lod_transition_kimg", None, "kimg of each fade-in." + _PRESET, **_d)
flags.DEFINE_integer("minibatch_base", None, "Global minibatch size." + _PRESET, **_d)
flags.DEFINE_list("minibatch_dict", None, "Per-resolution minibatch, resolution:size list." + _PRESET, **_d)
flags.DEFINE_list("max_minibatch_per_gpu", None, "Per-resolution cap per GPU, resolution:size list.", **_d)
flags.DEFINE_float("G_lrate_base", None, "G learning rate." + _PRESET, **_d)
flags.DEFINE_float("D_lrate_base", None, "D learning rate." + _PRESET, **_d)
flags.DEFINE_list("G_lrate_dict", None, "Per-resolution G learning rate, resolution:rate list.", **_d)
flags.DEFINE_list("D_lrate_dict", None, "Per-resolution D learning rate, resolution:rate list.", **_d)
flags.DEFINE_float("lrate_rampup_kimg", None, "Learning-rate ramp-up from 0 (kimg).", **_d)
flags.DEFINE_float("tick_kimg_base", None, "kimg between reports." + _PRESET, **_d)
flags.DEFINE_list("tick_kimg_dict", None, "Per-resolution tick length, resolution:kimg list.", **_d)
# Loop.
flags.DEFINE_float("G_smoothing_kimg", None, "Half-life of Gs (kimg); 0 = no averaging." + _PRESET, **_d)
flags.DEFINE_integer("D_repeats", None, "D updates per G update (default 1).", **_d)
flags.DEFINE_integer("minibatch_repeats", None, "Minibatches between schedule updates (default 4).", **_d)
flags.DEFINE_boolean("reset_opt_for_new_lod", None, "Reset optimizer state when a resolution fades in (default true).", **_d)
flags.DEFINE_integer("image_snapshot_ticks", None, "Write fakes<kimg>.png every N ticks." + _PRESET, **_d)
flags.DEFINE_integer("network_snapshot_ticks", None, "Write network-snapshot-<kimg>.pkl every N ticks." + _PRESET, **_d)
flags.DEFINE_integer("checkpoint_ticks", None, "Write a training checkpoint every N ticks." + _PRESET, **_d)
flags.DEFINE_integer("checkpoints_to_keep", None, "Checkpoints kept (default 3).", **_d)
flags.DEFINE_string("grid_size", None, "Snapshot grid: 1080p, 4k or WxH." + _PRESET, **_d)
flags.DEFINE_enum(
    "grid_layout",
    None,
    list(GRID_LAYOUTS),
    "Snapshot grid contents: random reals, or one class per row, column or 4x4 block (needs --cond; default random).",
    **_d,
)
flags.DEFINE_list(
    "metrics",
    None,
    "Metrics run at every network snapshot: fid50k (needs --inception_weights), ppl_wend (needs "
    "--vgg16_weights), swd16k, swd1k, ...; '' = none.",
    **_d,
)
flags.DEFINE_string(
    "inception_weights", None, "Inception file for FID: classify_image_graph_def.pb (2015 graph) or Keras .h5.", **_d
)
flags.DEFINE_string("vgg16_weights", None, "LPIPS-VGG16 weights for PPL: vgg16_zhang_perceptual.pkl or .npz.", **_d)
# Run.
flags.DEFINE_enum(
    "strategy",
    "default",
    list(STRATEGIES),
    "tf.distribute strategy: default, one_device, mirrored (all local GPUs), multi_worker (every worker in "
    "TF_CONFIG, each with all its GPUs) or tpu.",
    **_d,
)
flags.DEFINE_string("tpu", None, "TPU name or grpc:// address for --strategy=tpu. Default: the local TPU.", **_d)
flags.DEFINE_enum(
    "precision",
    None,
    list(PRECISIONS),
    "Compute dtype of G and D: float32, mixed_float16 (dynamic loss scaling; GPUs) or mixed_bfloat16 "
    "(TPUs, recent GPUs). Default float32.",
    **_d,
)
flags.DEFINE_integer(
    "num_fp16_res",
    None,
    "With --precision=mixed_*: only the highest N resolutions compute in the 16-bit type (the rest and G's "
    "mapping in float32). Default: all.",
    **_d,
)
flags.DEFINE_boolean("xla", None, "Compile the training steps with XLA (faster on GPUs, slower on CPUs). Default off.", **_d)
flags.DEFINE_integer(
    "max_nonfinite_steps",
    None,
    "Stop when this many D or G steps in a row had non-finite losses or gradients, keeping the last good "
    "snapshot and checkpoint; 0 = never. Default 20.",
    **_d,
)
flags.DEFINE_integer("num_gpus", None, "GPU count for the minibatch tables. Default: the strategy's replicas.", **_d)
flags.DEFINE_integer("seed", 1000, "Seed of the weights, random draws and data order.", **_d)
flags.DEFINE_string("result_dir", "results", "Root directory of the runs.", **_d)
flags.DEFINE_string("desc", None, "Run directory name suffix. Default: sgan-<config>-<N>gpu.", **_d)
flags.DEFINE_string("resume", None, "Run directory, checkpoint prefix or network .pkl to resume from.", **_d)
flags.DEFINE_float("resume_kimg", None, "Progress (kimg) assumed when resuming from a pickle.", **_d)
flags.DEFINE_float("resume_time", None, "Seconds assumed when resuming from a pickle.", **_d)
flags.DEFINE_boolean("dry_run", False, "Print the resolved configuration as JSON and exit.", **_d)

_SCHED_FLAGS = {
    "lod_initial_resolution": None,
    "lod_training_kimg": None,
    "lod_transition_kimg": None,
    "minibatch_base": None,
    "minibatch_dict": int,
    "max_minibatch_per_gpu": int,
    "G_lrate_base": None,
    "D_lrate_base": None,
    "G_lrate_dict": float,
    "D_lrate_dict": float,
    "lrate_rampup_kimg": None,
    "tick_kimg_base": None,
    "tick_kimg_dict": float,
}
_PLAIN_FLAGS = (
    "data_dir",
    "resolution",
    "mirror_augment",
    "synthetic_images",
    "G_loss",
    "D_loss",
    "optimizer",
    "D_weight_clip",
    "total_kimg",
    "G_smoothing_kimg",
    "D_repeats",
    "minibatch_repeats",
    "reset_opt_for_new_lod",
    "image_snapshot_ticks",
    "network_snapshot_ticks",
    "checkpoint_ticks",
    "checkpoints_to_keep",
    "grid_size",
    "grid_layout",
    "metrics",
    "inception_weights",
    "vgg16_weights",
    "seed",
    "result_dir",
    "desc",
    "num_gpus",
    "resume",
    "resume_kimg",
    "resume_time",
    "strategy",
    "tpu",
    "precision",
    "num_fp16_res",
    "xla",
    "max_nonfinite_steps",
)


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def _key_values(flag: str) -> dict | None:
    """``--flag=a=1,b=x`` -> ``{'a': 1, 'b': 'x'}``."""
    items = FLAGS[flag].value
    if items is None:
        return None
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise usage_error(flag, f"expected key=value items separated by commas, got {item!r}")
        out[key.strip()] = _literal(value.strip())
    return out


def _resolution_table(flag: str, kind) -> dict | None:
    """``--flag=4:128,8:64`` -> ``{4: 128, 8: 64}``."""
    items = FLAGS[flag].value
    if items is None:
        return None
    out = {}
    for item in items:
        key, sep, value = item.replace("=", ":").partition(":")
        try:
            out[int(key)] = kind(value)
        except ValueError:
            raise usage_error(flag, f"expected resolution:value items (e.g. 4:128,8:64), got {item!r}") from None
    return out


def _resumed_run_config(resume: str | None):
    """The saved configuration of the run that ``--resume`` points into, or None."""
    from tfstylegan.training import run_dir

    path = run_dir.find_config(resume)
    return run_dir.read_config(path) if path else None


def _run_config():
    """The resumed run's saved configuration when it is the base (``--resume`` into a run, no ``--config``)."""
    return None if FLAGS["config"].present else _resumed_run_config(FLAGS.resume)


def _strategy_args() -> tuple[str, str | None]:
    """``(strategy, tpu)``: the flags, or the resumed run's where the flags are not given."""
    run_config = _run_config()
    if run_config is None:
        return FLAGS.strategy, FLAGS.tpu
    strategy = FLAGS.strategy if FLAGS["strategy"].present else run_config.strategy
    return strategy, FLAGS.tpu if FLAGS["tpu"].present else run_config.tpu


def resolve_config(replicas: int):
    """The :class:`TrainConfig` the flags describe.

    The base is the preset (``--config``), or, when ``--resume`` points into a run directory
    and no ``--config`` is given, that run's saved configuration; then the recipe, then every
    flag given.
    """
    from tfstylegan.training.presets import preset_config

    sched = {}
    for name, kind in _SCHED_FLAGS.items():
        value = _resolution_table(name, kind) if kind else FLAGS[name].value
        if value is not None:
            sched[name] = value
    num_gpus = FLAGS.num_gpus if FLAGS.num_gpus is not None else replicas
    run_config = _run_config()
    if run_config is not None:
        # Resuming a run: its own configuration, then the flags given now.
        cfg = run_config.replace(resume=None, resume_kimg=0.0, resume_time=0.0)
    else:
        cfg = preset_config(FLAGS.config, num_gpus, sched)
    changes = {}
    if FLAGS.recipe:
        recipe = dict(RECIPES[FLAGS.recipe])
        cfg.sched_args.update(recipe.pop("sched"))
        changes.update(recipe)
    for name in _PLAIN_FLAGS:
        # On a resumed run's configuration only the flags given count (seed, strategy and
        # result_dir have defaults that must not replace the run's values).
        if FLAGS[name].present if run_config is not None else FLAGS[name].value is not None:
            changes[name] = FLAGS[name].value
    # Dict flags extend the preset's (or recipe's) dicts; a different loss starts from its own defaults.
    for name in ("G_args", "D_args", "G_loss_args", "D_loss_args"):
        base = changes.get(name, getattr(cfg, name))
        loss = name.replace("_args", "")
        if name.endswith("loss_args") and changes.get(loss, getattr(cfg, loss)) != RECIPES.get(FLAGS.recipe, {}).get(
            loss, getattr(cfg, loss)
        ):
            base = {}
        values = _key_values(name)
        changes[name] = {**base, **(values or {})}
    if FLAGS.cond:
        changes.setdefault("max_label_size", "full")
    if FLAGS.max_label_size is not None:
        value = FLAGS.max_label_size
        changes["max_label_size"] = value if value == "full" else _literal(value)
    cfg = cfg.replace(**changes)
    cfg.sched_args.update(sched)
    return cfg


class _LogFormatter(py_logging.Formatter):
    """``2026-01-31 12:00:00 message``; warnings and errors also name their level."""

    def format(self, record):
        prefix = "" if record.levelno <= py_logging.INFO else f"{record.levelname}: "
        return f"{self.formatTime(record, '%Y-%m-%d %H:%M:%S')} {prefix}{record.getMessage()}"


def _setup_logging() -> None:
    """absl logging at INFO, one plain line per report (no carriage returns)."""
    from absl import logging

    flags.FLAGS.mark_as_parsed()  # absl logging reads its own flags; this tool parses its FlagValues.
    logging.set_verbosity(logging.INFO)
    logging.use_absl_handler()
    logging.get_absl_handler().python_handler.setFormatter(_LogFormatter())
    # TensorFlow's checkpoint writer reports every save at INFO.
    logging.get_absl_logger().addFilter(lambda record: not record.pathname.endswith("functional_saver.py"))


def _main(argv: Sequence[str]) -> None:
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}; every option is a --flag")
    _setup_logging()
    from tfstylegan.training import distribute
    from tfstylegan.training.checkpoint import locate_resume
    from tfstylegan.training.config import check_config
    from tfstylegan.training.training_set import dataset_info

    try:
        strategy_name, tpu = _strategy_args()
        strategy = distribute.make_strategy(strategy_name, tpu=tpu)
        replicas = distribute.num_replicas(strategy)
        cfg = resolve_config(replicas)
        info = dataset_info(cfg)
        loss_args = check_config(cfg, info, replicas)
        if cfg.resume:
            locate_resume(cfg.resume)
        if FLAGS.dry_run:
            extra = dict(dataset=info.__dict__, replicas=replicas, resolved_num_gpus=cfg.num_gpus or replicas)
            extra["resolved_loss_args"] = loss_args
            print(cfg.to_json(**extra))
            return
        from tfstylegan.training.run_dir import checkpoint_dir
        from tfstylegan.training.trainer import Trainer

        trainer = Trainer(cfg, strategy)
        run_dir = trainer.train()
    except ConfigError as e:
        raise app.UsageError(str(e)) from None
    if not trainer.chief:
        print(f"\nWorker {trainer.worker} done; its checkpoints are in {checkpoint_dir(run_dir, trainer.worker)}")
        return
    print(
        f"\nOutputs in {run_dir}: reals.png and fakes<kimg>.png (image grids), network-final.pkl and "
        f"network-snapshot-<kimg>.pkl (original-style pickles), checkpoints/ (resume with --resume={run_dir}), "
        f"log.txt, config.json. TensorBoard: tensorboard --logdir {run_dir}"
    )


def main(argv: Sequence[str] | None = None, prog: str = "tfstylegan-train") -> int:
    """Runs the tool on a command line (``argv[0]`` is the program name; None = ``sys.argv``).

    Returns:
        The exit status: 0 on success, 1 on a usage or input error (reported on stderr).
    """
    return run_tool(_main, FLAGS, argv, prog=prog, doc=__doc__)


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["main", "resolve_config"]
