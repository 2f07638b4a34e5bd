"""The fuzz harness: seeded case generators, a guarded worker process, and outcome classes.

A generator is a module ``tests/fuzz/gen_<name>.py`` that calls :func:`register` once per
class of cases, with a function ``make(rng, workdir) -> Case``. :func:`run` draws the cases
(a seeded sample, or the full corpus), runs each in a worker process and classifies it:

- ``ok``: the probe returned (for ``expect='refuse'`` cases that is ``wrong``: a hostile or
  corrupt input was accepted silently);
- ``refused``: the probe raised a project error (:class:`LegacyPickleError`,
  :class:`DatasetError`) or a command line tool exited 1 with one ``error:`` line;
- ``exception``: anything else was raised (a failure);
- ``hang``: the case took longer than :data:`TIME_LIMIT` seconds (the worker is killed);
- ``memory``: the worker's resident memory grew by more than :data:`MEMORY_LIMIT` bytes, an
  allocation failed under the worker's address-space limit, or the worker was killed
  (SIGKILL, as the kernel's out-of-memory killer does);
- ``crash``: the worker died otherwise (a segmentation fault, an abort);
- ``code``: the case's canary file exists afterwards (code from the input was run).

``expect='load'`` cases (genuine inputs) must be ``ok``; a refusal is a failure too.

The worker imports TensorFlow once and runs the cases one after the other; a hang or a
death costs a new worker. Its peak memory is reset before each case (Linux
``/proc/self/clear_refs``), so the figure is that case's own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import io
import multiprocessing
import os
import pkgutil
import random
import resource
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

TIME_LIMIT = 10.0  # Seconds per case.
MEMORY_LIMIT = 1 << 30  # Bytes of resident memory a case may add.
ADDRESS_SPACE_SLACK = 4 << 30  # The worker's hard address-space limit, above its size at start.
CANARY = "CANARY"  # A file name in each case's folder that only executed input code creates.
FAILURES = ("wrong", "exception", "hang", "memory", "crash", "code")


@dataclasses.dataclass
class Case:
    """One input and the probe that feeds it to the project.

    Attributes:
        probe: Called with no arguments in the worker; returns or raises.
        expect: 'refuse' (the input is bad: accepting it is silently wrong), 'load' (the
            input is genuine: refusing it is a failure) or 'any'.
        note: What the case is, for the report.
    """

    probe: Callable[[], object]
    expect: str = "any"
    note: str = ""


@dataclasses.dataclass(frozen=True)
class Generator:
    name: str  # "<module>.<class>", e.g. "pickles.memo_bomb".
    make: Callable[[random.Random, Path], Case]
    sample: int  # Cases in the default (seeded) sample.
    full: int  # Cases in the full corpus.


GENERATORS: dict[str, Generator] = {}


def register(name: str, make: Callable[[random.Random, Path], Case], sample: int, full: int) -> None:
    """Adds a class of cases, named ``<generator>.<class>`` (e.g. ``pickles.memo_bomb``)."""
    if name in GENERATORS:
        raise ValueError(f"fuzz class {name!r} is registered twice")
    GENERATORS[name] = Generator(name, make, sample, full)


def load_generators() -> dict[str, Generator]:
    """Imports every ``gen_*.py`` module next to this one (each registers its classes)."""
    package = __name__.rsplit(".", 1)[0]
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("gen_"):
            importlib.import_module(f"{package}.{info.name}")
    return GENERATORS


@dataclasses.dataclass
class Result:
    generator: str
    index: int
    outcome: str
    seconds: float
    peak_bytes: int
    detail: str = ""
    note: str = ""


# ---------------------------------------------------------------------------------------
# The worker.


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _project_errors() -> tuple[type[BaseException], ...]:
    from tfstylegan.data.errors import DatasetError
    from tfstylegan.legacy.errors import LegacyPickleError

    return (LegacyPickleError, DatasetError)


class ToolExit(Exception):
    """A command line tool returned a status; raised by :func:`run_cli`."""

    def __init__(self, code: int, err: str):
        super().__init__(f"exit {code}: {err.strip()[-300:]}")
        self.code, self.err = code, err


def run_cli(main: Callable[[list[str]], int], argv: list[str]) -> None:
    """Runs a tool's ``main`` in-process; an exit 1 with one error line counts as a refusal."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    if code != 0:
        raise ToolExit(code, err.getvalue())


def _classify(case: Case, error: BaseException | None, project: tuple) -> tuple[str, str]:
    if error is None:
        return ("wrong" if case.expect == "refuse" else "ok"), ""
    detail = f"{type(error).__name__}: {str(error)[:300]}"
    if isinstance(error, ToolExit):
        lines = [ln for ln in error.err.splitlines() if "error:" in ln.lower()]
        clean = error.code == 1 and len(lines) == 1 and "Traceback" not in error.err
        outcome = "refused" if clean else "exception"
    elif isinstance(error, MemoryError):
        outcome = "memory"
    elif isinstance(error, project):
        outcome = "refused"
    else:
        outcome, detail = "exception", detail + "\n" + "".join(traceback.format_exception(error))[-2000:]
    if outcome == "refused" and case.expect == "load":
        outcome = "wrong"
    return outcome, detail


