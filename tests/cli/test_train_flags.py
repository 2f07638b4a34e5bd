"""train.py refuses every wrong value at parse time (--dry_run too), with one line naming the flag and the key."""

import json

import pytest

from tfstylegan.cli import train as train_cli
from tfstylegan.training.checks import check_config
from tfstylegan.training.config import ConfigError, DatasetInfo, TrainConfig, parse_grid_size


def _dry(capsys, *args):
    code = train_cli.main(["train.py", "--dry_run", *args], prog="train.py")
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else None), captured.err


@pytest.mark.parametrize(
    "args, expected",
    [
        # Values that used to end in a traceback.
        (["--lod_training_kimg=inf"], "--lod_training_kimg=inf: expected a finite number of kimg in [0, 1,000,000,000]"),
        (["--lod_training_kimg=1e308"], "--lod_training_kimg=1e+308: expected a finite number of kimg in [0, 1,000,000,000]"),
        (["--D_args=mbstd_group_size=abc"], "--D_args=mbstd_group_size=abc: mbstd_group_size is 'abc'; expected an integer"),
        # Values that --dry_run used to accept.
        (["--G_args=fmap_base=abc"], "--G_args=fmap_base=abc: fmap_base is 'abc'; expected an integer in [1, 65536]"),
        (["--G_args=structure=evil"], "--G_args=structure=evil: structure is 'evil'; expected one of 'auto', 'fixed'"),
        (["--G_args=truncation_psi=nan"], "--G_args=truncation_psi=nan: truncation_psi is 'nan'; expected None or a finite"),
        (["--D_loss_args=r1_gamma=nan"], "--D_loss_args=r1_gamma=nan: r1_gamma is nan; expected a finite number >= 0"),
        (["--G_lrate_base=inf"], "--G_lrate_base=inf: expected a finite learning rate >= 0"),
        (["--desc=../../escape"], "--desc=../../escape: expected a plain name"),
        (["--seed=-1"], "--seed=-1: expected an integer in [0, 4294967295]"),
        (["--seed=1" + "0" * 400], "--seed=1000000000000"),
        (["--grid_size=100000x100000"], "--grid_size=100000x100000: at most 64 images a side and 33,554,432 pixels"),
        # A misleading message: the table entry is named, not another flag.
        (["--D_lrate_dict=8:-0.1"], "--D_lrate_dict=8:-0.1: resolution 8: -0.1 is not a finite learning rate >= 0"),
        (["--flagfile=/nonexistent.cfg"], "--flagfile: cannot open the flag file: [Errno 2] No such file or directory"),
        # More of the same kinds.
        (["--total_kimg=inf"], "--total_kimg=inf: expected a positive number"),
        (["--G_smoothing_kimg=nan"], "--G_smoothing_kimg=nan: expected a number of kimg in [0, 1,000,000,000]"),
        (["--total_kimg=1e300"], "--total_kimg=1e+300: expected a positive number of kimg, at most 1,000,000,000"),
        (["--resume_kimg=-1"], "--resume_kimg=-1.0: expected a number of kimg in [0, 1,000,000,000]"),
        # Huge progress would overflow the run's image counter (int64) and its time sums.
        (["--resume_kimg=1e300"], "--resume_kimg=1e+300: expected a number of kimg in [0, 1,000,000,000]"),
        (["--resume_kimg=1000000001"], "--resume_kimg=1000000001.0: expected a number of kimg in [0, 1,000,000,000]"),
        (["--resume_time=1e11"], "--resume_time=100000000000.0: expected a number of seconds in [0, 10,000,000,000]"),
        (["--resume_time=-1"], "--resume_time=-1.0: expected a number of seconds in [0, 10,000,000,000]"),
        (["--synthetic_images=10000000"], "--synthetic_images=10000000: expected a number of images in [1, 100000]"),
        (["--desc=a/b"], "--desc=a/b: expected a plain name"),
        (["--G_args=mapping_layers=0"], "--G_args=mapping_layers=0: mapping_layers is 0; expected an integer in [1, 64]"),
        (["--G_args=use_noise=2"], "--G_args=use_noise=2: use_noise is 2; expected one of True, False"),
        (["--D_args=fmap_max=1e9"], "--D_args=fmap_max=1000000000.0: fmap_max is 1000000000.0; expected an integer"),
        (["--D_loss=D_wgan_gp", "--D_loss_args=wgan_target=0"], "--D_loss_args=wgan_target=0: wgan_target is 0.0; expected a positive"),
        (["--D_loss_args=r2_gamma=-1"], "--D_loss_args=r2_gamma=-1: r2_gamma is -1.0; expected a finite number >= 0"),
        (["--minibatch_dict=8:0"], "--minibatch_dict=8:0: resolution 8: 0 is not a minibatch size in [1, 65536]"),
        (["--max_minibatch_per_gpu=8:-2"], "--max_minibatch_per_gpu=8:-2: resolution 8: -2 is not a minibatch size"),
        (["--minibatch_base=100000"], "--minibatch_base=100000: expected a minibatch size in [1, 65536]"),
        (["--tick_kimg_base=nan"], "--tick_kimg_base=nan: expected a finite number of kimg in (0, 1,000,000,000]"),
        (["--tick_kimg_dict=16:inf"], "--tick_kimg_dict=16:inf: resolution 16: inf is not a finite number of kimg in (0, 1,000,000,000]"),
        (["--G_lrate_dict=3:0.1"], "--G_lrate_dict=3:0.1: keys must be resolutions (powers of two in [4, 8192]), got [3]"),
        (["--lod_initial_resolution=16384"], "--lod_initial_resolution=16384: expected a power of two in [4, 8192]"),
        (["--grid_size=65x1"], "--grid_size=65x1: at most 64 images a side"),
        (["--result_dir=s3://bucket/runs"], "--result_dir=s3://bucket/runs: TensorFlow has no file system for s3:// paths"),
        (["--data_dir=s3://bucket/faces"], "--data_dir=s3://bucket/faces: TensorFlow has no file system for s3:// paths"),
        (["--data_dir=nosuch://x"], "--data_dir=nosuch://x: TensorFlow has no file system for nosuch:// paths"),
    ],
)
def test_dry_run_refuses_what_the_run_would_refuse(capsys, tmp_path, args, expected):
    code, _, err = _dry(capsys, f"--result_dir={tmp_path}", *args)
    assert code == 1, err
    assert expected in err, err
    assert err.startswith("train.py: error: ") and err.count("error:") == 1 and "Traceback" not in err


