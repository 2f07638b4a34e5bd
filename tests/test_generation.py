"""tfstylegan.generation: the truncation rule, one pass through Gs, seed images."""

import numpy as np
import pytest
import tensorflow as tf

import tfstylegan
from tfstylegan import generation


def _with_avg(Gs):
    Gs.dlatent_avg.assign(np.linspace(-1, 1, 8))  # so that truncation moves W
    return Gs


CONFIGS = {
    "default": {},  # psi 0.7, cutoff 8, no validation truncation
    "val": dict(truncation_psi_val=0.5, truncation_cutoff_val=2),
    "no_psi": dict(truncation_psi=None),
    "psi_one": dict(truncation_psi=1),
    "no_cutoff": dict(truncation_cutoff=None),
}
# (config, user psi, user cutoff, is_validation) -> what is applied, by hand from the original's rules.
TABLE = [
    ("default", None, None, False, (0.7, 8)),
    ("default", 0.5, None, False, (0.5, 8)),
    ("default", None, 2, False, (0.7, 2)),
    ("default", 1.0, 2, False, None),  # psi 1: off
    ("default", 1, 2, False, None),
    ("default", 0.5, 0, False, None),  # cutoff <= 0: off
    ("default", 0.5, -3, False, None),
    ("default", 0.0, 3, False, (0.0, 3)),
    ("default", -1.0, 1, False, (-1.0, 1)),
    ("default", "tensor 1", 2, False, ("tensor 1", 2)),  # a tensor psi is always applied
    ("default", None, None, True, None),  # validation: the configured *_val, None = off
    ("default", 0.5, None, True, (0.5, 8)),  # a given psi: the network's (non-val) cutoff
    ("default", 0.5, 3, True, (0.5, 3)),
    ("default", None, 3, True, None),  # no psi: the *_val pair, the cutoff alone does nothing
    ("val", None, None, True, (0.5, 2)),
    ("val", None, None, False, (0.7, 8)),
    ("val", 1.0, None, True, None),
    ("no_psi", None, None, False, None),
    ("no_psi", 0.5, None, False, (0.5, 8)),
    ("psi_one", None, 3, False, None),
    ("no_cutoff", None, None, False, None),
    ("no_cutoff", 0.5, 3, False, (0.5, 3)),
]


@pytest.fixture(scope="module")
def nets(tiny_gs):
    return {name: _with_avg(tiny_gs(**kwargs)) for name, kwargs in CONFIGS.items()}


def _value(v):
    return tf.constant(1.0) if v == "tensor 1" else v


def _gstyle_call(Gs, z, psi, cutoff, is_validation):
    """GStyle.call given the same request through its own keyword overrides."""
    if is_validation:
        if psi is None:
            return Gs(z, is_validation=True, randomize_noise=False)
        cutoff = Gs.cfg.truncation_cutoff if cutoff is None else cutoff
        return Gs(z, is_validation=True, truncation_psi_val=psi, truncation_cutoff_val=cutoff, randomize_noise=False)
    overrides = {k: v for k, v in (("truncation_psi", psi), ("truncation_cutoff", cutoff)) if v is not None}
    return Gs(z, randomize_noise=False, **overrides)


@pytest.mark.parametrize("config, psi, cutoff, is_validation, applied", TABLE)
def test_resolve_truncation_matches_gstyle_call(nets, config, psi, cutoff, is_validation, applied):
    Gs = nets[config]
    psi = _value(psi)
    got = generation.resolve_truncation(Gs, psi, cutoff, is_validation=is_validation)
    if applied is None:
        assert got is None
    else:
        assert got is not None and got[1] == applied[1]
        assert (got[0] is psi) if tf.is_tensor(psi) else got[0] == applied[0]
    z = tf.constant(np.random.RandomState(2).randn(3, 8).astype(np.float32))
    images = generation.generate(Gs, z, truncation_psi=psi, truncation_cutoff=cutoff, is_validation=is_validation,
                                 randomize_noise=False).numpy()
    np.testing.assert_array_equal(images, _gstyle_call(Gs, z, psi, cutoff, is_validation).numpy())
    # What is applied is what the mechanism does with those values.
    dlatents = Gs.mapping(z)
    if got is not None:
        dlatents = Gs.truncate(dlatents, *got)
    np.testing.assert_array_equal(images, Gs.synthesis(dlatents, randomize_noise=False).numpy())
    if not tf.is_tensor(psi):  # (a tensor psi of 1 is applied: W moves by rounding only)
        untruncated = Gs(z, truncation_psi=None, randomize_noise=False).numpy()
        assert np.array_equal(images, untruncated) == (got is None)


def test_truncate_in_graph_follows_the_python_rule(nets):
    Gs = nets["default"]
    dlatents = Gs.mapping(tf.constant(np.random.RandomState(3).randn(2, 8).astype(np.float32)))
    run = tf.function(lambda psi, cutoff: generation.truncate_in_graph(Gs, dlatents, psi, cutoff))
    for psi, cutoff in ((0.7, 8), (0.5, 2), (1.0, 3), (0.5, 0), (0.5, -1)):
        expected = generation.resolve_truncation(Gs, psi, cutoff)
        expected = dlatents if expected is None else Gs.truncate(dlatents, *expected)
        got = run(tf.constant(psi, tf.float32), tf.constant(cutoff, tf.int32))
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_truncate_applies_what_resolve_truncation_says(nets):
    Gs = nets["default"]
    w = Gs.mapping(tf.constant(np.random.RandomState(5).randn(2, 8).astype(np.float32))).numpy()
    np.testing.assert_array_equal(generation.truncate(Gs, w).numpy(), Gs.truncate(tf.constant(w), 0.7, 8).numpy())
    np.testing.assert_array_equal(generation.truncate(Gs, w, 0.5, 2).numpy(), Gs.truncate(tf.constant(w), 0.5, 2).numpy())
    for psi, cutoff in ((1.0, 3), (0.5, 0)):
        np.testing.assert_array_equal(generation.truncate(Gs, w, psi, cutoff).numpy(), w)
    assert np.any(generation.truncate(Gs, w).numpy() != w)


