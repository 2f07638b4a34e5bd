"""What the command-line tools share: flag parsing, usage errors and exit codes.

Each tool defines its flags on its own ``absl.flags.FlagValues`` rather than the global
``FLAGS``, because the tools share flag names (``--network``, ``--truncation_psi``,
``--data_dir``) and must coexist in one process: the training loop imports the metric
runner, and the tests drive every tool in-process. :func:`run_tool` plays the part of
``absl.app.run``: ``--help``, parsing, and turning user errors (``app.UsageError``, bad
flag values, unreadable inputs, refused pickles, bad datasets) into one
``<tool>: error: ...`` line on stderr and exit status 1, without a traceback.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence

from absl import app, flags

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Quiet C++ logs unless asked; TensorFlow loads later.

_HELP = ("--help", "-h", "--helpshort", "--helpfull", "-?")
MAX_BATCH = 1024  # Images per network call a batch-size flag may ask for (it is allocated at once).


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that describe a problem with the user's inputs, not a bug."""
    from tfstylegan.data.tfrecords import DatasetError
    from tfstylegan.legacy import LegacyPickleError  # ConversionError, PickleBoundsError, ... too.
    from tfstylegan.loading import NetworkSourceError
    from tfstylegan.metrics.base import WeightsFileError
    from tfstylegan.training.guard import TrainingDiverged

    return (
        app.UsageError,
        flags.Error,
        NetworkSourceError,
        LegacyPickleError,
        WeightsFileError,
        DatasetError,
        TrainingDiverged,
    )


def run_tool(
    main: Callable[[list[str]], None],
    flag_values: flags.FlagValues,
    argv: Sequence[str] | None,
    *,
    prog: str,
    doc: str,
    finite_floats: bool = True,
) -> int:
    """Parse ``argv`` into ``flag_values`` and run ``main(remaining_args)``.

    Args:
        main: The tool; raises ``app.UsageError`` (or another user error) on bad input.
        flag_values: The tool's flags; reset to their defaults before parsing.
        argv: Command line including the program name; None = ``sys.argv``.
        prog: Program name for messages.
        doc: Usage text printed by ``--help`` before the flags.
        finite_floats: refuse ``nan`` and ``inf`` in every float flag (False: the tool
            checks its numbers itself, as train.py's configuration check does).

    Returns:
        The exit status: 0 on success, 1 on a user error.
    """
    argv = list(sys.argv if argv is None else argv)
    if any(arg in _HELP for arg in argv[1:]):
        print(doc.strip() + "\n\nFlags:\n" + flag_values.get_help(include_special_flags=False))
        return 0
    flag_values.unparse_flags()
    try:
        rest = flag_values(argv)
        if finite_floats:
            _check_finite(flag_values)
        main(rest)
    except _user_errors() as e:
        message = " ".join(str(e).split()) or type(e).__name__  # One line, whatever the error holds.
        if isinstance(e, flags.CantOpenFlagFileError):  # absl says "ERROR:: Unable to open flagfile: ...".
            message = "--flagfile: cannot open the flag file: " + message.split("flagfile: ", 1)[-1]
        print(f"{prog}: error: {message}", file=sys.stderr)
        if isinstance(e, (app.UsageError, flags.Error)):
            print(f"Run '{prog} --help' for the flags.", file=sys.stderr)
        return 1
    return 0


def _check_finite(flag_values: flags.FlagValues) -> None:
    """Refuses ``nan`` and ``inf`` in every float flag: no tool has a use for them."""
    for name in flag_values:
        value = flag_values[name].value
        if isinstance(value, float) and not math.isfinite(value):
            raise usage_error(name, f"{value} is not a finite number")


def usage_error(flag: str, message: str) -> app.UsageError:
    """An ``app.UsageError`` whose text starts with the flag it is about."""
    return app.UsageError(f"--{flag}: {message}")


def make_output_dir(path: str, flag: str = "outdir") -> str:
    """Create the folder ``path`` (and its parents) for a tool's outputs and return it.

    ``path`` may be on any file system TensorFlow reads (``gs://...``). A path that is a
    file, lies below a file or cannot be created is a usage error of ``flag``.
    """
    from tfstylegan.paths import PathError
    from tfstylegan.paths import make_output_dir as make_dir

    try:
        return make_dir(path)
    except PathError as e:
        raise usage_error(flag, str(e)) from None


def check_output_flag(flag: str, path: str, kind: str = "dir") -> None:
    """:func:`tfstylegan.paths.check_output_path` of a flag's value, reported as a usage error of ``flag``.

    Args:
        flag: the flag's name.
        path: its value.
        kind: ``'dir'`` (written into; created with its parents) or ``'file'``.
    """
    from tfstylegan.paths import PathError, check_output_path

    try:
        check_output_path(path, kind)
    except PathError as e:
        raise usage_error(flag, str(e)) from None


def load_networks_from_flag(source: str, flag: str = "network"):
    """:func:`tfstylegan.loading.load_networks`, reporting a bad source as a usage error of ``flag``."""
    from tfstylegan.legacy import LegacyPickleError
    from tfstylegan.loading import NetworkSourceError, load_networks

    try:
        return load_networks(source)
    except (NetworkSourceError, LegacyPickleError) as e:
        raise usage_error(flag, str(e)) from None


__all__ = [
    "MAX_BATCH",
    "check_output_flag",
    "load_networks_from_flag",
    "make_output_dir",
    "run_tool",
    "usage_error",
]
