"""tfstylegan-generate video, end to end on the fixture network: frame count, size and order read back."""

import os

import numpy as np
import pytest

from tests.media import SMALL_PKL, mean_error, read_gif, read_mp4
from tfstylegan import generation, video, video_writer
from tfstylegan.cli import generate as generate_cli
from tfstylegan.projection import ProjectionResult, write_progress, write_projection
from tfstylegan.rendering import Renderer

SEEDS = [3, 1, 4]


@pytest.fixture(scope="module")
def Gs(small_networks):
    return small_networks[2]


def run(capsys, *args):
    code = generate_cli.main(["tfstylegan-generate", "video", f"--network={SMALL_PKL}", *[str(a) for a in args]])
    out, err = capsys.readouterr()
    return code, out, err


def seed_images(Gs, seeds, psi=0.7):
    w = generation.dlatents_of(Gs, generation.seed_latents(seeds, Gs.cfg.latent_size), truncation_psi=psi)
    return Renderer(Gs, 4).images(w.numpy())


def test_interpolation_gif_is_the_library_loop(tmp_path, capsys, Gs):
    code, out, err = run(capsys, "--seeds=3,1,4", "--space=w", "--fps=4", "--seconds_per_seed=1",
                         f"--out={tmp_path / 'v' / 'loop.gif'}")
    assert code == 0, err
    assert out.strip() == f"{tmp_path / 'v' / 'loop.gif'}  (12 frames at 4 fps)"
    assert "frames 12/12" in err  # the progress bar
    frames = read_gif(tmp_path / "v" / "loop.gif")[0]
    assert frames.shape == (12, 32, 32, 3)
    video.interpolation_video(Gs, tmp_path / "lib.gif", SEEDS, space="w", fps=4, seconds_per_seed=1, progress=None)
    np.testing.assert_array_equal(frames, read_gif(tmp_path / "lib.gif")[0])
    errors = mean_error(frames[::4], seed_images(Gs, SEEDS))  # every 4th frame is a seed's image
    np.testing.assert_array_equal(errors.argmin(axis=1), [0, 1, 2])
    assert errors.diagonal().max() < 12.0


@pytest.mark.skipif(not video_writer.mp4_available(), reason="imageio and imageio-ffmpeg are not installed")
def test_interpolation_mp4(tmp_path, capsys, Gs):
    assert run(capsys, "--seeds=3,1,4", "--fps=4", "--seconds_per_seed=1", f"--out={tmp_path / 'z.mp4'}")[0] == 0
    frames = read_mp4(tmp_path / "z.mp4")
    assert frames.shape == (12, 32, 32, 3)
    errors = mean_error(frames[::4], seed_images(Gs, SEEDS))
    np.testing.assert_array_equal(errors.argmin(axis=1), [0, 1, 2])


