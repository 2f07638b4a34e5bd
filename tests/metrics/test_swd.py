"""SWD: the pyramid, descriptors and distance against straightforward NumPy/SciPy code."""

import numpy as np
import pytest
import scipy.ndimage
import tensorflow as tf

from tfstylegan.metrics import swd
from tfstylegan.metrics.base import MetricContext

# ----------------------------------------------------------------------------------------
# Independent reference code (NCHW, as ProGAN's sliced_wasserstein.py works).

FILTER = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0


def ref_pyr_down(x):  # [N, C, H, W]
    return scipy.ndimage.convolve(x, FILTER[None, None], mode="mirror")[:, :, ::2, ::2]


def ref_pyr_up(x):
    n, c, h, w = x.shape
    up = np.zeros([n, c, 2 * h, 2 * w], x.dtype)
    up[:, :, ::2, ::2] = x
    return scipy.ndimage.convolve(up, 4 * FILTER[None, None], mode="mirror")


def ref_laplacian(x, num_levels):
    levels = [x.astype(np.float64)]
    for _ in range(1, num_levels):
        levels.append(ref_pyr_down(levels[-1]))
        levels[-2] = levels[-2] - ref_pyr_up(levels[-1])
    return levels


def ref_sliced_wasserstein(a, b, directions):
    """One direction at a time, in float64."""
    per_repeat = []
    for dirs in directions:
        dists = []
        for j in range(dirs.shape[1]):
            pa = np.sort(a.astype(np.float64) @ dirs[:, j].astype(np.float64))
            pb = np.sort(b.astype(np.float64) @ dirs[:, j].astype(np.float64))
            dists.append(np.mean(np.abs(pa - pb)))
        per_repeat.append(np.mean(dists))
    return np.mean(per_repeat)


def nhwc(x):
    return np.transpose(x, [0, 2, 3, 1])


# ----------------------------------------------------------------------------------------


def test_pyramid_resolutions():
    assert swd.pyramid_resolutions(256) == [256, 128, 64, 32, 16]
    assert swd.pyramid_resolutions(16) == [16]
    assert swd.pyramid_resolutions(8) == []


def test_filter_is_progans_binomial():
    np.testing.assert_allclose(swd.GAUSSIAN_FILTER.sum(), 1.0, rtol=1e-7)
    assert swd.GAUSSIAN_FILTER[2, 2] * 256 == 36 and swd.GAUSSIAN_FILTER[0, 1] * 256 == 4


def test_pyramid_matches_scipy_mirror_convolution():
    x = np.random.default_rng(0).integers(0, 256, [2, 3, 32, 32]).astype(np.float32)
    np.testing.assert_allclose(
        swd.pyr_down(nhwc(x)).numpy(), nhwc(ref_pyr_down(x.astype(np.float64))), atol=1e-3
    )
    small = ref_pyr_down(x.astype(np.float64))
    np.testing.assert_allclose(
        swd.pyr_up(nhwc(small).astype(np.float32)).numpy(), nhwc(ref_pyr_up(small)), atol=1e-3
    )
    got = swd.laplacian_pyramid(nhwc(x), 2)
    want = ref_laplacian(x, 2)
    assert [g.shape for g in got] == [(2, 32, 32, 3), (2, 16, 16, 3)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g.numpy(), nhwc(w), atol=2e-3)
    # The pyramid is invertible: upsample-and-add gives back the image.
    np.testing.assert_allclose((got[0] + swd.pyr_up(got[1])).numpy(), nhwc(x), atol=2e-3)


def test_descriptors_are_the_neighbourhoods():
    level = np.random.default_rng(1).standard_normal([2, 16, 16, 3]).astype(np.float32)
    rows = np.array([[3, 12], [5, 7]])
    cols = np.array([[3, 4], [12, 9]])
    desc = swd.extract_descriptors(tf.constant(level), rows, cols).numpy()
    assert desc.shape == (4, 147)
    for i, (n, k) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        r, c = rows[n, k], cols[n, k]
        np.testing.assert_array_equal(desc[i], level[n, r - 3 : r + 4, c - 3 : c + 4, :].reshape(-1))


def test_normalize_descriptors_per_channel():
    desc = np.random.default_rng(2).uniform(0, 255, [50, 147]).astype(np.float32)
    got = swd.normalize_descriptors(desc)
    chw = desc.reshape(50, 49, 3)
    for c in range(3):
        values = chw[:, :, c]
        want = (values - values.mean()) / values.std()
        np.testing.assert_allclose(got.reshape(50, 49, 3)[:, :, c], want, rtol=1e-4, atol=1e-5)


