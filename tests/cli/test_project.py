"""tfstylegan-project end to end on the fixture network: the per-target folders, their files and errors."""

import os
import shutil
import subprocess
import sys

import numpy as np
import PIL.Image
import pytest

from tests.media import COND_PKL as COND
from tests.media import DATA
from tests.media import SMALL_PKL as SMALL
from tests.media import read_png as png
from tfstylegan import projection, video_writer
from tfstylegan.cli import project as project_cli
from tfstylegan.metrics.lpips_weights import random_lpips_weights, save_lpips_npz
from tfstylegan.rendering import Renderer

IMAGES = os.path.join(DATA, "small", "dataset", "rgb32_png")


@pytest.fixture(scope="module")
def Gs(small_networks):
    return small_networks[2]


@pytest.fixture
def targets(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("img003.png", "img001.png"):
        shutil.copy(os.path.join(IMAGES, name), folder / name)
    (folder / "notes.txt").write_text("not an image")
    return folder


def run(capsys, *args):
    code = project_cli.main(["tfstylegan-project", *[str(a) for a in args]])
    out, err = capsys.readouterr()
    return code, out, err


def test_two_targets_in_one_batch(tmp_path, capsys, Gs, targets):
    out = tmp_path / "out"
    code, stdout, err = run(capsys, f"--network={SMALL}", f"--target={targets}", f"--outdir={out}", "--steps=20",
                            "--batch_size=2")
    assert code == 0, err
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert warnings == ["tfstylegan-project: warning: no --vgg16_weights: projecting with the pixel loss alone, "
                        "which gives blurrier, less faithful projections than LPIPS"]
    assert "steps 20/20" in err and "loss" in err.splitlines()[-1]  # the progress lines
    assert sorted(os.listdir(out)) == ["img001", "img003"]
    assert [line.split()[0] for line in stdout.splitlines()] == [str(out / "img001"), str(out / "img003")]  # in name order
    dlatents, noise = [], []
    for name in ("img001", "img003"):
        folder = out / name
        assert sorted(os.listdir(folder)) == ["dlatents.npz", "progress.npz", "proj.png", "target.png"]
        np.testing.assert_array_equal(png(folder / "target.png"), projection.load_target(os.path.join(targets, f"{name}.png"), 32, 3))
        with np.load(folder / "dlatents.npz") as npz:
            assert sorted(npz.files) == ["dlatents"] + [f"noise{k}" for k in range(8)]
            assert npz["dlatents"].shape == (8, 32) and npz["dlatents"].dtype == np.float32
            assert [npz[f"noise{k}"].shape for k in range(8)] == [tuple(v.shape) for v in Gs.synthesis.noise_inputs]
            w = npz["dlatents"]
        np.testing.assert_array_equal(w, np.broadcast_to(w[:1], w.shape))  # space w: one w in every layer
        steps, snapshots = projection.load_progress(folder, Gs)
        np.testing.assert_array_equal(steps, [0, 10, 20])
        np.testing.assert_array_equal(snapshots[-1], w)
        d, n = projection.load_projection(folder, Gs)
        dlatents.append(d)
        noise.append(n)
    maps = [np.concatenate(pair) for pair in zip(*noise)]
    images = Renderer(Gs, 2).images(np.stack(dlatents), maps)  # the projector's batch of 2
    for image, name in zip(images, ("img001", "img003")):
        np.testing.assert_array_equal(png(out / name / "proj.png"), image)


def test_lpips_weights_and_a_video(tmp_path, capsys, monkeypatch):
    weights = tmp_path / "lpips.npz"
    save_lpips_npz(weights, random_lpips_weights())  # random: meaningless distances, fine for the path
    monkeypatch.setattr(video_writer, "mp4_available", lambda: False)
    image = os.path.join(IMAGES, "img002.png")
    code, _, err = run(capsys, f"--network={SMALL}", f"--target={image}", f"--outdir={tmp_path / 'out'}", "--steps=6",
                       "--frame_every=3", "--space=wplus", f"--vgg16_weights={weights}", "--save_video")
    assert code == 0, err
    assert "warning" not in err and "note: MP4 needs imageio and imageio-ffmpeg" in err
    folder = tmp_path / "out" / "img002"
    assert sorted(os.listdir(folder)) == ["dlatents.npz", "progress.npz", "proj.gif", "proj.png", "target.png"]
    with PIL.Image.open(folder / "proj.gif") as gif:
        assert gif.n_frames == 3 and gif.size == (64, 32)  # steps 0, 3, 6; the target beside the projection
        gif.seek(2)
        last = np.asarray(gif.convert("RGB"))
    error = lambda a, b: np.abs(a.astype(int) - b).mean()
    proj, target = png(folder / "proj.png"), png(folder / "target.png")
    assert error(proj, target) > 30.0  # 6 steps: far apart, so a 256-colour frame tells them apart
    assert error(last[:, :32], target) < 15.0 and error(last[:, 32:], proj) < 15.0
    np.testing.assert_array_equal(projection.load_progress(folder)[0], [0, 3, 6])


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--target=nowhere.png"], "--target"),
        (["--target=EMPTY"], "--target"),  # no images
        (["--target=JUNK"], "--target"),  # unreadable image
        (["--target=TWINS"], "--target"),  # a.png and a.jpg share a folder
        ([], "--target"),  # required
        (["--network=nowhere.pkl", "--target=IMAGE"], "--network"),
        (["--target=IMAGE", "--outdir=FILE"], "--outdir"),
        (["--target=IMAGE", "--vgg16_weights=nowhere.pkl"], "--vgg16_weights"),
        (["--target=IMAGE", "--vgg16_weights=FILE"], "--vgg16_weights"),  # not a weights file
        (["--target=IMAGE", "--steps=0"], "--steps"),
        (["--target=IMAGE", "--space=z"], "--space"),
        (["--network=COND", "--target=IMAGE"], "--class_idx"),  # a conditional network needs a label
    ],
)
def test_bad_inputs_are_one_line(tmp_path, capsys, args, flag):
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "broken.png").write_bytes(b"not a png")
    (tmp_path / "twins").mkdir()
    for name in ("a.png", "a.jpg"):
        PIL.Image.new("RGB", (8, 8)).save(tmp_path / "twins" / name)
    (tmp_path / "file").write_text("x")
    subs = {"EMPTY": tmp_path / "empty", "JUNK": tmp_path / "junk", "TWINS": tmp_path / "twins", "FILE": tmp_path / "file",
            "IMAGE": os.path.join(IMAGES, "img000.png"), "COND": COND}
    args = [a.split("=")[0] + "=" + str(subs.get(a.split("=")[1], a.split("=")[1])) for a in args]
    network = [] if any(a.startswith("--network") for a in args) else [f"--network={SMALL}"]
    outdir = [] if any(a.startswith("--outdir") for a in args) else [f"--outdir={tmp_path / 'out'}"]
    code, _, err = run(capsys, *network, *args, *outdir)
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith("tfstylegan-project: error: ") and flag in first, err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_module_entry_point(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "tfstylegan.cli.project", f"--network={SMALL}", "--target=nowhere.png"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert proc.returncode == 1
    assert "python -m tfstylegan.cli.project: error: --target: nowhere.png does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr
