"""Train StyleGAN (v1) as the original train.py does.

With no flags, trains the CPU-sized ``tiny`` configuration on a built-in 32x32 shapes
dataset (written to <result_dir>/ on first use) and writes image grids, network pickles,
checkpoints and TensorBoard logs to results/<NNNNN>-sgan-tiny-1gpu/::

    python train.py
    python train.py --data_dir=datasets/ffhq --config=ffhq --strategy=mirrored --precision=mixed_float16
    python train.py --data_dir=datasets/ffhq --config=ffhq --strategy=multi_worker  # each machine, with its
        # TF_CONFIG='{"cluster": {"worker": ["host0:2222", "host1:2222"]}, "task": {"type": "worker", "index": 0}}'
    python train.py --data_dir=datasets/cars --config=car --cond --total_kimg=12000
    python train.py --resume=results/00003-sgan-tiny-1gpu --total_kimg=200  # Trains on in that run directory.
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
import dataclasses
import inspect
import logging as py_logging
import sys
import typing
from collections.abc import Mapping, Sequence

from absl import app, flags

from tfstylegan.cli._runner import run_tool, usage_error
from tfstylegan.schedule import SCHEDULE_ARGS, training_schedule
from tfstylegan.training.config import ConfigError, TrainConfig, vocabulary
from tfstylegan.training.presets import PRESETS, preset_config

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

# The flags of this tool that are not configuration fields.
flags.DEFINE_enum("config", "tiny", list(PRESETS), "Preset configuration.", **_d)
flags.DEFINE_boolean("cond", False, "Condition on the dataset's labels (the original's max_label_size='full').", **_d)
flags.DEFINE_enum("recipe", None, list(RECIPES), "A loss recipe: wgan_clip = WGAN with weight clipping and RMSProp.", **_d)
flags.DEFINE_boolean("dry_run", False, "Print the resolved configuration as JSON and exit.", **_d)


class _VocabularyParser(flags.ArgumentParser):
    """Parses the flag of a :class:`TrainConfig` field with a vocabulary (``--strategy``, ``--precision``, ...).

    The vocabularies live in the modules that own them, which import TensorFlow: they are
    read when a value is parsed, so ``--help`` stays instant.
    """

    def __init__(self, field: str):
        super().__init__()
        self.field = field

    def parse(self, argument: str) -> str:
        values = vocabulary(self.field)
        if argument not in values:
            raise ValueError(f"value should be one of <{'|'.join(values)}>")
        return argument

    def flag_type(self) -> str:
        return "string enum"


_DEFINE = {
    str: flags.DEFINE_string,
    int: flags.DEFINE_integer,
    float: flags.DEFINE_float,
    bool: flags.DEFINE_boolean,
    list: flags.DEFINE_list,
    dict: flags.DEFINE_list,  # key=value items.
}


def _preset_settings() -> set[str]:
    """The fields and schedule arguments some preset sets (their flags default to the preset's value)."""
    base = TrainConfig()
    names = set()
    for name in PRESETS:
        cfg = preset_config(name, 1)
        names |= {f.name for f in dataclasses.fields(cfg) if getattr(cfg, f.name) != getattr(base, f.name)}
        names |= set(cfg.sched_args)
    return names


_PRESET_SET = _preset_settings()


def _plain_type(hint) -> type:
    """The flag type of an annotation: ``int | None`` -> int; ``int | str`` -> str (parsed from text)."""
    types = [t for t in typing.get_args(hint) if t is not type(None)] or [hint]
    return types[0] if len(types) == 1 else str


def _table_type(hint) -> type | None:
    """``X`` of a per-resolution table annotated ``Mapping[int, X] | None``; None for other annotations."""
    for t in (hint, *typing.get_args(hint)):
        if typing.get_origin(t) is Mapping:
            return typing.get_args(t)[1]
    return None


def _define(name: str, flag_type: type, default, help_text: str, parser: flags.ArgumentParser | None = None) -> None:
    """One flag of a setting. Its absl default is None: a flag not given leaves the preset's (or the run's) value."""
    if name in _PRESET_SET:
        help_text += " Default: the preset's."
    elif default not in (None, "", [], {}):
        help_text += f" Default: {str(default).lower() if isinstance(default, bool) else default}."
    if parser is not None:
        flags.DEFINE(parser, name, None, help_text, serializer=flags.ArgumentSerializer(), **_d)
    else:
        _DEFINE[flag_type](name, None, help_text, **_d)


def _arg_help(fn) -> dict[str, str]:
    """``{name: text}`` of the ``Args:`` section of a Google-style docstring."""
    docs, name = {}, None
    for line in inspect.getdoc(fn).split("Args:\n", 1)[1].splitlines():
        if not line.startswith("    "):
            break  # The next section.
        head, sep, text = line.strip().partition(": ")
        if not line.startswith("     ") and sep and head.isidentifier():
            name, docs[head] = head, text
        elif name:
            docs[name] += " " + line.strip()
    return docs


def _define_flags() -> tuple[list[str], list[str], dict]:
    """Defines a flag per :class:`TrainConfig` field and per ``training_schedule`` argument.

    Returns:
        The plain fields (the flag's value is the field's), the dict fields (``key=value``
        lists) and ``{schedule argument: value type of its resolution:value table, or None}``.
    """
    plain, dicts, hints = [], [], typing.get_type_hints(TrainConfig)
    for field in dataclasses.fields(TrainConfig):
        if not field.metadata["flag"]:
            continue
        flag_type = _plain_type(hints[field.name])
        default = field.default_factory() if field.default is dataclasses.MISSING else field.default
        parser = _VocabularyParser(field.name) if field.metadata["choices"] else None
        _define(field.name, flag_type, default, field.metadata["help"], parser)
        if flag_type is dict:
            dicts.append(field.name)
        elif field.name != "max_label_size":  # A number or 'full', parsed by resolve_config.
            plain.append(field.name)
    sched, hints, docs = {}, typing.get_type_hints(training_schedule), _arg_help(training_schedule)
    for name, default in SCHEDULE_ARGS.items():
        sched[name] = table = _table_type(hints[name])
        help_text = docs[name] + (" As resolution:value items, e.g. 4:128,8:64." if table else "")
        _define(name, list if table else _plain_type(hints[name]), default, help_text)
    return plain, dicts, sched


_PLAIN_FLAGS, _DICT_FLAGS, _SCHED_FLAGS = _define_flags()


def _literal(text: str):
    """A ``key=value`` value: a Python literal (``4``, ``0.5``, ``None``, ``'auto'``), ``true``/``false``, else the text."""
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
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
    base = _run_config() or TrainConfig()
    return tuple(FLAGS[name].value if FLAGS[name].present else getattr(base, name) for name in ("strategy", "tpu"))


def resolve_config(replicas: int):
    """The :class:`TrainConfig` the flags describe.

    The base is the preset (``--config``), or, when ``--resume`` points into a run directory
    and no ``--config`` is given, that run's saved configuration; then the recipe, then every
    flag given.
    """
    sched = {}
    for name, kind in _SCHED_FLAGS.items():
        value = _resolution_table(name, kind) if kind else FLAGS[name].value
        if value is not None:
            sched[name] = value
    num_gpus = FLAGS.num_gpus if FLAGS.num_gpus is not None else replicas
    run_config = _run_config()
    if run_config is not None:
        # Resuming a run: its own configuration, then the flags given now.
        cfg = run_config.replace(resume=None, resume_kimg=None, resume_time=0.0, resume_new_dir=False)
    else:
        cfg = preset_config(FLAGS.config, num_gpus, sched)
    changes = {}
    if FLAGS.recipe:
        recipe = dict(RECIPES[FLAGS.recipe])
        cfg.sched_args.update(recipe.pop("sched"))
        changes.update(recipe)
    for name in _PLAIN_FLAGS:
        if FLAGS[name].present:
            changes[name] = FLAGS[name].value
    # Dict flags extend the preset's (or recipe's) dicts; a different loss starts from its own defaults.
    for name in _DICT_FLAGS:
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
    from tfstylegan.training.checks import check_config
    from tfstylegan.training.training_set import dataset_info

    try:
        strategy_name, tpu = _strategy_args()
        strategy = distribute.make_strategy(strategy_name, tpu=tpu)
        replicas = distribute.num_replicas(strategy)
        cfg = resolve_config(replicas)
        checked = check_config(cfg, dataset_info(cfg), replicas)
        if FLAGS.dry_run:
            print(checked.to_json())
            return
        from tfstylegan.training.run_dir import checkpoint_dir
        from tfstylegan.training.trainer import Trainer

        trainer = Trainer(checked, strategy)
        run_dir = trainer.train()
    except ConfigError as e:
        raise app.UsageError(str(e)) from None
    if run_dir is None:
        return  # A finished run and no larger --total_kimg: the trainer said so.
    if not trainer.chief:
        print(f"\nWorker {trainer.worker} done; its checkpoints are in {checkpoint_dir(run_dir, trainer.worker)}")
        return
    print(
        f"\nOutputs in {run_dir}: reals.png and fakes<kimg>.png (image grids), network-final.pkl and "
        f"network-snapshot-<kimg>.pkl (original-style pickles), checkpoints/ (train on in this directory with "
        f"--resume={run_dir} --total_kimg=<more than {cfg.total_kimg:g}>), log.txt, config.json. "
        f"TensorBoard: tensorboard --logdir {run_dir}"
    )


def main(argv: Sequence[str] | None = None, prog: str = "tfstylegan-train") -> int:
    """Runs the tool on a command line (``argv[0]`` is the program name; None = ``sys.argv``).

    Returns:
        The exit status: 0 on success, 1 on a usage or input error (reported on stderr).
    """
    return run_tool(_main, FLAGS, argv, prog=prog, doc=__doc__, finite_floats=False)  # check_config bounds them.


if __name__ == "__main__":
    sys.exit(main())

__all__ = ["main", "resolve_config"]
