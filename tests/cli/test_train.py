"""train.py: --help, --dry_run, presets and flags, and clear errors for bad input."""

import json
import os
import subprocess
import sys

import pytest

from tests import ROOT
from tfstylegan.cli import train as train_cli

RGB32 = str(ROOT / "tests" / "data" / "small" / "dataset" / "rgb32")
COND16 = str(ROOT / "tests" / "data" / "cond" / "dataset" / "cond16")
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def _run(*args):
    # No timeout: --help and --dry_run wait for nothing, and a loaded machine only makes them slower.
    return subprocess.run([sys.executable, "train.py", *args], cwd=ROOT, env=ENV, capture_output=True, text=True)


def test_help_is_clean():
    out = _run("--help")
    assert out.returncode == 0, out.stderr
    for flag in ("--data_dir", "--config", "--total_kimg", "--resume", "--D_loss_args", "--strategy", "--dry_run"):
        assert flag in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_flags_come_from_the_configuration_and_the_schedule():
    """One flag per TrainConfig field and training_schedule argument; vocabularies named in their help."""
    import dataclasses

    from tfstylegan.schedule import SCHEDULE_ARGS
    from tfstylegan.training.config import TrainConfig, vocabulary

    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    expected = {name for name, f in fields.items() if f.metadata["flag"]} | set(SCHEDULE_ARGS)
    assert expected <= set(train_cli.FLAGS) and {"G_opt_args", "sched_args", "config"}.isdisjoint(expected)
    assert set(SCHEDULE_ARGS) >= {"lod_initial_resolution", "minibatch_dict", "tick_kimg_dict"}
    for name in ("strategy", "precision", "optimizer", "grid_layout"):
        for value in vocabulary(name):
            assert value in fields[name].metadata["help"], (name, value)


def test_the_tool_imports_tensorflow_only_when_it_runs():
    code = "import sys, tfstylegan.cli.train; print('tensorflow' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=ENV, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_dry_run_prints_the_resolved_config(tmp_path):
    out = _run("--dry_run", f"--result_dir={tmp_path}")
    assert out.returncode == 0, out.stderr
    cfg = json.loads(out.stdout)
    assert cfg["config"] == "tiny" and cfg["dataset"]["resolution"] == 32 and cfg["replicas"] == 1
    assert cfg["D_loss"] == "D_logistic_simplegp" and cfg["resolved_loss_args"]["D"] == {"r1_gamma": 1.0, "r2_gamma": 0.0}
    assert not os.listdir(tmp_path)  # A dry run creates nothing.
    assert "Traceback" not in out.stderr


def _dry(capsys, *args):
    code = train_cli.main(["train.py", "--dry_run", *args], prog="train.py")
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else None), captured.err


def test_presets_recipes_and_flags(capsys, tmp_path):
    code, cfg, _ = _dry(capsys, f"--data_dir={RGB32}", "--config=ffhq", "--total_kimg=10", "--G_args=mapping_layers=4")
    assert code == 0
    assert cfg["sched_args"]["minibatch_base"] == 4 and cfg["sched_args"]["minibatch_dict"]["32"] == 64  # 1-GPU table
    assert cfg["sched_args"]["G_lrate_dict"]["1024"] == 0.003 and cfg["sched_args"]["lod_initial_resolution"] == 8
    assert cfg["mirror_augment"] is True and cfg["total_kimg"] == 10 and cfg["G_args"] == {"mapping_layers": 4}
    assert cfg["desc"] == "sgan-ffhq-1gpu" and cfg["grid_size"] == "4k"

    code, cfg, _ = _dry(capsys, "--recipe=wgan_clip", "--minibatch_dict=8:16,16:8")
    assert code == 0
    assert (cfg["G_loss"], cfg["D_loss"], cfg["optimizer"], cfg["D_weight_clip"], cfg["D_repeats"]) == (
        "G_wgan", "D_wgan", "rmsprop", 0.01, 5)
    assert cfg["resolved_loss_args"]["D"] == {"wgan_epsilon": 0.0}
    assert cfg["sched_args"]["D_lrate_base"] == 5e-5 and cfg["sched_args"]["minibatch_dict"] == {"8": 16, "16": 8}

    # Another D loss starts from its own defaults; its arguments come from the flag.
    code, cfg, _ = _dry(capsys, "--D_loss=D_wgan_gp", "--D_loss_args=wgan_lambda=5")
    assert code == 0 and cfg["D_loss_args"] == {"wgan_lambda": 5}
    assert cfg["resolved_loss_args"]["D"] == {"wgan_lambda": 5.0, "wgan_epsilon": 0.001, "wgan_target": 1.0}

    code, cfg, _ = _dry(capsys, f"--data_dir={COND16}", "--cond")
    assert code == 0 and cfg["dataset"]["label_size"] == 5 and cfg["max_label_size"] == "full"

    flagfile = tmp_path / "flags.txt"
    flagfile.write_text("--total_kimg=7\n--seed=3\n")
    code, cfg, _ = _dry(capsys, f"--flagfile={flagfile}")
    assert code == 0 and cfg["total_kimg"] == 7 and cfg["seed"] == 3


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--data_dir=/no/such/dir"], "--data_dir=/no/such/dir: dataset directory /no/such/dir does not exist"),
        ([f"--data_dir={RGB32}", "--config=ffhq512"], "--resolution=512: the dataset at"),
        ([f"--data_dir={RGB32}", "--cond"], "--max_label_size=full: labels were requested"),
        (["--minibatch_base=6"], "not divisible by the minibatch-stddev group size 4"),
        (["--strategy=default", "--num_gpus=2"], "--num_gpus=2: the default strategy has 1 replica"),
        (["--config=ffhq", "--num_gpus=3"], "minibatch tables for 1, 2, 4, 8 GPU(s)"),
        (["--D_loss=D_nope"], "--D_loss=D_nope: unknown loss 'D_nope'"),
        (["--G_loss=D_logistic"], "D_logistic is a D loss; expected a G loss"),
        (["--D_loss_args=gamma=3"], "D_logistic_simplegp has no parameter 'gamma'"),
        (["--D_loss_args=r1_gamma"], "--D_loss_args: expected key=value"),
        (["--G_args=resolution=64"], "resolution comes from the dataset"),
        (["--G_args=fmap_bse=64"], "unknown argument 'fmap_bse'"),
        (["--minibatch_dict=four:8"], "--minibatch_dict: expected resolution:value"),
        (["--grid_size=big"], "--grid_size=big: expected '1080p', '4k' or WxH"),
        (["--resume=/no/such/run"], "--resume=/no/such/run: no such file or directory"),
        (["--lod_initial_resolution=6"], "--lod_initial_resolution=6: expected a power of two"),
        (["--total_kimg=0"], "--total_kimg=0.0: expected a positive number"),
        (["--resolution=64"], "--resolution=64: the built-in dataset is 32x32"),
        (["--metrics=fid50k"], "--inception_weights=None: the FID metrics need the Inception-v3 weights file"),
        (["--metrics=fid50k", "--inception_weights=/no/such.h5"], "--inception_weights=/no/such.h5: no such file"),
        (["--metrics=kid", "--inception_weights=/no/such.h5"], "--metrics=kid: unknown metric 'kid'"),
        (["leftover"], "unexpected arguments ['leftover']"),
    ],
)
def test_bad_input_is_a_usage_error(capsys, args, expected):
    code, _, err = _dry(capsys, *args)
    assert code == 1
    assert expected in err, err
    assert "Traceback" not in err and err.startswith("train.py: error: ")


