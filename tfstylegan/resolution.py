"""The one power-of-two resolution check (networks, schedules, dataset levels, tools).

Pure Python, without TensorFlow or numpy, so the legacy pickle reader can use it too.
"""

from __future__ import annotations

import numbers

MAX_RESOLUTION = 2**13  # The largest resolution a network read from a file may have (8192x8192).


def resolution_log2(value, what: str = "resolution", minimum: int = 4, maximum: int | None = None) -> int:
    """log2 of a power-of-two resolution, with an error naming ``what`` otherwise.

    Args:
        value: The resolution: a Python or numpy integer (a bool or a float is refused).
        what: How the error message names the value (e.g. ``"resolution"``, ``"--width"``).
        minimum: The smallest accepted resolution, a power of two (4 = the networks' 4x4
            base; 1 = any power of two).
        maximum: The largest accepted resolution, None = no limit.

    Returns:
        ``log2(value)`` as an int.

    Raises:
        ValueError: ``value`` is not an integer power of two in ``[minimum, maximum]``.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)
        if value >= minimum and value & (value - 1) == 0 and (maximum is None or value <= maximum):
            return value.bit_length() - 1
    at_least = f" >= {minimum}" if minimum > 1 else ""
    at_most = f"{' and' if at_least else ''} <= {maximum}" if maximum is not None else ""
    if isinstance(value, int) and value.bit_length() > 64:
        shown = f"an integer of {value.bit_length()} bits"
    else:
        shown = value if isinstance(value, int) else repr(value)[:40]
    raise ValueError(f"{what} must be a power of two{at_least}{at_most}, got {shown}")