def _worker(conn, root: str) -> None:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.constant(0) + 1  # Start TensorFlow's runtime before measuring anything.
    generators = load_generators()
    project = _project_errors()
    limit = _status("VmSize") + ADDRESS_SPACE_SLACK
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    conn.send("ready")
    while True:
        message = conn.recv()
        if message is None:
            return
        name, index, seed = message
        workdir = Path(root) / f"{name}-{index}"
        workdir.mkdir(parents=True)
        start, error = time.perf_counter(), None
        with contextlib.suppress(OSError):
            Path("/proc/self/clear_refs").write_text("5")  # Reset the peak resident size.
        baseline = _status("VmRSS")
        try:
            case = generators[name].make(random.Random(seed), workdir)
            case.probe()
        except BaseException as e:  # noqa: BLE001 - classifying every outcome is the point.
            error = e
            case = locals().get("case") or Case(lambda: None, note="(the case could not be made)")
        outcome, detail = _classify(case, error, project)
        peak = max(_status("VmHWM") - baseline, 0)
        if (workdir / CANARY).exists():
            outcome, detail = "code", "the canary file was written"
        elif peak > MEMORY_LIMIT:
            outcome, detail = "memory", f"peak {peak >> 20} MiB above the start of the case; " + detail
        conn.send(Result(name, index, outcome, time.perf_counter() - start, peak, detail, case.note))
        shutil.rmtree(workdir, ignore_errors=True)


class _Pool:
    """One worker process, replaced when a case kills it or hangs."""

    def __init__(self, root: str):
        self.root, self.process, self.conn = root, None, None

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, self.root), daemon=True)
        self.process.start()
        if not self.conn.poll(300) or self.conn.recv() != "ready":
            raise RuntimeError("the fuzz worker did not start")

    def run(self, name: str, index: int, seed: int) -> Result:
        if self.process is None or not self.process.is_alive():
            self._start()
        start = time.perf_counter()
        self.conn.send((name, index, seed))
        try:
            ready = self.conn.poll(TIME_LIMIT)
            result = self.conn.recv() if ready else None
        except EOFError:
            result = None
        if result is not None:
            return result
        seconds = time.perf_counter() - start
        alive = self.process.is_alive()
        self.process.kill()
        self.process.join()
        code = self.process.exitcode
        self.process = None
        if alive:
            return Result(name, index, "hang", seconds, 0, f"no answer after {TIME_LIMIT:g} s")
        outcome = "memory" if code == -9 else "crash"
        return Result(name, index, outcome, seconds, 0, f"the worker died (exit code {code})")

    def close(self) -> None:
        if self.process is not None and self.process.is_alive():
            self.conn.send(None)
            self.process.join(10)
            if self.process.is_alive():
                self.process.kill()


def plan(full: bool, seed: int, only: str | None = None) -> list[tuple[str, int, int]]:
    """The ``(generator, index, case seed)`` triples of a run, in a fixed order."""
    cases = []
    for name, generator in sorted(load_generators().items()):
        if only and not name.startswith(only):
            continue
        for index in range(generator.full if full else generator.sample):
            cases.append((name, index, _case_seed(seed, name, index)))
    return cases


def _case_seed(seed: int, name: str, index: int) -> int:
    return random.Random(f"{seed}/{name}/{index}").getrandbits(31)


def run(
    full: bool = False, seed: int = 0, only: str | None = None, report: Callable[[Result], None] | None = None
) -> list[Result]:
    """Runs the sample (or the full corpus) and returns every result."""
    root = tempfile.mkdtemp(prefix="tfstylegan-fuzz-")
    pool = _Pool(root)
    results = []
    try:
        for name, index, case_seed in plan(full, seed, only):
            result = pool.run(name, index, case_seed)
            results.append(result)
            if report is not None:
                report(result)
    finally:
        pool.close()
        shutil.rmtree(root, ignore_errors=True)
    return results


def summary(results: list[Result]) -> str:
    """Counts per generator and outcome, slowest case and largest refusal, then the failures."""
    names = sorted({r.generator for r in results})
    outcomes = ("ok", "refused") + FAILURES
    lines = [f"{'class':32s} {'cases':>5s} " + " ".join(f"{o:>9s}" for o in outcomes) + "   max s  max MiB"]
    for name in names:
        mine = [r for r in results if r.generator == name]
        counts = " ".join(f"{sum(r.outcome == o for r in mine):9d}" for o in outcomes)
        lines.append(
            f"{name:32s} {len(mine):5d} {counts} {max(r.seconds for r in mine):7.2f} "
            f"{max(r.peak_bytes for r in mine) / 2**20:8.1f}"
        )
    totals = " ".join(f"{sum(r.outcome == o for r in results):9d}" for o in outcomes)
    lines.append(f"{'total':32s} {len(results):5d} {totals}")
    refused = [r for r in results if r.outcome == "refused"]
    if refused:
        slow = max(refused, key=lambda r: r.seconds)
        big = max(refused, key=lambda r: r.peak_bytes)
        lines.append(
            f"refusals: slowest {slow.seconds:.2f} s ({slow.generator} #{slow.index}), largest "
            f"{big.peak_bytes / 2**20:.1f} MiB above the case's start ({big.generator} #{big.index})"
        )
    for r in results:
        if r.outcome in FAILURES:
            lines.append(f"FAILED {r.generator} #{r.index} [{r.outcome}] {r.note}: {r.detail[:1500]}")
    return "\n".join(lines)
