"""What the generate tool's modes share: the network, truncation and label flags, and their parsing.

Each mode (seed images and figures, ``edit``, ``video``) has its own ``absl.flags.FlagValues``
(see :mod:`tfstylegan.cli._runner`). :func:`define_network_flags` defines the flags they have
in common on one of them; the parsers read a flag and report a bad value as a usage error
that names it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from absl import flags

from tfstylegan.cli._runner import usage_error

PSI_HELP = "Truncation psi of the seeds' W; 1 disables. Default: the network's configured value (0.7)."
CUTOFF_HELP = "Number of layers truncated, from the coarsest. Default: the network's configured value (8)."


def define_network_flags(fv: flags.FlagValues, psi_help: str = PSI_HELP, cutoff_help: str = CUTOFF_HELP) -> None:
    """``--network`` (required), ``--truncation_psi``, ``--truncation_cutoff``, ``--class_idx``, ``--labels``."""
    d = dict(flag_values=fv)
    flags.DEFINE_string("network", None, "Network pickle, .keras file or training run directory.", **d)
    flags.DEFINE_float("truncation_psi", None, psi_help, **d)
    flags.DEFINE_integer("truncation_cutoff", None, cutoff_help, lower_bound=0, **d)
    flags.DEFINE_integer("class_idx", None, "Class of a conditional network, as a one-hot label.", lower_bound=0, **d)
    flags.DEFINE_list("labels", None, "Label of a conditional network as label_size comma-separated numbers.", **d)
    flags.mark_flag_as_required("network", flag_values=fv)


def seeds(fv: flags.FlagValues, flag: str, default: Sequence[int] | None = None) -> list[int] | None:
    """The seeds of ``--<flag>`` (``0-99,200``), ``default`` when it is not given."""
    from tfstylegan.generation import parse_seeds

    spec = fv[flag].value
    if spec is None:
        return None if default is None else list(default)
    try:
        return parse_seeds(spec)
    except ValueError as e:
        raise usage_error(flag, str(e)) from None


def numbers(fv: flags.FlagValues, flag: str, kind: type = float) -> list | None:
    """The comma-separated numbers of a list flag (None when not given); ``nan`` and ``inf`` are refused."""
    values = fv[flag].value
    if values is None:
        return None
    try:
        numbers = [kind(v) for v in values]
    except ValueError:
        numbers = None
    if numbers is None or not all(math.isfinite(n) for n in numbers):
        what = "integers" if kind is int else "finite numbers"
        raise usage_error(flag, f"expected comma-separated {what}, got {','.join(values)!r}")
    return numbers


def label(fv: flags.FlagValues, Gs):
    """The label vector of ``--class_idx`` / ``--labels``, checked against the network (None without labels)."""
    from tfstylegan.generation import one_hot

    label_size = Gs.cfg.label_size
    class_idx, labels = fv["class_idx"].value, numbers(fv, "labels")
    if class_idx is not None and labels is not None:
        raise usage_error("class_idx", "give --class_idx or --labels, not both")
    if label_size == 0:
        if class_idx is not None or labels is not None:
            flag = "class_idx" if class_idx is not None else "labels"
            raise usage_error(flag, "the network is unconditional (label_size=0); it takes no label")
        return None
    if class_idx is not None:
        if class_idx >= label_size:
            raise usage_error("class_idx", f"{class_idx} is out of range; the network has {label_size} classes")
        return one_hot(class_idx, label_size)
    if labels is not None:
        if len(labels) != label_size:
            raise usage_error("labels", f"the network needs {label_size} label values, got {len(labels)}")
        import numpy as np

        return np.asarray(labels, np.float32)
    raise usage_error(
        "class_idx", f"the network is conditional (label_size={label_size}); give --class_idx or --labels"
    )


def layers(fv: flags.FlagValues, flag: str, num_layers: int) -> list[int] | None:
    """The layer indices of a list of ranges (``coarse``, ``middle``, ``fine``, ``A-B``, ``A-``, ``A``).

    Named ranges are clipped to the network; a layer number beyond it is an error, and
    so is a list that selects no layer.
    """
    from tfstylegan.figures import parse_layer_range

    specs = fv[flag].value
    if specs is None:
        return None
    chosen: set[int] = set()
    for spec in specs:
        try:
            chosen.update(parse_layer_range(spec, num_layers))
        except ValueError as e:
            raise usage_error(flag, str(e)) from None
        numbers_given = [int(n) for n in re.findall(r"\d+", spec)]
        if numbers_given and max(numbers_given) >= num_layers:
            raise usage_error(
                flag, f"layer {max(numbers_given)} is out of range; the network has layers 0-{num_layers - 1}"
            )
    if not chosen:
        raise usage_error(flag, f"{','.join(specs)} selects none of the network's layers 0-{num_layers - 1}")
    return sorted(chosen)


__all__ = ["define_network_flags", "label", "layers", "numbers", "seeds"]
