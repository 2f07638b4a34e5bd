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
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping

import tensorflow as tf

from tfstylegan.noise import DEFAULT_RANDOM

# ----------------------------------------------------------------------------- helpers


def _fp32(x: tf.Tensor) -> tf.Tensor:
    return tf.cast(x, tf.float32)


def _minibatch_size(latents, labels, reals) -> tf.Tensor:
    for x in (latents, labels, reals):
        if x is not None:
            return tf.shape(x)[0]
    raise ValueError("a loss needs at least one of latents, labels or reals to know the minibatch size")


def _fakes(G, latents, labels, reals, rng, G_kwargs) -> tf.Tensor:
    """``G(latents, labels)`` in training mode; draws the latents first when not given."""
    if latents is None:
        n = _minibatch_size(None, labels, reals)
        latents = rng.normal([n, G.cfg.latent_size], dtype=tf.float32)  # [N, latent_size]
    return G(latents, labels, is_training=True, rng=rng, **(G_kwargs or {}))


def _scores(D, images, labels) -> tf.Tensor:
    """D's scores ``[N, 1]`` as float32 ``[N]``."""
    return _fp32(D(images, labels))[:, 0]


def _scores_and_grads(D, images, labels, loss_scale=None) -> tuple[tf.Tensor, tf.Tensor]:
    """D's scores ``[N]`` and the gradient of their sum w.r.t. ``images`` (float32 NHWC).

    The inner tape only watches ``images``; an enclosing tape (the trainer's) records the
    gradient computation too, which gives the double back-propagation of R1 / WGAN-GP.
    Under float16, ``loss_scale`` (a float32 scalar) multiplies the sum before the
    gradient and divides the float32 gradient after it, as the original does, so small
    gradients survive D's float16 layers; None = no scaling.
    """
    images = _fp32(images)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(images)
        scores = _scores(D, images, labels)  # [N]
        total = tf.reduce_sum(scores)
        if loss_scale is not None:
            total = total * loss_scale
    grads = _fp32(tape.gradient(total, images))  # [N, H, W, C]
    if loss_scale is not None:
        grads = grads / loss_scale
    return scores, grads


def _gradient_penalty(
    D, reals, fakes, labels, mixing_factors, rng, wgan_lambda, wgan_target, loss_scale=None
) -> tf.Tensor:
    """WGAN-GP: ``lambda / target**2 * (||grad D(mix)|| - target)**2`` per example ``[N]``."""
    fakes = _fp32(fakes)  # G may compute in a 16-bit type; the mix is float32.
    if mixing_factors is None:
        mixing_factors = rng.uniform([tf.shape(fakes)[0], 1, 1, 1], 0.0, 1.0, dtype=fakes.dtype)  # [N, 1, 1, 1]
    mixing_factors = tf.cast(mixing_factors, fakes.dtype)
    reals = tf.cast(reals, fakes.dtype)
    mixed = reals + (fakes - reals) * mixing_factors  # [N, H, W, C]
    _, grads = _scores_and_grads(D, mixed, labels, loss_scale)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))  # [N]
    return tf.square(norms - wgan_target) * (wgan_lambda / (wgan_target**2))


def _require_reals(name: str, reals) -> None:
    if reals is None:
        raise ValueError(f"{name} needs reals")


# ----------------------------------------------------------------------------- WGAN, WGAN-GP, hinge


