"""Losses against the original's reference values (loss/* in the fixtures) and hand-computed cases."""

import json
import pickle

import numpy as np
import pytest
import tensorflow as tf

from tfstylegan import losses
from tfstylegan.networks import DBasic, GStyle

ALL_ORIGINAL = [
    "G_logistic_nonsaturating",
    "G_logistic_saturating",
    "G_wgan",
    "D_logistic",
    "D_logistic_simplegp",
    "D_wgan",
    "D_wgan_gp",
    "D_hinge",
    "D_hinge_gp",
]
DET_KWARGS = dict(style_mixing_prob=None, randomize_noise=False)


class _NetState:
    def __setstate__(self, state):
        self.state = state


class _Unpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("dnnlib.tflib.network", "Network"):
            return _NetState
        return super().find_class(module, name)


def _to_port_layout(name, value):
    value = np.asarray(value, dtype=np.float32)
    if name.endswith("const") or name.split("/")[-1].startswith("noise"):
        return np.transpose(value, [0, 2, 3, 1])  # [1, C, H, W] -> [1, H, W, C]
    return value


def _fill(net, state):
    values = dict(state["variables"])
    for name, var in net.original_variables():
        var.assign(_to_port_layout(name, values[name]))


def _load_fixture(path):
    with open(path / "network.pkl", "rb") as f:
        G_state, D_state, _ = _Unpickler(f).load()
    G = GStyle(**G_state.state["static_kwargs"])
    D = DBasic(**D_state.state["static_kwargs"])
    _fill(G, G_state.state)
    _fill(G.mapping, G_state.state["components"]["mapping"].state)
    _fill(G.synthesis, G_state.state["components"]["synthesis"].state)
    _fill(D, D_state.state)
    return G, D


class _Fixture:
    def __init__(self, path):
        self.G, self.D = _load_fixture(path)
        self.ref = np.load(path / "reference.npz")
        self.manifest = json.loads((path / "manifest.json").read_text())
        self.lod = float(self.ref["loss/lod"])
        self.G.lod.assign(self.lod)
        self.D.lod.assign(self.lod)
        self.labels = tf.constant(self.ref["in/labels"])
        self.reals = tf.constant(np.transpose(self.ref["in/d_images"], [0, 2, 3, 1]))  # NCHW -> NHWC
        self.dlatent_avg0 = self.ref["loss/dlatent_avg_before"]

    def draws(self, variant, name):
        """The recorded draws in the order the port makes them (noise NHWC).

        The original builds the style-mixing cutoff draw inside a ``tf.cond``: it is
        recorded even when the mixing decision says no mixing, but then never used. The
        port draws it every time too (so replicas advance their random streams alike).
        """
        out = []
        for draw_info in self.manifest["loss_draws"][f"loss/{variant}/{name}"]:
            draw = self.ref[f"loss/{variant}/{name}/draw{draw_info['index']}"]
            role = draw_info["role"]
            if role.startswith("noise"):
                draw = np.transpose(draw, [0, 2, 3, 1])  # [N, 1, H, W] -> [N, H, W, 1]
            out.append(draw)
        return out


@pytest.fixture(scope="module", params=["small", "cond"])
def fx(request, data_dir):
    return _Fixture(data_dir / request.param)


class Replay:
    """A ``tf.random.Generator`` stand-in that returns recorded draws in order."""

    def __init__(self, draws):
        self.draws = list(draws)
        self.used = 0

    def _next(self, shape, dtype):
        value = self.draws[self.used]
        self.used += 1
        assert list(value.shape) == [int(s) for s in shape], (value.shape, shape)
        return tf.constant(value, dtype=dtype)

    def normal(self, shape, dtype=tf.float32):
        return self._next(shape, dtype)

    def uniform(self, shape, minval=0, maxval=None, dtype=tf.float32):
        return self._next(shape, dtype)


def _rel(got, want, scale=None):
    """Max abs error relative to the largest magnitude of ``want`` (or to ``scale``)."""
    scale = np.max(np.abs(want)) if scale is None else scale
    return float(np.max(np.abs(np.asarray(got) - want)) / max(scale, 1e-12))


def _det_call(fx, name, **extra):
    spec = losses.get_loss(name)
    draws = fx.draws("det", name)
    kwargs = dict(G_kwargs=DET_KWARGS, **extra)
    if len(draws) > 1:
        kwargs["mixing_factors"] = tf.constant(draws[1])
    reals = fx.reals if spec.network == "D" else None
    return spec.fn(fx.G, fx.D, tf.constant(draws[0]), fx.labels, reals, **kwargs)


