"""Building blocks shared by the losses: fakes, D scores, input gradients and penalties."""

from __future__ import annotations

import tensorflow as tf

from tfstylegan.noise import DEFAULT_RANDOM


def fp32(x: tf.Tensor) -> tf.Tensor:
    return tf.cast(x, tf.float32)


def minibatch_size(latents, labels, reals) -> tf.Tensor:
    for x in (latents, labels, reals):
        if x is not None:
            return tf.shape(x)[0]
    raise ValueError("a loss needs at least one of latents, labels or reals to know the minibatch size")


def fakes_of(G, latents, labels, reals, rng, G_kwargs) -> tf.Tensor:
    """``G(latents, labels)`` in training mode; draws the latents first when not given."""
    if latents is None:
        n = minibatch_size(None, labels, reals)
        latents = rng.normal([n, G.cfg.latent_size], dtype=tf.float32)  # [N, latent_size]
    return G(latents, labels, is_training=True, rng=rng, **(G_kwargs or {}))


def d_scores(D, images, labels) -> tf.Tensor:
    """D's scores ``[N, 1]`` as float32 ``[N]``."""
    return fp32(D(images, labels))[:, 0]


def real_and_fake_scores(name: str, G, D, latents, labels, reals, rng, G_kwargs) -> tuple[tf.Tensor, ...]:
    """``(fakes, D(reals), D(fakes))`` for the loss called ``name``, which needs reals; scores float32 ``[N]``.

    ``rng`` None = :data:`~tfstylegan.noise.DEFAULT_RANDOM`.
    """
    require_reals(name, reals)
    fakes = fakes_of(G, latents, labels, reals, rng or DEFAULT_RANDOM, G_kwargs)
    return fakes, d_scores(D, reals, labels), d_scores(D, fakes, labels)


def scores_and_grads(D, images, labels, loss_scale=None) -> tuple[tf.Tensor, tf.Tensor]:
    """D's scores ``[N]`` and the gradient of their sum w.r.t. ``images`` (float32 NHWC).

    The inner tape only watches ``images``; an enclosing tape (the trainer's) records the
    gradient computation too, which gives the double back-propagation of R1 / WGAN-GP.
    Under float16, ``loss_scale`` (a float32 scalar) multiplies the sum before the
    gradient and divides the float32 gradient after it, as the original does, so small
    gradients survive D's float16 layers; None = no scaling.
    """
    images = fp32(images)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(images)
        scores = d_scores(D, images, labels)  # [N]
        total = tf.reduce_sum(scores)
        if loss_scale is not None:
            total = total * loss_scale
    grads = fp32(tape.gradient(total, images))  # [N, H, W, C]
    if loss_scale is not None:
        grads = grads / loss_scale
    return scores, grads


def gradient_penalty(
    D, reals, fakes, labels, mixing_factors, rng, wgan_lambda, wgan_target, loss_scale=None
) -> tf.Tensor:
    """WGAN-GP: ``lambda / target**2 * (||grad D(mix)|| - target)**2`` per example ``[N]``."""
    fakes = fp32(fakes)  # G may compute in a 16-bit type; the mix is float32.
    if mixing_factors is None:
        mixing_factors = rng.uniform([tf.shape(fakes)[0], 1, 1, 1], 0.0, 1.0, dtype=fakes.dtype)  # [N, 1, 1, 1]
    mixing_factors = tf.cast(mixing_factors, fakes.dtype)
    reals = tf.cast(reals, fakes.dtype)
    mixed = reals + (fakes - reals) * mixing_factors  # [N, H, W, C]
    _, grads = scores_and_grads(D, mixed, labels, loss_scale)
    norms = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1, 2, 3]))  # [N]
    return tf.square(norms - wgan_target) * (wgan_lambda / (wgan_target**2))


def require_reals(name: str, reals) -> None:
    if reals is None:
        raise ValueError(f"{name} needs reals")
