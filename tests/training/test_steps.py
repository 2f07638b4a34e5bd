"""The compiled training steps: lod_range pruning, Gs moving average, non-finite skip, optimizer reset, replicas."""

import numpy as np
import pytest
import tensorflow as tf

from tests import tiny_networks
from tfstylegan import losses
from tfstylegan.data import TFRecordDataset
from tfstylegan.networks import GStyle
from tfstylegan.training import distribute, steps


def test_lod_range_gives_the_dynamic_result(train_G_D):
    G, D = train_G_D()
    z = tf.random.stateless_normal([4, 16], seed=[1, 2])
    x = tf.random.stateless_normal([4, 32, 32, 3], seed=[3, 4])
    for lod in [0.0, 0.5, 1.0, 1.3, 2.0, 2.7, 3.0]:
        G.lod.assign(lod)
        D.lod.assign(lod)
        bounds = (int(np.floor(lod)), int(np.floor(lod)) + 1)
        kw = dict(randomize_noise=False, truncation_psi=1.0)
        np.testing.assert_array_equal(G(z, **kw).numpy(), G(z, lod_range=bounds, **kw).numpy())
        np.testing.assert_array_equal(D(x).numpy(), D(x, lod_range=bounds).numpy())


def _setup(strategy, data_dir, G_loss="G_logistic_nonsaturating", D_loss="D_logistic_simplegp"):
    ts = TFRecordDataset(str(data_dir / "small" / "dataset" / "rgb32"))
    tf.keras.utils.set_random_seed(5)
    with strategy.scope():
        G, D = tiny_networks.train_G_D()
        Gs = GStyle.from_config({**G.get_config(), "name": "Gs"})
        for a, b in zip(Gs.weights, G.weights):
            a.assign(b)
        G_opt = steps.make_optimizer("adam", 0.01, "TrainG")
        D_opt = steps.make_optimizer("adam", 0.01, "TrainD")
        G_opt.build(G.trainable_weights)
        D_opt.build(D.trainable_weights)
        rng = tf.random.Generator.from_seed(7)
    st = steps.TrainSteps(
        strategy, G, D, Gs, G_opt, D_opt, rng,
        G_loss=losses.get_loss(G_loss), G_loss_args={},
        D_loss=losses.get_loss(D_loss), D_loss_args=losses.resolve_loss_args(D_loss),
        random_labels=ts.get_random_labels_tf, mirror_augment=True, G_smoothing_kimg=0.01,
    )
    batch = next(iter(ts.as_dataset(8, lod=1, seed=1)))
    for net in (G, D):
        net.lod.assign(1.0)
    return st, batch


def test_d_step_gs_average_and_non_finite_skip(data_dir):
    strategy = distribute.make_strategy("default")
    st, (reals, labels) = _setup(strategy, data_dir)
    G, D, Gs = st.G.net, st.D.net, st.Gs
    G_before = [w.numpy() for w in G.weights]
    Gs_before = [w.numpy() for w in Gs.weights]
    D_before = [w.numpy() for w in D.trainable_weights]
    G.dlatent_avg.assign(tf.ones_like(G.dlatent_avg))  # Only a training-mode G call changes it.
    Gs_before = [w.numpy() for w in Gs.weights]

    out = st.d_step(*distribute.distribute_batch(strategy, reals, labels))
    assert np.isfinite(out["Loss/D"].numpy()) and int(out["Loss/D_skipped"]) == 0
    assert int(st.D.optimizer.iterations.numpy()) == 1 and int(st.G.optimizer.iterations.numpy()) == 0
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(D_before, D.trainable_weights))
    # Gs <- G + (Gs - G) * beta with beta = 0.5 ** (minibatch / (G_smoothing_kimg * 1000)).
    beta = 0.5 ** (8 / 10.0)
    for g0, gs0, g, gs in zip(G_before, Gs_before, G.weights, Gs.weights):
        if g.trainable:
            np.testing.assert_allclose(gs.numpy(), g0 + (gs0 - g0) * beta, rtol=1e-5, atol=1e-6)
        else:  # lod, dlatent_avg (updated by the D loss's G call), noise: copied.
            np.testing.assert_array_equal(gs.numpy(), g.numpy())
    assert not np.array_equal(G.dlatent_avg.numpy(), np.ones(16))

    # A non-finite gradient: the whole update is skipped (weights, moments, step counter).
    good = D.trainable_weights[-1].numpy()
    D.trainable_weights[-1].assign(tf.fill(D.trainable_weights[-1].shape, np.nan))
    D_before = [w.numpy() for w in D.trainable_weights]
    moments = [v.numpy() for v in st.D.optimizer.variables]
    out = st.d_step(*distribute.distribute_batch(strategy, reals, labels))
    assert int(out["Loss/D_skipped"]) == 1 and int(st.D.skipped.numpy()) == 1
    for a, b in zip(D_before, D.trainable_weights):
        np.testing.assert_array_equal(a, b.numpy())
    for a, b in zip(moments, st.D.optimizer.variables):
        np.testing.assert_array_equal(a, b.numpy())
    assert st.traces["D"] == 1
    D.trainable_weights[-1].assign(good)

    # G step, then the optimizer reset keeps the learning rate and zeroes the rest.
    out = st.g_step(8, 1)
    G_opt = st.G.optimizer
    assert np.isfinite(out["Loss/G"].numpy()) and int(G_opt.iterations.numpy()) == 1
    steps.reset_optimizer_state(G_opt)
    assert int(G_opt.iterations.numpy()) == 0
    assert float(G_opt.learning_rate.numpy()) == pytest.approx(0.01)
    assert all(not np.any(v.numpy()) for v in G_opt.variables if v is not G_opt.learning_rate)


@pytest.mark.slow
def test_mirrored_replicas_stay_in_sync(data_dir):
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) < 2:
        pytest.skip("needs two logical CPUs (set up by conftest)")
    strategy = distribute.make_strategy("mirrored", [c.name for c in cpus[:2]])
    st, (reals, labels) = _setup(strategy, data_dir, G_loss="G_ragan_logistic", D_loss="D_wgan_gp")
    assert st.replicas == 2
    for _ in range(2):
        out = st.d_step(*distribute.distribute_batch(strategy, reals, labels))
        out.update(st.g_step(4, 1, *distribute.distribute_batch(strategy, reals, labels)))
    assert all(np.isfinite(float(v)) for v in out.values())
    for net in (st.G.net, st.D.net, st.Gs):
        for w in net.weights:
            first, second = strategy.experimental_local_results(w.value)
            np.testing.assert_array_equal(first.numpy(), second.numpy(), err_msg=w.path)
    assert int(st.D.optimizer.iterations.numpy()) == 2 and int(st.G.optimizer.iterations.numpy()) == 2


def test_train_steps_turn_off_grapplers_addn_rewrite(data_dir):
    """Grappler's AddN -> TemporaryVariable rewrite collides in R1's second-order cond gradients.

    It triggers only when the graph's static peak-memory estimate nears the machine's memory
    (the FFHQ architecture at 32x32 on a few GiB of RAM), so the test checks the setting that
    every later function call gets, after a step has run with it.
    """
    from tfstylegan.training import graph_options

    strategy = distribute.make_strategy("default")
    st, (reals, labels) = _setup(strategy, data_dir)
    assert graph_options.memory_optimization_level() == "SWAPPING_HEURISTICS"
    out = st.d_step(*distribute.distribute_batch(strategy, reals, labels))
    assert np.isfinite(out["Loss/D"].numpy())
    assert graph_options.memory_optimization_level() == "SWAPPING_HEURISTICS"
