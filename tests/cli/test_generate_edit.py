"""tfstylegan-generate edit, end to end on the fixture networks: seeds and projections along a direction."""

import os

import numpy as np
import pytest

from tests.media import SMALL_PKL
from tests.media import read_png as png
from tfstylegan import editing, generation
from tfstylegan.cli import generate as generate_cli
from tfstylegan.projection import ProjectionResult, write_projection
from tfstylegan.rendering import Renderer

STRENGTHS = [-2.0, 0.0, 1.5]


@pytest.fixture(scope="module")
def Gs(small_networks):
    return small_networks[2]


def run(capsys, *args):
    code = generate_cli.main(["tfstylegan-generate", "edit", *[str(a) for a in args]])
    out, err = capsys.readouterr()
    return code, out, err


def cells(grid, rows, cols, res=32):
    """The images of a grid, ``[rows, cols, res, res, C]``."""
    return grid.reshape(rows, res, cols, res, -1).transpose(0, 2, 1, 3, 4)


@pytest.fixture
def direction(tmp_path, Gs):
    path = tmp_path / "direction.npy"
    np.save(path, np.random.RandomState(7).randn(Gs.cfg.dlatent_size).astype(np.float32) * 3)
    return path


def test_seeds_along_a_direction(tmp_path, capsys, Gs, direction):
    out = tmp_path / "out"
    strengths = ",".join(f"{s:g}" for s in STRENGTHS)
    code, stdout, err = run(capsys, f"--network={SMALL_PKL}", "--seeds=3,8", f"--direction={direction}",
                            f"--strengths={strengths}", "--layers=0-3", f"--outdir={out}")
    assert code == 0, err
    names = [f"seed{s:04d}-strength{v:+g}.png" for s in (3, 8) for v in STRENGTHS]
    assert sorted(os.listdir(out)) == sorted(["grid.png", *names])
    assert stdout.split() == [str(out / n) for n in ["grid.png", *names]]
    grid = cells(png(out / "grid.png"), 2, 3)
    for (i, seed), (j, strength) in zip([(0, 3), (0, 3), (0, 3), (1, 8), (1, 8), (1, 8)], enumerate(STRENGTHS * 2)):
        np.testing.assert_array_equal(grid[i, j % 3], png(out / f"seed{seed:04d}-strength{strength:+g}.png"))
    # Strength 0 is the unedited image exactly (the seeds' truncated W, rendered in the tool's batch of 6).
    w = generation.dlatents_of(Gs, generation.seed_latents([3, 8], Gs.cfg.latent_size)).numpy()
    renderer = Renderer(Gs, 6)
    np.testing.assert_array_equal(grid[:, 1], renderer.images(w))
    edited = editing.apply_direction(w, np.load(direction), STRENGTHS, layers=range(4))  # [2, 3, L, D]
    np.testing.assert_array_equal(grid.reshape(6, 32, 32, 3), renderer.images(edited.reshape(6, *w.shape[1:])))
    assert np.any(grid[:, 0] != grid[:, 1]) and np.any(grid[:, 2] != grid[:, 1])


def test_layers_outside_the_chosen_ones_stay_as_they_are(tmp_path, capsys, Gs):
    # A direction that moves layers 4-7 only, applied to layers 0-3: every column is the unedited image.
    steps = np.zeros([Gs.num_layers, Gs.cfg.dlatent_size], np.float32)
    steps[4:] = np.random.RandomState(1).randn(Gs.num_layers - 4, Gs.cfg.dlatent_size) * 5
    np.save(tmp_path / "late.npy", steps)
    args = [f"--network={SMALL_PKL}", "--seeds=5", f"--direction={tmp_path / 'late.npy'}", "--grid"]
    assert run(capsys, *args, "--layers=coarse", f"--outdir={tmp_path / 'a'}")[0] == 0
    assert os.listdir(tmp_path / "a") == ["grid.png"]
    row = cells(png(tmp_path / "a" / "grid.png"), 1, 5)[0]
    for image in row:
        np.testing.assert_array_equal(image, row[2])
    assert run(capsys, *args, "--layers=middle", f"--outdir={tmp_path / 'b'}")[0] == 0
    moved = cells(png(tmp_path / "b" / "grid.png"), 1, 5)[0]
    np.testing.assert_array_equal(moved[2], row[2])
    assert np.any(moved[0] != row[2])


