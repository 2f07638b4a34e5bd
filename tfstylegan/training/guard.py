"""The run-level non-finite guard: stop a diverged run, and never save non-finite state.

Each compiled step already skips an update whose gradients are not finite (see
:mod:`~tfstylegan.training.steps`) and counts the *bad* steps in a row: skips that loss
scaling does not explain. This module is the host side:

- after every minibatch group the trainer hands the counters to :meth:`NonFiniteGuard.check`,
  which reads the previous group's value (so the host never waits for the device) and
  raises :class:`TrainingDiverged` once a run reaches ``max_nonfinite_steps``;
- before a snapshot or checkpoint, :meth:`NonFiniteGuard.safe_to_save` checks the counters
  again and that every weight is finite; a tick whose state is not finite writes
  nothing, so the last good snapshot and checkpoint are kept (``CheckpointManager``
  deletes old checkpoints only when it writes a new one).

Every worker of a multi-worker run holds the same counters and weights, so all of them
decide alike and stop (or skip a save) together.
"""

from __future__ import annotations


class TrainingDiverged(RuntimeError):
    """The losses stayed non-finite for ``max_nonfinite_steps`` steps; nothing was saved after that."""


class NonFiniteGuard:
    """Stops a run after ``max_steps`` bad D or G steps in a row (0 = never).

    Args:
        max_steps: the limit (``TrainConfig.max_nonfinite_steps``).
    """

    def __init__(self, max_steps: int):
        self.max_steps = int(max_steps)
        self._pending = None
        self.last_checkpoint: str | None = None
        self.last_snapshot: str | None = None

    def check(self, steps, where: str) -> None:
        """After a minibatch group: raises if the *previous* group ended a run of bad steps.

        Args:
            steps: the :class:`~tfstylegan.training.steps.TrainSteps` (``bad_steps()``).
            where: progress for the message, e.g. ``'kimg 12.3'``.
        """
        if not self.max_steps:
            return
        previous, self._pending = self._pending, steps.bad_steps()
        if previous is not None:
            self._raise_if_over(int(previous.numpy()), steps, where)

    def safe_to_save(self, steps, networks, where: str, log) -> bool:
        """Before saving: raises past the limit; False (with a warning) when a weight is not finite."""
        self._pending = None
        if self.max_steps:
            self._raise_if_over(int(steps.bad_steps().numpy()), steps, where)
        bad = non_finite_weights(networks)
        if bad:
            log(
                f"WARNING: {len(bad)} weight(s) are not finite at {where} (first: {bad[0]}); this tick writes no "
                "snapshot or checkpoint, the last good ones are kept"
            )
            return False
        return True

    def _raise_if_over(self, run: int, steps, where: str) -> None:
        if run < self.max_steps:
            return
        which = "D" if int(steps.D.bad.numpy()) >= int(steps.G.bad.numpy()) else "G"
        raise TrainingDiverged(
            f"stopped at {where}: {run} {which} steps in a row had non-finite losses or gradients "
            f"(--max_nonfinite_steps={self.max_steps}); their updates were skipped and nothing was saved after "
            f"the last good state. Last good checkpoint: {self.last_checkpoint or 'none'}; last good snapshot: "
            f"{self.last_snapshot or 'none'}. Resume from it with --resume, e.g. with lower learning rates or "
            "--precision=float32"
        )


def non_finite_weights(networks) -> list[str]:
    """Paths of the floating-point weights of ``networks`` that hold a NaN or an infinity."""
    import tensorflow as tf

    bad = []
    for net in networks:
        for w in net.weights:
            if "float" in str(w.dtype) and not bool(tf.reduce_all(tf.math.is_finite(tf.convert_to_tensor(w)))):
                bad.append(w.path)
    return bad


__all__ = ["NonFiniteGuard", "TrainingDiverged", "non_finite_weights"]
