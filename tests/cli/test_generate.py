"""The generate tool and tfstylegan.figures on the reference fixture networks."""

import os
import re
import subprocess
import sys

import numpy as np
import PIL.Image
import pytest
import tensorflow as tf

import tfstylegan
from tests import DATA
from tfstylegan import figures, generation
from tfstylegan.cli import generate as generate_cli
from tfstylegan.images import image_grid


@pytest.fixture(scope="module")
def small(small_networks):
    return small_networks


@pytest.fixture(scope="module")
def cond(cond_networks):
    return cond_networks


def run_generate(capsys, *args):
    code = generate_cli.main(["tfstylegan-generate", *[str(a) for a in args]])
    out, err = capsys.readouterr()
    return code, out, err


def png(path):
    with PIL.Image.open(path) as im:
        return im.mode, np.asarray(im)


def reference(Gs, seed, labels=None, psi=0.7, cutoff=8, rng=None):
    """What a Python user gets from Gs.generate for one seed, as uint8 [R, R, C]."""
    latents = np.random.RandomState(seed).randn(1, Gs.cfg.latent_size)
    images = Gs.generate(latents, labels, psi, cutoff, randomize_noise=rng is not None, rng=rng)
    return tfstylegan.convert_images_to_uint8(images).numpy()[0]


def in_another_run(Gs, seeds, label=None, **kwargs):
    """{seed: image} of one generate_seeds call over other seeds, in another order (other batch positions)."""
    others = [*reversed(seeds), 1234, 77]
    return dict(zip(others, generation.generate_seeds(Gs, others, label, **kwargs)))


def assert_near_eager(image, eager):
    """Compiled batches and eager calls may round a rare value differently, by one 8-bit level."""
    diff = np.abs(image.astype(int) - eager)
    assert diff.max() <= 1 and np.mean(diff > 0) < 1e-3


def test_gs_generate_defaults_are_the_networks_configuration(small, tiny_gs):
    _, _, Gs = small
    z = np.random.RandomState(0).randn(2, Gs.cfg.latent_size)
    np.testing.assert_array_equal(Gs.generate(z, randomize_noise=False), Gs.generate(z, None, 0.7, 8, randomize_noise=False))
    Gs = tiny_gs(truncation_psi=0.5, truncation_cutoff=2)
    Gs.dlatent_avg.assign(np.linspace(-1, 1, 8))  # so that truncation moves W
    z = np.random.RandomState(1).randn(2, 8)
    configured = Gs.generate(z, randomize_noise=False).numpy()
    np.testing.assert_array_equal(configured, Gs.generate(z, None, 0.5, 2, randomize_noise=False))
    assert np.any(configured != Gs.generate(z, None, 0.7, 8, randomize_noise=False).numpy())


# ----------------------------------------------------------------------------------
# Parsing.


def test_parse_seeds():
    assert generation.parse_seeds("0-3,10, 7,20-21") == [0, 1, 2, 3, 10, 7, 20, 21]
    assert generation.parse_seeds("5") == [5]
    for bad in ("", "a", "3-1", "1-", "-2", "1,,2", f"{2**32}"):
        with pytest.raises(ValueError):
            generation.parse_seeds(bad)


def test_parse_layer_range_clips_to_the_network():
    assert figures.parse_layer_range("coarse", 18) == range(0, 4)
    assert figures.parse_layer_range("middle", 18) == range(4, 8)
    assert figures.parse_layer_range("fine", 18) == range(8, 18)
    assert figures.parse_layer_range("fine", 8) == range(8, 8)  # empty at 32 x 32
    assert figures.parse_layer_range("middle", 6) == range(4, 6)
    assert figures.parse_layer_range("2-5", 18) == range(2, 6)
    assert figures.parse_layer_range("3-", 6) == range(3, 6)
    assert figures.parse_layer_range("7", 18) == range(7, 8)
    for bad in ("x", "5-2", "-3"):
        with pytest.raises(ValueError):
            figures.parse_layer_range(bad, 18)


