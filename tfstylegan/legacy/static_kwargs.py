"""Bounds on the ``static_kwargs`` of a stored network, checked before the network is built.

A pickle's ``static_kwargs`` decide how large the network built from it is, and the
network is built before its variables are compared with the stored ones. So every
argument of ``G_style``, ``G_mapping``, ``G_synthesis`` and ``D_basic`` is checked
against :data:`KWARG_BOUNDS` first: the right type (a bool is a bool, an int an int, a
number finite), a value from the original's choices, sizes within sane maxima. Then
:func:`min_num_values` bounds the network from below, so that a pickle whose arguments
describe a network far larger than the values it stores is refused before anything is
allocated. Pure Python: no TensorFlow.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

from tfstylegan.legacy.bounds import short_repr
from tfstylegan.resolution import MAX_RESOLUTION, resolution_log2

MAX_FEATURES = 4096  # Latent, dlatent, mapping and feature-map widths (the original uses 512).
MAX_LABEL_SIZE = 100_000  # Label components (the dataset tool allows as many classes).


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _int(lo: int, hi: int) -> tuple[Callable[[Any], bool], str]:
    return (lambda v: _is_int(v) and lo <= v <= hi), f"an integer in [{lo}, {hi}]"


def _real(lo: float, hi: float) -> tuple[Callable[[Any], bool], str]:
    def check(v: Any) -> bool:
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            return False
        return lo <= v <= hi if isinstance(v, numbers.Integral) else math.isfinite(v) and lo <= v <= hi

    return check, f"a finite number in [{lo:g}, {hi:g}]"


def _choice(*choices: Any) -> tuple[Callable[[Any], bool], str]:
    def check(v: Any) -> bool:
        return any(type(v) is type(c) and v == c for c in choices)

    return check, "one of " + ", ".join(repr(c) for c in choices)


def _optional(bound: tuple[Callable[[Any], bool], str]) -> tuple[Callable[[Any], bool], str]:
    check, text = bound
    return (lambda v: v is None or check(v)), f"None or {text}"


def _resolution(v: Any) -> bool:
    if not _is_int(v):
        return False
    try:
        resolution_log2(v, maximum=MAX_RESOLUTION)
    except ValueError:
        return False
    return True


def _taps(v: Any) -> bool:
    real = _real(-1e6, 1e6)[0]
    return v is None or (isinstance(v, (list, tuple)) and 1 <= len(v) <= 16 and all(real(t) for t in v))


_BOOL = _choice(True, False)
_FRACTION = _optional(_real(0.0, 1.0))
_WIDTH = _int(1, MAX_FEATURES)
_NONLINEARITY = _choice("lrelu", "relu")

# Every keyword argument of G_style, G_mapping, G_synthesis and D_basic (and Keras' dtype
# and trainable): name -> (check, what the check accepts).
KWARG_BOUNDS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "resolution": (_resolution, f"a power of two in [4, {MAX_RESOLUTION}]"),
    "num_channels": _int(1, 16),
    "label_size": _int(0, MAX_LABEL_SIZE),
    "latent_size": _WIDTH,
    "dlatent_size": _WIDTH,
    "dlatent_broadcast": _optional(_int(1, 2 * (MAX_RESOLUTION.bit_length() - 1) - 2)),
    "mapping_layers": _int(1, 64),
    "mapping_fmaps": _WIDTH,
    "mapping_lrmul": _real(1e-6, 1e3),
    "mapping_nonlinearity": _NONLINEARITY,
    "normalize_latents": _BOOL,
    "fmap_base": _int(1, 1 << 16),
    "fmap_decay": _real(0.0, 16.0),
    "fmap_max": _WIDTH,
    "use_styles": _BOOL,
    "const_input_layer": _BOOL,
    "use_noise": _BOOL,
    "randomize_noise": _BOOL,
    "nonlinearity": _NONLINEARITY,
    "use_wscale": _BOOL,
    "use_pixel_norm": _BOOL,
    "use_instance_norm": _BOOL,
    "fused_scale": _choice("auto", True, False),
    "blur_filter": (_taps, "None or a list of 1 to 16 finite numbers"),
    "structure": _choice("auto", "fixed", "linear", "recursive"),
    "truncation_psi": _optional(_real(-100.0, 100.0)),
    "truncation_cutoff": _optional(_int(-1000, 1000)),
    "truncation_psi_val": _optional(_real(-100.0, 100.0)),
    "truncation_cutoff_val": _optional(_int(-1000, 1000)),
    "dlatent_avg_beta": _FRACTION,
    "style_mixing_prob": _FRACTION,
    "mbstd_group_size": _int(0, 1024),
    "mbstd_num_features": _int(1, 64),
    "dtype": _choice("float32", "float16"),
    "trainable": _BOOL,
}


def check_static_kwargs(kwargs: Mapping[str, Any]) -> None:
    """Checks each argument that :data:`KWARG_BOUNDS` knows; unknown names are left to the network.

    Raises:
        ValueError: an argument is out of bounds (the message names it and its bound).
    """
    for name, value in kwargs.items():
        bound = KWARG_BOUNDS.get(name)
        if bound is not None and not bound[0](value):
            raise ValueError(f"static_kwargs[{name!r}] is {short_repr(value)}; expected {bound[1]}")


def _nf(cfg: Mapping[str, Any]) -> Callable[[int], int]:
    base, decay, top = cfg["fmap_base"], cfg["fmap_decay"], cfg["fmap_max"]
    return lambda stage: max(min(int(base / 2.0 ** (stage * decay)), top), 0)


def min_num_values(build_func_name: str, cfg: Mapping[str, Any]) -> int:
    """A lower bound on the number of stored values of a network, from its resolved arguments.

    Counts the largest variables only (convolution and dense weights, noise inputs), so it
    never exceeds the true count. The arguments must have passed :func:`check_static_kwargs`.

    Args:
        build_func_name: ``G_style`` (mapping and synthesis included) or ``D_basic``.
        cfg: Every argument of that network, defaults filled in.
    """
    nf, log2 = _nf(cfg), resolution_log2(cfg["resolution"])
    total = 0
    if build_func_name == "D_basic":
        for res in range(3, log2 + 1):
            total += 9 * nf(res - 1) * (nf(res - 1) + nf(res - 2))  # Conv0, Conv1_down
        return total + 9 * nf(1) * nf(1) + 16 * nf(1) * nf(0)  # 4x4 Conv, Dense0
    latent = cfg["latent_size"] * (2 if cfg["label_size"] else 1)
    widths = [latent] + [cfg["mapping_fmaps"]] * (cfg["mapping_layers"] - 1) + [cfg["dlatent_size"]]
    total += sum(a * b for a, b in zip(widths, widths[1:]))  # Mapping Dense layers
    total += 9 * nf(1) * nf(1)  # 4x4 Conv
    for res in range(3, log2 + 1):
        total += 9 * nf(res - 1) * (nf(res - 2) + nf(res - 1))  # Conv0_up, Conv1
    if cfg["use_noise"]:
        total += sum(2 * 4**res for res in range(2, log2 + 1))  # Two noise inputs per resolution
    return total
