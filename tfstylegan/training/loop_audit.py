"""The host side of a training loop: values pulled into Python, and retraced step functions.

:class:`HostSyncCounter` counts the values pulled from TensorFlow into Python
(``.numpy()``, ``int()``, ``float()``, ``bool()``, ``operator.index()``, formatting or
printing of an eager tensor or variable: all of them read the value through one method,
which the counter wraps; ``np.asarray(tensor)`` reads through the buffer protocol
without a Python call and is not seen). Each pull waits until the device has
computed the value, so a training loop should pull rarely: the original's loop reads
its losses once per tick. :func:`audit_training_loop` runs a training run under the
counter and also counts how often each step function was traced, per phase and
resolution (a retrace costs seconds, or minutes with XLA on a large network).
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import os
import re
import sys

import tensorflow as tf


class HostSyncCounter:
    """Counts values pulled from TensorFlow into Python while active (a context manager).

    Every pull (``.numpy()``, ``int()``, ``float()``, ``bool()``, ``operator.index()``,
    formatting, printing) of an eager tensor, and so of a variable, goes through
    ``EagerTensor._numpy``; the counter wraps it. (``np.asarray`` of an eager tensor uses
    the buffer protocol, which no Python method sees.) TensorFlow's own reads of constants it
    has just made from Python values (``tensor_util.constant_value``, e.g. the batch size
    of a new ``tf.data`` pipeline) wait for no device work and are counted apart.

    Attributes:
        events: ``(marker, site)`` per pull: the value of :attr:`marker` at the time
            (callers advance it, e.g. once per training step) and the first frame outside
            TensorFlow and Keras (``file:line function``) that asked for the value.
        constant_reads: ``(marker, site)`` of TensorFlow's constant reads.
        marker: set by the caller; recorded with each pull.
    """

    def __init__(self):
        self.events: list[tuple[int, str]] = []
        self.constant_reads: list[tuple[int, str]] = []
        self.marker = 0
        self._cls = next(c for c in type(tf.constant(0.0)).__mro__ if "_numpy" in vars(c))
        self._original = None

    def __enter__(self) -> HostSyncCounter:
        original = self._original = self._cls._numpy
        counter = self

        def _numpy(tensor):
            site, constant = _caller()
            (counter.constant_reads if constant else counter.events).append((counter.marker, site))
            return original(tensor)

        self._cls._numpy = _numpy
        return self

    def __exit__(self, *exc) -> None:
        self._cls._numpy = self._original


def _caller() -> tuple[str, bool]:
    """``(site, constant)``: ``file:line function`` of the first frame outside TensorFlow,
    Keras and this module, and whether the pull is TensorFlow's ``constant_value``."""
    import keras

    skip = tuple(os.path.dirname(m.__file__) + os.sep for m in (tf, keras, logging)) + (__file__,)
    frame, constant = sys._getframe(2), False
    while frame is not None and frame.f_code.co_filename.startswith(skip):
        constant |= frame.f_code.co_name == "constant_value" and frame.f_code.co_filename.endswith("tensor_util.py")
        frame = frame.f_back
    if frame is None:
        return "?", constant
    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno} {frame.f_code.co_name}", constant


# ---------------------------------------------------------------------------------- the loop

_TICK_LINE = re.compile(r"^(worker \d+: )?tick \d+")


@dataclasses.dataclass
class LoopAudit:
    """Traces and host syncs of one training run.

    Attributes:
        traces: ``(phase, resolution) -> traces`` of the D and G step functions.
        groups: per minibatch group, the sites of its host syncs (from the group's first
            D step to the next group's first one, so a tick's work belongs to the group it ends).
        tick_groups: the groups that ended with a tick (report, snapshots, checkpoint).
        before_loop: the host syncs before the first D step (setup, initial snapshot).
        constant_reads: how many of TensorFlow's own constant reads the run made (not syncs).
    """

    traces: collections.Counter
    groups: list[list[str]]
    tick_groups: set[int]
    before_loop: list[str]
    constant_reads: int

    def syncs_outside_ticks(self) -> list[int]:
        """Host syncs per minibatch group, over the groups that did not end with a tick."""
        return [len(g) for i, g in enumerate(self.groups) if i not in self.tick_groups]

    def sites_outside_ticks(self) -> collections.Counter:
        """``site -> pulls`` over the groups that did not end with a tick."""
        return collections.Counter(s for i, g in enumerate(self.groups) if i not in self.tick_groups for s in g)


def audit_training_loop(trainer) -> LoopAudit:
    """Runs ``trainer.train()`` and counts its step traces and its host syncs per minibatch group.

    Args:
        trainer: a :class:`~tfstylegan.training.trainer.Trainer` that has not trained yet.
            Its step functions (``trainer.steps.d_step`` / ``g_step``) are wrapped for the
            run: each call advances the D-step count, and a call that traced (TensorFlow's
            own trace count went up) is counted under its phase and resolution. A tick is
            recognised by its log line.
    """
    from absl import logging as absl_logging

    steps, cfg = trainer.steps, trainer.cfg
    per_group = cfg.minibatch_repeats * cfg.D_repeats
    resolution = steps.D.net.cfg.resolution
    counter, traces, ticks = HostSyncCounter(), collections.Counter(), []

    def counted(fn, phase, resolution_of):
        def call(*args, **kwargs):
            if phase == "D":
                counter.marker += 1
            before = fn.experimental_get_tracing_count()
            out = fn(*args, **kwargs)
            if fn.experimental_get_tracing_count() > before:
                traces[phase, resolution_of(*args)] += 1
            return out

        return call

    def reals_size(reals, labels):
        return int(getattr(reals, "values", (reals,))[0].shape[1])  # Per-replica values or one tensor.

    class _Ticks(logging.Handler):
        def emit(self, record):
            if _TICK_LINE.match(record.getMessage()):
                ticks.append(counter.marker)

    d_step, g_step = steps.d_step, steps.g_step
    steps.d_step = counted(d_step, "D", reals_size)
    steps.g_step = counted(g_step, "G", lambda batch, level, *_: resolution >> int(level))
    handler, verbosity = _Ticks(), absl_logging.get_verbosity()
    absl_logging.get_absl_logger().addHandler(handler)
    absl_logging.set_verbosity(absl_logging.INFO)
    try:
        with counter:
            trainer.train()
    finally:
        steps.d_step, steps.g_step = d_step, g_step
        absl_logging.get_absl_logger().removeHandler(handler)
        absl_logging.set_verbosity(verbosity)
    groups = [[] for _ in range(-(-counter.marker // per_group))]
    before = []
    for marker, site in counter.events:
        (groups[(marker - 1) // per_group] if marker else before).append(site)
    tick_groups = {(m - 1) // per_group for m in ticks if m}
    return LoopAudit(traces, groups, tick_groups, before, len(counter.constant_reads))


__all__ = ["HostSyncCounter", "LoopAudit", "audit_training_loop"]
