"""Every tool refuses a wrong flag before any work, with one line naming it: counts, batch sizes, non-finite numbers, outputs."""

import re

import pytest

from tfstylegan import generation
from tfstylegan.cli import _runner, calc_metrics, convert, dataset_tool, generate, project


def _run(capsys, main, *argv):
    code = main(list(argv))
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


def _error_line(err):
    lines = [line for line in err.splitlines() if "error:" in line.lower()]
    assert len(lines) == 1, err
    return lines[0]


def test_seed_lists_are_counted_before_any_list_is_made():
    assert len(generation.parse_seeds(f"0-{generation.MAX_SEEDS - 1}")) == generation.MAX_SEEDS
    for spec in ("0-4000000000", f"0-{generation.MAX_SEEDS - 1},{generation.MAX_SEEDS}"):
        with pytest.raises(ValueError, match=re.escape(f"holds more than {generation.MAX_SEEDS:,} seeds")):
            generation.parse_seeds(spec)
    helps = [generate.FLAGS["seeds"].help, generate.generate_edit.FLAGS["seeds"].help]
    assert all(f"{generation.MAX_SEEDS:,}" in text for text in helps), helps


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--seeds=0-4000000000"], "--seeds: '0-4000000000' holds more than 1,000,000 seeds"),
        (["--rank_by_d=2", "--rank_pool=1000000000"], "--rank_pool=1000000000"),
        (["--rank_by_d=1000000"], "--rank_by_d=1000000"),
        (["--seeds=0", f"--batch_size={_runner.MAX_BATCH + 1}"], f"--batch_size={_runner.MAX_BATCH + 1}"),
        (["--seeds=0", "--truncation_psi=nan"], "--truncation_psi: nan is not a finite number"),
        (["--seeds=0", "--truncation_psi=-inf"], "--truncation_psi: -inf is not a finite number"),
        (["--figure=truncation", "--psis=1,nan"], "--psis: expected comma-separated finite numbers, got '1,nan'"),
        (["--seeds=0", "--outdir=s3://bucket/out"], "--outdir: s3://bucket/out: TensorFlow has no file system for s3://"),
    ],
)
def test_generate_refuses_before_loading_the_network(capsys, tmp_path, args, expected):
    # A network that does not exist: each flag is refused before it would be read.
    code, err = _run(capsys, generate.main, "tfstylegan-generate", f"--network={tmp_path / 'none.pkl'}", *args)
    assert code == 1 and expected in _error_line(err), err