def projection_folder(Gs, path, seed):
    """A projection's files as the projection tool writes them, from a seed's W and random noise maps."""
    rnd = np.random.RandomState(seed)
    w = generation.dlatents_of(Gs, generation.seed_latents([seed], Gs.cfg.latent_size)).numpy()
    noise = [rnd.randn(1, *v.shape[1:]).astype(np.float32) for v in Gs.synthesis.noise_inputs]
    images = Renderer(Gs, 1).images(w, noise)
    write_projection(path, ProjectionResult(w, noise, images, images, np.zeros([1], np.float32)))
    return w[0], noise


def test_projections_keep_their_noise_maps(tmp_path, capsys, Gs, direction):
    first = projection_folder(Gs, tmp_path / "proj" / "anna", 1)
    second = projection_folder(Gs, tmp_path / "proj" / "ben", 2)
    out = tmp_path / "out"
    code, _, err = run(capsys, f"--network={SMALL_PKL}", f"--dlatents={tmp_path / 'proj'}", f"--direction={direction}",
                       "--strengths=0,2", "--batch_size=3", f"--outdir={out}")
    assert code == 0, err
    assert sorted(os.listdir(out)) == ["anna-strength+0.png", "anna-strength+2.png", "ben-strength+0.png",
                                       "ben-strength+2.png", "grid.png"]
    grid = cells(png(out / "grid.png"), 2, 2)
    w = np.stack([first[0], second[0]])
    noise = [np.concatenate([a, b]) for a, b in zip(first[1], second[1])]
    renderer = Renderer(Gs, 3)
    np.testing.assert_array_equal(grid[:, 0], renderer.images(w, noise))  # strength 0: the projection itself
    edited = editing.apply_direction(w, np.load(direction), [2.0])[:, 0]
    np.testing.assert_array_equal(grid[:, 1], renderer.images(edited, noise))
    assert np.any(grid[:, 0] != renderer.images(w))  # not the stored noise
    # One projection, by its folder or its file.
    for source in (tmp_path / "proj" / "ben", tmp_path / "proj" / "ben" / "dlatents.npz"):
        assert run(capsys, f"--network={SMALL_PKL}", f"--dlatents={source}", f"--direction={direction}",
                   "--strengths=0", "--grid", f"--outdir={tmp_path / 'one'}")[0] == 0
        np.testing.assert_array_equal(png(tmp_path / "one" / "grid.png"), Renderer(Gs, 1).images(w[1:], [m[1:] for m in noise])[0])


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--seeds=1"], "--direction"),  # required
        (["--seeds=1", "--direction=missing.npy"], "--direction"),
        (["--direction=DIR"], "--dlatents"),  # no inputs
        (["--seeds=1", "--dlatents=PROJ", "--direction=DIR"], "--dlatents"),  # both
        (["--dlatents=nowhere", "--direction=DIR"], "--dlatents"),
        (["--dlatents=EMPTY", "--direction=DIR"], "--dlatents"),
        (["--dlatents=PROJ", "--direction=DIR", "--truncation_psi=0.5"], "--truncation_psi"),
        (["--seeds=1", "--direction=BAD", ], "--direction"),  # wrong shape
        (["--seeds=1", "--direction=DIR", "--layers=0-8"], "--layers"),  # 8 layers: 0-7
        (["--seeds=1", "--direction=DIR", "--layers=fine"], "--layers"),  # empty at 32 x 32
        (["--seeds=1", "--direction=DIR", "--strengths=a"], "--strengths"),
        (["--seeds=1", "--direction=DIR", "--outdir=FILE"], "--outdir"),
        (["--network=nowhere.pkl", "--seeds=1", "--direction=DIR"], "--network"),
    ],
)
def test_bad_inputs_are_one_line(tmp_path, capsys, Gs, direction, args, flag):
    np.save(tmp_path / "bad.npy", np.ones([3, Gs.cfg.dlatent_size], np.float32))
    projection_folder(Gs, tmp_path / "proj", 1)
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("x")
    subs = {"DIR": str(direction), "BAD": str(tmp_path / "bad.npy"), "PROJ": str(tmp_path / "proj"),
            "EMPTY": str(tmp_path / "empty"), "FILE": str(tmp_path / "file")}
    args = [a.split("=")[0] + "=" + subs.get(a.split("=")[1], a.split("=")[1]) for a in args]
    network = [] if any(a.startswith("--network") for a in args) else [f"--network={SMALL_PKL}"]
    outdir = [] if any(a.startswith("--outdir") for a in args) else [f"--outdir={tmp_path / 'out'}"]
    code, _, err = run(capsys, *network, *args, *outdir)
    assert code == 1
    first = err.splitlines()[0]
    assert first.startswith("tfstylegan-generate edit: error: ") and flag in first, err
    assert "Traceback" not in err and not (tmp_path / "out").exists()
