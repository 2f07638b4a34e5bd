"""FID: the math against independent computations, the Inception extractor, the cache.

The Inception tests use a randomly initialised network at 75 x 75 (the smallest input
InceptionV3 takes) on a few dozen images: its FIDs are meaningless as quality numbers,
but self-distance, monotonicity and weight loading are still checked on real values.
"""

import os

import numpy as np
import pytest
import scipy.linalg
import tensorflow as tf

from tfstylegan.metrics import fid
from tfstylegan.metrics.base import MetricContext
from tfstylegan.metrics.registry import get_metric

# ----------------------------------------------------------------------------------
# The math.


def _random_gaussian(rng, d, rank=None):
    a = rng.standard_normal([d, rank or d])
    return rng.standard_normal(d), a @ a.T / d


@pytest.mark.parametrize("d", [3, 16, 48])
def test_frechet_distance_matches_scipy_sqrtm(d):
    rng = np.random.default_rng(d)
    mu1, sigma1 = _random_gaussian(rng, d)
    mu2, sigma2 = _random_gaussian(rng, d)
    sigma1 += 0.1 * np.eye(d)  # well conditioned: sqrtm is accurate here
    covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1 + sigma2 - 2 * np.real(covmean))
    got = fid.frechet_distance(mu1, sigma1, mu2, sigma2)
    assert isinstance(got, float)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert fid.frechet_distance(mu2, sigma2, mu1, sigma1) == pytest.approx(got, rel=1e-9)


def test_frechet_distance_diagonal_closed_form_with_singular_covariances():
    # For diagonal covariances, tr((S1 S2)^(1/2)) = sum(sqrt(a_i b_i)), so
    # FID = |mu1 - mu2|^2 + sum((sqrt(a_i) - sqrt(b_i))^2). Zeros make both singular.
    a = np.array([0.0, 1.0, 4.0, 0.0, 2.5, 9.0])
    b = np.array([1.0, 0.0, 1.0, 0.0, 2.5, 16.0])
    mu1 = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    mu2 = np.array([0.5, 1.0, 2.0, 1.0, 4.0, 5.0])
    expected = 0.25 + 4.0 + (1 + 1 + 1 + 0 + 0 + 1)  # by hand: means, then root terms
    assert np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2) == expected
    assert fid.frechet_distance(mu1, np.diag(a), mu2, np.diag(b)) == pytest.approx(expected, abs=1e-12)


def test_frechet_distance_low_rank_against_nuclear_norm():
    # Fewer samples than dimensions (as in every test below): both covariances are
    # singular. Independent formula: with centered data A [n1, D], B [n2, D],
    # S1 S2 = A^T (A B^T) B / c has the nonzero spectrum of M M^T / c, M = A B^T, so
    # tr((S1 S2)^(1/2)) = nuclear_norm(A B^T) / sqrt(c), c = (n1 - 1)(n2 - 1).
    rng = np.random.default_rng(1)
    x = rng.standard_normal([12, 40])
    y = 0.5 * rng.standard_normal([9, 40]) + 0.3
    mu1, sigma1 = fid.feature_statistics(x)
    mu2, sigma2 = fid.feature_statistics(y)
    a, b = x - x.mean(0), y - y.mean(0)
    tr_covmean = np.linalg.svd(a @ b.T, compute_uv=False).sum() / np.sqrt(11 * 8)
    expected = np.sum((mu1 - mu2) ** 2) + np.trace(sigma1) + np.trace(sigma2) - 2 * tr_covmean
    assert fid.frechet_distance(mu1, sigma1, mu2, sigma2) == pytest.approx(expected, rel=1e-9)
    # And a set against itself: exactly representable as zero up to round-off.
    assert fid.frechet_distance(mu1, sigma1, mu1, sigma1) == pytest.approx(0.0, abs=1e-10 * np.trace(sigma1))