def test_sliced_wasserstein_matches_numpy_loop():
    rng = np.random.default_rng(3)
    a = swd.normalize_descriptors(rng.standard_normal([300, 147]).astype(np.float32))
    b = swd.normalize_descriptors((rng.standard_normal([300, 147]) ** 3).astype(np.float32))
    directions = [swd.random_directions(rng, 147) for _ in range(4)]
    assert directions[0].shape == (147, 128) and directions[0].dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(directions[0], axis=0), 1.0, rtol=1e-6)
    got = swd.sliced_wasserstein(a, b, directions, chunk=20)
    want = ref_sliced_wasserstein(a, b, directions)
    assert got == pytest.approx(want, rel=1e-5)
    assert swd.sliced_wasserstein(a, a, directions) == 0.0
    with pytest.raises(ValueError, match="one shape"):
        swd.sliced_wasserstein(a, b[:10], directions)


def test_names():
    assert swd.swd_from_name("swd16k") == swd.SWD("swd16k", 16384)
    assert swd.swd_from_name("swd1k").num_images == 1024
    assert swd.swd_from_name("swd200").num_images == 200
    assert swd.swd_from_name("swd") is None and swd.swd_from_name("fid50k") is None
    with pytest.raises(ValueError):
        swd.swd_from_name("swd1")


# ----------------------------------------------------------------------------------------
# The metric end to end, on a smooth stand-in generator at 32 x 32 (two levels).


class SmoothGenerator:
    """images = tanh(bilinear upsampling of (latents @ W) as 4x4x3) + noise_level * fixed noise."""

    def __init__(self, noise_level=0.0):
        rng = np.random.default_rng(7)
        self.w = rng.standard_normal([8, 48]).astype(np.float32) * 0.6
        self.noise_level = noise_level
        self.calls = 0

    def __call__(self, latents, labels):
        self.calls += 1
        coarse = tf.reshape(latents @ self.w, [-1, 4, 4, 3])
        images = tf.tanh(tf.image.resize(coarse, [32, 32], method="bilinear"))
        if self.noise_level:
            noise = tf.random.stateless_normal(tf.shape(images), seed=[self.calls, 0])
            images = images + self.noise_level * noise
        return images


def _reals(n=96, seed=11):
    gen = SmoothGenerator()
    latents = np.random.default_rng(seed).standard_normal([n, 8]).astype(np.float32)
    images = gen(latents, None).numpy()
    return np.clip(np.floor(images * 127.5 + 128), 0, 255).astype(np.uint8)


def test_swd_metric_orders_perturbations():
    reals = _reals()
    ctx = MetricContext(
        latent_size=8, reals=lambda: [reals[:64], reals[64:]], resolution=32, seed=5, minibatch_size=32
    )
    metric = swd.SWD("swd96", 96)
    values, fine = [], []
    for level in [0.0, 0.05, 1.0]:
        result = metric.compute(MetricContext(**{**ctx.__dict__, "generate": SmoothGenerator(level)}))
        assert list(result) == ["swd96_32", "swd96_16", "swd96", "swd96_time_s"]
        assert result["swd96"] == pytest.approx((result["swd96_32"] + result["swd96_16"]) / 2)
        values.append(result["swd96"])
        fine.append(result["swd96_32"])  # the detail level, where pixel noise shows
    # More noise, larger distances; the same distribution (independent latents and patch
    # positions) is small next to them.
    assert all(b > a for a, b in zip(values, values[1:])), values
    assert all(b > 2 * a for a, b in zip(fine, fine[1:])), fine
    assert fine[0] < 0.25 * fine[-1], fine
    # Same seed, same numbers.
    again = metric.compute(MetricContext(**{**ctx.__dict__, "generate": SmoothGenerator(0.05)}))
    assert again["swd96"] == values[1]


def test_swd_metric_errors():
    reals = _reals(n=10)
    ctx = MetricContext(generate=SmoothGenerator(), latent_size=8, reals=[reals], resolution=32)
    with pytest.raises(ValueError, match="ran out after 10 of 20"):
        swd.SWD("swd20", 20).compute(ctx)
    with pytest.raises(ValueError, match="at least 16x16"):
        swd.SWD("swd20", 20).compute(MetricContext(**{**ctx.__dict__, "resolution": 8}))
    with pytest.raises(ValueError, match="uint8"):
        swd.SWD("swd5", 5).compute(MetricContext(**{**ctx.__dict__, "reals": [reals.astype(np.float32)]}))
