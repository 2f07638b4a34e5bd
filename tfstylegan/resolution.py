"""The one check of a power-of-two resolution (networks, schedules, dataset levels, tools).

Pure Python, without TensorFlow or numpy, so the legacy pickle reader can use it too.
"""

from __future__ import annotations

import numbers


def resolution_log2(value, what: str = "resolution", minimum: int = 4) -> int:
    """log2 of a power-of-two resolution, with an error naming ``what`` otherwise.

    Args:
        value: The resolution: a Python or numpy integer (a bool or a float is refused).
        what: How the error message names the value (e.g. ``"resolution"``, ``"--width"``).
        minimum: The smallest accepted resolution, a power of two (4 = the networks' 4x4
            base; 1 = any power of two).

    Returns:
        ``log2(value)`` as an int.

    Raises:
        ValueError: ``value`` is not an integer power of two >= ``minimum``.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = int(value)
        if value >= minimum and value & (value - 1) == 0:
            return value.bit_length() - 1
    at_least = f" >= {minimum}" if minimum > 1 else ""
    shown = value if isinstance(value, int) else repr(value)
    raise ValueError(f"{what} must be a power of two{at_least}, got {shown}")
