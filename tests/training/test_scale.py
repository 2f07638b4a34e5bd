"""Scaling the training steps: one device vs MirroredStrategy, mixed precision, loss scaling, XLA, the guard."""

import os
import weakref

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.tiny_networks import TRAIN_D_ARGS, TRAIN_G_ARGS
from tfstylegan import losses
from tfstylegan.data import TFRecordDataset
from tfstylegan.data.pipeline import process_reals
from tfstylegan.networks import DBasic, GStyle
from tfstylegan.training import distribute, precision, steps


class GlobalDraws:
    """Random draws that do not depend on the replica count, for comparing strategies.

    A draw of ``n`` rows on replica ``r`` of ``R`` takes rows ``r, r + R, r + 2R, ...`` of
    one stateless draw of ``n * R`` rows: on one device (``R = 1``) that draw is the whole
    global batch. Scalar draws are the same everywhere. Draw ``k`` of a traced step is
    seeded with ``(k, step)``; the test sets ``step`` before each step.
    """

    def __init__(self, replicas: int):
        self.replicas = replicas
        self.step = tf.Variable(0, dtype=tf.int32, trainable=False)
        self._counts = weakref.WeakKeyDictionary()  # graph -> {replica: draws so far}

    def _seed(self):
        ctx = tf.distribute.get_replica_context()
        replica = int(tf.get_static_value(ctx.replica_id_in_sync_group)) if ctx is not None else 0
        counts = self._counts.setdefault(tf.compat.v1.get_default_graph(), {})
        k = counts.get(replica, 0)
        counts[replica] = k + 1
        return replica, tf.stack([tf.constant(k, tf.int32), self.step.read_value()])

    def _draw(self, fn, shape, dtype, **kwargs):
        replica, seed = self._seed()
        if isinstance(shape, (list, tuple)) and len(shape) == 0:
            return fn([], seed=seed, dtype=dtype, **kwargs)
        shape = tf.convert_to_tensor(shape, tf.int32)
        full = tf.concat([shape[:1] * self.replicas, shape[1:]], axis=0)
        return fn(full, seed=seed, dtype=dtype, **kwargs)[replica :: self.replicas]

    def normal(self, shape, dtype=tf.float32):
        return self._draw(tf.random.stateless_normal, shape, dtype)

    def uniform(self, shape, minval=0, maxval=None, dtype=tf.float32):
        return self._draw(tf.random.stateless_uniform, shape, dtype, minval=minval, maxval=maxval)


@pytest.fixture(scope="module")
def rgb32(data_dir):
    return TFRecordDataset(str(data_dir / "small" / "dataset" / "rgb32"))


def _steps(
    strategy, ts, rng=None, prec="float32", num_fp16_res=None, xla=False, D_args=None, lod=1.0, opt_args=None, **kwargs
):
    keras.utils.set_random_seed(5)
    dtype = precision.network_dtype(prec, num_fp16_res)
    with strategy.scope():
        G = GStyle(num_channels=3, resolution=32, **TRAIN_G_ARGS, dtype=dtype)
        D = DBasic(num_channels=3, resolution=32, **{**TRAIN_D_ARGS, **(D_args or {})}, dtype=dtype)
        if num_fp16_res is not None:
            precision.set_top_resolutions(prec, num_fp16_res, G.synthesis, D)
        Gs = GStyle.from_config({**G.get_config(), "name": "Gs", "dtype": "float32"})
        for a, b in zip(Gs.weights, G.weights):
            a.assign(b)
        G_opt = steps.make_optimizer("adam", 0.002, "TrainG", **(opt_args or {}))
        D_opt = steps.make_optimizer("adam", 0.002, "TrainD", **(opt_args or {}))
        G_opt.build(G.trainable_weights)
        D_opt.build(D.trainable_weights)
        rng = rng or tf.random.Generator.from_seed(7)
    for net in (G, D):
        net.lod.assign(lod)
    return steps.TrainSteps(
        strategy, G, D, Gs, G_opt, D_opt, rng,
        G_loss=losses.get_loss("G_logistic_nonsaturating"), G_loss_args={},
        D_loss=losses.get_loss("D_logistic_simplegp"), D_loss_args=losses.resolve_loss_args("D_logistic_simplegp"),
        random_labels=ts.get_random_labels_tf, mirror_augment=True, G_smoothing_kimg=0.1,
        precision=prec, xla=xla, **kwargs,
    )


