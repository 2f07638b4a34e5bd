"""bench/gpu_report.py: the --tiny report runs the GPU report's code path, and no GPU stops it with one line."""

import re
import sys

import pytest
import tensorflow as tf

from tests import ROOT

sys.path.insert(0, str(ROOT / "bench"))

import gpu_report  # noqa: E402

ROW = re.compile(r"^(train largest|train|generate|fid features)\s+(\d+)\s+(\d+)\s+(.+?)\s+(yes|no)\s+([\d.]+)\s+([\d.]+)\s+(-|[\d.]+)\s+(-|[\d.]+x)$")


def test_tiny_report_prints_every_row(capsys):
    gpu_report.run(tiny=True, warmup=1, steps=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"tensorflow {tf.__version__}")
    rows = [ROW.match(line) for line in lines[2:-1]]
    assert all(rows), lines
    scale = gpu_report.TINY_SCALE
    got = [(m[1], int(m[2]), int(m[3]), m[4]) for m in rows]
    assert got == [
        ("train", 8, 2, "mixed_float16, top 1 res"),
        ("generate", 8, 2, "float32"),
        ("generate", 8, 2, "float16"),
        ("fid features", 75, 1, "float32"),
        ("train largest", 8, 4, "mixed_float16, top 1 res"),  # One doubling up to the tiny cap.
    ]
    assert scale.max_minibatch == 4
    for m in rows:
        img_s, ms = float(m[6]), float(m[7])
        assert img_s > 0 and ms > 0
        assert img_s == pytest.approx(int(m[3]) / (ms / 1000), rel=0.02)  # Both from the same timing.
    assert rows[1][9] == "1.00x"  # generate float32 is its own baseline.
    assert lines[-1].startswith("total ")


def test_no_gpu_stops_with_one_line(monkeypatch):
    monkeypatch.setattr(tf.config, "list_physical_devices", lambda kind=None: [])
    with pytest.raises(SystemExit) as e:
        gpu_report.run()
    message = str(e.value)
    assert "\n" not in message and message.startswith("gpu_report: TensorFlow") and "sees no GPU" in message
    assert 'pip install -e ".[gpu]"' in message
