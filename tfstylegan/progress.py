"""Progress of long loops (metric images, video frames, projection steps), and durations as text.

A :class:`ProgressBar` reports ``label done/total rate/s ETA time-left`` to one of two sinks:

- a stream (stderr by default): on a terminal it redraws one line,
  ``frames [#########.....] 120/600 14.2/s ETA 34s``; elsewhere (a log file, CI) carriage
  returns would pile up, so it writes plain lines instead, one per tenth of the work
  (``lines`` sets how many);
- a ``log`` callable (the metrics give ``absl.logging.info``): a line at most every
  ``interval`` seconds, the first after one interval and none at the end, so short work is silent.

:func:`format_time` writes every duration the package reports (ETAs, tick lines, metric lines).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np

Progress = Callable[[int, int], None]  # progress(done, total)


def format_time(seconds: float) -> str:
    """``12s``, ``3m 04s``, ``2h 05m 10s``, ``1d 02h 03m`` (as the original's reports)."""
    s = int(np.rint(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h {(s // 60) % 60:02d}m {s % 60:02d}s"
    return f"{s // 86400}d {(s // 3600) % 24:02d}h {(s // 60) % 60:02d}m"


class ProgressBar:
    """A progress report; call it as ``bar(done, total, note)``, or count with ``bar.update(count)``.

    Args:
        label: What is counted, e.g. ``"frames"``, ``"steps"`` or ``"fid50k fakes"``.
        stream: Where the bar goes; None = ``sys.stderr``. Unused with ``log``.
        lines: Outside a terminal, the number of lines over the whole work.
        log: Takes whole lines instead of a stream; None = the stream.
        interval: With ``log``: the seconds between lines.
        total: The count at which the work is done, for :meth:`update`.
    """

    def __init__(
        self,
        label: str = "frames",
        stream=None,
        lines: int = 10,
        *,
        log: Callable[[str], None] | None = None,
        interval: float = 30.0,
        total: int = 0,
    ):
        self.label, self.stream, self.lines = label, stream or sys.stderr, max(int(lines), 1)
        self.log, self.interval, self.total = log, float(interval), int(total)
        self.done, self.shown = 0, -1
        self.start = self.last = time.perf_counter()

    def line(self, done: int, total: int, now: float | None = None) -> str:
        """``done/total``, the rate and the time left, e.g. ``120/600 14.2/s ETA 34s``."""
        rate = done / max((time.perf_counter() if now is None else now) - self.start, 1e-9)
        eta = format_time((total - done) / rate) if rate > 0 else "unknown"
        return f"{done}/{total} {rate:.1f}/s ETA {eta}"

    def __call__(self, done: int, total: int, note: str = "") -> None:
        """Show ``done`` of ``total``, the rate, the time left and ``note`` (e.g. the loss)."""
        self.done, self.total, now = done, total, time.perf_counter()
        line = self.line(done, total, now) + (f" {note}" if note else "")
        if self.log is not None:
            if now - self.last >= self.interval and done < total:
                self.last = now
                self.log(f"{self.label} {line}")
            return
        if self.stream.isatty():
            filled = int(30 * done / max(total, 1))
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {line}{end}")
        elif done * self.lines // max(total, 1) > self.shown:
            self.shown = done * self.lines // max(total, 1)
            self.stream.write(f"{self.label} {line}\n")
        self.stream.flush()

    def update(self, count: int) -> None:
        """Adds ``count`` to the work done (at most ``total``) and shows it."""
        self(min(self.done + int(count), self.total), self.total)


def progress_callback(progress: bool | Progress | None, label: str = "frames") -> Progress:
    """``True`` = a :class:`ProgressBar`; a callable = itself; False or None = no report."""
    if progress is True:
        return ProgressBar(label)
    return progress or (lambda done, total: None)


__all__ = ["Progress", "ProgressBar", "format_time", "progress_callback"]