def test_frechet_distance_rejects_bad_input():
    mu, sigma = np.zeros(3), np.eye(3)
    with pytest.raises(ValueError, match="shape"):
        fid.frechet_distance(mu, sigma, np.zeros(4), np.eye(4))
    with pytest.raises(ValueError, match="non-finite"):
        fid.frechet_distance(mu, sigma, np.array([0.0, np.nan, 0.0]), sigma)


def test_feature_statistics_conventions():
    x = np.random.default_rng(2).standard_normal([7, 5]).astype(np.float32)
    mu, sigma = fid.feature_statistics(x)
    x64 = x.astype(np.float64)
    centered = x64 - x64.mean(axis=0)
    assert mu.dtype == np.float64 and sigma.dtype == np.float64
    np.testing.assert_allclose(mu, x64.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(sigma, centered.T @ centered / 6, rtol=1e-10)  # unbiased: N - 1
    with pytest.raises(ValueError):
        fid.feature_statistics(x[:1])


def test_quantize_images_matches_8bit_rounding():
    x = np.array([-1.5, -1.0, -0.99, 0.0, 0.003, 0.5, 1.0, 2.0], np.float32)
    got = fid.quantize_images(x).numpy()
    levels = np.array([0, 0, 1, 128, 128, 191, 255, 255])  # round(x * 127.5 + 127.5), clipped
    np.testing.assert_allclose(got, levels / 127.5 - 1, atol=1e-6)


def _flatten_features(images):
    return tf.reshape(images, [tf.shape(images)[0], -1])


def test_fid_grows_monotonically_with_perturbation_identity_features():
    rng = np.random.default_rng(3)
    base = rng.uniform(-0.8, 0.8, [200, 4, 4, 2]).astype(np.float32)
    noise = rng.standard_normal(base.shape).astype(np.float32)
    mu0, sigma0 = fid.feature_statistics(_flatten_features(base).numpy())
    fids = []
    for level in [0.0, 0.05, 0.1, 0.2, 0.4, 0.8]:
        mu, sigma = fid.feature_statistics(_flatten_features(base + level * noise).numpy())
        fids.append(fid.frechet_distance(mu, sigma, mu0, sigma0))
    assert fids[0] == pytest.approx(0.0, abs=1e-9)
    assert all(b > a for a, b in zip(fids, fids[1:])), fids


def test_fid_of_a_mean_shift_is_the_squared_shift():
    # Shifting every image by a constant leaves the covariance as it is: FID = |shift|^2.
    base = np.random.default_rng(9).uniform(-0.5, 0.5, [50, 4, 4, 2]).astype(np.float64)
    shift = np.linspace(-0.2, 0.3, 32).reshape(4, 4, 2)
    mu0, sigma0 = fid.feature_statistics(base.reshape(50, -1))
    mu1, sigma1 = fid.feature_statistics((base + shift).reshape(50, -1))
    assert fid.frechet_distance(mu1, sigma1, mu0, sigma0) == pytest.approx(np.sum(shift**2), rel=1e-9)


# ----------------------------------------------------------------------------------
# The Inception extractor (random init, 75 x 75).


@pytest.fixture(scope="module")
def inception():
    with pytest.warns(RuntimeWarning, match="MEANINGLESS"):
        return fid.InceptionFeatures(resolution=75, allow_random_init=True)


def _tiny_images(seed, n=24, size=16):
    """Smooth random colour blobs in [-1, 1], NHWC."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(-1, 1, [n, 4, 4, 3]).astype(np.float32)
    return tf.clip_by_value(tf.image.resize(coarse, [size, size], method="bilinear"), -1, 1).numpy()


def test_inception_features_shapes_and_input_conventions(inception):
    assert inception.is_random_init and inception.identity.startswith("random-init-75-")
    images = _tiny_images(0, n=6)
    feats = inception(images).numpy()
    assert feats.shape == (6, fid.FEATURE_DIM) and feats.dtype == np.float32
    assert np.all(np.isfinite(feats)) and np.std(feats) > 0
    # Batched: each image's features do not depend on its batch neighbours.
    np.testing.assert_allclose(inception(images[:2]).numpy(), feats[:2], rtol=1e-4, atol=1e-5)
    # Grayscale is tiled to RGB.
    gray = images[..., :1]
    np.testing.assert_allclose(
        inception(gray).numpy(), inception(np.tile(gray, [1, 1, 1, 3])).numpy(), rtol=1e-5, atol=1e-6
    )
    # uint8 [0, 255] is read as x / 127.5 - 1.
    as_uint8 = np.round((images + 1) * 127.5).astype(np.uint8)
    np.testing.assert_allclose(
        inception(as_uint8).numpy(), inception(as_uint8 / 127.5 - 1).numpy(), rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match="1 or 3 channels"):
        inception(np.zeros([1, 16, 16, 2], np.float32))
    # One compiled function for every batch size, image size and channel count.
    assert inception(np.zeros([3, 24, 24, 1], np.float32)).shape == (3, fid.FEATURE_DIM)
    assert inception._forward.experimental_get_tracing_count() == 1


def test_inception_fid_self_zero_and_monotonic(inception):
    images = _tiny_images(1, n=32)
    noise = np.random.default_rng(4).standard_normal(images.shape).astype(np.float32)
    mu0, sigma0 = fid.feature_statistics(inception(images).numpy())
    assert fid.frechet_distance(mu0, sigma0, mu0, sigma0) == pytest.approx(0.0, abs=1e-9 * np.trace(sigma0))
    fids = []
    for level in [0.2, 1.0]:
        mu, sigma = fid.feature_statistics(inception(np.clip(images + level * noise, -1, 1)).numpy())
        fids.append(fid.frechet_distance(mu, sigma, mu0, sigma0))
    assert 0 < fids[0] < fids[1], fids  # and 0 for level 0, above


def _save_legacy_h5(model, path):
    """Write weights in the Keras 2 layout of the released ImageNet files."""
    h5py = pytest.importorskip("h5py")
    legacy = pytest.importorskip("keras.src.legacy.saving.legacy_h5_format")
    with h5py.File(path, "w") as f:
        legacy.save_weights_to_hdf5_group(f, model)


@pytest.mark.parametrize("filename", ["inception.weights.h5", fid.INCEPTION_WEIGHTS_FILENAME])
def test_inception_loads_weights_file(inception, tmp_path, filename):
    path = str(tmp_path / filename)
    if filename.endswith(".weights.h5"):
        inception._model.save_weights(path)  # Keras 3 format
    else:
        _save_legacy_h5(inception._model, path)  # the format of the standard "notop" file
    loaded = fid.InceptionFeatures(inception_weights=path, resolution=75)
    assert not loaded.is_random_init
    assert loaded.identity.startswith("inception-v3-75-file-sha256:")
    assert not loaded.is_standard_weights  # not the released file's bytes
    images = _tiny_images(2, n=4)
    np.testing.assert_allclose(loaded(images).numpy(), inception(images).numpy(), rtol=1e-5, atol=1e-6)


def test_missing_weights_error_is_clear(tmp_path):
    with pytest.raises(fid.InceptionWeightsError) as info:
        fid.InceptionFeatures()
    message = str(info.value)
    assert "inception_weights=" in message and "--inception_weights" in message
    assert fid.INCEPTION_WEIGHTS_FILENAME in message
    assert "Nothing is downloaded" in message and "Keras applications release" in message
    missing = tmp_path / "nowhere.h5"
    with pytest.raises(fid.InceptionWeightsError, match="not found.*nowhere.h5"):
        fid.InceptionFeatures(inception_weights=missing)
    garbage = tmp_path / "garbage.h5"
    garbage.write_bytes(b"not an hdf5 file")
    with pytest.raises(fid.InceptionWeightsError, match="HDF5"):
        fid.InceptionFeatures(inception_weights=garbage)


# ----------------------------------------------------------------------------------
# Real statistics and their cache.


class CountingFeatures:
    """Flattened pixels as features; counts calls; ``identity`` as the cache needs."""

    def __init__(self, identity="flatten-v1"):
        self.identity = identity
        self.calls = 0
        self.seen = []

    def __call__(self, images):
        self.calls += 1
        self.seen.append(np.asarray(images))
        return _flatten_features(images)


def _uint8_reals(n=40, r=4, c=1, seed=5):
    return np.random.default_rng(seed).integers(0, 256, [n, r, r, c], dtype=np.uint8)


def test_dataset_statistics_cache_written_reused_and_keyed(tmp_path):
    reals = _uint8_reals()
    labels = np.zeros([40, 3], np.float32)
    dataset = tf.data.Dataset.from_tensor_slices((reals, labels)).batch(16)  # (images, labels)
    cache = tmp_path / "cache"
    kwargs = dict(num_images=30, dataset_path="data/toy", resolution=4, cache_dir=cache)

    counting = CountingFeatures()
    mu, sigma = fid.dataset_statistics(dataset, counting, **kwargs)
    assert counting.calls == 2  # 16 + 14 of the second batch of 16
    expected_mu, expected_sigma = fid.feature_statistics(reals[:30].reshape(30, -1) / 127.5 - 1)
    np.testing.assert_allclose(mu, expected_mu, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(sigma, expected_sigma, rtol=1e-5, atol=1e-6)
    assert counting.seen[0].dtype == np.float32 and counting.seen[0].min() >= -1
    files = sorted(os.listdir(cache))
    assert len(files) == 1 and files[0].startswith("fid-stats-toy-30-") and files[0].endswith(".npz")

    # Second call: from the cache, the features are not computed, the reals not read.
    again = CountingFeatures()
    mu2, sigma2 = fid.dataset_statistics(iter(()), again, **kwargs)
    assert again.calls == 0
    np.testing.assert_array_equal(mu2, mu)
    np.testing.assert_array_equal(sigma2, sigma)

    # Each key part gives a new entry.
    for change in [
        dict(num_images=20),
        dict(dataset_path="data/other"),
        dict(mirror_augment=True),
    ]:
        fresh = CountingFeatures()
        fid.dataset_statistics(dataset, fresh, **{**kwargs, **change})
        assert fresh.calls > 0, change
    other_weights = CountingFeatures(identity="flatten-v2")
    fid.dataset_statistics(dataset, other_weights, **kwargs)
    assert other_weights.calls > 0
    # Resolution is part of the key, and checked against the images.
    with pytest.raises(ValueError, match=r"\[N, 8, 8, C\]"):
        fid.dataset_statistics(dataset, CountingFeatures(), **{**kwargs, "resolution": 8})
    files = os.listdir(cache)
    assert len(files) == 5 and not [f for f in files if ".tmp" in f]


def test_dataset_statistics_errors_and_mirror_augment(tmp_path):
    reals = _uint8_reals(n=20, r=4, c=3)
    with pytest.raises(ValueError, match="ran out after 20 of 30"):
        fid.dataset_statistics([reals], CountingFeatures(), num_images=30, dataset_path="x", resolution=4)
    with pytest.raises(TypeError, match="uint8"):
        fid.dataset_statistics(
            [reals.astype(np.float32)], CountingFeatures(), num_images=10, dataset_path="x", resolution=4
        )
    with pytest.raises(ValueError, match="identity"):
        fid.dataset_statistics(
            [reals], _flatten_features, num_images=10, dataset_path="x", resolution=4, cache_dir=tmp_path
        )
    flipping = CountingFeatures()
    fid.dataset_statistics(
        [reals], flipping, num_images=20, dataset_path="x", resolution=4, mirror_augment=True
    )
    seen = np.round((flipping.seen[0] + 1) * 127.5).astype(np.uint8)
    flipped = np.all(seen == reals[:, :, ::-1, :], axis=(1, 2, 3))
    kept = np.all(seen == reals, axis=(1, 2, 3))
    assert np.all(flipped | kept) and 0 < flipped.sum() < 20


# ----------------------------------------------------------------------------------
# Generator statistics and the metric.


class RecordingGenerator:
    """images = tanh(latents @ W + labels @ V) reshaped to [n, 4, 4, 1]; records calls."""

    def __init__(self, latent_size=6, label_size=0):
        rng = np.random.default_rng(7)
        self.w = rng.standard_normal([latent_size, 16]).astype(np.float32)
        self.v = rng.standard_normal([label_size, 16]).astype(np.float32)
        self.calls = []

    def __call__(self, latents, labels):
        self.calls.append((latents.numpy(), labels.numpy()))
        return tf.reshape(tf.tanh(latents @ self.w + labels @ self.v), [-1, 4, 4, 1])


def test_generator_statistics_latents_labels_and_quantization():
    gen = RecordingGenerator(latent_size=6)
    counting = CountingFeatures()
    mu, sigma = fid.generator_statistics(
        gen, counting, latent_size=6, num_images=10, minibatch_size=4, seed=123
    )
    assert len(gen.calls) == 3  # 4 + 4 + 4, the last two dropped
    expected_latents = np.random.default_rng(123).standard_normal([12, 6]).astype(np.float32)
    np.testing.assert_array_equal(np.concatenate([c[0] for c in gen.calls]), expected_latents)
    assert all(c[1].shape == (4, 0) for c in gen.calls)  # no labels: [n, 0]
    images = np.tanh(expected_latents @ gen.w).reshape(12, -1)[:10]
    quantized = fid.quantize_images(images).numpy()
    fed = np.concatenate(counting.seen).reshape(12, -1)
    np.testing.assert_allclose(fed[:10], quantized, atol=1e-6)  # on the 8-bit grid
    np.testing.assert_allclose(np.round((fed + 1) * 127.5), (fed + 1) * 127.5, atol=1e-4)
    expected_mu, expected_sigma = fid.feature_statistics(quantized)
    np.testing.assert_allclose(mu, expected_mu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sigma, expected_sigma, rtol=1e-5, atol=1e-6)

    # Conditional: zeros of label_size by default (as the original), or a sampler's rows.
    cond = RecordingGenerator(latent_size=6, label_size=3)
    fid.generator_statistics(
        cond, CountingFeatures(), latent_size=6, label_size=3, num_images=4, minibatch_size=4
    )
    np.testing.assert_array_equal(cond.calls[0][1], np.zeros([4, 3]))
    one_hot = np.eye(3, dtype=np.float32)
    fid.generator_statistics(
        cond,
        CountingFeatures(),
        latent_size=6,
        label_size=3,
        num_images=4,
        minibatch_size=4,
        label_sampler=fid.label_sampler_from_array(one_hot, seed=0),
    )
    sampled = cond.calls[1][1]
    assert sampled.shape == (4, 3) and np.all(sampled.sum(axis=1) == 1) and np.all(sampled.max(axis=1) == 1)


def test_get_metric_names():
    assert get_metric("fid50k") == fid.FID(name="fid50k", num_images=50000, minibatch_size=8)
    assert get_metric("fid10k").num_images == 10000
    assert get_metric("fid500").num_images == 500
    for bad in ["fid", "fid1", "fid50K", "ppl", "ppl_zmid", "swd", "fid-5k", "fid5k "]:
        with pytest.raises(ValueError):
            get_metric(bad)
    assert fid.fid_from_name("ppl_zfull") is None


def _context(generate, features, reals, **kwargs):
    return MetricContext(generate=generate, features=features, reals=reals, **kwargs)


def test_metric_compute_end_to_end(tmp_path):
    gen = RecordingGenerator(latent_size=6)
    reals = np.round((np.tanh(np.random.default_rng(8).standard_normal([64, 6]) @ gen.w) + 1) * 127.5)
    reals = reals.astype(np.uint8).reshape(64, 4, 4, 1)
    metric = get_metric("fid48")
    kwargs = dict(latent_size=6, dataset_path="data/toy", resolution=4, cache_dir=tmp_path, seed=1)
    result = metric.compute(_context(gen, CountingFeatures(), [reals[:32], reals[32:]], **kwargs))
    assert set(result) == {"fid48", "fid48_time_s"} and result["fid48_time_s"] >= 0
    mu_r, sigma_r = fid.feature_statistics(reals[:48].reshape(48, -1) / 127.5 - 1)
    fakes = fid.quantize_images(np.tanh(np.random.default_rng(1).standard_normal([48, 6]) @ gen.w)).numpy()
    mu_f, sigma_f = fid.feature_statistics(fakes)
    expected = fid.frechet_distance(mu_f, sigma_f, mu_r, sigma_r)
    assert result["fid48"] == pytest.approx(expected, rel=1e-5)
    # Same distribution as the reals, so well below a shifted generator's FID (and the
    # reals come from the cache: the empty list is not read).
    shifted = lambda z, c: tf.clip_by_value(gen(z, c) + 0.5, -1, 1)
    assert metric.compute(_context(shifted, CountingFeatures(), [], **kwargs))["fid48"] > 2 * result["fid48"]


# ----------------------------------------------------------------------------------
# The 2015 frozen Inception graph: a small stand-in GraphDef with the same interface.


def _node(graph_def, name, op, inputs, **attrs):
    node = graph_def.node.add(name=name, op=op)
    node.input.extend(inputs)
    node.attr["T"].type = tf.float32.as_datatype_enum
    for key, value in attrs.items():
        if isinstance(value, bytes):
            node.attr[key].s = value
        elif isinstance(value, list):
            node.attr[key].list.i.extend(value)
        elif isinstance(value, bool):
            node.attr[key].b = value
        else:
            node.attr[key].f = value
    return node


def _stand_in_inception_graph(seed=0):
    """A frozen GraphDef shaped like classify_image_graph_def.pb, small and with known constants.

    JPEG head (DecodeJpeg/contents -> DecodeJpeg -> Cast -> ExpandDims [1, ?, ?, 3]),
    ResizeBilinear to 12 x 12 (TF1 sampling), the (x - 128) / 128 scaling, a TF1-era
    BatchNormWithGlobalNormalization (producer version 8), a 1 x 1 conv to 2048 channels,
    ReLU, AvgPool to pool_3 [1, 1, 1, 2048], then the batch-1 pool_3/_reshape and a softmax.
    """
    rng = np.random.default_rng(seed)
    g = tf.Graph()
    with g.as_default():
        contents = tf.compat.v1.placeholder(tf.string, [], name="DecodeJpeg/contents")
        pixels = tf.cast(tf.io.decode_jpeg(contents, channels=3, name="DecodeJpeg"), tf.float32, name="Cast")
        x = tf.expand_dims(pixels, 0, name="ExpandDims")
        x = tf.compat.v1.image.resize_bilinear(x, tf.constant([12, 12]), name="ResizeBilinear")
        x = tf.multiply(tf.subtract(x, 128.0, name="Sub"), 1 / 128.0, name="Mul")
        for i, value in enumerate([[0.1, -0.2, 0.0], [1.5, 0.5, 2.0], [0.0, 0.3, -0.1], [1.0, 2.0, 0.5]]):
            tf.constant(np.float32(value), name=f"bn/c{i}")
        tf.constant(rng.standard_normal([1, 1, 3, 2048]).astype(np.float32), name="conv/w")
    graph_def = g.as_graph_def(add_shapes=True)  # with _output_shapes of batch 1, as the real file
    _node(graph_def, "bn", "BatchNormWithGlobalNormalization", ["Mul", "bn/c0", "bn/c1", "bn/c2", "bn/c3"],
          variance_epsilon=1e-3, scale_after_normalization=True)
    _node(graph_def, "conv", "Conv2D", ["bn", "conv/w"], strides=[1, 1, 1, 1], padding=b"VALID")
    _node(graph_def, "relu", "Relu", ["conv"])
    _node(graph_def, "pool_3", "AvgPool", ["relu"], ksize=[1, 12, 12, 1], strides=[1, 1, 1, 1], padding=b"VALID")
    with tf.Graph().as_default() as tail:
        tf.constant(np.int32([1, 2048]), name="pool_3/_reshape/shape")
    graph_def.node.extend(tail.as_graph_def().node)
    _node(graph_def, "pool_3/_reshape", "Reshape", ["pool_3", "pool_3/_reshape/shape"])
    _node(graph_def, "softmax", "Softmax", ["pool_3/_reshape"])
    graph_def.versions.producer = 8  # BatchNormWithGlobalNormalization was removed in version 9
    return graph_def


def _run_graph_per_image(graph_def, pixels):
    """The reference way: a TF1 session, one image at a time fed at ExpandDims:0."""
    out = []
    with tf.Graph().as_default():
        tf.compat.v1.import_graph_def(graph_def, name="")
        with tf.compat.v1.Session() as sess:
            for image in pixels:
                out.append(sess.run("pool_3:0", {"ExpandDims:0": image[np.newaxis]}).reshape(-1))
    return np.stack(out)


@pytest.fixture(scope="module")
def graph_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("inception") / "classify_image_graph_def.pb"
    graph_def = _stand_in_inception_graph()
    path.write_bytes(graph_def.SerializeToString())
    return path, graph_def


def test_frozen_graph_features_match_the_graph_run_directly(graph_file):
    path, graph_def = graph_file
    features = fid.InceptionFeatures(path)
    assert features.kind == "graph" and not features.is_random_init
    assert features.identity.startswith("inception-2015-12-05-graph-file-sha256:")
    pixels = np.random.default_rng(1).integers(0, 256, [5, 20, 24, 3]).astype(np.uint8)
    want = _run_graph_per_image(graph_def, pixels.astype(np.float32))
    assert want.shape == (5, 2048) and np.std(want) > 0
    # uint8 [0, 255] goes in as it is; float [-1, 1] as (x + 1) * 127.5; one batched call.
    np.testing.assert_allclose(features(pixels).numpy(), want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(features(pixels / 127.5 - 1).numpy(), want, rtol=1e-4, atol=1e-4)
    # Grayscale is tiled to RGB; other sizes and batches run through the same function.
    gray = pixels[:2, :, :, :1]
    np.testing.assert_allclose(
        features(gray).numpy(), _run_graph_per_image(graph_def, np.tile(gray, [1, 1, 1, 3]).astype(np.float32)),
        rtol=1e-5, atol=1e-5,
    )
    assert features(np.zeros([3, 31, 17, 3], np.uint8)).shape == (3, 2048)
    assert features._forward.experimental_get_tracing_count() == 1


def test_weights_kind_is_read_from_the_contents(graph_file, tmp_path, inception):
    path, graph_def = graph_file
    graph_named_h5 = tmp_path / "inception.h5"
    graph_named_h5.write_bytes(path.read_bytes())
    assert fid.InceptionFeatures(graph_named_h5).kind == "graph"
    h5_named_pb = tmp_path / "weights.pb"
    _save_legacy_h5(inception._model, str(h5_named_pb))
    assert fid.InceptionFeatures(h5_named_pb, resolution=75).kind == "keras"
    # Another graph (other constants) is another network: another cache identity.
    other = tmp_path / "other.pb"
    other.write_bytes(_stand_in_inception_graph(seed=1).SerializeToString())
    assert fid.InceptionFeatures(other).identity != fid.InceptionFeatures(path).identity


def test_frozen_graph_errors(tmp_path):
    garbage = tmp_path / "garbage.pb"
    garbage.write_bytes(b"\xff\xfe not a graph at all")
    with pytest.raises(fid.InceptionWeightsError, match="neither an HDF5 weights file nor the frozen Inception graph"):
        fid.InceptionFeatures(garbage)
    headless = tf.compat.v1.GraphDef()
    headless.node.add(name="ExpandDims", op="Placeholder")
    (tmp_path / "headless.pb").write_bytes(headless.SerializeToString())
    with pytest.raises(fid.InceptionWeightsError, match=r"without the node\(s\) \['pool_3'\]"):
        fid.InceptionFeatures(tmp_path / "headless.pb")
    with pytest.raises(fid.InceptionWeightsError) as info:
        fid.InceptionFeatures()
    assert "classify_image_graph_def.pb" in str(info.value) and "inception-2015-12-05.tgz" in str(info.value)
    assert "TTUR" in str(info.value)
