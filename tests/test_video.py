"""Videos: frame count, size and order read back from the files (GIF always, MP4 when available)."""

import os
import warnings

import numpy as np
import pytest

from tests.media import mean_error, read_gif, read_mp4
from tfstylegan import projection, video
from tfstylegan.progress import ProgressBar
from tfstylegan.rendering import Renderer
from tfstylegan.video_writer import VideoWriter, mp4_available

SEEDS = [3, 1, 4]


@pytest.fixture(scope="module")
def Gs(small_networks):
    return small_networks[2]


@pytest.fixture(scope="module")
def renderer(Gs):
    return Renderer(Gs, 4)


def seed_latents(seeds, latent_size):
    """The convention: seed s means ``RandomState(s).randn(latent_size)``."""
    return np.stack([np.random.RandomState(s).randn(latent_size) for s in seeds]).astype(np.float32)


def loop_frames(renderer, frames_per_seed, psi=0.7):
    """Every frame of the W loop through SEEDS, rendered directly (the reference)."""
    Gs = renderer.Gs
    keys = Gs.truncate(Gs.mapping(seed_latents(SEEDS, Gs.cfg.latent_size)), psi, 8).numpy()  # [K, L, D]
    out = []
    for k in range(len(SEEDS)):
        for f in range(frames_per_seed):
            t = np.float32(f / frames_per_seed)
            out.append(keys[k] + (keys[(k + 1) % len(SEEDS)] - keys[k]) * t)
    dlatents = np.stack(out)
    return np.concatenate([renderer.images(dlatents[i : i + 4]) for i in range(0, len(dlatents), 4)])


def assert_in_order(decoded, reference, tolerance):
    errors = mean_error(decoded, reference)
    np.testing.assert_array_equal(errors.argmin(axis=1), np.arange(len(reference)))
    assert errors.diagonal().max() < tolerance


def test_interpolation_gif_frames_count_size_order(Gs, renderer, tmp_path):
    path = tmp_path / "loop.gif"
    count = video.interpolation_video(Gs, path, SEEDS, space="w", fps=4, seconds_per_seed=1.0, progress=None)
    frames, durations = read_gif(path)
    assert count == 12 and frames.shape == (12, 32, 32, 3)
    assert durations == [250] * 12
    assert_in_order(frames, loop_frames(renderer, 4), tolerance=12.0)  # 256-colour palettes
    assert [p for p in os.listdir(tmp_path)] == ["loop.gif"]  # no temporary file left


@pytest.mark.skipif(not mp4_available(), reason="imageio and imageio-ffmpeg are not installed")
def test_interpolation_mp4_frames_count_size_order(Gs, renderer, tmp_path):
    path = tmp_path / "loop.mp4"
    video.interpolation_video(Gs, path, SEEDS, space="w", fps=4, seconds_per_seed=1.0, progress=None)
    frames = read_mp4(path)
    assert frames.shape == (12, 32, 32, 3)
    # H.264 with 4:2:0 chroma blurs these saturated 32x32 colours (mean errors ~20 levels),
    # so in-between frames are too alike to tell apart; the seeds' frames are not.
    errors = mean_error(frames[::4], loop_frames(renderer, 4)[::4])
    np.testing.assert_array_equal(errors.argmin(axis=1), [0, 1, 2])
    assert errors.diagonal().max() < 30.0 and errors[~np.eye(3, dtype=bool)].min() > 50.0