def test_image_grid_layout():
    images = np.arange(5 * 2 * 3 * 1, dtype=np.uint8).reshape(5, 2, 3, 1) + 1
    grid = image_grid(images)  # 3 columns, 2 rows
    assert grid.shape == (4, 9, 1)
    np.testing.assert_array_equal(grid[2:4, 3:6], images[4])
    assert not grid[2:4, 6:9].any()  # the empty cell is black
    assert image_grid(images, cols=5).shape == (2, 15, 1)


# ----------------------------------------------------------------------------------
# Seed images.


def test_seed_images_equal_gs_generate(tmp_path, capsys, small):
    _, _, Gs = small
    code, out, _ = run_generate(capsys, f"--network={small_pkl()}", "--seeds=0-2,9", f"--outdir={tmp_path}")
    assert code == 0
    names = sorted(os.listdir(tmp_path))
    assert names == ["seed0000.png", "seed0001.png", "seed0002.png", "seed0009.png"]
    assert out.split() == [str(tmp_path / n) for n in names]
    other_run = in_another_run(Gs, [0, 1, 2, 9])
    for seed in (0, 1, 2, 9):
        mode, image = png(tmp_path / f"seed{seed:04d}.png")
        assert mode == "RGB" and image.shape == (32, 32, 3)
        np.testing.assert_array_equal(image, other_run[seed])  # independent of the run's other seeds
        assert_near_eager(image, reference(Gs, seed))
    # Larger batches: the same images up to kernel rounding.
    assert run_generate(capsys, f"--network={small_pkl()}", "--seeds=0-2,9", f"--outdir={tmp_path / 'b'}",
                        "--batch_size=4")[0] == 0
    for seed in (0, 1, 2, 9):
        diff = np.abs(png(tmp_path / "b" / f"seed{seed:04d}.png")[1].astype(int) - reference(Gs, seed))
        assert diff.max() <= 1 and np.mean(diff > 0) < 1e-3


def test_random_noise_is_seeded_per_seed(tmp_path, capsys, small):
    _, _, Gs = small
    args = [f"--network={small_pkl()}", "--seeds=4,5", "--noise_mode=random", "--truncation_psi=1"]
    assert run_generate(capsys, *args, f"--outdir={tmp_path / 'a'}")[0] == 0
    assert run_generate(capsys, *args, "--seeds=5", f"--outdir={tmp_path / 'b'}")[0] == 0
    other_run = in_another_run(Gs, [4, 5], random_noise=True, truncation_psi=1)
    for seed in (4, 5):
        _, image = png(tmp_path / "a" / f"seed{seed:04d}.png")
        np.testing.assert_array_equal(image, other_run[seed])
        assert_near_eager(image, reference(Gs, seed, psi=1, rng=tf.random.Generator.from_seed(seed)))
        assert np.any(image != reference(Gs, seed, psi=1))  # not the stored noise
    # A seed's image does not depend on the other seeds of the run.
    np.testing.assert_array_equal(png(tmp_path / "b" / "seed0005.png")[1], png(tmp_path / "a" / "seed0005.png")[1])


