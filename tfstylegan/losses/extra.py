"""Losses beyond the original: least squares (LSGAN) and relativistic average (RaGAN)."""

from __future__ import annotations

import tensorflow as tf

from tfstylegan.losses.common import d_scores, fakes_of, real_and_fake_scores
from tfstylegan.noise import DEFAULT_RANDOM

# ----------------------------------------------------------------------------- least squares (Mao et al. 2017)


def G_lsgan(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None,
    target: float = 1.0,  # The value G wants D to output for fakes (c in the paper).
) -> tf.Tensor:
    """Least-squares generator loss: ``0.5 * (D(G(z)) - c)**2``."""
    rng = rng or DEFAULT_RANDOM
    fakes = fakes_of(G, latents, labels, reals, rng, G_kwargs)
    return 0.5 * tf.square(d_scores(D, fakes, labels) - target)


def D_lsgan(
    G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None,
    real_target: float = 1.0,  # Target score for reals (b in the paper).
    fake_target: float = 0.0,  # Target score for fakes (a in the paper).
) -> tf.Tensor:
    """Least-squares discriminator loss: ``0.5 * (D(real) - b)**2 + 0.5 * (D(fake) - a)**2``."""
    _, real_scores, fake_scores = real_and_fake_scores("D_lsgan", G, D, latents, labels, reals, rng, G_kwargs)
    return 0.5 * tf.square(real_scores - real_target) + 0.5 * tf.square(fake_scores - fake_target)


# ----------------------------------------------------------------------------- relativistic average (Jolicoeur-Martineau 2018)
#
# With C the critic's raw score, the relativistic average scores are
#   real_rel = C(real) - mean(C(fake)),  fake_rel = C(fake) - mean(C(real)).
# Means are over the (per-replica) minibatch. Example i contributes its real and its
# fake term, so the mean over the batch is E_real[...] + E_fake[...] as in the paper.
# The G losses compare against reals too, so they need a real minibatch.


def _relativistic_scores(name, G, D, latents, labels, reals, rng, G_kwargs) -> tuple[tf.Tensor, tf.Tensor]:
    _, real_scores, fake_scores = real_and_fake_scores(name, G, D, latents, labels, reals, rng, G_kwargs)  # [N], [N]
    real_rel = real_scores - tf.reduce_mean(fake_scores)  # [N]
    fake_rel = fake_scores - tf.reduce_mean(real_scores)  # [N]
    return real_rel, fake_rel


def G_ragan_logistic(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """RaSGAN generator loss: ``softplus(-fake_rel) + softplus(real_rel)``."""
    real_rel, fake_rel = _relativistic_scores("G_ragan_logistic", G, D, latents, labels, reals, rng, G_kwargs)
    return tf.nn.softplus(-fake_rel) + tf.nn.softplus(real_rel)


def D_ragan_logistic(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """RaSGAN discriminator loss: ``softplus(-real_rel) + softplus(fake_rel)``."""
    real_rel, fake_rel = _relativistic_scores("D_ragan_logistic", G, D, latents, labels, reals, rng, G_kwargs)
    return tf.nn.softplus(-real_rel) + tf.nn.softplus(fake_rel)


def G_ragan_hinge(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """RaHingeGAN generator loss: ``relu(1 - fake_rel) + relu(1 + real_rel)``."""
    real_rel, fake_rel = _relativistic_scores("G_ragan_hinge", G, D, latents, labels, reals, rng, G_kwargs)
    return tf.nn.relu(1.0 - fake_rel) + tf.nn.relu(1.0 + real_rel)


def D_ragan_hinge(G, D, latents, labels, reals=None, *, G_kwargs=None, mixing_factors=None, rng=None) -> tf.Tensor:
    """RaHingeGAN discriminator loss: ``relu(1 - real_rel) + relu(1 + fake_rel)``."""
    real_rel, fake_rel = _relativistic_scores("D_ragan_hinge", G, D, latents, labels, reals, rng, G_kwargs)
    return tf.nn.relu(1.0 - real_rel) + tf.nn.relu(1.0 + fake_rel)