def _state(st):
    nets = [w.numpy() for net in (st.G.net, st.D.net, st.Gs) for w in net.weights]
    return nets + [v.numpy() for opt in (st.G.optimizer, st.D.optimizer) for v in opt.variables]


def _adam_drift_bound(opt, steps: range) -> float:
    """The most one weight of two runs can drift apart over Adam ``steps`` (step numbers), whatever the gradients.

    With ``beta_1 = 0`` the first moment is the gradient, and the second moment is at least
    ``(1 - beta_2) * g**2``, so step ``t`` moves a weight by at most
    ``lr * sqrt(1 - beta_2**t) / sqrt(1 - beta_2)``: a near-sign step. Where a gradient is
    rounding noise (a sum of terms that cancel), its sign depends on the reduction order,
    and two runs can step in opposite directions.
    """
    lr, beta_2 = float(opt.learning_rate.numpy()), float(opt.beta_2)
    assert float(opt.beta_1) == 0.0
    return sum(2 * lr * np.sqrt((1 - beta_2**t) / (1 - beta_2)) for t in steps)


def _first_moments(opt) -> list[np.ndarray]:
    """Adam's first moments, one per trainable weight (with ``beta_1 = 0``: the last gradients)."""
    return [v.numpy() for v in opt.variables if v.name.endswith("_momentum")]


