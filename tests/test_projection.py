"""Projection: pure pieces by hand, then real projections on the fixture network (32 x 32).

The fixture network has random weights, which put most pixels far outside [-1, 1]
(values in about [-13, 22]): a uint8 target clips them and no dlatent reproduces it.
The tests scale its last ToRGB layer by 0.1, which brings the images into range, as a
trained network's are. Targets are images the network made from known dlatents with its
stored noise.
"""

import warnings

import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

import tfstylegan
from tfstylegan import projection
from tfstylegan.metrics.lpips import LPIPS
from tfstylegan.rendering import NoiseFeed, Renderer, synthesize

TRUNCATION_PSI = 0.3  # targets near the average w, where the start is in the true w's basin


@pytest.fixture(scope="module")
def Gs(data_dir):
    _, _, Gs = tfstylegan.load_network_pkl(data_dir / "small" / "network.pkl")
    torgb = Gs.synthesis.torgb[-1]
    torgb.weight.assign(torgb.weight * 0.1)
    torgb.bias.assign(torgb.bias * 0.1)
    return Gs


@pytest.fixture(scope="module")
def known(Gs):
    """``(dlatents [2, L, D], uint8 targets [2, R, R, C])`` made by the network."""
    latents = np.random.RandomState(3).randn(2, Gs.cfg.latent_size).astype(np.float32)
    dlatents = Gs.truncate(Gs.mapping(latents), TRUNCATION_PSI, Gs.num_layers).numpy()
    return dlatents, tfstylegan.convert_images_to_uint8(synthesize(Gs, dlatents).numpy())