def G_wgan(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """WGAN generator loss: ``-D(G(z))``."""
    rng = rng or DEFAULT_RANDOM
    fakes = _fakes(G, latents, labels, reals, rng, G_kwargs)
    return -_scores(D, fakes, labels)


def D_wgan(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None,
    wgan_epsilon: float = 0.001,  # Weight of the drift term epsilon * D(real)**2.
) -> tf.Tensor:
    """WGAN critic loss with the ProGAN drift term: ``D(fake) - D(real) + eps * D(real)**2``."""
    _require_reals("D_wgan", reals)
    rng = rng or DEFAULT_RANDOM
    fakes = _fakes(G, latents, labels, reals, rng, G_kwargs)
    real_scores = _scores(D, reals, labels)
    fake_scores = _scores(D, fakes, labels)
    return fake_scores - real_scores + tf.square(real_scores) * wgan_epsilon


def D_wgan_gp(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None,
    wgan_lambda: float = 10.0,  # Weight of the gradient penalty.
    wgan_epsilon: float = 0.001,  # Weight of the drift term epsilon * D(real)**2.
    wgan_target: float = 1.0,  # Target gradient norm.
    loss_scale=None,
) -> tf.Tensor:
    """WGAN-GP critic loss (Gulrajani et al.) with the ProGAN drift term."""
    _require_reals("D_wgan_gp", reals)
    rng = rng or DEFAULT_RANDOM
    fakes = _fakes(G, latents, labels, reals, rng, G_kwargs)
    real_scores = _scores(D, reals, labels)
    fake_scores = _scores(D, fakes, labels)
    loss = fake_scores - real_scores
    loss += _gradient_penalty(D, reals, fakes, labels, mixing_factors, rng, wgan_lambda, wgan_target, loss_scale)
    return loss + tf.square(real_scores) * wgan_epsilon


def D_hinge(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """Hinge critic loss: ``relu(1 + D(fake)) + relu(1 - D(real))`` (pair it with G_wgan)."""
    _require_reals("D_hinge", reals)
    rng = rng or DEFAULT_RANDOM
    fakes = _fakes(G, latents, labels, reals, rng, G_kwargs)
    real_scores = _scores(D, reals, labels)
    fake_scores = _scores(D, fakes, labels)
    return tf.nn.relu(1.0 + fake_scores) + tf.nn.relu(1.0 - real_scores)


def D_hinge_gp(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None,
    wgan_lambda: float = 10.0,  # Weight of the gradient penalty.
    wgan_target: float = 1.0,  # Target gradient norm.
    loss_scale=None,
) -> tf.Tensor:
    """Hinge critic loss plus the WGAN-GP gradient penalty (no drift term)."""
    _require_reals("D_hinge_gp", reals)
    rng = rng or DEFAULT_RANDOM
    fakes = _fakes(G, latents, labels, reals, rng, G_kwargs)
    real_scores = _scores(D, reals, labels)
    fake_scores = _scores(D, fakes, labels)
    loss = tf.nn.relu(1.0 + fake_scores) + tf.nn.relu(1.0 - real_scores)
    return loss + _gradient_penalty(D, reals, fakes, labels, mixing_factors, rng, wgan_lambda, wgan_target, loss_scale)


# ----------------------------------------------------------------------------- logistic (StyleGAN's default)


def G_logistic_saturating(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """Minimax generator loss: ``log(1 - sigmoid(D(G(z)))) = -softplus(D(G(z)))``."""
    rng = rng or DEFAULT_RANDOM
    fakes = _fakes(G, latents, labels, reals, rng, G_kwargs)
    return -tf.nn.softplus(_scores(D, fakes, labels))


def G_logistic_nonsaturating(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None
) -> tf.Tensor:
    """Non-saturating generator loss: ``-log(sigmoid(D(G(z)))) = softplus(-D(G(z)))``."""
    rng = rng or DEFAULT_RANDOM
    fakes = _fakes(G, latents, labels, reals, rng, G_kwargs)
    return tf.nn.softplus(-_scores(D, fakes, labels))


def D_logistic(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """Logistic discriminator loss: ``softplus(D(fake)) + softplus(-D(real))``."""
    _require_reals("D_logistic", reals)
    rng = rng or DEFAULT_RANDOM
    fakes = _fakes(G, latents, labels, reals, rng, G_kwargs)
    real_scores = _scores(D, reals, labels)
    fake_scores = _scores(D, fakes, labels)
    return tf.nn.softplus(fake_scores) + tf.nn.softplus(-real_scores)


def D_logistic_simplegp(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None,
    r1_gamma: float = 10.0,  # R1 weight: gamma/2 * ||grad D(real)||^2 (Mescheder et al.); 0 = off.
    r2_gamma: float = 0.0,  # R2 weight: the same penalty on the fakes; 0 = off.
    loss_scale=None,
) -> tf.Tensor:
    """Logistic discriminator loss with the R1 / R2 zero-centred gradient penalties."""
    _require_reals("D_logistic_simplegp", reals)
    rng = rng or DEFAULT_RANDOM
    fakes = _fakes(G, latents, labels, reals, rng, G_kwargs)
    if r1_gamma != 0.0:
        real_scores, real_grads = _scores_and_grads(D, reals, labels, loss_scale)
    else:
        real_scores = _scores(D, reals, labels)
    if r2_gamma != 0.0:
        fake_scores, fake_grads = _scores_and_grads(D, fakes, labels, loss_scale)
    else:
        fake_scores = _scores(D, fakes, labels)
    loss = tf.nn.softplus(fake_scores) + tf.nn.softplus(-real_scores)
    if r1_gamma != 0.0:
        loss += tf.reduce_sum(tf.square(real_grads), axis=[1, 2, 3]) * (r1_gamma * 0.5)  # [N]
    if r2_gamma != 0.0:
        loss += tf.reduce_sum(tf.square(fake_grads), axis=[1, 2, 3]) * (r2_gamma * 0.5)  # [N]
    return loss


# ----------------------------------------------------------------------------- least squares (Mao et al. 2017)


def G_lsgan(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None,
    target: float = 1.0,  # The value G wants D to output for fakes (c in the paper).
) -> tf.Tensor:
    """Least-squares generator loss: ``0.5 * (D(G(z)) - c)**2``."""
    rng = rng or DEFAULT_RANDOM
    fakes = _fakes(G, latents, labels, reals, rng, G_kwargs)
    return 0.5 * tf.square(_scores(D, fakes, labels) - target)


def D_lsgan(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None,
    real_target: float = 1.0,  # Target score for reals (b in the paper).
    fake_target: float = 0.0,  # Target score for fakes (a in the paper).
) -> tf.Tensor:
    """Least-squares discriminator loss: ``0.5 * (D(real) - b)**2 + 0.5 * (D(fake) - a)**2``."""
    _require_reals("D_lsgan", reals)
    rng = rng or DEFAULT_RANDOM
    fakes = _fakes(G, latents, labels, reals, rng, G_kwargs)
    real_scores = _scores(D, reals, labels)
    fake_scores = _scores(D, fakes, labels)
    return 0.5 * tf.square(real_scores - real_target) + 0.5 * tf.square(fake_scores - fake_target)


# ----------------------------------------------------------------------------- relativistic average (Jolicoeur-Martineau 2018)
#
# With C the critic's raw score, the relativistic average scores are
#   real_rel = C(real) - mean(C(fake)),  fake_rel = C(fake) - mean(C(real)).
# Means are over the (per-replica) minibatch. Example i contributes its real and its
# fake term, so the mean over the batch is E_real[...] + E_fake[...] as in the paper.
# The G losses compare against reals too, so they need a real minibatch.


def _relativistic_scores(G, D, latents, labels, reals, rng, G_kwargs) -> tuple[tf.Tensor, tf.Tensor]:
    fakes = _fakes(G, latents, labels, reals, rng, G_kwargs)
    real_scores = _scores(D, reals, labels)  # [N]
    fake_scores = _scores(D, fakes, labels)  # [N]
    real_rel = real_scores - tf.reduce_mean(fake_scores)  # [N]
    fake_rel = fake_scores - tf.reduce_mean(real_scores)  # [N]
    return real_rel, fake_rel


def G_ragan_logistic(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """RaSGAN generator loss: ``softplus(-fake_rel) + softplus(real_rel)``."""
    _require_reals("G_ragan_logistic", reals)
    real_rel, fake_rel = _relativistic_scores(G, D, latents, labels, reals, rng or DEFAULT_RANDOM, G_kwargs)
    return tf.nn.softplus(-fake_rel) + tf.nn.softplus(real_rel)


def D_ragan_logistic(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """RaSGAN discriminator loss: ``softplus(-real_rel) + softplus(fake_rel)``."""
    _require_reals("D_ragan_logistic", reals)
    real_rel, fake_rel = _relativistic_scores(G, D, latents, labels, reals, rng or DEFAULT_RANDOM, G_kwargs)
    return tf.nn.softplus(-real_rel) + tf.nn.softplus(fake_rel)


def G_ragan_hinge(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """RaHingeGAN generator loss: ``relu(1 - fake_rel) + relu(1 + real_rel)``."""
    _require_reals("G_ragan_hinge", reals)
    real_rel, fake_rel = _relativistic_scores(G, D, latents, labels, reals, rng or DEFAULT_RANDOM, G_kwargs)
    return tf.nn.relu(1.0 - fake_rel) + tf.nn.relu(1.0 + real_rel)


def D_ragan_hinge(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """RaHingeGAN discriminator loss: ``relu(1 - real_rel) + relu(1 + fake_rel)``."""
    _require_reals("D_ragan_hinge", reals)
    real_rel, fake_rel = _relativistic_scores(G, D, latents, labels, reals, rng or DEFAULT_RANDOM, G_kwargs)
    return tf.nn.relu(1.0 - real_rel) + tf.nn.relu(1.0 + fake_rel)


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
