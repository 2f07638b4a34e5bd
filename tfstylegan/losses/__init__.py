"""GAN losses of the original ``training/loss.py``, plus LSGAN and relativistic average losses.

Every loss has the signature::

    loss(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None, **params)

and returns float32 **per-example** losses ``[N]``. Their mean is what training
minimises (the trainer reduces them with ``tf.nn.compute_average_loss`` over the global
batch). The original adds ``[N, 1]`` scores to ``[N]`` penalties, which broadcasts to
``[N, N]``; the mean of that tensor equals the mean of our ``[N]`` vector, so only the
shape differs.

- ``G`` is called in training mode exactly as the original does
  (``G(latents, labels, is_training=True, rng=rng, **G_kwargs)``): it updates
  ``dlatent_avg``, mixes styles and randomises noise unless ``G_kwargs`` says otherwise.
- Every random draw can be passed in: ``latents`` ``[N, latent_size]`` (None = draw
  ``rng.normal``), ``mixing_factors`` ``[N, 1, 1, 1]`` for the gradient-penalty losses
  (None = draw ``rng.uniform`` after G's own draws, as in the original).
- ``rng`` is a ``tf.random.Generator`` (or any object with its ``normal`` and
  ``uniform`` methods); None uses TensorFlow's global random ops.
- Gradient penalties (R1, R2, WGAN-GP) differentiate D's scores w.r.t. its input with a
  nested ``tf.GradientTape``; call the loss inside the trainer's tape to get the
  second-order gradient w.r.t. D's weights. Those losses take ``loss_scale`` (float16
  training's dynamic loss scale) for that inner gradient; None = unscaled.
- ``labels``: ``[N, label_size]`` (``[N, 0]`` or None without labels). G losses condition
  on them as given; the trainer passes random dataset labels, as the original.

Losses whose name starts with ``G_`` train G, ``D_`` train D. :data:`LOSSES` maps every
name to a :class:`LossSpec`; :func:`get_loss` and :func:`resolve_loss_args` give clear
errors for unknown names and parameters.

Modules: :mod:`~tfstylegan.losses.original` (the original's nine losses),
:mod:`~tfstylegan.losses.extra` (LSGAN, RaGAN), :mod:`~tfstylegan.losses.common` (fakes,
D scores, input gradients, the WGAN-GP penalty).
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping

import tensorflow as tf

from tfstylegan.losses.extra import (
    D_lsgan,
    D_ragan_hinge,
    D_ragan_logistic,
    G_lsgan,
    G_ragan_hinge,
    G_ragan_logistic,
)
from tfstylegan.losses.original import (
    D_hinge,
    D_hinge_gp,
    D_logistic,
    D_logistic_simplegp,
    D_wgan,
    D_wgan_gp,
    G_logistic_nonsaturating,
    G_logistic_saturating,
    G_wgan,
)

# ----------------------------------------------------------------------------- registry

_COMMON_ARGS = ("G_kwargs", "mixing_factors", "rng", "loss_scale")


@dataclasses.dataclass(frozen=True)
class LossSpec:
    """A registered loss.

    Attributes:
        name: the function name (the original's name where it has one).
        fn: the loss function.
        network: ``'G'`` or ``'D'``: the network it trains.
        params: the loss parameters and their defaults.
        needs_reals: whether it reads a real minibatch (every D loss; the relativistic G losses).
        takes_loss_scale: whether it differentiates D w.r.t. its input (R1, R2, WGAN-GP) and
            so takes the ``loss_scale`` of float16 training.
    """

    name: str
    fn: Callable[..., tf.Tensor]
    network: str
    params: Mapping[str, float]
    needs_reals: bool
    takes_loss_scale: bool = False


def _spec(fn, needs_reals: bool | None = None) -> LossSpec:
    sig = inspect.signature(fn)
    params = {
        name: p.default
        for name, p in sig.parameters.items()
        if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in _COMMON_ARGS
    }
    network = fn.__name__[0]
    if needs_reals is None:
        needs_reals = network == "D"
    return LossSpec(fn.__name__, fn, network, params, needs_reals, "loss_scale" in sig.parameters)


LOSSES: dict[str, LossSpec] = {
    spec.name: spec
    for spec in [
        _spec(G_wgan),
        _spec(D_wgan),
        _spec(D_wgan_gp),
        _spec(D_hinge),
        _spec(D_hinge_gp),
        _spec(G_logistic_saturating),
        _spec(G_logistic_nonsaturating),
        _spec(D_logistic),
        _spec(D_logistic_simplegp),
        _spec(G_lsgan),
        _spec(D_lsgan),
        _spec(G_ragan_logistic, needs_reals=True),
        _spec(D_ragan_logistic),
        _spec(G_ragan_hinge, needs_reals=True),
        _spec(D_ragan_hinge),
    ]
}


def loss_names(network: str | None = None) -> list[str]:
    """Registered loss names, optionally only those that train ``network`` ('G' or 'D')."""
    return [name for name, spec in LOSSES.items() if network is None or spec.network == network]


def get_loss(name: str, network: str | None = None) -> LossSpec:
    """The :class:`LossSpec` of ``name``.

    Accepts the original's dotted names too (``training.loss.D_logistic_simplegp``).

    Raises:
        ValueError: unknown name, or a loss that trains the other network.
    """
    short = name.rsplit(".", 1)[-1]
    if short not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; expected one of {', '.join(loss_names(network))}")
    spec = LOSSES[short]
    if network is not None and spec.network != network:
        raise ValueError(
            f"{short} is a {spec.network} loss; expected a {network} loss: {', '.join(loss_names(network))}"
        )
    return spec


def resolve_loss_args(name: str, args: Mapping[str, object] | None = None, network: str | None = None) -> dict:
    """The full parameter dict of a loss: its defaults updated with ``args`` (as floats).

    Raises:
        ValueError: unknown loss, unknown parameter, or a value that is not a number.
    """
    spec = get_loss(name, network)
    resolved = dict(spec.params)
    for key, value in (args or {}).items():
        if key not in spec.params:
            known = ", ".join(spec.params) or "none"
            raise ValueError(f"{spec.name} has no parameter {key!r}; its parameters: {known}")
        try:
            resolved[key] = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{spec.name}: {key} must be a number, got {value!r}") from None
    return resolved
