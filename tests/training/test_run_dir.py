"""The run directory: its number, the names of what a run writes, config.json, the latest snapshot."""

import os

from tfstylegan.training.run_dir import create_run_dir


def test_run_dirs_take_the_next_free_number(tmp_path):
    (tmp_path / "00007-old").mkdir()
    (tmp_path / "_synthetic-shapes32-1000").mkdir()
    assert create_run_dir(str(tmp_path), "sgan-tiny-1gpu").endswith("00008-sgan-tiny-1gpu")
    assert create_run_dir(str(tmp_path), "x").endswith("00009-x")


def test_run_dir_names_and_config_json(tmp_path):
    from tfstylegan.training import run_dir

    assert run_dir.snapshot_pkl(12_345) == "network-snapshot-000012.pkl" and run_dir.fakes_png(999) == "fakes000000.png"
    assert run_dir.run_number(str(tmp_path / "00012-sgan-tiny-1gpu")) == 12 and run_dir.run_number("_metrics-cache") is None
    assert run_dir.checkpoint_dir("r") == "r/checkpoints" and run_dir.checkpoint_dir("r", 2) == "r/checkpoints/worker-2"
    assert run_dir.worker_of_checkpoint("r/checkpoints/worker-2/ckpt-7") == 2
    assert run_dir.worker_of_checkpoint("r/checkpoints/ckpt-7") == 0
    # The latest snapshot: network-final.pkl, else the highest kimg (by number, not by name).
    assert run_dir.latest_snapshot(str(tmp_path)) is None
    for name in ("network-snapshot-000100.pkl", "network-snapshot-99.pkl", "network-snapshot-x.pkl", "a.pkl"):
        (tmp_path / name).write_bytes(b"")
    assert run_dir.latest_snapshot(str(tmp_path)) == str(tmp_path / "network-snapshot-000100.pkl")
    (tmp_path / "network-final.pkl").write_bytes(b"")
    assert run_dir.latest_snapshot(str(tmp_path)) == str(tmp_path / "network-final.pkl")
    # The kimg a snapshot's name states (the one run_dir.snapshot_pkl wrote it under).
    assert run_dir.snapshot_kimg(str(tmp_path / run_dir.snapshot_pkl(120_999))) == 120
    assert [run_dir.snapshot_kimg(n) for n in ("network-final.pkl", "network-snapshot-x.pkl", "a.pkl")] == [None] * 3
    # config.json is replaced whole, through a temporary file that does not stay behind.
    run_dir.write_config(str(tmp_path), '{"seed": 1}')
    run_dir.write_config(str(tmp_path), '{"seed": 2}')
    assert (tmp_path / "config.json").read_text() == '{"seed": 2}\n'
    assert not [p for p in os.listdir(tmp_path) if ".tmp" in p]
    assert run_dir.read_config(str(tmp_path / "config.json")).seed == 2
    assert run_dir.find_config(str(tmp_path / "checkpoints" / "ckpt-3")) == str(tmp_path / "config.json")
