"""The NHWC ops and the resampling convolutions against hand-computed values."""

import numpy as np
import pytest
import tensorflow as tf

from tfstylegan import ops

rs = np.random.RandomState(1234)


def t(x):
    return tf.constant(np.asarray(x, np.float32))


def test_blur_of_a_delta_is_the_normalised_kernel():
    x = np.zeros([1, 5, 5, 2], np.float32)
    x[0, 2, 2, 1] = 16.0
    y = ops.blur2d(t(x)).numpy()
    expected = np.outer([1, 2, 1], [1, 2, 1]).astype(np.float32)
    np.testing.assert_array_equal(y[0, 1:4, 1:4, 1], expected)
    assert y[..., 0].sum() == 0 and y[..., 1].sum() == 16.0
    # Zero padding at the border: a corner delta loses what falls outside.
    x = np.zeros([1, 4, 4, 1], np.float32)
    x[0, 0, 0, 0] = 16.0
    assert ops.blur2d(t(x)).numpy().sum() == pytest.approx(9.0)


def test_blur_none_filter_is_identity():
    x = t(rs.randn(1, 4, 4, 3))
    assert ops.blur2d(x, [1]) is x


def test_upscale_and_downscale():
    x = np.arange(8, dtype=np.float32).reshape([1, 2, 2, 2])
    up = ops.upscale2d(t(x), 2).numpy()
    assert up.shape == (1, 4, 4, 2)
    np.testing.assert_array_equal(up[0, :, :, 1], [[1, 1, 3, 3], [1, 1, 3, 3], [5, 5, 7, 7], [5, 5, 7, 7]])
    np.testing.assert_array_equal(ops.downscale2d(t(up), 2).numpy(), x)
    y = rs.randn(1, 8, 8, 1).astype(np.float32)
    np.testing.assert_allclose(ops.downscale2d(t(y), 4).numpy()[0, 1, 0, 0], y[0, 4:8, 0:4, 0].mean(), rtol=1e-6)


def test_leaky_relu_pixel_norm_instance_norm():
    np.testing.assert_allclose(ops.leaky_relu(t([-2.0, 0.0, 3.0])).numpy(), [-0.4, 0.0, 3.0])
    x = rs.randn(3, 7).astype(np.float32)
    expected = x / np.sqrt(np.mean(x**2, axis=1, keepdims=True) + 1e-8)
    np.testing.assert_allclose(ops.pixel_norm(t(x)).numpy(), expected, rtol=1e-5)
    x = rs.randn(2, 4, 4, 3).astype(np.float32) * 3 + 1
    c = x - x.mean(axis=(1, 2), keepdims=True)
    expected = c / np.sqrt(np.mean(c**2, axis=(1, 2), keepdims=True) + 1e-8)
    np.testing.assert_allclose(ops.instance_norm(t(x)).numpy(), expected, rtol=1e-4, atol=1e-5)
    # A constant input has zero variance: the epsilon inside the rsqrt keeps it finite (0).
    assert np.all(ops.instance_norm(tf.ones([1, 4, 4, 2])).numpy() == 0)


def _mbstd_reference_nchw(x, group_size, num_new_features):
    """The original formula, written for NCHW numpy arrays."""
    n, c, h, w = x.shape
    g = min(group_size, n)
    y = x.reshape(g, -1, num_new_features, c // num_new_features, h, w)
    y = y - y.mean(axis=0, keepdims=True)
    y = np.sqrt((y**2).mean(axis=0) + 1e-8)
    y = y.mean(axis=(2, 3, 4))  # [M, n]
    y = np.tile(y[:, :, None, None], [g, 1, h, w])  # [N, n, H, W]
    return np.concatenate([x, y], axis=1)


@pytest.mark.parametrize("n, group, features", [(4, 4, 1), (8, 4, 1), (8, 2, 2), (2, 4, 1)])
def test_minibatch_stddev_matches_the_original_grouping(n, group, features):
    x = rs.randn(n, 6, 4, 4).astype(np.float32)
    expected = _mbstd_reference_nchw(x, group, features)
    y = ops.minibatch_stddev(t(ops.nchw_to_nhwc(x)), group, features).numpy()
    np.testing.assert_allclose(ops.nhwc_to_nchw(y), expected, rtol=1e-5)
    if n == 8 and group == 4:  # samples i and i + N/G share a group, so they share the value
        assert y[0, 0, 0, -1] == y[2, 0, 0, -1] and y[0, 0, 0, -1] != y[1, 0, 0, -1]


def test_lerp_and_lerp_clip():
    a, b = t([0.0, 10.0]), t([10.0, 20.0])
    np.testing.assert_allclose(ops.lerp(a, b, 0.25).numpy(), [2.5, 12.5])
    np.testing.assert_allclose(ops.lerp(a, b, 1.5).numpy(), [15.0, 25.0])
    np.testing.assert_allclose(ops.lerp_clip(a, b, 1.5).numpy(), [10.0, 20.0])
    np.testing.assert_allclose(ops.lerp_clip(a, b, -0.5).numpy(), [0.0, 10.0])


def test_convert_images_to_uint8_rounds_half_up_and_saturates():
    # x * 127.5 + 128 truncated: 0.0 -> 127.5 + 0.5 = 128 (half up), 0.3 -> 166.25 -> 166.
    x = t([[-1.0, 1.0, 0.0, -2.0, 2.0, 0.3, -0.3]])
    expected = [[0, 255, 128, 0, 255, 166, 89]]
    np.testing.assert_array_equal(ops.convert_images_to_uint8(x).numpy(), expected)
    np.testing.assert_array_equal(ops.convert_images_to_uint8(x.numpy()), expected)


def _conv_same_np(x, w):
    """Plain correlation with zero SAME padding, NHWC x HWIO."""
    k = w.shape[0]
    p = k // 2
    xp = np.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])
    out = np.zeros(x.shape[:3] + (w.shape[3],), np.float64)
    for i in range(k):
        for j in range(k):
            out += np.einsum("nhwc,co->nhwo", xp[:, i : i + x.shape[1], j : j + x.shape[2]], w[i, j])
    return out


