"""LPIPS-VGG16: the strict mapping of NVIDIA's pickle, the .npz layout, the distance itself.

No copy of vgg16_zhang_perceptual.pkl is available to tests, so a synthetic one is written
here the way the original pickles a dnnlib Network: 31 variables in creation order
(``conv<k>/conv<k>`` kernels, ``conv<k>/bias<k>``, ``perceptual_weight_<i>``), random values.
"""

import pickle

import keras
import numpy as np
import pytest
import tensorflow as tf

from dnnlib.tflib.network import Network as DnnlibNetwork
from tfstylegan.cli import lpips_convert as convert_cli
from tfstylegan.legacy import NetworkState
from tfstylegan.metrics import lpips, lpips_weights
from tfstylegan.metrics.lpips_weights import VGG16WeightsError

CHANNELS = [3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]


def _variables(seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for k in range(1, 14):
        cin, cout = CHANNELS[k - 1], CHANNELS[k]
        out.append((f"conv{k}/conv{k}", (rng.standard_normal([3, 3, cin, cout]) * np.sqrt(2 / (9 * cin))).astype(np.float32)))
        out.append((f"conv{k}/bias{k}", (0.01 * rng.standard_normal([cout])).astype(np.float32)))
    for i, c in enumerate([64, 128, 256, 512, 512]):
        out.append((f"perceptual_weight_{i}", rng.uniform(0, 1, [1, 1, c, 1]).astype(np.float32)))
    return out


def _state(variables, components=None):
    return NetworkState(
        name="vgg16_perceptual_distance",
        static_kwargs={},
        components=components or {},
        build_func_name="lpips_network",
        variables=variables,
    )


def _write_pickle(path, obj):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=4)


def _stub(state):
    net = DnnlibNetwork.__new__(DnnlibNetwork)
    net.state = state
    return net


@pytest.fixture(scope="module")
def pkl(tmp_path_factory):
    path = tmp_path_factory.mktemp("vgg") / "vgg16_zhang_perceptual.pkl"
    variables = _variables()
    _write_pickle(path, _stub(_state(variables)))
    return path, variables


@pytest.fixture(scope="module")
def distance(pkl):
    return lpips.LPIPS(pkl[0])


def _images(seed, n=3, size=32):
    return np.random.default_rng(seed).uniform(0, 255, [n, size, size, 3]).astype(np.float32)


# ----------------------------------------------------------------------------------------
# The pickle: strict, shape- and order-driven mapping.


def test_pickle_maps_every_variable(pkl, distance):
    path, variables = pkl
    weights = lpips_weights.load_lpips_weights(path)
    assert weights.preprocess == "imagenet" and weights.identity.startswith("file-sha256:")
    for k in range(13):
        np.testing.assert_array_equal(weights.kernels[k], variables[2 * k][1])
        np.testing.assert_array_equal(weights.biases[k], variables[2 * k + 1][1])
        np.testing.assert_array_equal(distance.features.get_layer(f"conv{k + 1}").get_weights()[0], variables[2 * k][1])
    for i in range(5):
        np.testing.assert_array_equal(weights.lin[i], variables[26 + i][1].reshape(-1))
        np.testing.assert_array_equal(distance.lin[i].numpy(), variables[26 + i][1].reshape(-1))


def _malformed(variables, change):
    variables = list(variables)
    if change == "missing":
        del variables[13]
    elif change == "extra":
        variables.append(("conv14/conv14", np.zeros([3, 3, 512, 512], np.float32)))
    elif change == "shape":
        variables[4] = ("conv3/conv3", np.zeros([3, 3, 64, 129], np.float32))
    elif change == "kernel_bias_swapped":
        variables[0], variables[1] = variables[1], variables[0]
    elif change == "same_shape_convs_swapped":  # conv9 and conv10 are both [3, 3, 512, 512]
        variables[16:18], variables[18:20] = variables[18:20], variables[16:18]
    elif change == "lin_first":
        variables = variables[26:] + variables[:26]
    return variables