def test_output_paths_of_a_run_are_checked_first(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for result_dir in (blocker, blocker / "runs"):
        code, _, err = _dry(capsys, f"--result_dir={result_dir}")
        assert code == 1 and f"--result_dir={result_dir}: cannot write to {result_dir}: {blocker} is a regular file" in err
    code, cfg, err = _dry(capsys, f"--result_dir={tmp_path / 'a' / 'b'}")  # Missing folders are made by the run.
    assert code == 0, err
    assert not (tmp_path / "a").exists()


def test_values_within_bounds_are_taken_as_given(capsys, tmp_path):
    code, cfg, err = _dry(
        capsys, f"--result_dir={tmp_path}", "--G_args=use_noise=false,truncation_psi=None,fused_scale=auto",
        "--seed=4294967295", "--grid_size=64x1", "--desc=my-run_2", "--D_lrate_dict=8:0", "--lod_training_kimg=0",
        "--resume_kimg=1e9", "--resume_time=1e10",
    )
    assert code == 0, err
    assert (cfg["resume_kimg"], cfg["resume_time"]) == (1e9, 1e10)  # The largest allowed.
    assert cfg["G_args"]["use_noise"] is False and cfg["G_args"]["truncation_psi"] is None
    assert cfg["G_args"]["fused_scale"] == "auto" and cfg["seed"] == 4294967295 and cfg["desc"] == "my-run_2"
    assert cfg["sched_args"]["D_lrate_dict"] == {"8": 0.0} and cfg["sched_args"]["lod_training_kimg"] == 0.0


def test_a_saved_configuration_is_held_to_the_same_rules():
    """config.json of a resumed run, or a TrainConfig built in Python: types and bounds of every value."""
    info = DatasetInfo("x", 32, 3, 0, 100)
    base = TrainConfig(sched_args=dict(minibatch_base=8, lod_initial_resolution=4))
    for changes, message in [
        (dict(total_kimg="10"), "--total_kimg=10: expected a float or int value, got a str"),
        (dict(data_dir=3), "--data_dir=3: expected a str or null value, got a int"),
        (dict(D_repeats=True), "--D_repeats=True: expected a int value, got a bool"),
        (dict(D_repeats=2.0), "--D_repeats=2.0: expected a int value, got a float"),
        (dict(G_args={"latent_size": 512.0}), "latent_size is 512.0; expected an integer in [1, 4096]"),
        (dict(G_opt_args={"beta_1": 1.0}), "--G_opt_args=beta_1=1.0: beta_1 is 1.0; expected a number in [0, 1)"),
        (dict(D_opt_args={"epsilon": 0.0}), "--D_opt_args=epsilon=0.0: epsilon is 0.0; expected a finite number > 0"),
        (dict(sched_args=dict(minibatch_base=8.5)), "--minibatch_base=8.5: expected a minibatch size"),
        (dict(sched_args=dict(G_lrate_dict=[1, 2])), "--G_lrate_dict=[1, 2]: expected resolution:value items"),
        (dict(sched_args=dict(lod_initial_resolution=8.0)), "--lod_initial_resolution=8.0: expected a power of two"),
    ]:
        with pytest.raises(ConfigError) as e:
            check_config(base.replace(**changes), info, 1)
        assert message in str(e.value)
    assert parse_grid_size("8x4", 1024) == (8, 4)  # 2^25 pixels, the most a grid may have.
    with pytest.raises(ConfigError, match="at 1024x1024 that is 9x4 = 37,748,736 pixels"):
        parse_grid_size("9x4", 1024)


def test_a_damaged_pickle_to_resume_from_is_refused_by_the_dry_run(capsys, tmp_path, data_dir):
    data = (data_dir / "small" / "network.pkl").read_bytes()
    for name, content, expected in [
        ("cut.pkl", data[: len(data) // 2], "the network pickle is truncated (BINBYTES declares"),
        ("empty.pkl", b"", "the network pickle is truncated (the data ends before the pickle's STOP opcode"),
        ("png.pkl", b"\x89PNG\r\n\x1a\n" + bytes(64), "the network pickle is not a pickle (unknown opcode"),
    ]:
        (tmp_path / name).write_bytes(content)
        code, _, err = _dry(capsys, f"--result_dir={tmp_path / 'runs'}", f"--resume={tmp_path / name}")
        assert code == 1 and f"--resume={tmp_path / name}: {expected}" in err, err
    (tmp_path / "whole.pkl").write_bytes(data)
    code, cfg, err = _dry(capsys, f"--result_dir={tmp_path / 'runs'}", f"--resume={tmp_path / 'whole.pkl'}")
    assert code == 0 and cfg["resume"] == str(tmp_path / "whole.pkl"), err
