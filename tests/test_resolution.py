"""The one power-of-two resolution check."""

import subprocess
import sys

import numpy as np
import pytest

from tfstylegan.resolution import MAX_RESOLUTION, resolution_log2


@pytest.mark.parametrize(
    ("value", "log2"), [(4, 2), (8, 3), (1024, 10), (2**20, 20), (np.int64(32), 5), (np.uint16(64), 6)]
)
def test_powers_of_two_give_their_log2(value, log2):
    result = resolution_log2(value)
    assert result == log2 and type(result) is int


@pytest.mark.parametrize("value", [0, 1, 2, 3, 5, 6, 12, 24, 48, 1000, -4, -8])
def test_other_integers_are_refused_with_the_value(value):
    with pytest.raises(ValueError, match=rf"^resolution must be a power of two >= 4, got {value}$"):
        resolution_log2(value)


@pytest.mark.parametrize(("value", "shown"), [(8.0, "8.0"), (True, "True"), ("8", "'8'"), (None, "None")])
def test_non_integers_are_refused(value, shown):
    with pytest.raises(ValueError, match=rf"^resolution must be a power of two >= 4, got {shown}$"):
        resolution_log2(value)


def test_the_message_names_what_and_the_minimum():
    with pytest.raises(ValueError, match=r"^--width must be a power of two, got 12$"):
        resolution_log2(12, "--width", minimum=1)
    with pytest.raises(ValueError, match=r"^--resize must be a power of two >= 8, got 4$"):
        resolution_log2(4, "--resize", minimum=8)
    assert [resolution_log2(v, minimum=1) for v in (1, 2, 4)] == [0, 1, 2]


def test_the_maximum_and_huge_values():
    assert resolution_log2(MAX_RESOLUTION, maximum=MAX_RESOLUTION) == 13
    with pytest.raises(ValueError, match=r"^resolution must be a power of two >= 4 and <= 8192, got 16384$"):
        resolution_log2(2 * MAX_RESOLUTION, maximum=MAX_RESOLUTION)
    with pytest.raises(
        ValueError, match=r"^resolution must be a power of two >= 4, got an integer of 16610 bits$"
    ):
        resolution_log2(10**5000 + 1)


def test_needs_no_tensorflow_or_numpy():
    code = (
        "import sys; from tfstylegan.resolution import MAX_RESOLUTION, resolution_log2; resolution_log2(8); "
        "print(sorted(m for m in ('tensorflow', 'keras', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout == "[]\n"