@pytest.mark.parametrize(
    "change, message",
    [
        ("missing", "it has 30 variables, expected 31"),
        ("extra", "it has 32 variables, expected 31"),
        ("shape", r"variable 4 'conv3/conv3' is \(3, 3, 64, 129\), expected the conv3 kernel \(3, 3, 64, 128\)"),
        ("kernel_bias_swapped", r"variable 0 'conv1/bias1' is \(64,\), expected the conv1 kernel"),
        ("same_shape_convs_swapped", r"variable 16 'conv10/conv10' is numbered 10, expected 9 \(out of order\)"),
        ("lin_first", r"variable 0 'perceptual_weight_0' is \(1, 1, 64, 1\), expected the conv1 kernel"),
    ],
)
def test_malformed_pickles_are_clear_errors(pkl, change, message):
    variables = _malformed(pkl[1], change)
    with pytest.raises(VGG16WeightsError, match=message) as info:
        lpips_weights.weights_from_state(_state(variables), "x.pkl")
    text = str(info.value)
    assert text.startswith("x.pkl: network 'vgg16_perceptual_distance' is not the LPIPS-VGG16 network")
    # The file's variables and the expected layout are listed.
    assert "Its variables:" in text and f"{variables[-1][0]} {variables[-1][1].shape}" in text
    assert "Expected, in this order:" in text and "30 lin4 (1, 1, 512, 1)" in text


def test_pickle_file_errors(tmp_path, pkl):
    with pytest.raises(VGG16WeightsError, match="sub-networks"):
        lpips_weights.weights_from_state(_state(pkl[1], components={"x": _state([])}))
    triple = tmp_path / "network.pkl"
    _write_pickle(triple, tuple(_stub(_state(pkl[1][:2])) for _ in range(3)))
    with pytest.raises(VGG16WeightsError, match="holds tuple, expected one pickled dnnlib.tflib.network.Network"):
        lpips_weights.load_lpips_weights(triple)
    evil = tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(print, protocol=4))
    with pytest.raises(VGG16WeightsError, match="refused to load the global builtins.print"):
        lpips_weights.load_lpips_weights(evil)
    with pytest.raises(VGG16WeightsError, match="not found.*nowhere.pkl") as info:
        lpips_weights.load_lpips_weights(tmp_path / "nowhere.pkl")
    assert "vgg16_zhang_perceptual.pkl" in str(info.value) and "--vgg16_weights" in str(info.value)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(VGG16WeightsError, match="neither a pickle"):
        lpips_weights.load_lpips_weights(text)
    with pytest.raises(VGG16WeightsError, match="No VGG16 weights file was given"):
        lpips.LPIPS()


# ----------------------------------------------------------------------------------------
# The distance.


def _reference_lpips(distance, a, b):
    """Zhang et al.'s formula in NumPy on the model's VGG16 features."""
    feats = distance.features(distance.preprocess_images(tf.constant(np.concatenate([a, b]))))
    total = np.zeros(len(a))
    for x, lin in zip(feats, distance.lin):
        x = x.numpy().astype(np.float64)
        x = x / (np.sqrt(np.sum(x**2, axis=-1, keepdims=True)) + 1e-10)
        diff = (x[: len(a)] - x[len(a) :]) ** 2
        total += np.mean(np.sum(diff * lin.numpy(), axis=-1), axis=(1, 2))
    return total


def test_distance_values_and_invariants(distance):
    a, b = _images(1), _images(2)
    d = distance(a, b).numpy()
    assert d.shape == (3,) and d.dtype == np.float32 and np.all(d > 0)
    np.testing.assert_allclose(d, _reference_lpips(distance, a, b), rtol=1e-4)
    np.testing.assert_array_equal(distance(a, a).numpy(), np.zeros(3, np.float32))
    np.testing.assert_allclose(distance(b, a).numpy(), d, rtol=1e-5)
    # A small perturbation is closer than a large one.
    small = distance(a, np.clip(a + 2.0, 0, 255)).numpy()
    assert np.all(small < d)
    with pytest.raises(ValueError, match="one shape"):
        distance(a, b[:2])


def test_preprocessing_conventions(distance):
    x = np.full([1, 2, 2, 3], 255.0 * 0.485, np.float32)
    x[..., 1], x[..., 2] = 255.0 * (0.456 + 0.224), 0.0
    got = distance.preprocess_images(tf.constant(x)).numpy()[0, 0, 0]
    np.testing.assert_allclose(got, [0.0, 1.0, -0.406 / 0.225], rtol=1e-5, atol=1e-6)
    caffe = lpips.LPIPS(lpips_weights.LPIPSWeights(**{**_weights_dict(), "preprocess": "caffe"}))
    got = caffe.preprocess_images(tf.constant([[[[10.0, 20.0, 30.0]]]])).numpy()[0, 0, 0]
    np.testing.assert_allclose(got, [30 - 103.939, 20 - 116.779, 10 - 123.68], rtol=1e-5)


def _weights_dict():
    w = lpips_weights.random_lpips_weights(3)
    return dict(kernels=w.kernels, biases=w.biases, lin=w.lin)