@pytest.mark.parametrize("name", ALL_ORIGINAL)
def test_det_loss_means(fx, name):
    fx.G.dlatent_avg.assign(fx.dlatent_avg0)
    per_example = _det_call(fx, name)
    assert per_example.shape == [4]
    # The original's tensor is [N, 1], or [N, N] = score term [N, 1] + penalty [N] for the
    # R1 / GP losses: example i's loss is then its diagonal.
    value = fx.ref[f"loss/det/{name}/value"]
    want = np.diagonal(value) if value.shape[1] > 1 else value[:, 0]
    assert _rel(per_example, want) < 1e-4
    # The mean, relative to its own size or (D_wgan's fake - real nearly cancels) to the
    # size of the terms it averages.
    mean = fx.ref[f"loss/det/{name}/mean"]
    assert _rel(tf.reduce_mean(per_example), mean, max(abs(mean), np.mean(np.abs(want)))) < 1e-4


def test_dlatent_avg_update(fx):
    fx.G.dlatent_avg.assign(fx.dlatent_avg0)
    _det_call(fx, "G_logistic_nonsaturating")
    assert _rel(fx.G.dlatent_avg.numpy(), fx.ref["loss/dlatent_avg_after"]) < 1e-5


@pytest.mark.parametrize(
    "name, net", [("G_logistic_nonsaturating", "G"), ("D_logistic_simplegp", "D")]
)
def test_det_gradients(fx, name, net):
    model = fx.G if net == "G" else fx.D
    if net == "G":
        named = [(f"G_mapping/{n}", v) for n, v in fx.G.mapping.original_variables()]
        named += [(f"G_synthesis/{n}", v) for n, v in fx.G.synthesis.original_variables()]
    else:
        named = fx.D.original_variables()
    named = [(n, v) for n, v in named if v.trainable]
    assert len(named) == len(model.trainable_weights)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(_det_call(fx, name))
    # Layers the current lod does not use get zero gradients, as in the original.
    grads = tape.gradient(loss, [v for _, v in named])
    grads = [tf.zeros(v.shape) if g is None else g for (_, v), g in zip(named, grads)]
    worst = 0.0
    for (n, _), g in zip(named, grads):
        want = _to_port_layout(n, fx.ref[f"loss/det/{name}/grad/{n}"])
        worst = max(worst, _rel(g, want))
    assert worst < 1e-4


@pytest.mark.parametrize("name", ["G_logistic_nonsaturating", "D_logistic_simplegp", "D_wgan_gp", "D_hinge_gp"])
def test_rand_loss_means(fx, name):
    """Full training behaviour (style mixing, random noise) with every draw replayed."""
    spec = losses.get_loss(name)
    rng = Replay(fx.draws("rand", name))
    reals = fx.reals if spec.network == "D" else None
    per_example = spec.fn(fx.G, fx.D, None, fx.labels, reals, rng=rng)
    assert rng.used == len(rng.draws)
    assert _rel(tf.reduce_mean(per_example), fx.ref[f"loss/rand/{name}/mean"]) < 1e-4


# ---------------------------------------------------------------------------- the extra losses, by hand


class _ScoreD:
    """D whose score is the first pixel of the first channel: scores are set by the images."""

    def __call__(self, images, labels=None):
        return images[:, 0, 0, :1]


class _EchoG:
    """G that returns fixed images and ignores latents."""

    class cfg:
        latent_size = 1

    def __init__(self, images):
        self.images = images

    def __call__(self, latents, labels=None, **kwargs):
        return self.images


def _images(scores):
    return tf.reshape(tf.constant(scores, tf.float32), [-1, 1, 1, 1])


REAL = np.array([1.5, -0.5, 2.0, 0.25], np.float32)
FAKE = np.array([-1.0, 0.5, -2.5, 0.0], np.float32)


def _softplus(x):
    return np.log1p(np.exp(x))


def _relu(x):
    return np.maximum(x, 0.0)


def _hand(name, r, f, **p):
    r_rel, f_rel = r - f.mean(), f - r.mean()
    return {
        "G_lsgan": 0.5 * (f - p.get("target", 1.0)) ** 2,
        "D_lsgan": 0.5 * (r - p.get("real_target", 1.0)) ** 2 + 0.5 * (f - p.get("fake_target", 0.0)) ** 2,
        "G_ragan_logistic": _softplus(-f_rel) + _softplus(r_rel),
        "D_ragan_logistic": _softplus(-r_rel) + _softplus(f_rel),
        "G_ragan_hinge": _relu(1 - f_rel) + _relu(1 + r_rel),
        "D_ragan_hinge": _relu(1 - r_rel) + _relu(1 + f_rel),
        "G_wgan": -f,
        "D_wgan": f - r + 0.001 * r**2,
        "D_hinge": _relu(1 + f) + _relu(1 - r),
        "D_logistic": _softplus(f) + _softplus(-r),
        "G_logistic_nonsaturating": _softplus(-f),
        "G_logistic_saturating": -_softplus(f),
    }[name]


