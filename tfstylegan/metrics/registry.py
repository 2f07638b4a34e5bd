"""Every metric by name: ``fid50k``, ``ppl_wend``, ``swd16k`` and their variants.

:func:`get_metric` turns a name into a metric object with ``name``, ``needs`` (the
:class:`~tfstylegan.metrics.base.MetricContext` fields it cannot do without beyond the
generator and data: ``"features"`` for FID, ``"distance"`` for PPL) and
``compute(ctx) -> {key: value}``.

Names:

- ``fid50k`` (the paper's), ``fid<N>k`` (N thousand images), ``fid<N>``;
- ``ppl_zfull``, ``ppl_wfull``, ``ppl_zend``, ``ppl_wend`` (100,000 samples), optionally
  with a sample count (``ppl_wend10k``, ``ppl_zfull500``);
- ``swd16k`` (ProGAN's 16384 images), ``swd<N>k`` (N x 1024 images), ``swd<N>``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from tfstylegan.metrics.fid import fid_from_name
from tfstylegan.metrics.ppl import ppl_from_name
from tfstylegan.metrics.swd import swd_from_name

KNOWN_METRICS = (
    "fid50k, fid<N>k, fid<N> (e.g. fid10k, fid500); ppl_zfull, ppl_wfull, ppl_zend, ppl_wend "
    "(optionally with a sample count: ppl_wend10k); swd16k, swd<N>k (N x 1024 images), swd<N>"
)

DEFAULT_SNAPSHOT_METRIC = "swd1k"
"""A metric that needs no weights file: what a training run can always report at its snapshots."""

_FAMILIES = (fid_from_name, ppl_from_name, swd_from_name)


def get_metric(name: str) -> Any:
    """The metric called ``name`` (see the module docstring).

    Raises:
        ValueError: an unknown name, or a known form with an impossible count.
    """
    for family in _FAMILIES:
        metric = family(name)
        if metric is not None:
            return metric
    raise ValueError(f"unknown metric {name!r}; known: {KNOWN_METRICS}")


def get_metrics(names: Sequence[str]) -> list[Any]:
    """:func:`get_metric` of each name; duplicates are an error."""
    duplicates = sorted({n for n in names if list(names).count(n) > 1})
    if duplicates:
        raise ValueError(f"metric(s) {duplicates} listed twice")
    return [get_metric(name) for name in names]


def metric_needs(metrics: Iterable[Any]) -> set[str]:
    """The feature networks a list of metrics needs: a subset of ``{"features", "distance"}``."""
    return {need for metric in metrics for need in metric.needs}


__all__ = ["DEFAULT_SNAPSHOT_METRIC", "KNOWN_METRICS", "get_metric", "get_metrics", "metric_needs"]