@pytest.mark.slow
def test_one_device_and_mirrored_give_the_same_weights(rgb32):
    """One device and two mirrored replicas compute the same gradients, losses and (nearly) weights.

    Both see the same random draws (:class:`GlobalDraws`) and the same real minibatch of
    8. Row ``i`` of the global batch belongs to replica ``i % 2``, so each replica gets
    4 images. The minibatch-stddev groups coincide: with group size 4, one device
    groups its 8 rows as ``i mod (8 / 4)``, i.e. ``{0, 2, 4, 6}`` and ``{1, 3, 5, 7}``,
    which are exactly the two replicas' minibatches, each one group of 4.

    The first D + G step runs at learning rate 0: the weights stay where they are, and
    Adam's first moments hold the gradients (``beta_1 = 0``), which must agree to 1e-5 of
    their scale, as must the losses. Three steps at the learning rate follow. Their losses
    must still agree to 1e-5; the weights only within :func:`_adam_drift_bound`, since a
    gradient that is rounding noise becomes a full step of either sign, and the two
    strategies sum in different orders. The original's initialisation is degenerate at
    G's 4x4 layer (a constant of ones and zero noise strengths: instance norm of a
    spatially constant input), where every bias gradient is such noise: both runs start
    from a random constant and noise strengths, as a network that has trained a little.
    """
    cpus = tf.config.list_logical_devices("CPU")
    if len(cpus) < 2:
        pytest.skip("needs two logical CPUs (set up by conftest)")
    # tf.data combines the shuffle seed with TensorFlow's global seed, which any earlier
    # Trainer or test leaves set (keras.utils.set_random_seed): fix it for this minibatch.
    tf.random.set_seed(1)
    reals, labels = next(iter(rgb32.as_dataset(8, lod=1, seed=3)))
    results, initial = {}, None
    for name, strategy in (
        ("one_device", distribute.make_strategy("one_device", [cpus[0].name])),
        ("mirrored", distribute.make_strategy("mirrored", [c.name for c in cpus[:2]])),
    ):
        replicas = distribute.num_replicas(strategy)
        st = _steps(strategy, rgb32, rng=GlobalDraws(replicas), D_args=dict(mbstd_group_size=4))
        init = np.random.RandomState(0)
        for w in st.G.net.weights:
            if w.path.endswith(("/const", "noise_strength")):
                w.assign(init.normal(0, 1 if w.path.endswith("const") else 0.2, w.shape).astype(np.float32))
        for a, b in zip(st.Gs.weights, st.G.net.weights):
            a.assign(b)
        start = [w.numpy() for net in (st.G.net, st.D.net, st.Gs) for w in net.weights]
        initial = initial or start
        assert all(np.array_equal(a, b) for a, b in zip(initial, start))  # Both runs start alike.
        trainables = [w for net in (st.G.net, st.D.net, st.Gs) for w in net.trainable_weights]
        before = [w.numpy() for w in trainables]
        inputs = strategy.experimental_distribute_values_from_function(
            lambda ctx, r=replicas: (reals[ctx.replica_id_in_sync_group :: r], labels[ctx.replica_id_in_sync_group :: r])
        )
        opts = (st.D.optimizer, st.G.optimizer)
        steps_out = []
        for step in range(4):
            for opt in opts:
                opt.learning_rate.assign(0.0 if step == 0 else 0.002)
            st.rng.step.assign(step)
            out = st.d_step(*inputs)
            out.update(st.g_step(8 // replicas, 1))
            assert all(np.isfinite(float(v)) for v in out.values()) and int(out["Loss/D_skipped"]) == 0
            steps_out.append({k: float(v) for k, v in out.items()})
            if step == 0:
                gradients = [m for opt in opts for m in _first_moments(opt)]
                assert all(np.array_equal(a, w.numpy()) for a, w in zip(before, trainables))  # Learning rate 0.
        results[name] = (st, _state(st), steps_out, gradients)
        if replicas == 2:  # Every replica holds the same values of every mirrored variable.
            for net in (st.G.net, st.D.net, st.Gs):
                for w in net.weights:
                    first, second = strategy.experimental_local_results(w.value)
                    np.testing.assert_array_equal(first.numpy(), second.numpy(), err_msg=w.path)
    (one, one_state, one_out, one_grads), (mirrored, mirrored_state, mirrored_out, mirrored_grads) = results.values()
    assert int(one.D.optimizer.iterations.numpy()) == int(mirrored.D.optimizer.iterations.numpy()) == 4
    # The first step: the same gradients and losses.
    assert len(one_grads) == len(one.D.net.trainable_weights) + len(one.G.net.trainable_weights)
    for a, b in zip(one_grads, mirrored_grads):
        assert np.max(np.abs(a - b)) <= 1e-5 * max(float(np.max(np.abs(a))), 1e-6), np.max(np.abs(a - b))
    for a, b in zip(one_out, mirrored_out):
        for key in ("Loss/D", "Loss/G"):
            assert a[key] == pytest.approx(b[key], rel=1e-5), (key, a[key], b[key])
    # After the steps: the weights within what Adam's near-sign steps allow (most agree to float rounding).
    bound = _adam_drift_bound(one.D.optimizer, range(2, 5))
    diffs = np.concatenate([np.abs(a - b).ravel() for a, b in zip(one_state[: len(initial)], mirrored_state)])
    print(
        f"one device vs mirrored: largest weight difference {diffs.max():.2e} (bound {bound:.2e}); "
        f"{np.mean(diffs > 1e-5):.2%} of {diffs.size} weights differ by more than 1e-5"
    )
    assert diffs.max() <= bound and np.median(diffs) < 1e-6, (diffs.max(), np.median(diffs))
    # The steps did train: the weights moved by much more than float rounding.
    moved = max(float(np.max(np.abs(a - b))) for a, b in zip(initial, one_state[: len(initial)]))
    assert moved > 1e-3, moved


@pytest.mark.slow
@pytest.mark.parametrize("prec, num_fp16_res", [("mixed_float16", 2), ("mixed_bfloat16", None)])
def test_mixed_precision_steps_train_without_nan(rgb32, prec, num_fp16_res):
    st = _steps(distribute.make_strategy("default"), rgb32, prec=prec, num_fp16_res=num_fp16_res)
    G, D = st.G.net, st.D.net
    half = "float16" if prec == "mixed_float16" else "bfloat16"
    if num_fp16_res is None:
        assert G.synthesis.torgb[0].compute_dtype == D.conv4.compute_dtype == half
    else:  # Only 16x16 and 32x32 compute in float16; 4x4, 8x8 and the mapping in float32.
        layers = G.synthesis.resolution_layers()
        assert [layers[r][0].compute_dtype for r in (2, 3, 4, 5)] == ["float32", "float32", half, half]
        assert D.resolution_layers()[5][1].compute_dtype == half and D.dense1.compute_dtype == "float32"
        assert G.mapping.compute_dtype == "float32"
    assert st.D.loss_scale.enabled == (prec == "mixed_float16")
    assert all(w.dtype == "float32" for w in G.weights + D.weights)
    D_before = [w.numpy() for w in D.trainable_weights]
    reals, labels = next(iter(rgb32.as_dataset(8, lod=1, seed=3)))
    for _ in range(3):
        out = st.d_step(reals, labels)
        out.update(st.g_step(8, 1))
        assert np.isfinite(float(out["Loss/D"])) and np.isfinite(float(out["Loss/G"]))
    for net in (G, D, st.Gs):
        assert all(np.all(np.isfinite(w.numpy())) for w in net.weights)
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(D_before, D.trainable_weights))
    for update in (st.D, st.G):  # Every step is applied or counted as skipped (a float16 overflow lowers the scale).
        applied = int(update.optimizer.iterations.numpy())
        assert applied >= 2 and applied + int(update.skipped.numpy()) == 3
        assert int(update.bad.numpy()) == 0
    if prec == "mixed_bfloat16":
        return

    # float16 guard. A NaN weight: the update is skipped, the scale halves, and the step
    # counts as bad (the loss itself is not finite, so no scale would help).
    log2 = float(st.D.loss_scale.log2_scale.numpy())
    weight = D.trainable_weights[-1]
    good = weight.numpy()
    weight.assign(tf.fill(weight.shape, np.nan))
    out = st.d_step(reals, labels)
    assert int(out["Loss/D_skipped"]) == 1 and not np.isfinite(float(out["Loss/D"]))
    assert float(st.D.loss_scale.log2_scale.numpy()) == log2 - 1 and int(st.D.bad.numpy()) == 1
    weight.assign(good)
    # An overflow of the scaled gradients: skipped and the scale lowered, but not a bad step.
    st.G.loss_scale.log2_scale.assign(40.0)
    out = st.g_step(8, 1)
    assert int(out["Loss/G_skipped"]) == 1 and np.isfinite(float(out["Loss/G"]))
    assert float(st.G.loss_scale.log2_scale.numpy()) == 39.0 and int(st.G.bad.numpy()) == 0
    assert int(st.bad_steps().numpy()) == 1
    assert st.traces == {"D": 1, "G": 1}


def test_loss_scale_grows_after_good_steps_and_has_a_floor():
    scale = precision.DynamicLossScale(True, "ls", initial_log2=1.0, growth_steps=2)
    assert float(scale.scale().numpy()) == 2.0
    history = []
    for ok in (True, True, True, False, False, False):
        scale.update(tf.constant(ok))
        history.append((float(scale.log2_scale.numpy()), int(scale.good_steps.numpy()), bool(scale.at_floor())))
    assert history == [(1, 1, False), (2, 0, False), (2, 1, False), (1, 0, False), (0, 0, True), (0, 0, True)]
    off = precision.DynamicLossScale(False, "off")
    off.update(tf.constant(False))
    assert off.scale() is None and bool(off.at_floor()) and float(off.log2_scale.numpy()) == 0.0


def test_process_reals_static_level_matches_the_dynamic_one():
    x = tf.constant(np.random.RandomState(0).randint(0, 256, [2, 8, 8, 3]), tf.uint8)
    for lod in (2.0, 2.4):
        dynamic = process_reals(x, lod, False, resolution=32)
        static = process_reals(x, lod, False, resolution=32, level=2)
        np.testing.assert_array_equal(dynamic.numpy(), static.numpy())


@pytest.mark.slow
def test_xla_steps_compile_and_train(rgb32):
    """The per-replica steps under ``jit_compile`` (8x8, so the CPU compile stays short)."""
    st = _steps(distribute.make_strategy("default"), rgb32, xla=True, lod=2.0)
    assert st._d_replica_fn.function_spec is not None and st._d_replica_fn._jit_compile
    reals, labels = next(iter(rgb32.as_dataset(8, lod=2, seed=3)))
    D_before = [w.numpy() for w in st.D.net.trainable_weights]
    for _ in range(2):
        out = st.d_step(reals, labels)
        out.update(st.g_step(8, 2))
    assert all(np.isfinite(float(v)) for v in out.values()) and int(out["Loss/G_skipped"]) == 0
    assert int(st.D.optimizer.iterations.numpy()) == int(st.G.optimizer.iterations.numpy()) == 2
    assert any(not np.array_equal(a, b.numpy()) for a, b in zip(D_before, st.D.net.trainable_weights))
    assert st.traces == {"D": 1, "G": 1}


@pytest.mark.slow
def test_a_run_that_stays_non_finite_stops_and_keeps_the_last_good_state(data_dir, tmp_path):
    """float16 run (only 32x32 in float16); D is poisoned after tick 1; the run stops at tick 2 unsaved."""
    from tfstylegan import load_network_pkl
    from tfstylegan.training.config import TrainConfig
    from tfstylegan.training.guard import TrainingDiverged
    from tfstylegan.training.trainer import Trainer

    cfg = TrainConfig(
        data_dir=str(data_dir / "small" / "dataset" / "rgb32"),
        G_args=dict(TRAIN_G_ARGS),
        D_args=dict(TRAIN_D_ARGS),
        total_kimg=0.128,
        sched_args=dict(lod_initial_resolution=32, minibatch_base=8, tick_kimg_base=0.032, tick_kimg_dict={}),
        network_snapshot_ticks=1,
        grid_size="2x2",
        result_dir=str(tmp_path),
        precision="mixed_float16",
        num_fp16_res=1,
        max_nonfinite_steps=3,
    )

    class Poisoned(Trainer):
        def _minibatch(self, sched, stats):
            if self.cur_tick == 1:
                weight = self.D.trainable_weights[-1]
                weight.assign(tf.fill(weight.shape, np.inf))
            super()._minibatch(sched, stats)

    run = Poisoned(cfg)
    with pytest.raises(TrainingDiverged, match=r"stopped at kimg 0\.1 \(tick 2\): 4 D steps in a row") as error:
        run.train()
    run_dir = run.run_dir
    good = os.path.join(run_dir, "checkpoints", "ckpt-1")
    assert f"Last good checkpoint: {good}" in str(error.value) and "network-snapshot-000000.pkl" in str(error.value)
    assert int(run.steps.D.skipped.numpy()) == 4 and run.cur_tick == 2
    # Nothing was written after the poison: the good checkpoint and snapshot are the latest.
    assert tf.train.latest_checkpoint(os.path.join(run_dir, "checkpoints")) == good
    assert not os.path.exists(os.path.join(run_dir, "network-final.pkl"))
    reader = tf.train.load_checkpoint(good)
    for key, dtype in reader.get_variable_to_dtype_map().items():
        if dtype.is_floating:
            assert np.all(np.isfinite(reader.get_tensor(key))), key
    assert reader.get_tensor("loss_scale_D/log2_scale/.ATTRIBUTES/VARIABLE_VALUE") == 15.0
    for net in load_network_pkl(os.path.join(run_dir, "network-snapshot-000000.pkl")):
        assert all(np.all(np.isfinite(w.numpy())) for w in net.weights)
    log = open(os.path.join(run_dir, "log.txt")).read()
    assert "precision mixed_float16" in log and "skipped G 0 D 0 lscale G 2^" in log and "ERROR: stopped at" in log
    # Below the limit, a non-finite weight still blocks the save.
    lines = []
    run.guard.max_steps = 0
    assert not run.guard.safe_to_save(run.steps, (run.G, run.D, run.Gs), "here", lines.append)
    assert lines == [
        f"WARNING: 1 weight(s) are not finite at here (first: {run.D.trainable_weights[-1].path}); this tick writes "
        "no snapshot or checkpoint, the last good ones are kept"
    ]
