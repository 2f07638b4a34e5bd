"""PPL: the sampling math against hand-computed values, with stand-in networks and distance."""

import math

import numpy as np
import pytest
import tensorflow as tf

from tfstylegan.metrics import ppl
from tfstylegan.metrics.base import MetricContext
from tfstylegan.metrics.lpips import LPIPS
from tfstylegan.metrics.registry import get_metric

# ----------------------------------------------------------------------------------------
# The pieces.


def test_slerp_by_hand():
    a = tf.constant([[2.0, 0.0], [1.0, 0.0]])
    b = tf.constant([[0.0, 3.0], [0.0, 1.0]])
    half = ppl.slerp(a, b, tf.constant([[0.5], [1 / 3]])).numpy()
    np.testing.assert_allclose(half[0], [math.sqrt(0.5), math.sqrt(0.5)], rtol=1e-6)
    np.testing.assert_allclose(half[1], [math.cos(math.pi / 6), math.sin(math.pi / 6)], rtol=1e-6)
    np.testing.assert_allclose(ppl.slerp(a, b, tf.zeros([2, 1])).numpy(), [[1, 0], [1, 0]], atol=1e-7)
    # Unit length everywhere in between, in higher dimensions too.
    rng = np.random.default_rng(0)
    z = ppl.slerp(rng.standard_normal([4, 8]), rng.standard_normal([4, 8]), rng.uniform(0, 1, [4, 1])).numpy()
    np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-6)


def test_crop_is_rows_3_to_7_and_columns_2_to_6_eighths():
    images = np.arange(16 * 16, dtype=np.float32).reshape(1, 16, 16, 1)
    got = ppl.crop_face(tf.constant(images)).numpy()
    np.testing.assert_array_equal(got, images[:, 6:14, 4:12, :])
    assert ppl.crop_face(tf.zeros([2, 1024, 1024, 3])).shape == (2, 512, 512, 3)


def test_percentile_filter_lower_and_higher():
    d = np.arange(1, 201, dtype=np.float64)  # 1..200
    # np.percentile(d, 1, 'lower') = d[floor(0.01 * 199)] = 2; (99, 'higher') = d[ceil(0.99 * 199)] = 199.
    kept = ppl.filter_percentiles(d)
    np.testing.assert_array_equal(kept, np.arange(2, 200))
    shuffled = np.random.default_rng(2).permutation(d)
    assert sorted(ppl.filter_percentiles(shuffled)) == list(range(2, 200))


def test_shared_noise_is_one_draw_per_batch():
    source = ppl.SharedNoise(tf.random.Generator.from_seed(3))
    noise = source.normal([tf.constant(4), 8, 8, 1]).numpy()
    assert noise.shape == (4, 8, 8, 1) and np.std(noise[0]) > 0.5
    for i in range(1, 4):
        np.testing.assert_array_equal(noise[i], noise[0])
    assert not np.array_equal(source.normal([2, 8, 8, 1]).numpy()[0], noise[0])  # next batch, next draw


def test_names():
    assert get_metric("ppl_zfull") == ppl.PPL("ppl_zfull", "z", "full", num_samples=100_000, epsilon=1e-4)
    assert get_metric("ppl_wend").space == "w" and get_metric("ppl_wend").sampling == "end"
    assert get_metric("ppl_wfull10k").num_samples == 10_000 and get_metric("ppl_zend64").num_samples == 64
    assert ppl.ppl_from_name("ppl_zmid") is None


# ----------------------------------------------------------------------------------------
# The four variants end to end with stand-ins whose distances are known in closed form.

LATENT, LAYERS, DLATENT, RES = 4, 2, 3, 16


class StandInGs:
    """mapping: w = tanh(z A) broadcast to LAYERS; synthesis: image = (w0 B) as RES x RES + noise."""

    def __init__(self):
        rng = np.random.default_rng(5)
        self.a = rng.standard_normal([LATENT, DLATENT]).astype(np.float32)
        self.b = rng.standard_normal([DLATENT, RES * RES]).astype(np.float32) * 0.3
        self.cfg = type("cfg", (), {"latent_size": LATENT})()

    def mapping(self, latents, labels=None):
        w = tf.tanh(tf.convert_to_tensor(latents) @ self.a)  # [N, DLATENT]
        return tf.tile(w[:, None], [1, LAYERS, 1])  # [N, LAYERS, DLATENT]

    def synthesis(self, dlatents, randomize_noise=True, rng=None):
        images = tf.reshape(dlatents[:, 0] @ self.b, [-1, RES, RES, 1])  # [N, RES, RES, 1]
        return images + rng.normal([tf.shape(dlatents)[0], RES, RES, 1])


def sum_of_squares(a, b):
    return tf.reduce_sum(tf.square(a - b), axis=[1, 2, 3])