def test_outputs_in_the_way_are_refused_before_the_network_loads(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    missing = f"--network={tmp_path / 'none.pkl'}"
    for main, args, expected in [
        (generate.main, ["--seeds=0", f"--outdir={blocker}"], f"--outdir: cannot write to {blocker}: {blocker} is a regular file"),
        (project.main, [f"--target={blocker}", f"--outdir={blocker / 'x'}"], f"--outdir: cannot write to {blocker / 'x'}"),
        (convert.main, [f"--out={tmp_path}", "--format=pkl", "--overwrite"], f"--out: {tmp_path} is a directory; a pkl file cannot replace it"),
        (convert.main, [f"--out={tmp_path}/x.pkl/", "--format=pkl"], "the path names a folder, not a file"),
        (convert.main, [f"--out={blocker}/x.pkl"], f"--out: cannot write to {blocker}/x.pkl: {blocker} is a regular file"),
        (convert.main, ["--out=s3://bucket/x.pkl"], "--out: s3://bucket/x.pkl: TensorFlow has no file system for s3://"),
    ]:
        code, err = _run(capsys, main, "tool", missing, *args)
        line = _error_line(err)
        assert code == 1 and expected in line and ".tmp" not in line, err


def test_convert_makes_the_missing_folders_of_its_output(capsys, tmp_path, data_dir):
    out = tmp_path / "a" / "b" / "network.pkl"
    code, err = _run(capsys, convert.main, "tfstylegan-convert", f"--network={data_dir / 'small' / 'network.pkl'}", f"--out={out}")
    assert code == 0, err
    assert out.read_bytes()[:2] == b"\x80\x04"  # A protocol-4 pickle, as the original writes.


def test_calc_metrics_output_folders_are_checked_first(capsys, tmp_path, data_dir):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    base = [f"--network={tmp_path / 'none.pkl'}", f"--data_dir={data_dir / 'small' / 'dataset' / 'rgb32'}", "--metrics=swd1k"]
    for flag in ("run_dir", "cache_dir"):
        code, err = _run(capsys, calc_metrics.main, "m", *base, f"--{flag}={blocker}")
        assert code == 1 and f"--{flag}: cannot write to {blocker}: {blocker} is a regular file" in _error_line(err)
    code, err = _run(capsys, calc_metrics.main, "m", *base, "--run_dir=gs://bucket/run")  # Never reached.
    assert code == 1 and "--run_dir: gs://bucket/run: the result lines are appended to local files" in _error_line(err)
    code, err = _run(capsys, calc_metrics.main, "m", *base, "--minibatch=0")
    assert code == 1 and "--minibatch" in _error_line(err)


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["create_synthetic", "{tmp}/ds", "--num_images", "-5"], "argument --num_images: expected an integer in [1, "),
        (["create_synthetic", "{tmp}/ds", "--resolution", "0"], "argument --resolution: expected an integer in [4, 8192], got '0'"),
        (["create_synthetic", "{tmp}/ds", "--labels", "2"], "argument --labels: expected an integer in [0, 1], got '2'"),
        (["display", "{tmp}", "--num_images", "100000"], "argument --num_images: expected an integer in [1, 1024]"),
        (["create_from_images", "{tmp}/ds", "{tmp}", "--resize", "-3"], "argument --resize: expected an integer in [4, 8192]"),
    ],
)
def test_dataset_tool_sizes_are_bounded_at_parse_time(capsys, tmp_path, argv, expected):
    with pytest.raises(SystemExit) as e:
        dataset_tool.main([arg.replace("{tmp}", str(tmp_path)) for arg in argv])
    err = capsys.readouterr().err
    assert e.value.code == 2 and expected in _error_line(err), err


def test_dataset_tool_refuses_what_it_could_not_draw_or_write(capsys, tmp_path):
    code, err = _run(capsys, dataset_tool.main, "create_synthetic", str(tmp_path / "ds"), "--num_images", "1000000", "--resolution", "1024")
    assert code == 1 and "--num_images=1000000 images of 1024x1024 take more than 1 GiB" in _error_line(err)
    code, err = _run(capsys, dataset_tool.main, "create_synthetic", "s3://bucket/ds")
    assert code == 1 and "s3://bucket/ds: TensorFlow has no file system for s3://" in _error_line(err)
    assert list(tmp_path.iterdir()) == []


def test_a_video_has_a_bounded_number_of_frames(capsys, tmp_path, data_dir):
    network = f"--network={data_dir / 'small' / 'network.pkl'}"
    for args, expected in [
        (["--seeds=0-999", "--seconds_per_seed=3600"], "--seconds_per_seed: --fps=30.0 and --seconds_per_seed=3600.0 give more than 1,000,000 frames"),
        (["--mode=noise", "--seeds=5", "--fps=1e300", "--seconds=1e300"], "--seconds: --fps=1e+300 and --seconds=1e+300 give more than 1,000,000 frames"),
        (["--seeds=1-2", "--seconds_per_seed=0.01"], "--fps=30.0 and --seconds_per_seed=0.01 give no frame"),
    ]:
        code, err = _run(capsys, generate.main, "tfstylegan-generate", "video", network, f"--out={tmp_path / 'v.gif'}", *args)
        assert code == 1 and expected in _error_line(err), err
    assert list(tmp_path.iterdir()) == []