def test_random_init_is_flagged():
    with pytest.warns(RuntimeWarning, match="MEANINGLESS"):
        random = lpips.LPIPS(allow_random_init=True)
    assert random.identity == "random-seed-0"
    a = _images(4, n=2, size=16)
    assert np.all(random(a, a[::-1]).numpy() > 0)


# ----------------------------------------------------------------------------------------
# The .npz layout and the converter.


def test_npz_round_trip_and_errors(tmp_path, pkl, distance):
    path = tmp_path / "lpips.npz"
    code = convert_cli.main(["lpips_convert", f"--pickle={pkl[0]}", f"--output={path}"])
    assert code == 0
    with np.load(path) as data:
        assert str(data["format"]) == lpips_weights.NPZ_FORMAT and str(data["preprocess"]) == "imagenet"
        assert data["conv13_kernel"].shape == (3, 3, 512, 512) and data["lin4"].shape == (512,)
        arrays = {k: data[k] for k in data.files}
    a, b = _images(5), _images(6)
    np.testing.assert_array_equal(lpips.LPIPS(path)(a, b).numpy(), distance(a, b).numpy())
    del arrays["conv7_bias"]
    arrays["extra"] = np.zeros(3)
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(VGG16WeightsError, match=r"missing \['conv7_bias'\], unexpected \['extra'\]"):
        lpips_weights.load_lpips_weights(tmp_path / "bad.npz")


def test_convert_keras_vgg16(tmp_path, capsys):
    keras.utils.set_random_seed(1)
    vgg = keras.applications.VGG16(include_top=False, weights=None)
    keras_file = tmp_path / "vgg16.weights.h5"
    vgg.save_weights(keras_file)
    lin = {f"lin{i}": np.full([1, c, 1, 1], 0.5, np.float32) for i, c in enumerate([64, 128, 256, 512, 512])}
    np.savez(tmp_path / "lin.npz", **lin)
    out = tmp_path / "from_keras.npz"
    args = ["lpips_convert", f"--keras_vgg16={keras_file}", f"--lin={tmp_path / 'lin.npz'}", f"--output={out}"]
    assert convert_cli.main(args) == 0
    weights = lpips_weights.load_lpips_weights(out)
    assert weights.preprocess == "caffe"
    convs = [layer for layer in vgg.layers if isinstance(layer, keras.layers.Conv2D)]
    for k, layer in enumerate(convs):
        np.testing.assert_array_equal(weights.kernels[k], layer.get_weights()[0])
    np.testing.assert_array_equal(weights.lin[2], np.full([256], 0.5, np.float32))
    # Wrong linear sizes, and neither source given: one-line errors.
    np.savez(tmp_path / "short.npz", **{**lin, "lin3": np.ones(7)})
    bad = ["lpips_convert", f"--keras_vgg16={keras_file}", f"--lin={tmp_path / 'short.npz'}", f"--output={out}"]
    assert convert_cli.main(bad) == 1
    assert convert_cli.main(["lpips_convert", f"--output={out}"]) == 1
    err = capsys.readouterr().err
    assert "have [64, 128, 256, 7, 512] values, expected [64, 128, 256, 512, 512]" in err
    assert "give exactly one of --pickle and --keras_vgg16" in err and "Traceback" not in err


def test_downsample_to_256_is_a_box_mean():
    rng = np.random.default_rng(1)
    big = rng.standard_normal([1, 512, 512, 3]).astype(np.float32)
    got = lpips.downsample_to_256(tf.constant(big)).numpy()
    want = (big[:, 0::2, 0::2] + big[:, 1::2, 0::2] + big[:, 0::2, 1::2] + big[:, 1::2, 1::2]) / 4
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    small = tf.zeros([1, 256, 256, 3])
    assert lpips.downsample_to_256(small) is small


def test_lpips_input_is_rgb_in_0_255_at_most_256():
    images = tf.reshape(tf.range(2 * 512 * 512, dtype=tf.float32) / (512 * 512) - 1.0, [2, 512, 512, 1])
    got = lpips.to_lpips_input(images).numpy()
    assert got.shape == (2, 256, 256, 3)
    x = images.numpy()[..., 0]
    box = x[1, 20:22, 40:42].mean()
    np.testing.assert_allclose(got[1, 10, 20], [(box + 1) * 127.5] * 3, rtol=1e-5)
    small = np.array([[[[-1.0, 0.0, 1.0]]]], np.float32)  # [1, 1, 1, 3]: only scaled
    np.testing.assert_array_equal(lpips.to_lpips_input(tf.constant(small)).numpy(), [[[[0.0, 127.5, 255.0]]]])