def test_truncation_sweep_applies_every_psi(nets):
    Gs = nets["default"]
    w = Gs.mapping(tf.constant(np.random.RandomState(4).randn(1, 8).astype(np.float32)))
    sweep = generation.truncation_sweep(Gs, w, [1.0, 0.0, 0.5], truncation_cutoff=2).numpy()
    assert sweep.shape == (3, 4, 8)
    np.testing.assert_allclose(sweep[0], w[0], atol=1e-6)  # psi 1 applied: (w - avg) * 1 + avg
    np.testing.assert_allclose(sweep[1, :2], np.broadcast_to(Gs.dlatent_avg.numpy(), (2, 8)), atol=1e-7)
    np.testing.assert_allclose(sweep[1, 2:], w[0, 2:], atol=1e-6)  # layers >= cutoff: coefficient 1
    np.testing.assert_array_equal(sweep[2], Gs.truncate(w, 0.5, 2)[0])


def test_labels_and_seeds(tiny_gs):
    Gs = tiny_gs(label_size=3)
    np.testing.assert_array_equal(generation.one_hot(1, 3), [0, 1, 0])
    np.testing.assert_array_equal(generation.tile_label(Gs, [0, 0, 1], 2), [[0, 0, 1], [0, 0, 1]])
    for bad, message in ((None, "conditional"), ([1, 0], "needs 3 values")):
        with pytest.raises(ValueError, match=message):
            generation.tile_label(Gs, bad, 2)
    with pytest.raises(ValueError, match="unconditional"):
        generation.tile_label(tiny_gs(), [1.0], 2)
    with pytest.raises(ValueError, match="out of range"):
        generation.one_hot(3, 3)
    latents = generation.seed_latents([5, 2], 8)
    assert latents.dtype == np.float32
    np.testing.assert_array_equal(latents[1], np.random.RandomState(2).randn(8).astype(np.float32))


# ----------------------------------------------------------------------------------
# Compiled seed images.


@pytest.fixture(scope="module")
def small(small_networks):
    return small_networks[2]


@pytest.mark.parametrize("random_noise", [False, True])
def test_seed_images_do_not_depend_on_the_seed_set(small, random_noise):
    Gs = small
    generator = generation.BatchGenerator(Gs, random_noise=random_noise)  # batches of 8

    def run(seeds):
        latents = generation.seed_latents(seeds, Gs.cfg.latent_size)
        return dict(zip(seeds, generator(latents, noise_seeds=seeds if random_noise else None)))

    every = run(list(range(12)))  # batches 0-7 and 8-11 + 4 padding rows
    for seeds in ([9, 2, 11], [7], list(np.random.RandomState(0).permutation(12)), [11, 11, 3]):
        for seed, image in run([int(s) for s in seeds]).items():
            np.testing.assert_array_equal(image, every[seed], err_msg=f"seed {seed} in {seeds}")
    assert generator._run.experimental_get_tracing_count() == 1  # one graph for every call
    # Against eager Gs.generate of each seed alone: a rare value one level apart, never more.
    diffs = []
    for seed in range(0, 12, 2):
        rng = tf.random.Generator.from_seed(seed) if random_noise else None
        latents = generation.seed_latents([seed], Gs.cfg.latent_size)
        eager = tfstylegan.convert_images_to_uint8(Gs.generate(latents, randomize_noise=random_noise, rng=rng))
        diffs.append(np.abs(tfstylegan.convert_images_to_uint8(every[seed]).astype(int) - eager.numpy()[0]))
    diffs = np.stack(diffs)
    assert diffs.max() <= 1 and np.mean(diffs > 0) < 1e-3
    other_mode = Gs.generate(latents, randomize_noise=not random_noise, rng=tf.random.Generator.from_seed(10))
    assert np.any(tfstylegan.convert_images_to_uint8(other_mode).numpy()[0] != eager.numpy()[0])


def test_seed_images_of_a_conditional_network(cond_networks):
    Gs = cond_networks[2]
    label = generation.one_hot(2, 5)
    generator = generation.BatchGenerator(Gs, batch_size=4)
    latents = generation.seed_latents([3, 1, 4], Gs.cfg.latent_size)
    labels = generation.tile_label(Gs, label, 3)
    images = generator(latents, labels)
    np.testing.assert_array_equal(generator(latents[2:], labels[2:])[0], images[2])
    other = generator(latents, generation.tile_label(Gs, generation.one_hot(0, 5), 3))
    assert np.any(other[2] != images[2])  # the label is honoured
    with pytest.raises(ValueError, match="noise_seeds"):
        generator(latents, labels, noise_seeds=[3, 1, 4])
    with pytest.raises(ValueError, match="batch_size"):
        generation.BatchGenerator(Gs, batch_size=0)
