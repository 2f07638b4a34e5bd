"""A progress bar for long loops of the tools (video frames, projection steps).

On a terminal it redraws one line: ``frames [#########.....] 120/600 14.2/s ETA 34 s``.
Elsewhere (a log file, CI) carriage returns would pile up, so it writes plain lines
instead, one per tenth of the work (``lines`` sets how many).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

Progress = Callable[[int, int], None]  # progress(done, total)


class ProgressBar:
    """A one-line progress bar on a stream (stderr by default); call it as ``bar(done, total, note)``.

    Args:
        label: What is counted, e.g. ``"frames"`` or ``"steps"``.
        stream: Where the bar goes; None = ``sys.stderr``.
        lines: Outside a terminal, the number of lines over the whole work.
    """

    def __init__(self, label: str = "frames", stream=None, lines: int = 10):
        self.label, self.stream, self.lines = label, stream or sys.stderr, max(int(lines), 1)
        self.start, self.shown = time.perf_counter(), -1

    def __call__(self, done: int, total: int, note: str = "") -> None:
        """Show ``done`` of ``total``, the rate, the time left and ``note`` (e.g. the loss)."""
        rate = done / max(time.perf_counter() - self.start, 1e-9)
        line = f"{done}/{total} {rate:.1f}/s ETA {(total - done) / max(rate, 1e-9):.0f} s"
        line += f" {note}" if note else ""
        if self.stream.isatty():
            filled = int(30 * done / max(total, 1))
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {line}{end}")
        elif done * self.lines // max(total, 1) > self.shown:
            self.shown = done * self.lines // max(total, 1)
            self.stream.write(f"{self.label} {line}\n")
        self.stream.flush()


def progress_callback(progress: bool | Progress | None, label: str = "frames") -> Progress:
    """``True`` = a :class:`ProgressBar`; a callable = itself; False or None = no report."""
    if progress is True:
        return ProgressBar(label)
    return progress or (lambda done, total: None)


__all__ = ["Progress", "ProgressBar", "progress_callback"]