def test_grid_geometry(tmp_path, capsys, small):
    _, _, Gs = small
    assert run_generate(capsys, f"--network={small_pkl()}", "--seeds=10-14", "--grid", f"--outdir={tmp_path}")[0] == 0
    assert os.listdir(tmp_path) == ["grid.png"]
    _, grid = png(tmp_path / "grid.png")
    assert grid.shape == (64, 96, 3)  # ceil(sqrt(5)) = 3 columns, 2 rows of 32 x 32
    other_run = in_another_run(Gs, list(range(10, 15)))
    for i, seed in enumerate(range(10, 15)):
        y, x = (i // 3) * 32, (i % 3) * 32
        np.testing.assert_array_equal(grid[y : y + 32, x : x + 32], other_run[seed])
        assert_near_eager(grid[y : y + 32, x : x + 32], reference(Gs, seed))
    assert not grid[32:, 64:].any()
    assert run_generate(capsys, f"--network={small_pkl()}", "--seeds=10-14", "--grid", "--grid_cols=5",
                        f"--outdir={tmp_path}")[0] == 0
    assert png(tmp_path / "grid.png")[1].shape == (32, 160, 3)


def test_class_labels_are_honoured(tmp_path, capsys, cond):
    _, _, Gs = cond
    out = {}
    for name, flag in (("c0", "--class_idx=0"), ("c1", "--class_idx=1"), ("l2", "--labels=0,0,1,0,0")):
        assert run_generate(capsys, f"--network={cond_pkl()}", "--seeds=3", flag, f"--outdir={tmp_path / name}")[0] == 0
        out[name] = png(tmp_path / name / "seed0003.png")[1]
        assert out[name].shape == (16, 16, 3)
    eye = np.eye(5, dtype=np.float32)
    for name, c in (("c0", 0), ("c1", 1), ("l2", 2)):
        np.testing.assert_array_equal(out[name], in_another_run(Gs, [3], eye[c])[3])
        assert_near_eager(out[name], reference(Gs, 3, eye[[c]]))
    assert np.any(out["c0"] != out["c1"]) and np.any(out["c1"] != out["l2"])


# ----------------------------------------------------------------------------------
# Figures.


@pytest.mark.parametrize(
    "net, res, sizes",
    [
        # 32 x 32, 8 layers: uncurated columns 32+16+8+8+4+4, 3 rows.
        ("small", 32, {"figure02-uncurated.png": (72, 96), "figure03-style-mixing.png": (6 * 32, 7 * 32),
                       "figure04-noise-detail.png": (96, 64), "figure05-noise-components.png": (64, 64),
                       "figure08-truncation-trick.png": (192, 64)}),
        # 16 x 16, 6 layers: lod 3 would be 2 x 2 images, so the columns are 16+8+4+4.
        ("cond", 16, {"figure02-uncurated.png": (32, 48), "figure03-style-mixing.png": (6 * 16, 7 * 16),
                      "figure04-noise-detail.png": (48, 32), "figure05-noise-components.png": (32, 32),
                      "figure08-truncation-trick.png": (96, 32)}),
    ],
)
def test_every_figure_has_the_right_size(tmp_path, capsys, net, res, sizes):
    pkl = small_pkl() if net == "small" else cond_pkl()
    extra = [] if net == "small" else ["--class_idx=4"]
    code, out, err = run_generate(capsys, f"--network={pkl}", "--figure=all", "--num_samples=6", "--batch_size=16",
                                  f"--outdir={tmp_path}", *extra)
    assert code == 0, err
    assert sorted(os.listdir(tmp_path)) == sorted(sizes)
    for name, (w, h) in sizes.items():
        with PIL.Image.open(tmp_path / name) as im:
            assert im.size == (w, h) and im.mode == "RGB", name
        assert f"({w}x{h})" in out


def test_style_mixing_copies_the_chosen_layers(small):
    _, _, Gs = small
    canvas = np.asarray(figures.style_mixing_figure(Gs, [1, 2], [3, 4, 5], ["0-", "fine"]))
    assert canvas.shape == (3 * 32, 4 * 32, 3)
    cell = lambda r, c: canvas[r * 32 : (r + 1) * 32, c * 32 : (c + 1) * 32]
    assert (cell(0, 0) == 255).all()  # the empty corner
    for c, seed in enumerate([3, 4, 5], start=1):
        np.testing.assert_array_equal(cell(0, c), reference(Gs, seed, psi=1))  # column images, untruncated
        np.testing.assert_array_equal(cell(1, c), cell(0, c))  # all layers copied: the column image
        np.testing.assert_array_equal(cell(2, c), cell(2, 0))  # 'fine' is empty at 32 x 32: the row image
    for r, seed in enumerate([1, 2], start=1):
        np.testing.assert_array_equal(cell(r, 0), reference(Gs, seed, psi=1))
    # A middle range mixes: different from both sources.
    mixed = np.asarray(figures.style_mixing_figure(Gs, [1], [3], ["middle"]))[32:, 32:]
    assert np.any(mixed != reference(Gs, 1, psi=1)) and np.any(mixed != reference(Gs, 3, psi=1))


def test_truncation_figure_columns(small):
    _, _, Gs = small
    canvas = np.asarray(figures.truncation_figure(Gs, [7, 8], [1.0, 0.0]))
    assert canvas.shape == (64, 64, 3)
    # psi = 0 maps every W to the average: both rows show the same image.
    np.testing.assert_array_equal(canvas[:32, 32:], canvas[32:, 32:])
    assert np.any(canvas[:32, :32] != canvas[32:, :32])
    # psi = 1 is (numerically almost) the untruncated image.
    assert np.abs(canvas[:32, :32].astype(int) - reference(Gs, 7, psi=1)).max() <= 1


def test_noise_figures_use_and_restore_the_noise(small):
    _, _, Gs = small
    before = [v.numpy().copy() for v in Gs.synthesis.noise_inputs]
    canvas = np.asarray(figures.noise_components_figure(Gs, [1, 2]))
    for v, b in zip(Gs.synthesis.noise_inputs, before):
        np.testing.assert_array_equal(v.numpy(), b)
    assert canvas.shape == (64, 64, 3)
    # Top left: left half of seed 1 with all its noise = the plain stored-noise image.
    np.testing.assert_array_equal(canvas[:32, :16], reference(Gs, 1, psi=1)[:, :16])
    # Seed 2 (index 1) is mirrored.
    np.testing.assert_array_equal(canvas[:32, 32:48], reference(Gs, 2, psi=1)[:, ::-1][:, :16])
    detail = np.asarray(figures.noise_detail_figure(Gs, [3], num_samples=6).convert("RGB"))
    assert detail.shape == (32, 96, 3)
    assert detail[:, 64:].std() > 0  # the noise changes pixels


def test_uncurated_row_psis(small):
    _, _, Gs = small
    one = np.asarray(figures.uncurated_figure(Gs, 3, rows=2, lods=[0], row_psis=[0.0], random_noise=False))
    assert one.shape == (64, 32, 3)
    np.testing.assert_array_equal(one[:32], one[32:])  # psi 0 below cutoff 8 = every layer: W = the average
    two = np.asarray(figures.uncurated_figure(Gs, 3, rows=2, lods=[0], row_psis=[1.0, 0.0], random_noise=False))
    latents = np.random.RandomState(3).randn(2, Gs.cfg.latent_size)
    top = tfstylegan.convert_images_to_uint8(Gs.generate(latents[:1], truncation_psi=1.0, randomize_noise=False))
    np.testing.assert_array_equal(two[:32], top.numpy()[0])
    np.testing.assert_array_equal(two[32:], one[32:])


def test_grayscale_network_from_a_keras_file(tmp_path, capsys, tiny_gs):
    Gs = tiny_gs(num_channels=1)
    Gs.save(tmp_path / "gs.keras")
    args = [f"--network={tmp_path / 'gs.keras'}", f"--outdir={tmp_path / 'out'}"]
    assert run_generate(capsys, *args, "--seeds=1,2")[0] == 0
    mode, image = png(tmp_path / "out" / "seed0002.png")
    assert mode == "L" and image.shape == (8, 8)
    np.testing.assert_array_equal(image, in_another_run(Gs, [1, 2])[2][:, :, 0])
    assert_near_eager(image, reference(Gs, 2)[:, :, 0])
    assert run_generate(capsys, *args, "--figure=noise-detail", "--num_samples=5")[0] == 0
    with PIL.Image.open(tmp_path / "out" / "figure04-noise-detail.png") as im:
        assert im.mode == "L" and im.size == (24, 16)
    code, _, err = run_generate(capsys, *args, "--rank_by_d=1")
    assert code == 1 and "--rank_by_d" in err and "only Gs" in err


# ----------------------------------------------------------------------------------
# Ranking by D.


def test_rank_by_d_keeps_the_best(tmp_path, capsys, small):
    _, D, Gs = small
    code, out, _ = run_generate(capsys, f"--network={small_pkl()}", "--rank_by_d=3", "--rank_pool=10",
                                f"--outdir={tmp_path}")
    assert code == 0
    rows = re.findall(r"^\s*(\d+)\s+(\d+)\s+(-?[\d.]+)$", out, flags=re.M)
    assert [int(r[0]) for r in rows] == [0, 1, 2]
    scores = {}
    for seed in range(10):
        latents = np.random.RandomState(seed).randn(1, Gs.cfg.latent_size)
        scores[seed] = float(D(Gs.generate(latents, randomize_noise=False)).numpy()[0, 0])
    best = sorted(scores, key=lambda s: -scores[s])[:3]
    assert [int(r[1]) for r in rows] == best
    for _, seed, score in rows:
        assert float(score) == pytest.approx(scores[int(seed)], abs=1e-5)
    assert sorted(os.listdir(tmp_path)) == [f"rank{i:03d}-seed{s:04d}.png" for i, s in enumerate(best)]
    best_image = png(tmp_path / f"rank000-seed{best[0]:04d}.png")[1]
    np.testing.assert_array_equal(best_image, in_another_run(Gs, [best[0]])[best[0]])  # its seed image
    assert_near_eager(best_image, reference(Gs, best[0]))


def test_rank_by_d_with_labels(cond):
    _, D, Gs = cond
    label = np.eye(5, dtype=np.float32)[2]
    ranked = figures.rank_by_discriminator(Gs, D, [0, 1, 2, 3], 2, label)
    labels = label[np.newaxis]
    scores = []
    for seed in range(4):
        latents = np.random.RandomState(seed).randn(1, Gs.cfg.latent_size)
        scores.append(float(D(Gs.generate(latents, labels, randomize_noise=False), labels).numpy()[0, 0]))
    assert [s for s, _, _ in ranked] == list(np.argsort(scores)[::-1][:2])


# ----------------------------------------------------------------------------------
# Errors.


def small_pkl():
    return str(DATA / "small" / "network.pkl")


def cond_pkl():
    return str(DATA / "cond" / "network.pkl")


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--network=nowhere/network.pkl", "--seeds=0"], "--network"),
        (["--seeds=1-x"], "--seeds"),
        (["--seeds=3-1"], "--seeds"),
        (["--seeds=0", "--truncation_psi=abc"], "--truncation_psi"),
        (["--seeds=0", "--class_idx=1"], "--class_idx"),  # unconditional network
        (["--seeds=0", "--batch_size=0"], "--batch_size"),
        ([], "--seeds"),
        (["--figure=truncation", "--truncation_psi=0.5"], "--truncation_psi"),
        (["--figure=style-mixing", "--style_ranges=1-2,3-4,5"], "--style_ranges"),
        (["--figure=style-mixing", "--seeds=1,2"], "--seeds"),
        (["--figure=uncurated", "--lods=0,4"], "--lods"),  # 32 / 2**4 = 2 pixels
        (["--rank_by_d=5", "--seeds=1-3"], "--rank_by_d"),
        (["--rank_by_d=2", "--seeds=1-3", "--rank_pool=4"], "--rank_pool"),
    ],
)
def test_bad_inputs_are_usage_errors(tmp_path, capsys, args, flag):
    network = [] if any(a.startswith("--network") for a in args) else [f"--network={small_pkl()}"]
    code, out, err = run_generate(capsys, *network, *args, f"--outdir={tmp_path}")
    assert code == 1
    assert flag in err and "Traceback" not in err
    assert not os.listdir(tmp_path)


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--seeds=0", "--class_idx=5"], "--class_idx"),
        (["--seeds=0", "--labels=1,0"], "--labels"),
        (["--seeds=0"], "--class_idx"),  # conditional network without a label
    ],
)
def test_bad_labels_are_usage_errors(tmp_path, capsys, args, flag):
    code, _, err = run_generate(capsys, f"--network={cond_pkl()}", *args, f"--outdir={tmp_path}")
    assert code == 1 and flag in err and "Traceback" not in err


def test_module_entry_point_reports_errors_without_traceback(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "tfstylegan.generate", f"--network={small_pkl()}", "--seeds=0-a"],
        capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert proc.returncode == 1
    assert "python -m tfstylegan.generate: error: --seeds: bad seed '0-a'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_outdir_that_is_a_file_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "taken").write_text("x")
    code, _, err = run_generate(capsys, f"--network={small_pkl()}", "--seeds=0", f"--outdir={tmp_path / 'taken'}")
    taken = tmp_path / "taken"
    assert code == 1 and f"--outdir: cannot write to {taken}: {taken} is a regular file, not a directory" in err
    assert "Traceback" not in err
    assert (tmp_path / "taken").read_text() == "x"
