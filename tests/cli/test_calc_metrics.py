"""The calc_metrics tool and the metric runner, on a tiny synthetic dataset."""

import math
import os
import re
import shutil

import numpy as np
import pytest
import tensorflow as tf

from tfstylegan.cli import calc_metrics as calc_metrics_cli
from tfstylegan.data import TFRecordDataset, create_synthetic_dataset
from tfstylegan.metrics.fid import feature_statistics, frechet_distance, quantize_images
from tfstylegan.metrics.runner import metric_values, result_line, run_metrics
from tfstylegan.progress import ProgressBar, format_time

RANDOM_INCEPTION = ["--testonly_random_inception", "--testonly_inception_resolution=75"]


@pytest.fixture(scope="module")
def shapes32(tmp_path_factory):
    return create_synthetic_dataset(str(tmp_path_factory.mktemp("data") / "shapes32"), num_images=64, resolution=32)


@pytest.fixture(scope="module")
def small(small_networks):
    return small_networks


def run_calc(capsys, *args):
    code = calc_metrics_cli.main(["tfstylegan-calc-metrics", *[str(a) for a in args]])
    out, err = capsys.readouterr()
    return code, out, err


class Recorder:
    """A cheap feature function (per-channel image means) that keeps what it was given."""

    identity = "test-recorder"

    def __init__(self):
        self.batches = []

    def __call__(self, images):
        images = np.asarray(images)
        self.batches.append(images)
        return images.mean(axis=(1, 2))  # [N, C]


def test_format_time_and_result_line():
    assert [format_time(s) for s in (0, 59.4, 83, 3600 + 62, 2 * 86400 + 3 * 3600 + 240)] == [
        "0s", "59s", "1m 23s", "1h 01m 02s", "2d 03h 04m"]
    line = result_line("results/00001-x/network-snapshot-010000.pkl", "fid50k", {"fid50k": 12.345678, "fid50k_time_s": 83})
    assert line == "network-snapshot-010000        time 1m 23s       fid50k 12.3457"
    assert result_line("a" * 40 + ".pkl", "fid1k", {"fid1k": 1, "fid1k_time_s": 5}).startswith("..." + "a" * 26 + " ")


def test_cli_end_to_end(tmp_path, capsys, data_dir, shapes32):
    run_dir, cache = tmp_path / "00001-run", tmp_path / "cache"
    run_dir.mkdir()
    shutil.copy(data_dir / "small" / "network.pkl", run_dir / "network-snapshot-000140.pkl")
    (run_dir / "metric-fid64.txt").write_text("an earlier line\n")
    args = [f"--network={run_dir}", f"--data_dir={shapes32}", "--metrics=fid64", "--minibatch=16",
            f"--cache_dir={cache}", *RANDOM_INCEPTION]
    code, out, err = run_calc(capsys, *args)
    assert code == 0, err
    assert "RANDOM weights" in err and "MEANINGLESS" in err
    match = re.search(r"^network-snapshot-000140\s+time (?:\d+[dhm] )*\d+s\s+fid64 (\S+)$", out, flags=re.M)
    assert match, out
    value = float(match.group(1))
    assert math.isfinite(value) and value >= 0
    # The line goes to the run directory's metric log, after what it held.
    assert (run_dir / "metric-fid64.txt").read_text() == "an earlier line\n" + match.group(0) + "\n"
    assert len(os.listdir(cache)) == 1  # the real statistics


def test_runner_feeds_the_dataset_and_the_generator(small, shapes32):
    _, _, Gs = small
    rec = Recorder()
    result = run_metrics(Gs, shapes32, ["fid64"], features=rec, minibatch_size=16)
    reals = np.concatenate(rec.batches[:1])  # the reals come first, in one batch of 64
    fakes = np.concatenate(rec.batches[1:])
    images, _ = TFRecordDataset(shapes32, shuffle_mb=0, repeat=False).read_all_np()
    np.testing.assert_array_equal(reals, images.astype(np.float32) / 127.5 - 1)
    assert fakes.shape == (64, 32, 32, 3)
    np.testing.assert_allclose((fakes + 1) * 127.5, np.round((fakes + 1) * 127.5), atol=1e-3)  # 8-bit levels
    expected = frechet_distance(*feature_statistics(fakes.mean(axis=(1, 2))), *feature_statistics(reals.mean(axis=(1, 2))))
    assert result["fid64"] == pytest.approx(expected, rel=1e-6)

    # Truncation psi 0 in every layer maps every latent to the average W, so the fakes are the
    # network's images of that W under noise from the seeded generator, minibatch by minibatch.
    rec0 = Recorder()
    run_metrics(Gs, shapes32, ["fid64"], features=rec0, minibatch_size=16, truncation_psi=0.0,
                truncation_cutoff=Gs.num_layers)
    fakes0 = np.concatenate(rec0.batches[1:])
    noise = tf.random.Generator.from_seed(0)
    expected = np.concatenate([
        quantize_images(Gs(np.ones([16, Gs.cfg.latent_size], np.float32), truncation_psi=0.0,
                           truncation_cutoff=Gs.num_layers, randomize_noise=True, rng=noise)).numpy()
        for _ in range(4)
    ])
    diff = np.abs(fakes0 - expected)  # compiled vs eager: at most one 8-bit level, rarely
    assert diff.max() <= 1.01 / 127.5 and np.mean(diff > 0) < 1e-3
    assert np.abs(fakes0 - fakes).mean() > 0.1  # without truncation the latents matter
    # Same seed, same fakes.
    rec1 = Recorder()
    run_metrics(Gs, shapes32, ["fid64"], features=rec1, minibatch_size=16)
    np.testing.assert_array_equal(np.concatenate(rec1.batches[1:]), fakes)