def psnr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image PSNR in dB of uint8 images."""
    mse = np.mean((a.astype(np.float64) - b) ** 2, axis=(1, 2, 3))
    return 10 * np.log10(255.0**2 / mse)


def relative_error(found, true, avg):
    """``|found - true| / |true - avg|`` per target and layer."""
    return np.linalg.norm(found - true, axis=-1) / np.linalg.norm(true - avg, axis=-1)


def projector(Gs, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no distance: the pixel-loss warning
        return projection.Projector(Gs, dlatent_avg_samples=1000, **kwargs)


# ----------------------------------------------------------------------------------
# Pure pieces.


def test_learning_rate_and_noise_schedules_by_hand():
    lr = projection.learning_rate_at
    assert lr(0.0) == 0.0  # the ramp up starts at 0
    assert lr(0.025) == pytest.approx(0.05)  # half way up the 5% ramp
    assert lr(0.5) == pytest.approx(0.1)
    assert lr(0.875) == pytest.approx(0.1 * (0.5 - 0.5 * np.cos(0.5 * np.pi)))  # half way down
    assert lr(1.0) == pytest.approx(0.0)
    strength = projection.noise_strength_at
    assert strength(0.0, 2.0) == pytest.approx(0.1)
    assert strength(0.375, 2.0) == pytest.approx(0.1 * 0.25)
    assert strength(0.75, 2.0) == 0.0 and strength(0.9, 2.0) == 0.0


def test_noise_regularizer_by_hand():
    # Constant maps: every mean product is 1, at 16x16 and again at 8x8 after the box average.
    ones = tf.ones([2, 16, 16, 1])
    np.testing.assert_allclose(projection.noise_regularizer([ones]).numpy(), [4.0, 4.0])
    # A checkerboard: each pixel times its neighbour is -1 (both ways); its 2x2 averages are 0.
    checker = np.where(np.add.outer(np.arange(16), np.arange(16)) % 2, 1.0, -1.0).astype(np.float32)
    maps = tf.constant(np.stack([checker, 2 * checker])[..., np.newaxis])  # [2, 16, 16, 1]
    np.testing.assert_allclose(projection.noise_regularizer([maps]).numpy(), [2.0, 32.0])


def test_normalize_noise_per_sample():
    v = tf.constant(
        np.random.RandomState(0).randn(3, 8, 8, 1) * [[[[1.0]]], [[[5.0]]], [[[0.1]]]] + 2.0, tf.float32
    )
    out = projection.normalize_noise(v).numpy()
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0.0, atol=1e-6)
    np.testing.assert_allclose(out.std(axis=(1, 2, 3)), 1.0, rtol=1e-5)


def test_prepare_target_crops_the_center_and_resizes():
    image = np.zeros([40, 60, 3], np.uint8)
    image[:, 10:50] = 200  # the central 40x40 square
    out = projection.prepare_target(image, 40, 3)
    assert out.shape == (40, 40, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, 200)  # no resize when the crop has the right size
    small = projection.prepare_target(image, 32, 1)
    expected = np.asarray(
        PIL.Image.fromarray(image[:, 10:50]).convert("L").resize((32, 32), PIL.Image.LANCZOS)
    )
    np.testing.assert_array_equal(small[:, :, 0], expected)
    with pytest.raises(ValueError, match="uint8"):
        projection.prepare_target(image.astype(np.float32), 32, 3)


def test_load_target_reports_unreadable_files(tmp_path):
    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"hello")
    with pytest.raises(ValueError, match="not-an-image.png: cannot read the image"):
        projection.load_target(bad, 32, 3)


def test_noise_feed_gives_the_maps_in_layer_order(Gs, known):
    dlatents, _ = known
    stored = [v.numpy() for v in Gs.synthesis.noise_inputs]
    feed = NoiseFeed(stored)
    explicit = Gs.synthesis(dlatents, randomize_noise=True, rng=feed).numpy()
    assert feed.used == len(stored)
    np.testing.assert_array_equal(explicit, synthesize(Gs, dlatents).numpy())
    with pytest.raises(ValueError, match=r"noise map 1 is \(1, 8, 8, 1\)"):
        Gs.synthesis(dlatents, randomize_noise=True, rng=NoiseFeed(stored[1:]))


def test_dlatent_stats_uses_the_networks_average_unless_zero(Gs):
    avg, std = projection.dlatent_stats(Gs, samples=2000)
    np.testing.assert_array_equal(avg, Gs.dlatent_avg.numpy())
    latents = np.random.RandomState(123).randn(2000, Gs.cfg.latent_size).astype(np.float32)
    w = Gs.mapping(latents).numpy()[:, 0]
    assert std == pytest.approx(np.sqrt(np.sum((w - w.mean(0)) ** 2) / 2000), rel=1e-5)
    saved = Gs.dlatent_avg.numpy()
    Gs.dlatent_avg.assign(np.zeros_like(saved))
    try:
        avg, _ = projection.dlatent_stats(Gs, samples=2000)
    finally:
        Gs.dlatent_avg.assign(saved)
    np.testing.assert_allclose(avg, w.mean(0), rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------
# Projections.


def test_wplus_pixel_projection_reproduces_a_generated_image(Gs, known):
    # W+ reaches the image, but many W+ points give almost the same image: its dlatents
    # are not the true ones (their error is reported, not asserted).
    dlatents, targets = known
    proj = projector(Gs, space="wplus", batch_size=2, optimize_noise=False)
    result = proj.run(targets, steps=300, noise_init="stored")
    scores = psnr(result.images, targets)
    error = relative_error(result.dlatents, dlatents, proj.dlatent_avg)
    print(
        f"W+ PSNR {np.round(scores, 1)} dB, dlatent error / distance from the average {error.max(1).round(2)}"
    )
    assert np.all(scores >= 30.0)
    assert proj._step.experimental_get_tracing_count() == 1
    assert result.dlatents.shape == (2, Gs.num_layers, Gs.cfg.dlatent_size)
    np.testing.assert_array_equal(result.images, Renderer(Gs, 2).images(result.dlatents, result.noise))


def test_w_projection_recovers_the_true_dlatents(Gs, known):
    dlatents, targets = known
    proj = projector(Gs, space="w", batch_size=2, optimize_noise=False)
    result = proj.run(targets, steps=200, noise_init="stored")
    scores = psnr(result.images, targets)
    error = relative_error(result.dlatents, dlatents, proj.dlatent_avg)
    print(
        f"W PSNR {np.round(scores, 1)} dB, dlatent error / distance from the average {error.max(1).round(4)}"
    )
    assert np.all(error < 0.02)
    assert np.all(scores >= 45.0)
    # One w for every layer.
    np.testing.assert_array_equal(
        result.dlatents, np.broadcast_to(result.dlatents[:, :1], result.dlatents.shape)
    )


class Recorded:
    """A distance that records the shapes it is called with."""

    def __init__(self, distance):
        self.distance, self.seen = distance, []

    def __call__(self, a, b):
        self.seen.append((tuple(a.shape), tuple(b.shape)))
        return self.distance(a, b)


def test_projection_with_a_perceptual_distance_and_optimised_noise(Gs, known, tmp_path):
    _, targets = known
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # random weights: meaningless distances, fine for the path
        distance = Recorded(LPIPS(allow_random_init=True))
    statuses = []
    result = projection.project(
        Gs,
        targets[:1],
        distance,
        steps=12,
        seed=1,
        dlatent_avg_samples=1000,
        progress=statuses.append,
    )
    assert distance.seen[0] == ((1, 32, 32, 3), (1, 32, 32, 3))
    assert [s.step for s in statuses] == list(range(1, 13))
    assert statuses[-1].eta == 0.0 and np.all(np.isfinite([s.loss for s in statuses]))
    assert statuses[-1].distance[0] < statuses[0].distance[0]
    for maps in result.noise:  # renormalised after every step
        np.testing.assert_allclose(maps.mean(axis=(1, 2, 3)), 0.0, atol=1e-5)
        np.testing.assert_allclose(maps.std(axis=(1, 2, 3)), 1.0, rtol=1e-4)
    projection.write_projection(tmp_path / "p", result)
    dlatents, noise = projection.load_projection(tmp_path / "p", Gs)
    np.testing.assert_array_equal(dlatents, result.dlatents[0])
    np.testing.assert_array_equal(np.asarray(PIL.Image.open(tmp_path / "p" / "proj.png")), result.images[0])
    np.testing.assert_array_equal(np.asarray(PIL.Image.open(tmp_path / "p" / "target.png")), targets[0])
    np.testing.assert_array_equal(Renderer(Gs, 1).images(dlatents[np.newaxis], noise), result.images)


def test_bad_settings_are_reported(Gs):
    with pytest.raises(ValueError, match="space must be one of w, wplus"):
        projector(Gs, space="z")
    with pytest.warns(UserWarning, match="no perceptual distance"):
        projection.Projector(Gs, dlatent_avg_samples=100)
    proj = projector(Gs, batch_size=1)
    with pytest.raises(ValueError, match=r"targets must be uint8 \[n, 32, 32, 3\]"):
        proj.run(np.zeros([2, 32, 32, 3], np.uint8), steps=1)


def test_load_projection_checks_the_file_against_the_network(Gs, tmp_path):
    np.savez(tmp_path / "dlatents.npz", dlatents=np.zeros([8, 16], np.float32))
    with pytest.raises(
        ValueError, match=r"dlatents \(8, 16\) do not fit this network, which needs \(8, 32\)"
    ):
        projection.load_projection(tmp_path, Gs)
    (tmp_path / "junk.npz").write_bytes(b"junk")
    with pytest.raises(ValueError, match="junk.npz: cannot read the projection"):
        projection.load_projection(tmp_path / "junk.npz")


def test_dlatent_snapshots_and_the_progress_file(Gs, known, tmp_path):
    _, targets = known
    proj = projector(Gs, space="w", batch_size=2)
    snapshots = []
    result = proj.run(targets, steps=7, frame_every=3, on_dlatents=lambda step, d: snapshots.append((step, d)))
    assert [step for step, _ in snapshots] == [0, 3, 6, 7]
    assert all(d.shape == (2, Gs.num_layers, Gs.cfg.dlatent_size) for _, d in snapshots)
    np.testing.assert_array_equal(snapshots[0][1], np.broadcast_to(proj.dlatent_avg, snapshots[0][1].shape))
    np.testing.assert_array_equal(snapshots[-1][1], result.dlatents)
    steps = [step for step, _ in snapshots]
    projection.write_progress(tmp_path / "p", steps, np.stack([d[1] for _, d in snapshots]))
    got_steps, got = projection.load_progress(tmp_path / "p", Gs)
    np.testing.assert_array_equal(got_steps, steps)
    np.testing.assert_array_equal(got[-1], result.dlatents[1])
    np.savez(tmp_path / "p" / "progress.npz", steps=np.arange(2), dlatents=np.zeros([2, 8, 16], np.float32))
    with pytest.raises(ValueError, match=r"progress.npz: dlatents \(8, 16\) do not fit this network"):
        projection.load_progress(tmp_path / "p", Gs)
    np.savez(tmp_path / "p" / "progress.npz", dlatents=np.zeros([2, 8, 32], np.float32))
    with pytest.raises(ValueError, match=r"expected 'steps' \[K\] and 'dlatents'"):
        projection.load_progress(tmp_path / "p" / "progress.npz")
