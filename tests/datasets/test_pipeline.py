"""process_reals against the original's outputs, inside and outside tf.function."""

import numpy as np
import pytest
import tensorflow as tf

from tfstylegan.data.pipeline import adjust_dynamic_range, process_reals


def _cases(data_dir):
    """(folder, key, lod) for every process_reals entry of both fixtures."""
    cases = []
    for folder in ("small", "cond"):
        ref = np.load(data_dir / folder / "reference.npz")
        for key in sorted({k.rsplit("/", 1)[0] for k in ref.files if k.endswith("/in")}):
            if key.startswith("process_reals/"):
                cases.append((folder, key, float(key.rsplit("_lod", 1)[1])))
    return cases


@pytest.fixture(scope="module")
def cases(data_dir):
    found = _cases(data_dir)
    assert len(found) == 8  # 4 lods x 2 fixtures
    return [(np.load(data_dir / f / "reference.npz"), key, lod) for f, key, lod in found]


def _nhwc(x):
    return np.asarray(x).transpose(0, 2, 3, 1)  # NCHW => NHWC


def test_adjust_dynamic_range_is_the_original_float32_arithmetic():
    x = np.arange(256, dtype=np.float32)
    scale = np.float32(2) / np.float32(255)
    np.testing.assert_array_equal(adjust_dynamic_range(x, (0, 255), (-1, 1)), x * scale + np.float32(-1))
    assert adjust_dynamic_range(x, [0, 255], (0, 255)) is x


def test_process_reals_matches_original(cases):
    for ref, key, lod in cases:
        out = process_reals(_nhwc(ref[key + "/in"]), lod, mirror_augment=False)
        assert out.dtype == tf.float32
        np.testing.assert_allclose(out.numpy(), _nhwc(ref[key + "/out"]), rtol=0, atol=1e-6, err_msg=key)


def test_process_reals_in_tf_function_with_lod_variable(cases):
    lod_var = tf.Variable(0.0)
    traces = []

    @tf.function
    def step(x, mask):
        traces.append(1)
        return process_reals(x, lod_var, mirror_augment=True, mirror_mask=mask)

    mirrored = [(ref, key, lod) for ref, key, lod in cases if key + "/out_mirror" in ref.files]
    assert len(mirrored) == 2
    for ref, key, lod in mirrored:
        lod_var.assign(lod)
        mask = ref["process_reals/mirror_mask"]
        out = step(tf.constant(_nhwc(ref[key + "/in"])), tf.constant(mask))
        np.testing.assert_allclose(
            out.numpy(), _nhwc(ref[key + "/out_mirror"]), rtol=0, atol=1e-6, err_msg=key
        )
    assert len(traces) == 2  # One trace per input shape ([2, 16, 16, 3] and [2, 8, 8, 3]) ...
    ref, key, _ = mirrored[0]
    for lod in (0.0, 0.5, 1.0):  # ... and none per lod value.
        lod_var.assign(lod)
        out = step(tf.constant(_nhwc(ref[key + "/in"])), tf.constant(ref["process_reals/mirror_mask"]))
        assert out.shape[1] == 16 * 2 ** int(lod)
    assert len(traces) == 2
    # The cond fixture's mask flips one sample and not the other.
    assert sorted(mirrored[1][0]["process_reals/mirror_mask"].ravel() >= 0.5) == [False, True]


def test_mirror_from_rng_flips_whole_samples():
    x = np.random.RandomState(0).randint(0, 256, size=[16, 4, 4, 3]).astype(np.uint8)
    out = process_reals(x, 0.0, True, rng=tf.random.Generator.from_seed(5)).numpy()
    again = process_reals(x, 0.0, True, rng=tf.random.Generator.from_seed(5)).numpy()
    np.testing.assert_array_equal(out, again)
    plain = process_reals(x, 0.0, False).numpy()
    flipped = [bool(np.array_equal(o, p[:, ::-1])) for o, p in zip(out, plain)]
    kept = [bool(np.array_equal(o, p)) for o, p in zip(out, plain)]
    assert all(f or k for f, k in zip(flipped, kept)) and 0 < sum(flipped) < 16
    mask = tf.random.Generator.from_seed(5).uniform([16, 1, 1, 1], 0.0, 1.0).numpy().ravel()
    assert flipped == list(mask >= 0.5)  # The rng's first draw is the mask.
    # Without an rng: tf.random.uniform, still whole-sample flips.
    out = process_reals(x, 0.0, True).numpy()
    assert all(np.array_equal(o, p) or np.array_equal(o, p[:, ::-1]) for o, p in zip(out, plain))


def test_process_reals_upscales_to_full_resolution_with_static_shape():
    x = np.arange(2 * 4 * 4 * 1, dtype=np.float32).reshape(2, 4, 4, 1)
    fn = tf.function(
        lambda x, lod: process_reals(x, lod, False, drange_data=(0, 1), drange_net=(0, 1), resolution=16)
    )
    out = fn(tf.constant(x), tf.constant(2.0))
    assert out.shape == (2, 16, 16, 1)
    np.testing.assert_array_equal(out.numpy(), np.repeat(np.repeat(x, 4, axis=1), 4, axis=2))
    # Half-way: lerp towards the 2x2 box average.
    out = process_reals(x, 0.25, False, drange_data=(0, 1), drange_net=(0, 1)).numpy()
    box = x.reshape(2, 2, 2, 2, 2, 1).mean(axis=(2, 4), keepdims=True)
    box = np.tile(box, [1, 1, 2, 1, 2, 1]).reshape(x.shape)
    np.testing.assert_allclose(out, x + (box - x) * 0.25, atol=1e-6)