def test_nonfused_resampling_convs_are_the_plain_formulas():
    x = rs.randn(2, 4, 4, 3).astype(np.float32)
    w = rs.randn(3, 3, 3, 5).astype(np.float32)
    up = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)
    np.testing.assert_allclose(ops.upscale2d_conv2d(t(x), t(w), False).numpy(), _conv_same_np(up, w), atol=1e-4)
    x8 = rs.randn(2, 8, 8, 3).astype(np.float32)
    conv = _conv_same_np(x8, w)
    down = conv.reshape(2, 4, 2, 4, 2, 5).mean(axis=(2, 4))
    np.testing.assert_allclose(ops.conv2d_downscale2d(t(x8), t(w), False).numpy(), down, atol=1e-4)
    np.testing.assert_allclose(ops.conv2d_downscale2d(t(x8), t(w), True).numpy(), down, atol=1e-4)


def test_fused_upscale_conv_applies_the_flipped_kernel():
    # The original's fused op is upscale2d followed by a true convolution: with a
    # non-symmetric kernel it differs from the non-fused correlation.
    x = rs.randn(1, 4, 4, 2).astype(np.float32)
    w = rs.randn(3, 3, 2, 3).astype(np.float32)
    up = np.repeat(np.repeat(x, 2, axis=1), 2, axis=2)
    fused = ops.upscale2d_conv2d(t(x), t(w), True).numpy()
    np.testing.assert_allclose(fused, _conv_same_np(up, w[::-1, ::-1]), atol=1e-4)
    assert np.max(np.abs(fused - _conv_same_np(up, w))) > 0.1


@pytest.mark.parametrize("name", ["blur", "upscale", "downscale", "lrelu", "instance_norm", "mbstd", "fused_up", "fused_down"])
def test_second_order_gradients_match_finite_differences(name):
    """d/dw of ||d f(x, w)/dx||^2 (the R1 pattern) against central differences, in float64."""
    rng = np.random.RandomState(7)
    x0 = rng.randn(4, 4, 4, 2)
    w0 = rng.randn(3, 3, 2, 2) * 0.3

    def f(x, w):
        x = tf.nn.conv2d(x, w, 1, "SAME")
        x = {
            "blur": lambda x: ops.blur2d(x),
            "upscale": lambda x: ops.upscale2d(x),
            "downscale": lambda x: ops.downscale2d(x),
            "lrelu": lambda x: ops.leaky_relu(x),
            "instance_norm": lambda x: ops.instance_norm(x),
            "mbstd": lambda x: ops.minibatch_stddev(x, 2, 1),
            "fused_up": lambda x: ops.upscale2d_conv2d(x, w, True),
            "fused_down": lambda x: ops.conv2d_downscale2d(x, w, True),
        }[name](x)
        return tf.reduce_sum(tf.square(x) * 0.5 + x)

    def r1(w):
        x = tf.constant(x0)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = f(x, w)
        g = tape.gradient(y, x)
        return tf.reduce_sum(tf.square(g))

    w = tf.Variable(w0)
    with tf.GradientTape() as tape:
        loss = r1(w)
    analytic = tape.gradient(loss, w).numpy()
    eps = 1e-4  # some ops compute in float32 inside: keep the step well above its rounding
    for idx in [(0, 0, 0, 0), (1, 1, 1, 0), (2, 1, 0, 1)]:
        wp, wm = w0.copy(), w0.copy()
        wp[idx] += eps
        wm[idx] -= eps
        numeric = (r1(tf.constant(wp)) - r1(tf.constant(wm))).numpy() / (2 * eps)
        assert analytic[idx] == pytest.approx(numeric, rel=1e-2, abs=1e-2), (idx, analytic[idx], numeric)
