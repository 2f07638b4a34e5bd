"""tfstylegan.noise: the random sources the networks, losses and tools draw from."""

import numpy as np
import pytest
import tensorflow as tf

from tfstylegan import noise
from tfstylegan.losses import extra, original
from tfstylegan.networks import generator, synthesis


def test_the_networks_and_losses_share_the_default_source():
    assert synthesis.DEFAULT_RANDOM is noise.DEFAULT_RANDOM
    assert generator.DEFAULT_RANDOM is noise.DEFAULT_RANDOM
    assert original.DEFAULT_RANDOM is noise.DEFAULT_RANDOM
    assert extra.DEFAULT_RANDOM is noise.DEFAULT_RANDOM
    tf.random.set_seed(3)
    a = noise.DEFAULT_RANDOM.normal([2, 3]).numpy()
    b = noise.DEFAULT_RANDOM.uniform([4], 1, 5, dtype=tf.int32).numpy()
    tf.random.set_seed(3)
    np.testing.assert_array_equal(a, tf.random.normal([2, 3]).numpy())
    np.testing.assert_array_equal(b, tf.random.uniform([4], 1, 5, dtype=tf.int32).numpy())
    assert b.min() >= 1 and b.max() < 5


def test_per_image_noise_rows_are_their_seed_generators_alone():
    source = noise.PerImageNoise.from_seeds([7, 11, 7])
    draws = [source.normal([3, 4, 4, 1]).numpy() for _ in range(2)]  # two layers' draws
    alone = tf.random.Generator.from_seed(11)
    for k in range(2):
        np.testing.assert_array_equal(draws[k][1:2], alone.normal([1, 4, 4, 1]).numpy())
    np.testing.assert_array_equal(draws[0][0], draws[0][2])  # same seed, same noise
    assert np.any(draws[0][0] != draws[1][0])  # the generator advances
    uniform = source.uniform([3, 5], 0.0, 1.0).numpy()
    np.testing.assert_array_equal(uniform[1:2], alone.uniform([1, 5], 0.0, 1.0).numpy())
    with pytest.raises(ValueError, match="2 images, but 3 generators"):
        source.normal([2, 4, 4, 1])


def test_per_image_noise_reseeded_inside_a_compiled_function():
    source = noise.PerImageNoise.from_seeds([0, 0])

    @tf.function
    def draw():
        return source.normal([2, 3]), source.normal([2, 3])

    runs = {}
    for seeds in ([5, 9], [9, 5], [5, 9]):
        source.reseed(seeds)
        runs[tuple(seeds)] = [d.numpy() for d in draw()]
    expected = tf.random.Generator.from_seed(9)
    for k in range(2):
        row = expected.normal([1, 3]).numpy()
        np.testing.assert_array_equal(runs[(5, 9)][k][1:2], row)
        np.testing.assert_array_equal(runs[(9, 5)][k][0:1], row)  # another position, the same noise
    assert draw.experimental_get_tracing_count() == 1
    with pytest.raises(ValueError, match="1 seeds for 2 generators"):
        source.reseed([1])


def test_fixed_noise_repeats_on_every_call():
    @tf.function
    def draws(offset):
        source = noise.FixedNoise(seed=4, offset=offset)
        return source.normal([2, 3]), source.normal([2, 3]), source.uniform([2], 0.0, 1.0)

    first = [d.numpy() for d in draws(tf.constant(0))]
    again = [d.numpy() for d in draws(tf.constant(0))]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    # Draw k is stateless_normal(seed=[seed + offset, k]).
    np.testing.assert_array_equal(first[0], tf.random.stateless_normal([2, 3], seed=[4, 1]).numpy())
    np.testing.assert_array_equal(first[1], tf.random.stateless_normal([2, 3], seed=[4, 2]).numpy())
    np.testing.assert_array_equal(first[2], tf.random.stateless_uniform([2], seed=[4, 3]).numpy())
    shifted = draws(tf.constant(6))[0].numpy()
    np.testing.assert_array_equal(shifted, tf.random.stateless_normal([2, 3], seed=[10, 1]).numpy())


@pytest.mark.parametrize("dtype", [tf.int32, tf.int64])
def test_sample_noise_is_stateless_per_row(dtype):
    @tf.function
    def draws(seeds):
        source = noise.SampleNoise(seeds)
        return source.normal([tf.shape(seeds)[0], 2, 2, 1]), source.uniform([tf.shape(seeds)[0], 3], 0.0, 1.0)

    normal, uniform = (d.numpy() for d in draws(tf.constant([3, 1, 4], dtype)))
    for i, seed in enumerate([3, 1, 4]):
        key = tf.constant([seed, 1], tf.int64)
        np.testing.assert_array_equal(normal[i], tf.random.stateless_normal([2, 2, 1], seed=key).numpy())
        key = tf.constant([seed, 2], tf.int64)
        np.testing.assert_array_equal(uniform[i], tf.random.stateless_uniform([3], seed=key).numpy())
    alone = draws(tf.constant([4], dtype))[0].numpy()
    np.testing.assert_array_equal(alone[0], normal[2])


def test_shared_noise_is_one_draw_for_the_batch():
    source = noise.SharedNoise(tf.random.Generator.from_seed(2))
    draw = source.normal([3, 2, 2, 1]).numpy()
    np.testing.assert_array_equal(draw, np.broadcast_to(tf.random.Generator.from_seed(2).normal([1, 2, 2, 1]), [3, 2, 2, 1]))
    uniform = source.uniform([2, 4], 0.0, 1.0).numpy()
    np.testing.assert_array_equal(uniform[0], uniform[1])