def test_mp4_without_imageio_ffmpeg_is_a_gif_with_a_note(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(video_writer, "mp4_available", lambda: False)
    code, out, err = run(capsys, "--seeds=1,2", "--fps=2", "--seconds_per_seed=1", f"--out={tmp_path / 'a.mp4'}")
    assert code == 0, err
    assert os.listdir(tmp_path) == ["a.gif"]
    notes = [line for line in err.splitlines() if "note:" in line]
    assert notes == [f'tfstylegan-generate video: note: MP4 needs imageio and imageio-ffmpeg (pip install '
                     f'"tfstylegan[video]"); writing {tmp_path / "a.gif"}']
    assert read_gif(tmp_path / "a.gif")[0].shape == (4, 32, 32, 3)


def test_style_mix_over_every_layer_is_the_w_loop(tmp_path, capsys):
    args = ["--seeds=3,1,4", "--fps=2", "--seconds_per_seed=1"]
    assert run(capsys, *args, "--mode=style-mix", "--base_seed=9", "--layers=0-", f"--out={tmp_path / 'm.gif'}")[0] == 0
    assert run(capsys, *args, "--space=w", f"--out={tmp_path / 'w.gif'}")[0] == 0
    mixed = read_gif(tmp_path / "m.gif")[0]
    assert mixed.shape == (6, 32, 32, 3)
    np.testing.assert_array_equal(mixed, read_gif(tmp_path / "w.gif")[0])
    assert run(capsys, *args, "--mode=style-mix", "--base_seed=9", f"--out={tmp_path / 'c.gif'}")[0] == 0  # coarse
    assert np.any(read_gif(tmp_path / "c.gif")[0] != mixed)


def test_noise_video_starts_at_the_stored_noise(tmp_path, capsys, Gs):
    assert run(capsys, "--mode=noise", "--seeds=5", "--fps=3", "--seconds=2", f"--out={tmp_path / 'n.gif'}")[0] == 0
    frames = read_gif(tmp_path / "n.gif")[0]
    assert frames.shape == (6, 32, 32, 3)
    assert mean_error(frames[:1], seed_images(Gs, [5]))[0, 0] < 12.0
    assert mean_error(frames[3:4], frames[:1])[0, 0] > 1.0  # the noise moves


def test_project_mode_renders_the_saved_progress(tmp_path, capsys, Gs):
    keys = Gs.mapping(generation.seed_latents([1, 2, 3, 4], Gs.cfg.latent_size)).numpy()  # 4 snapshots
    rnd = np.random.RandomState(0)
    noise = [rnd.randn(1, *v.shape[1:]).astype(np.float32) for v in Gs.synthesis.noise_inputs]
    renderer = Renderer(Gs, 2)
    target = seed_images(Gs, [7])
    final = renderer.images(keys[-1:], noise)
    write_projection(tmp_path / "me", ProjectionResult(keys[-1:], noise, final, target, np.zeros([1])))
    write_progress(tmp_path / "me", [0, 5, 10, 12], keys)
    code, _, err = run(capsys, "--mode=project", f"--projection={tmp_path / 'me'}", "--fps=5", "--batch_size=2",
                       f"--out={tmp_path / 'p.gif'}")
    assert code == 0, err
    frames = read_gif(tmp_path / "p.gif")[0]
    assert frames.shape == (4, 32, 64, 3)
    assert mean_error(frames[:, :, :32], target).max() < 12.0  # the target on the left
    errors = mean_error(frames[:, :, 32:], renderer.images(keys, noise))
    np.testing.assert_array_equal(errors.argmin(axis=1), [0, 1, 2, 3])
    assert errors.diagonal().max() < 12.0
    assert run(capsys, "--mode=project", f"--projection={tmp_path / 'me'}", "--nowith_target",
               f"--out={tmp_path / 'alone.gif'}")[0] == 0
    assert read_gif(tmp_path / "alone.gif")[0].shape == (4, 32, 32, 3)


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--seeds=1,2", "--out=NEW/x.avi"], "--out"),
        (["--seeds=1,2"], "--out"),  # required
        (["--seeds=1", "--out=NEW/x.gif"], "--seeds"),  # a loop needs two
        (["--out=NEW/x.gif"], "--seeds"),
        (["--mode=noise", "--seeds=1,2", "--out=NEW/x.gif"], "--seeds"),
        (["--mode=noise", "--seeds=1", "--space=w", "--out=NEW/x.gif"], "--space"),
        (["--mode=zoom", "--seeds=1,2", "--out=NEW/x.gif"], "--mode"),
        (["--mode=style-mix", "--seeds=1,2", "--out=NEW/x.gif"], "--base_seed"),
        (["--mode=style-mix", "--seeds=1,2", "--base_seed=3", "--layers=9", "--out=NEW/x.gif"], "--layers"),
        (["--seeds=1,2", "--fps=1", "--seconds_per_seed=0.1", "--out=NEW/x.gif"], "--seconds_per_seed"),
        (["--seeds=1,2", "--fps=0", "--out=NEW/x.gif"], "--fps"),
        (["--mode=project", "--out=NEW/x.gif"], "--projection"),
        (["--mode=project", "--projection=EMPTY", "--out=NEW/x.gif"], "--projection"),  # no dlatents.npz there
        (["--mode=project", "--projection=EMPTY", "--seeds=1,2", "--out=NEW/x.gif"], "--seeds"),
        (["--seeds=1,2", "--out=FILE/x.gif"], "--out"),
        (["--seeds=1,2", "--class_idx=0", "--out=NEW/x.gif"], "--class_idx"),  # unconditional
    ],
)
def test_bad_inputs_are_one_line(tmp_path, capsys, args, flag):
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    subs = {"NEW": tmp_path / "new", "EMPTY": tmp_path / "empty", "FILE": tmp_path / "file"}
    for key, path in subs.items():
        args = [a.replace(key, str(path)) for a in args]
    code, _, err = run(capsys, *args)
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith("tfstylegan-generate video: error: ") and flag in first, err
    assert "Traceback" not in err and not (tmp_path / "new").exists()  # nothing written