@pytest.mark.skipif(not mp4_available(), reason="imageio and imageio-ffmpeg are not installed")
def test_mp4_keeps_frame_order(tmp_path):
    frames = np.zeros([10, 64, 48, 3], np.uint8)
    for k in range(10):
        frames[k, 6 * k : 6 * k + 6] = 255  # a white band moving down
    with VideoWriter(tmp_path / "bands.mp4", fps=10) as writer:
        for frame in frames:
            writer.append(frame)
    decoded = read_mp4(tmp_path / "bands.mp4")
    assert decoded.shape == (10, 64, 48, 3)
    rows = decoded.astype(np.float32).mean(axis=(2, 3))  # [T, H]
    np.testing.assert_array_equal(rows.argmax(axis=1) // 6, np.arange(10))


def test_z_interpolation_passes_through_every_seed(Gs, renderer, tmp_path):
    path = tmp_path / "z.gif"
    video.interpolation_video(
        Gs, path, SEEDS, space="z", fps=3, seconds_per_seed=1.0, truncation_psi=1.0, progress=None
    )
    frames, _ = read_gif(path)
    assert frames.shape == (9, 32, 32, 3)
    keys = renderer.images(Gs.mapping(seed_latents(SEEDS, Gs.cfg.latent_size)).numpy())
    errors = mean_error(frames[::3], keys)
    np.testing.assert_array_equal(errors.argmin(axis=1), [0, 1, 2])
    assert errors.diagonal().max() < 12.0


def test_slerp_keeps_directions_on_the_great_circle():
    a, b = np.array([[2.0, 0.0]]), np.array([[0.0, 4.0]])
    np.testing.assert_allclose(video.slerp(a, b, [0.5]), [[3.0 / np.sqrt(2), 3.0 / np.sqrt(2)]])
    np.testing.assert_allclose(video.slerp(a, b, [0.0]), a)
    np.testing.assert_allclose(video.slerp(a, 3 * a, [0.5]), 2 * a)  # parallel: lerp


def test_style_mix_over_every_layer_is_the_w_loop(Gs, renderer, tmp_path):
    video.style_mix_video(Gs, tmp_path / "all.gif", 9, SEEDS, range(Gs.num_layers), fps=2, progress=None)
    video.interpolation_video(Gs, tmp_path / "loop.gif", SEEDS, space="w", fps=2, progress=None)
    np.testing.assert_array_equal(read_gif(tmp_path / "all.gif")[0], read_gif(tmp_path / "loop.gif")[0])


def test_style_mix_moves_only_the_chosen_layers(Gs, renderer, tmp_path):
    video.style_mix_video(
        Gs, tmp_path / "coarse.gif", 9, SEEDS, range(4), fps=2, seconds_per_seed=1.0, progress=None
    )
    frames, _ = read_gif(tmp_path / "coarse.gif")
    keys = Gs.truncate(Gs.mapping(seed_latents([9, *SEEDS], Gs.cfg.latent_size)), 0.7, 8).numpy()
    mixed = np.concatenate([keys[1:, :4], np.repeat(keys[:1, 4:], 3, axis=0)], axis=1)  # [3, L, D]
    errors = mean_error(frames[::2], renderer.images(mixed))
    np.testing.assert_array_equal(errors.argmin(axis=1), [0, 1, 2])
    assert errors.diagonal().max() < 12.0


def test_noise_video_animates_only_the_noise(Gs, renderer, tmp_path):
    path = tmp_path / "noise.gif"
    count = video.noise_video(Gs, path, 5, noise_layers=range(6, 8), fps=4, seconds=2.0, progress=None)
    frames, _ = read_gif(path)
    assert count == 8 and frames.shape == (8, 32, 32, 3)
    w = Gs.truncate(Gs.mapping(seed_latents([5], Gs.cfg.latent_size)), 0.7, 8).numpy()
    stored = [v.numpy() for v in Gs.synthesis.noise_inputs]
    opposite = [-m if k in (6, 7) else m for k, m in enumerate(stored)]  # theta = pi
    references = np.concatenate([renderer.images(w), renderer.images(w, opposite)])
    errors = mean_error(frames[[0, 4]], references)
    np.testing.assert_array_equal(errors.argmin(axis=1), [0, 1])
    assert errors.diagonal().max() < 12.0
    assert mean_error(frames[1:2], frames[:1])[0, 0] > 1.0  # the noise moves


def test_projection_video_shows_target_and_progress(Gs, tmp_path):
    target = Renderer(Gs, 1).images(Gs.mapping(seed_latents([2], Gs.cfg.latent_size)).numpy())[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        proj = projection.Projector(Gs, dlatent_avg_samples=200)
    result = video.projection_video(
        proj, target, tmp_path / "p.gif", steps=9, frame_every=4, fps=5, progress=None
    )
    frames, _ = read_gif(tmp_path / "p.gif")
    assert frames.shape == (4, 32, 64, 3)  # steps 0, 4, 8 and the last
    assert mean_error(frames[:, :, :32], target[np.newaxis]).max() < 12.0
    assert mean_error(frames[-1:, :, 32:], result.images)[0, 0] < 12.0


def test_writer_errors_and_atomic_output(tmp_path):
    with pytest.raises(ValueError, match=r"out.avi: unknown video format 'avi'"):
        VideoWriter(tmp_path / "out.avi")
    path = tmp_path / "keep.gif"
    path.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="stop"), VideoWriter(path) as writer:
        writer.append(np.zeros([8, 8, 3], np.uint8))
        raise RuntimeError("stop")
    assert path.read_bytes() == b"old" and sorted(os.listdir(tmp_path)) == ["keep.gif"]
    with pytest.raises(ValueError, match="first frame's shape"), VideoWriter(tmp_path / "x.gif") as writer:
        writer.append(np.zeros([8, 8, 3], np.uint8))
        writer.append(np.zeros([8, 4, 3], np.uint8))
    with pytest.raises(ValueError, match="no frames"), VideoWriter(tmp_path / "empty.gif"):
        pass
    assert sorted(os.listdir(tmp_path)) == ["keep.gif"]


def test_gif_of_gray_frames_is_exact(tmp_path):
    frames = [np.full([6, 10, 1], 40 * k, np.uint8) for k in range(5)]
    frames[2][:, :5] = 255
    with VideoWriter(tmp_path / "g.gif", fps=25) as writer:
        for frame in frames:
            writer.append(frame)
    decoded, durations = read_gif(tmp_path / "g.gif")
    np.testing.assert_array_equal(decoded, np.repeat(np.stack(frames), 3, axis=3))
    assert durations == [40] * 5


def test_progress_bar_writes_a_line_per_tenth_outside_a_terminal():
    import io

    stream = io.StringIO()
    bar = ProgressBar("frames", stream)
    for done in range(0, 101, 5):
        bar(done, 100, note=f"loss {done / 100:.2f}")
    lines = stream.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == [f"{k}/100" for k in range(0, 101, 10)]
    assert lines[3].startswith("frames 30/100 ") and lines[3].endswith(" loss 0.30")
    assert lines[0] == "frames 0/100 0.0/s ETA unknown loss 0.00"  # no rate yet
    stream = io.StringIO()
    bar = ProgressBar("steps", stream, lines=4)
    for done in range(1, 21):
        bar(done, 20)
    assert [line.split()[1] for line in stream.getvalue().splitlines()] == ["1/20", "5/20", "10/20", "15/20", "20/20"]  # the first at once


def test_progress_video_renders_the_snapshots_in_order_beside_the_target(Gs, renderer, tmp_path):
    keys = Gs.mapping(seed_latents([1, 2, 3, 4, 5], Gs.cfg.latent_size)).numpy()  # [5, L, D], untruncated
    noise = [np.random.RandomState(k).randn(*v.shape).astype(np.float32) for k, v in enumerate(Gs.synthesis.noise_inputs)]
    target = np.full([32, 32, 3], 200, np.uint8)
    count = video.progress_video(Gs, tmp_path / "p.gif", keys, noise, target, fps=10, batch_size=2, progress=None)
    frames, _ = read_gif(tmp_path / "p.gif")
    assert count == 5 and frames.shape == (5, 32, 64, 3)
    np.testing.assert_array_equal(frames[:, :, :32], 200)  # a flat gray is exact in a GIF palette
    assert_in_order(frames[:, :, 32:], renderer.images(keys, noise), tolerance=12.0)  # no truncation


def test_projection_frames_streams_one_video_per_target(tmp_path):
    targets = np.stack([np.full([4, 4, 1], 10, np.uint8), np.full([4, 4, 1], 250, np.uint8)])
    paths = [tmp_path / "a.gif", tmp_path / "b.gif"]
    with video.projection_frames(paths, targets, fps=10) as on_frame:
        for step in range(3):
            on_frame(step, np.full([2, 4, 4, 1], 40 * step, np.uint8))
    for path, target in zip(paths, targets):
        frames, _ = read_gif(path)
        assert frames.shape == (3, 4, 8, 3)
        np.testing.assert_array_equal(frames[:, :, :4, 0], np.broadcast_to(target[:, :, 0], (3, 4, 4)))
        np.testing.assert_array_equal(frames[:, 0, 4, 0], [0, 40, 80])