def test_resume_locations(tmp_path):
    from tfstylegan.training.checkpoint import locate_resume
    from tfstylegan.training.config import ConfigError

    run = tmp_path / "00001-run"
    run.mkdir()
    with pytest.raises(ConfigError, match="holds no checkpoint and no network pickle"):
        locate_resume(str(run))
    (run / "network-snapshot-000004.pkl").write_bytes(b"")
    (run / "network-snapshot-000012.pkl").write_bytes(b"")
    assert locate_resume(str(run)) == ("pickle", str(run / "network-snapshot-000012.pkl"))
    (run / "network-final.pkl").write_bytes(b"")
    assert locate_resume(str(run)) == ("pickle", str(run / "network-final.pkl"))
    with pytest.raises(ConfigError, match="not a checkpoint or pickle"):
        locate_resume(str(run / "config.json") if (run / "config.json").write_text("{}") else "")


def test_resuming_a_run_directory_takes_its_saved_configuration(capsys, tmp_path):
    """--resume=<run dir> without --config: the run's config.json, then the flags given now."""
    code, saved, _ = _dry(
        capsys, f"--data_dir={RGB32}", "--config=ffhq", "--G_args=mapping_layers=4", "--mirror_augment=false",
        "--seed=7", "--strategy=one_device", f"--result_dir={tmp_path / 'runs'}",
    )
    assert code == 0
    run = tmp_path / "00003-sgan-ffhq-1gpu"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(saved))  # As the trainer writes it: config plus what it resolved.
    # A whole pickle: the dry run pre-scans it (its networks need not match this configuration).
    (run / "network-final.pkl").write_bytes((ROOT / "tests" / "data" / "small" / "network.pkl").read_bytes())
    for resume in (run, run / "network-final.pkl"):
        code, cfg, err = _dry(capsys, f"--resume={resume}", "--total_kimg=12")
        assert code == 0, err
        assert cfg["config"] == "ffhq" and cfg["data_dir"] == RGB32 and cfg["desc"] == "sgan-ffhq-1gpu"
        assert cfg["G_args"] == {"mapping_layers": 4} and cfg["mirror_augment"] is False
        assert cfg["total_kimg"] == 12 and cfg["resume"] == str(resume)
        # Flags with defaults keep the run's values unless given.
        assert (cfg["seed"], cfg["strategy"], cfg["result_dir"]) == (7, "one_device", str(tmp_path / "runs"))
        # The per-resolution tables keep integer resolutions (JSON writes their keys as strings).
        assert cfg["sched_args"]["minibatch_dict"] == saved["sched_args"]["minibatch_dict"]
        assert cfg["sched_args"]["lod_initial_resolution"] == 8
    code, cfg, _ = _dry(capsys, f"--resume={run}", "--seed=9", "--strategy=default")
    assert code == 0 and (cfg["seed"], cfg["strategy"]) == (9, "default")
    loaded = train_cli._resumed_run_config(str(run / "checkpoints" / "ckpt-7"))
    assert loaded.sched_args["minibatch_dict"][32] == 64 and loaded.config == "ffhq"
    # An explicit --config starts from that preset instead.
    code, cfg, _ = _dry(capsys, f"--resume={run}", "--config=tiny", f"--data_dir={RGB32}")
    assert code == 0 and cfg["config"] == "tiny" and cfg["G_args"] != {"mapping_layers": 4}
    # A config.json that is not a configuration is a usage error naming the flag.
    (run / "config.json").write_text('{"no_such_field": 1, "sched_args": 3}')
    code, _, err = _dry(capsys, f"--resume={run}")
    assert code != 0 and "--resume=" in err and "cannot read the run's configuration" in err