@pytest.mark.parametrize(
    "name, params",
    [
        ("G_lsgan", {}),
        ("G_lsgan", {"target": 0.5}),
        ("D_lsgan", {}),
        ("D_lsgan", {"real_target": 1.0, "fake_target": -1.0}),
        ("G_ragan_logistic", {}),
        ("D_ragan_logistic", {}),
        ("G_ragan_hinge", {}),
        ("D_ragan_hinge", {}),
        ("G_wgan", {}),
        ("D_wgan", {}),
        ("D_hinge", {}),
        ("D_logistic", {}),
        ("G_logistic_nonsaturating", {}),
        ("G_logistic_saturating", {}),
    ],
)
def test_losses_on_fixed_scores(name, params):
    spec = losses.get_loss(name)
    reals = _images(REAL) if spec.needs_reals else None
    got = spec.fn(_EchoG(_images(FAKE)), _ScoreD(), tf.zeros([4, 1]), None, reals, **params)
    np.testing.assert_allclose(got.numpy(), _hand(name, REAL, FAKE, **params), rtol=1e-6, atol=1e-6)


def test_gradient_penalty_by_hand():
    """With D(x) = sum(w * x), grad D = w for every sample: GP = lambda * (|w| - 1)^2."""
    w = tf.constant([[[[3.0, 4.0]]]])  # [1, 1, 1, 2]: |w| = 5

    def linear_D(images, labels=None):
        return tf.reduce_sum(images * w, axis=[1, 2, 3])[:, None]

    reals = tf.constant([[[[1.0, 0.0]]], [[[0.0, 1.0]]]])  # [2, 1, 1, 2]: D = 3, 4
    fakes = tf.constant([[[[0.0, 0.0]]], [[[1.0, 1.0]]]])  # D = 0, 7
    mix = tf.constant([0.3, 0.7], shape=[2, 1, 1, 1])
    got = losses.D_wgan_gp(_EchoG(fakes), linear_D, tf.zeros([2, 1]), None, reals, mixing_factors=mix)
    want = np.array([0 - 3, 7 - 4]) + 10 * (5 - 1) ** 2 + 0.001 * np.array([9, 16])
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    got = losses.D_hinge_gp(_EchoG(fakes), linear_D, tf.zeros([2, 1]), None, reals, mixing_factors=mix, wgan_target=2.0)
    want = _relu(1 + np.array([0.0, 7.0])) + _relu(1 - np.array([3.0, 4.0])) + 10 / 4 * (5 - 2) ** 2
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    # R1 / R2: gamma/2 * |w|^2 = 5 * 25 each.
    got = losses.D_logistic_simplegp(_EchoG(fakes), linear_D, tf.zeros([2, 1]), None, reals, r2_gamma=2.0)
    want = _softplus(np.array([0.0, 7.0])) + _softplus(-np.array([3.0, 4.0])) + 5 * 25 + 1 * 25
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)


def test_registry_errors():
    with pytest.raises(ValueError, match="unknown loss 'D_nope'.*D_logistic_simplegp"):
        losses.get_loss("D_nope", "D")
    with pytest.raises(ValueError, match="G_wgan is a G loss"):
        losses.get_loss("G_wgan", "D")
    with pytest.raises(ValueError, match="D_logistic_simplegp has no parameter 'gamma'.*r1_gamma, r2_gamma"):
        losses.resolve_loss_args("D_logistic_simplegp", {"gamma": 1})
    with pytest.raises(ValueError, match="r1_gamma must be a number"):
        losses.resolve_loss_args("D_logistic_simplegp", {"r1_gamma": "x"})
    assert losses.resolve_loss_args("training.loss.D_logistic_simplegp", {"r1_gamma": "5"}) == {
        "r1_gamma": 5.0,
        "r2_gamma": 0.0,
    }
    assert losses.get_loss("G_ragan_hinge").needs_reals and not losses.get_loss("G_wgan").needs_reals
    with pytest.raises(ValueError, match="D_logistic needs reals"):
        losses.D_logistic(_EchoG(_images(FAKE)), _ScoreD(), tf.zeros([4, 1]), None)