def test_runner_with_labels(data_dir, cond_networks):
    _, _, Gs = cond_networks
    dataset = data_dir / "cond" / "dataset" / "cond16"  # 16 labelled 16 x 16 images
    values = {}
    for mode in ("zeros", "dataset"):
        rec = Recorder()
        values[mode] = run_metrics(Gs, dataset, ["fid16"], features=rec, minibatch_size=8, label_mode=mode)["fid16"]
        assert np.concatenate(rec.batches[1:]).shape == (16, 16, 16, 3)
    assert math.isfinite(values["zeros"]) and math.isfinite(values["dataset"])
    assert values["zeros"] != values["dataset"]
    with pytest.raises(ValueError, match="label_mode"):
        run_metrics(Gs, dataset, ["fid16"], features=Recorder(), label_mode="random")


def test_missing_inception_weights_is_a_clear_error(tmp_path, capsys, data_dir, shapes32):
    base = [f"--network={data_dir / 'small' / 'network.pkl'}", f"--data_dir={shapes32}", "--metrics=fid64"]
    code, out, err = run_calc(capsys, *base)
    assert code == 1 and "Traceback" not in err
    assert "No Inception weights file was given" in err and "--inception_weights" in err
    assert "Nothing is downloaded" in err
    code, _, err = run_calc(capsys, *base, f"--inception_weights={tmp_path / 'missing.h5'}")
    assert code == 1 and "not found" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "args, flag",
    [
        (["--metrics=fid64,ppl"], "--metrics"),
        (["--metrics=swd64,swd64"], "--metrics"),
        (["--data_dir=nowhere"], "--data_dir"),
        (["--network=nowhere.pkl"], "--network"),
        (["--network=COND"], "--data_dir"),  # 16 x 16 network, 32 x 32 dataset
        (["--minibatch=0"], "--minibatch"),
        (["--truncation_psi=x"], "--truncation_psi"),
    ],
)
def test_bad_inputs_are_usage_errors(capsys, data_dir, shapes32, args, flag):
    defaults = {"--network": data_dir / "small" / "network.pkl", "--data_dir": shapes32, "--metrics": "fid64"}
    given = dict(a.split("=", 1) for a in args)
    if given.get("--network") == "COND":
        given["--network"] = data_dir / "cond" / "network.pkl"
    merged = {**defaults, **given}
    code, _, err = run_calc(capsys, *[f"{k}={v}" for k, v in merged.items()], *RANDOM_INCEPTION)
    assert code == 1 and flag in err and "Traceback" not in err, err


def test_result_line_lists_every_value_of_a_metric():
    results = {"swd1k_32": 12.5, "swd1k_16": 7.25, "swd1k": 9.875, "swd1k_time_s": 61, "fid50k": 3.0, "fid50k_time_s": 1}
    assert result_line("network-final.pkl", "swd1k", results) == (
        "network-final                  time 1m 01s       swd1k_32 12.5000    swd1k_16 7.2500     swd1k 9.8750"
    )
    assert metric_values("fid50k", results) == {"fid50k": 3.0}


def test_progress_line_counts_rate_and_eta():
    lines = []
    progress = ProgressBar("swd1k fakes", log=lines.append, interval=0.0, total=1000)
    progress.start -= 10.0  # 10 s ago
    progress.update(250)
    assert len(lines) == 1
    match = re.fullmatch(r"swd1k fakes 250/1000 (\d+\.\d)/s ETA (\d+)s", lines[0])
    assert match and 24.0 <= float(match.group(1)) <= 25.0 and 29 <= int(match.group(2)) <= 31, lines
    progress.update(10_000)  # done: capped, no line at the end
    assert progress.done == 1000 and len(lines) == 1


def test_cli_swd_and_ppl(tmp_path, capsys, data_dir, shapes32):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    shutil.copy(data_dir / "small" / "network.pkl", run_dir / "network-final.pkl")
    args = [f"--network={run_dir}", f"--data_dir={shapes32}", "--metrics=swd64,ppl_wend8", "--testonly_random_vgg16",
            "--minibatch=8"]
    code, out, err = run_calc(capsys, *args)
    assert code == 0, err
    assert "RANDOM weights" in err
    swd = re.search(r"^network-final\s+time (?:\d+[dhm] )*\d+s\s+swd64_32 (\S+)\s+swd64_16 (\S+)\s+swd64 (\S+)$", out, flags=re.M)
    ppl = re.search(r"^network-final\s+time (?:\d+[dhm] )*\d+s\s+ppl_wend8 (\S+)$", out, flags=re.M)
    assert swd and ppl, out
    level32, level16, average = (float(v) for v in swd.groups())
    assert average == pytest.approx((level32 + level16) / 2, abs=1e-4) and average > 0
    assert math.isfinite(float(ppl.group(1))) and float(ppl.group(1)) > 0
    assert (run_dir / "metric-swd64.txt").read_text() == swd.group(0) + "\n"
    # PPL without VGG16 weights: one clear line naming the flag and the file.
    code, _, err = run_calc(capsys, *args[:3], "--metrics=ppl_wend8")
    assert code == 1 and "Traceback" not in err
    assert "No VGG16 weights file was given" in err and "--vgg16_weights" in err and "vgg16_zhang_perceptual.pkl" in err
