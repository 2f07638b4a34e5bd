"""Editing in W: directions applied to chosen layers, and directions fitted from labels."""

import numpy as np
import pytest

from tfstylegan import editing
from tfstylegan.rendering import Renderer


def dlatents(n=3, layers=8, size=32, seed=0):
    return np.random.RandomState(seed).randn(n, layers, size).astype(np.float32)


def test_strength_zero_reproduces_the_input_exactly():
    w = dlatents()
    w[0, 0, 0] = -0.0  # a negative zero must stay one
    out = editing.apply_direction(w, np.random.RandomState(1).randn(32), [0.0, 1.5, -2.0])
    assert out.shape == (3, 3, 8, 32) and out.dtype == np.float32
    assert out[:, 0].tobytes() == w.tobytes()
    np.testing.assert_allclose(
        out[:, 2], w + np.float32(-2.0) * np.float32(np.random.RandomState(1).randn(32)), rtol=1e-6
    )


def test_direction_on_layers_0_to_3_leaves_the_other_layers_bit_for_bit():
    w = dlatents()
    direction = np.random.RandomState(2).randn(8, 32).astype(np.float32)  # one step per layer
    out = editing.apply_direction(w, direction, [1.0, 3.0], layers=range(4))
    for s, strength in enumerate([1.0, 3.0]):
        assert out[:, s, 4:].tobytes() == w[:, 4:].tobytes()
        np.testing.assert_array_equal(out[:, s, :4], w[:, :4] + np.float32(strength) * direction[:4])
        assert np.all(out[:, s, :4] != w[:, :4])


def test_one_dlatent_and_bad_input():
    out = editing.apply_direction(dlatents(1)[0], np.ones(32), [1.0])
    assert out.shape == (1, 1, 8, 32)
    with pytest.raises(ValueError, match=r"shape \[32\] or \[8, 32\]"):
        editing.apply_direction(dlatents(), np.ones(31), [1.0])
    with pytest.raises(ValueError, match="layer 8 is out of range"):
        editing.apply_direction(dlatents(), np.ones(32), [1.0], layers=[8])


def test_load_direction(tmp_path):
    np.save(tmp_path / "d.npy", np.arange(32, dtype=np.float64))
    out = editing.load_direction(tmp_path / "d.npy", 8, 32)
    assert out.shape == (8, 32) and out.dtype == np.float32
    np.testing.assert_array_equal(out[5], np.arange(32))
    np.save(tmp_path / "bad.npy", np.ones([4, 32]))
    with pytest.raises(
        ValueError, match=r"bad.npy: a direction must have shape \[32\] or \[8, 32\], got \[4, 32\]"
    ):
        editing.load_direction(tmp_path / "bad.npy", 8, 32)
    (tmp_path / "junk.npy").write_bytes(b"junk")
    with pytest.raises(ValueError, match="junk.npy: cannot read the direction"):
        editing.load_direction(tmp_path / "junk.npy", 8, 32)


def test_least_squares_recovers_a_planted_direction():
    rnd = np.random.RandomState(0)
    planted = rnd.randn(32)
    planted /= np.linalg.norm(planted)
    x = rnd.randn(2000, 32) * 2.0 + 0.5  # dlatents, off-centre
    labels = (x - 0.5) @ planted + 0.1 * rnd.randn(2000) > 0
    found = editing.direction_from_labels(x, labels)
    assert found.shape == (32,)
    assert np.linalg.norm(found) == pytest.approx(1.0, rel=1e-6)
    assert found @ planted > 0.98  # points towards label 1
    flipped = editing.direction_from_labels(x, ~labels)
    np.testing.assert_allclose(flipped, -found, atol=1e-6)


def test_direction_from_per_layer_dlatents_has_a_step_per_layer():
    rnd = np.random.RandomState(1)
    x = rnd.randn(500, 2, 16)
    labels = x[:, 1, 3] > 0  # only layer 1, feature 3 matters
    found = editing.direction_from_labels(x, labels.astype(int))
    assert found.shape == (2, 16)
    assert abs(found[1, 3]) > 0.95


def test_direction_from_labels_errors():
    x = np.random.RandomState(0).randn(10, 4)
    with pytest.raises(ValueError, match="both classes"):
        editing.direction_from_labels(x, np.ones(10))
    with pytest.raises(ValueError, match="method must be one of"):
        editing.direction_from_labels(x, np.arange(10) % 2, method="pca")


def test_svm_method_needs_scikit_learn_or_agrees():
    rnd = np.random.RandomState(0)
    x = rnd.randn(400, 8)
    labels = x[:, 2] - x[:, 5] > 0
    try:
        import sklearn  # noqa: F401
    except ImportError:
        with pytest.raises(ValueError, match="needs scikit-learn"):
            editing.direction_from_labels(x, labels, method="svm")
        return
    found = editing.direction_from_labels(x, labels, method="svm")
    assert found @ (np.eye(8)[2] - np.eye(8)[5]) / np.sqrt(2) > 0.95


def test_edit_images_renders_every_strength(small_networks):
    _, _, Gs = small_networks
    w = Gs.mapping(np.random.RandomState(0).randn(2, Gs.cfg.latent_size).astype(np.float32)).numpy()
    direction = np.random.RandomState(1).randn(Gs.cfg.dlatent_size)
    images = editing.edit_images(Gs, w, direction, [0.0, 2.0, -2.0], layers=range(4), batch_size=2)
    assert images.shape == (2, 3, 32, 32, 3) and images.dtype == np.uint8
    renderer = Renderer(Gs, 2)  # the same batch size: TensorFlow's kernels may round by batch size
    np.testing.assert_array_equal(images[:, 0], renderer.images(w))
    edited = editing.apply_direction(w, direction, [2.0], layers=range(4))[:, 0]
    np.testing.assert_array_equal(images[:, 1], renderer.images(edited))
    assert np.any(images[:, 1] != images[:, 0])
