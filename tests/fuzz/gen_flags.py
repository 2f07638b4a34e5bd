"""Bad command lines, each run in-process by its tool: train.py (with --dry_run), generate, convert, ...

Every case is a set of flags one of which is wrong (a value out of range, non-finite, of the
wrong type, an output that cannot be written, an input that cannot be read). The tool must
exit non-zero with one error line that names the flag (absl's usage error adds a second
line pointing at --help; argparse's a usage line above it), never a traceback, never a hang.
The probe raises :class:`~.harness.ToolExit` when that holds (a refusal) and an
AssertionError when the tool failed in another way; a tool that accepts the line is
``wrong``.

The cases are tables, not draws: case ``i`` of a class is entry ``i`` of its table (the
harness names the case's folder ``<class>-<i>``), so the full corpus runs every entry once
and the sample the first few.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import numpy as np

from .flag_cases import CONVERT, DATASET_TOOL, EDIT, GENERATE, METRICS, PROJECT, TRAIN, VIDEO
from .harness import Case, ToolExit, register

DATA = Path(__file__).resolve().parents[1] / "data" / "small"
PKL = str(DATA / "network.pkl")
DATASET = str(DATA / "dataset" / "rgb32")

# Placeholders in a table entry, replaced by paths in the case's folder.
_FILES = {
    "{file}": "file",  # A regular file where a folder or a new file is expected.
    "{dir}": "adir",  # An existing, empty folder.
    "{trunc}": "trunc.pkl",  # The first half of the network pickle.
    "{png}": "target.png",  # A 32x32 RGB image.
    "{dir_npy}": "direction.npy",  # A [32] editing direction.
    "{ds}": "ds",  # A copy of a small dataset.
}


def _tool(name: str):
    """``(main(argv) -> status, the base flags)`` of a tool."""
    from tfstylegan.cli import calc_metrics, convert, dataset_tool, generate, project
    from tfstylegan.cli import train as train_cli

    network = [f"--network={PKL}"]
    return {
        "train": (lambda a: train_cli.main(["train.py", *a], prog="train.py"), ["--dry_run", "--result_dir={dir}/r"]),
        "generate": (lambda a: generate.main(["tfstylegan-generate", *a]), [*network, "--seeds=0", "--outdir={dir}/o"]),
        "edit": (
            lambda a: generate.main(["tfstylegan-generate", "edit", *a]),
            [*network, "--seeds=0", "--direction={dir_npy}", "--outdir={dir}/o"],
        ),
        "video": (
            lambda a: generate.main(["tfstylegan-generate", "video", *a]),
            [*network, "--seeds=1-2", "--out={dir}/v.gif"],
        ),
        "convert": (lambda a: convert.main(["tfstylegan-convert", *a]), network),
        "metrics": (
            lambda a: calc_metrics.main(["tfstylegan-calc-metrics", *a]),
            [*network, f"--data_dir={DATASET}", "--metrics=swd1k"],
        ),
        "project": (lambda a: project.main(["tfstylegan-project", *a]), [*network, "--target={png}", "--outdir={dir}/o"]),
        "dataset_tool": (dataset_tool.main, []),
    }[name]


def _files(workdir: Path) -> dict[str, str]:
    """The placeholder paths of a case, made in its folder."""
    from tfstylegan.images import write_png

    made = {key: str(workdir / name) for key, name in _FILES.items()}
    (workdir / "file").write_text("x")
    (workdir / "adir").mkdir()
    data = Path(PKL).read_bytes()
    (workdir / "trunc.pkl").write_bytes(data[: len(data) // 2])
    write_png(made["{png}"], np.full([32, 32, 3], 128, np.uint8))
    np.save(made["{dir_npy}"], np.ones([32], np.float32))
    shutil.copytree(DATASET, made["{ds}"])
    return made


def _fill(args: list[str], files: dict[str, str]) -> list[str]:
    out = []
    for arg in args:
        for key, path in files.items():
            arg = arg.replace(key, path)
        out.append(arg)
    return out


def _merge(base: list[str], bad: list[str]) -> list[str]:
    """The base flags, minus those the case sets itself, then the case's."""
    given = {arg.split("=", 1)[0] for arg in bad}
    return [arg for arg in base if arg.split("=", 1)[0] not in given] + bad


def _probe(tool: str, expected: str, bad: list[str], workdir: Path):
    def probe():
        files = _files(workdir)
        main, base = _tool(tool)
        argv = _fill(_merge(base, bad), files)
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                code = main(argv)
            except SystemExit as e:  # argparse's usage error.
                code = e.code
        text = err.getvalue()
        if code == 0:
            return
        lines = [line for line in text.splitlines() if "error:" in line.lower()]
        want = _fill([expected], files)[0]
        if code is None or "Traceback" in text or len(lines) != 1 or want not in lines[0]:
            raise AssertionError(f"exit {code}, expected one error line naming {want!r}; stderr:\n{text[-1500:]}")
        raise ToolExit(1, lines[0])

    return probe


def _table_case(tool: str, table: list):
    def make(rng, workdir: Path) -> Case:
        index = int(workdir.name.rsplit("-", 1)[1])  # The harness names the folder <class>-<index>.
        expected, bad = table[index % len(table)]
        return Case(_probe(tool, expected, bad, workdir), "refuse", f"{tool} {' '.join(bad)[:120]}")

    return make


for _tool_name, _table, _sample in [
    ("train", TRAIN, 4),
    ("generate", GENERATE, 3),
    ("edit", EDIT, 1),
    ("video", VIDEO, 1),
    ("convert", CONVERT, 2),
    ("metrics", METRICS, 1),
    ("project", PROJECT, 1),
    ("dataset_tool", DATASET_TOOL, 2),
]:
    register(f"flags.{_tool_name}", _table_case(_tool_name, _table), _sample, len(_table))