def _expected(gs, metric, latents, lerp_t):
    """The same path by hand in float64, without noise (shared noise cancels)."""
    z = latents.astype(np.float64)
    z0, z1, t = z[0::2], z[1::2], lerp_t.astype(np.float64)[:, None]
    a, b = gs.a.astype(np.float64), gs.b.astype(np.float64)

    def slerp(p, q, s):
        p, q = p / np.linalg.norm(p, axis=1, keepdims=True), q / np.linalg.norm(q, axis=1, keepdims=True)
        d = np.sum(p * q, axis=1, keepdims=True)
        c = q - d * p
        c /= np.linalg.norm(c, axis=1, keepdims=True)
        ang = s * np.arccos(d)
        return p * np.cos(ang) + c * np.sin(ang)

    if metric.space == "w":
        w0, w1 = np.tanh(z0 @ a), np.tanh(z1 @ a)
        e0, e1 = w0 + (w1 - w0) * t, w0 + (w1 - w0) * (t + metric.epsilon)
    else:
        e0, e1 = np.tanh(slerp(z0, z1, t) @ a), np.tanh(slerp(z0, z1, t + metric.epsilon) @ a)
    img0, img1 = (e0 @ b).reshape(-1, RES, RES), (e1 @ b).reshape(-1, RES, RES)
    if metric.crop:
        img0, img1 = img0[:, 6:14, 4:12], img1[:, 6:14, 4:12]
    # [-1, 1] -> [0, 255] for VGG, grayscale tiled to 3 channels.
    return 3 * np.sum((127.5 * (img0 - img1)) ** 2, axis=(1, 2)) / metric.epsilon**2


@pytest.mark.parametrize("name", ["ppl_zfull", "ppl_wfull", "ppl_zend", "ppl_wend"])
@pytest.mark.parametrize("crop", [True, False])
def test_ppl_variants_against_hand_computation(name, crop):
    gs = StandInGs()
    metric = ppl.PPL(name, name[4], name[5:], num_samples=200, epsilon=1e-2, minibatch_size=25, crop=crop)
    ctx = MetricContext(Gs=gs, distance=sum_of_squares, latent_size=LATENT, seed=7)
    result = metric.compute(ctx)
    assert set(result) == {name, f"{name}_time_s"}
    # The same draws as compute: per minibatch 2N standard normal latents, then N uniform t (full only).
    rng = np.random.default_rng(7)
    expected = []
    for _ in range(200 // 25):
        latents = rng.standard_normal([50, LATENT]).astype(np.float32)
        t = rng.uniform(0, 1, [25]).astype(np.float32) if name.endswith("full") else np.zeros(25, np.float32)
        expected.append(_expected(gs, metric, latents, t))
    expected = np.concatenate(expected)
    want = np.mean(ppl.filter_percentiles(expected))
    assert result[name] == pytest.approx(want, rel=2e-3)  # float32 paths over a 1e-2 step
    assert len(ppl.filter_percentiles(expected)) == 198  # of 200: the smallest and the largest go


def test_minibatch_rounding_and_labels():
    gs = StandInGs()
    seen = []

    def recording(a, b):
        seen.append(int(a.shape[0]))
        return sum_of_squares(a, b)

    metric = ppl.PPL("ppl_wend", "w", "end", num_samples=10, minibatch_size=4)
    metric.compute(MetricContext(Gs=gs, distance=recording, latent_size=LATENT))
    assert seen == [4]  # traced once, fixed batch; 3 minibatches of 4 pairs (10 rounded up to 12)
    # ctx.minibatch_size counts generator images: 6 images = 3 pairs.
    seen.clear()
    metric.compute(MetricContext(Gs=gs, distance=recording, latent_size=LATENT, minibatch_size=6))
    assert seen == [3]
    with pytest.raises(ValueError, match="needs `distance`"):
        metric.compute(MetricContext(Gs=gs, latent_size=LATENT))


def test_ppl_on_the_small_network_with_random_lpips(small_networks):
    _, _, Gs = small_networks
    with pytest.warns(RuntimeWarning, match="MEANINGLESS"):
        distance = LPIPS(allow_random_init=True)
    metric = ppl.PPL("ppl_wfull", "w", "full", num_samples=16, minibatch_size=8)
    ctx = MetricContext(Gs=Gs, distance=distance, latent_size=Gs.cfg.latent_size, seed=1)
    value = metric.compute(ctx)["ppl_wfull"]
    assert math.isfinite(value) and value > 0
    # The pairs of one minibatch share their noise: a zero step gives equal dlatents, so equal images.
    noise = ppl.SharedNoise(tf.random.Generator.from_seed(0))
    latents = np.random.default_rng(2).standard_normal([8, Gs.cfg.latent_size]).astype(np.float32)
    zero_step = ppl.PPL("ppl_wfull", "w", "full", epsilon=0.0)
    images = zero_step.image_pairs(Gs, tf.constant(latents), tf.constant([0.1, 0.5, 0.9, 0.3]), None, noise).numpy()
    assert images.shape == (8, 16, 16, 3)  # 32 x 32, cropped to the face region, grayscale -> RGB
    np.testing.assert_array_equal(images[0::2], images[1::2])
    assert np.all(np.isfinite(images)) and np.std(images) > 1  # [-1, 1] scaled to about [0, 255]
    assert not np.array_equal(images[0], images[2])  # other paths, other images
