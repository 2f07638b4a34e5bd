"""The losses of the original ``training/loss.py``: WGAN, WGAN-GP, hinge and logistic (StyleGAN's default)."""

from __future__ import annotations

import tensorflow as tf

from tfstylegan.losses.common import (
    d_scores,
    fakes_of,
    gradient_penalty,
    real_and_fake_scores,
    require_reals,
    scores_and_grads,
)
from tfstylegan.noise import DEFAULT_RANDOM

# ----------------------------------------------------------------------------- WGAN, WGAN-GP, hinge


def G_wgan(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """WGAN generator loss: ``-D(G(z))``."""
    rng = rng or DEFAULT_RANDOM
    fakes = fakes_of(G, latents, labels, reals, rng, G_kwargs)
    return -d_scores(D, fakes, labels)


def D_wgan(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None,
    wgan_epsilon: float = 0.001,  # Weight of the drift term epsilon * D(real)**2.
) -> tf.Tensor:
    """WGAN critic loss with the ProGAN drift term: ``D(fake) - D(real) + eps * D(real)**2``."""
    _, real_scores, fake_scores = real_and_fake_scores("D_wgan", G, D, latents, labels, reals, rng, G_kwargs)
    return fake_scores - real_scores + tf.square(real_scores) * wgan_epsilon


def D_wgan_gp(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None,
    wgan_lambda: float = 10.0,  # Weight of the gradient penalty.
    wgan_epsilon: float = 0.001,  # Weight of the drift term epsilon * D(real)**2.
    wgan_target: float = 1.0,  # Target gradient norm.
    loss_scale=None,
) -> tf.Tensor:
    """WGAN-GP critic loss (Gulrajani et al.) with the ProGAN drift term."""
    rng = rng or DEFAULT_RANDOM
    fakes, real_scores, fake_scores = real_and_fake_scores("D_wgan_gp", G, D, latents, labels, reals, rng, G_kwargs)
    loss = fake_scores - real_scores
    loss += gradient_penalty(D, reals, fakes, labels, mixing_factors, rng, wgan_lambda, wgan_target, loss_scale)
    return loss + tf.square(real_scores) * wgan_epsilon


def D_hinge(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """Hinge critic loss: ``relu(1 + D(fake)) + relu(1 - D(real))`` (pair it with G_wgan)."""
    _, real_scores, fake_scores = real_and_fake_scores("D_hinge", G, D, latents, labels, reals, rng, G_kwargs)
    return tf.nn.relu(1.0 + fake_scores) + tf.nn.relu(1.0 - real_scores)


def D_hinge_gp(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None,
    wgan_lambda: float = 10.0,  # Weight of the gradient penalty.
    wgan_target: float = 1.0,  # Target gradient norm.
    loss_scale=None,
) -> tf.Tensor:
    """Hinge critic loss plus the WGAN-GP gradient penalty (no drift term)."""
    rng = rng or DEFAULT_RANDOM
    fakes, real_scores, fake_scores = real_and_fake_scores("D_hinge_gp", G, D, latents, labels, reals, rng, G_kwargs)
    loss = tf.nn.relu(1.0 + fake_scores) + tf.nn.relu(1.0 - real_scores)
    return loss + gradient_penalty(D, reals, fakes, labels, mixing_factors, rng, wgan_lambda, wgan_target, loss_scale)


# ----------------------------------------------------------------------------- logistic (StyleGAN's default)


def G_logistic_saturating(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """Minimax generator loss: ``log(1 - sigmoid(D(G(z)))) = -softplus(D(G(z)))``."""
    rng = rng or DEFAULT_RANDOM
    fakes = fakes_of(G, latents, labels, reals, rng, G_kwargs)
    return -tf.nn.softplus(d_scores(D, fakes, labels))


def G_logistic_nonsaturating(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None
) -> tf.Tensor:
    """Non-saturating generator loss: ``-log(sigmoid(D(G(z)))) = softplus(-D(G(z)))``."""
    rng = rng or DEFAULT_RANDOM
    fakes = fakes_of(G, latents, labels, reals, rng, G_kwargs)
    return tf.nn.softplus(-d_scores(D, fakes, labels))


def D_logistic(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """Logistic discriminator loss: ``softplus(D(fake)) + softplus(-D(real))``."""
    _, real_scores, fake_scores = real_and_fake_scores("D_logistic", G, D, latents, labels, reals, rng, G_kwargs)
    return tf.nn.softplus(fake_scores) + tf.nn.softplus(-real_scores)


def D_logistic_simplegp(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None,
    r1_gamma: float = 10.0,  # R1 weight: gamma/2 * ||grad D(real)||^2 (Mescheder et al.); 0 = off.
    r2_gamma: float = 0.0,  # R2 weight: the same penalty on the fakes; 0 = off.
    loss_scale=None,
) -> tf.Tensor:
    """Logistic discriminator loss with the R1 / R2 zero-centred gradient penalties."""
    require_reals("D_logistic_simplegp", reals)
    rng = rng or DEFAULT_RANDOM
    fakes = fakes_of(G, latents, labels, reals, rng, G_kwargs)
    if r1_gamma != 0.0:
        real_scores, real_grads = scores_and_grads(D, reals, labels, loss_scale)
    else:
        real_scores = d_scores(D, reals, labels)
    if r2_gamma != 0.0:
        fake_scores, fake_grads = scores_and_grads(D, fakes, labels, loss_scale)
    else:
        fake_scores = d_scores(D, fakes, labels)
    loss = tf.nn.softplus(fake_scores) + tf.nn.softplus(-real_scores)
    if r1_gamma != 0.0:
        loss += tf.reduce_sum(tf.square(real_grads), axis=[1, 2, 3]) * (r1_gamma * 0.5)  # [N]
    if r2_gamma != 0.0:
        loss += tf.reduce_sum(tf.square(fake_grads), axis=[1, 2, 3]) * (r2_gamma * 0.5)  # [N]
    return loss
