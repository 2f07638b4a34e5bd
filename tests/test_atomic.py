"""No writer ever loses data: each one killed with SIGKILL at its critical point leaves the old output.

One process runs every writer of the package (tests/atomic_writers.py) until each waits at
the test hook right before the rename that puts its new output in place, and is killed
there. Every old output must then be intact (a SavedModel after the recovery rule), and
the next write of each must leave its new output and no temporary entries.
"""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.atomic_writers import OUTPUTS, SMALL_PKL, write
from tests.kills import killed_at
from tests.media import read_gif, read_mp4, read_png
from tfstylegan import atomic
from tfstylegan.cli import convert as convert_cli

WRITERS = os.path.join(os.path.dirname(__file__), "atomic_writers.py")


def _tree(path: str) -> dict:
    """``{relative path: sha256}`` of every file under ``path`` (a file or a directory)."""
    if os.path.isfile(path):
        return {"": hashlib.sha256(open(path, "rb").read()).hexdigest()}
    return {
        os.path.relpath(os.path.join(root, name), path): hashlib.sha256(open(os.path.join(root, name), "rb").read()).hexdigest()
        for root, _, files in os.walk(path)
        for name in files
    }


def _outputs(root: str) -> dict:
    """``{writer: {name: tree}}`` of what each writer's folder holds."""
    return {
        writer: {name: _tree(os.path.join(root, writer, name)) for name in sorted(os.listdir(os.path.join(root, writer)))}
        for writer in sorted(os.listdir(root))
    }


def _kill_when_paused(root: str, log) -> None:
    """Runs version 1 of every writer with the hook on; SIGKILLs the process once all of them wait."""
    env = {**os.environ, atomic.PAUSE_ENV: "600", "TF_CPP_MIN_LOG_LEVEL": "3"}
    with open(log, "w") as stderr:
        process = subprocess.Popen([sys.executable, WRITERS, root, "1"], stderr=stderr, env=env)
    try:
        deadline = time.monotonic() + 300  # Only against a hang: the writers pause long before.
        while "all paused" not in open(log).read():
            assert process.poll() is None and time.monotonic() < deadline, open(log).read()
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL


def _temps(names) -> list:
    return [n for n in names if atomic.TEMP_MARK in n]


def test_every_writer_killed_before_its_rename_leaves_the_old_output(tmp_path, capsys):
    import keras
    import tensorflow as tf

    import tfstylegan
    from tfstylegan.metrics.lpips_weights import load_lpips_weights, random_lpips_weights

    root = str(tmp_path / "out")
    write(root, 0)
    (cache,) = os.listdir(os.path.join(root, "fid"))
    os.remove(os.path.join(root, "fid", cache))  # A cache is written once: none before.
    old = _outputs(root)
    _kill_when_paused(root, tmp_path / "stderr.txt")
    killed = _outputs(root)

    # Killed before the rename: every old file is as it was, beside its complete new temporary file.
    for writer, names in killed.items():
        if writer in ("saved_model", "checkpoint"):
            continue
        final = [n for n in names if atomic.TEMP_MARK not in n]
        assert final == list(old[writer]) and len(_temps(names)) == 1, (writer, sorted(names))
        assert all(names[n] == tree for n, tree in old[writer].items()), writer
    # The SavedModel was killed between moving the old one aside and moving the new one in.
    names = sorted(killed["saved_model"])
    assert len(names) == 2 and names[0].startswith(".gs_saved_model.tmp-"), names
    assert names[1].startswith("gs_saved_model.old-") and killed["saved_model"][names[1]] == old["saved_model"]["gs_saved_model"]
    # The checkpoint is complete, but "latest" still names the old one.
    folder = os.path.join(root, "checkpoint")
    assert any(n.startswith("checkpoint.tmp") for n in os.listdir(folder)), os.listdir(folder)
    assert tf.train.latest_checkpoint(folder) == os.path.join(folder, "ckpt-1")
    value = tf.Variable(-1.0)
    tf.train.Checkpoint(value=value).restore(tf.train.latest_checkpoint(folder)).assert_consumed()
    assert value.numpy() == 0.0

    # tfstylegan-convert puts the old SavedModel back before it looks, so it is not overwritten unasked.
    saved_model = os.path.join(root, "saved_model", "gs_saved_model")
    code = convert_cli.main(["tfstylegan-convert", f"--network={SMALL_PKL}", f"--out={saved_model}"])
    assert code == 1 and f"{saved_model} exists; pass --overwrite" in capsys.readouterr().err
    assert _tree(saved_model) == old["saved_model"]["gs_saved_model"]

    # The next write of each, in a new process, leaves the new output and no temporary entries.
    subprocess.run([sys.executable, WRITERS, root, "2"], check=True, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    new = _outputs(root)
    for writer, names in new.items():
        expected = list(old[writer]) if OUTPUTS[writer] else [cache]
        if writer == "checkpoint":
            expected = ["checkpoint", "ckpt-1.data-00000-of-00001", "ckpt-1.index", "ckpt-2.data-00000-of-00001", "ckpt-2.index"]
        assert list(names) == expected, (writer, sorted(names))
    assert json.loads(open(os.path.join(root, "config", "config.json")).read()) == {"version": 2}
    assert (read_png(os.path.join(root, "png", "seed0000.png")) == 80).all()
    frames = np.stack([np.full([16, 16, 3], 80 + 10 * k, np.uint8) for k in range(3)])
    np.testing.assert_array_equal(read_gif(os.path.join(root, "gif", "loop.gif"))[0], frames)
    if "mp4" in new:
        assert np.abs(read_mp4(os.path.join(root, "mp4", "loop.mp4")).astype(float) - frames).max() <= 3
    np.testing.assert_allclose(np.load(os.path.join(root, "fid", cache))["mu"], np.full([48], 2 * 2 / 255 - 1), atol=1e-6)
    weights = load_lpips_weights(os.path.join(root, "lpips", "vgg16.npz"))
    np.testing.assert_array_equal(weights.kernels[0], random_lpips_weights(2).kernels[0])
    assert [float(net.lod.numpy()) for net in tfstylegan.load_network_pkl(os.path.join(root, "pkl", "network.pkl"))] == [2.0] * 3
    assert float(keras.saving.load_model(os.path.join(root, "keras", "networks.keras")).Gs.lod.numpy()) == 2.0
    assert float(tf.saved_model.load(saved_model).value.numpy()) == 2.0
    assert tf.train.latest_checkpoint(folder) == os.path.join(folder, "ckpt-2")
    tf.train.Checkpoint(value=value).restore(tf.train.latest_checkpoint(folder)).assert_consumed()
    assert value.numpy() == 2.0


def _directory(path, text: str) -> None:
    os.makedirs(path)
    with open(os.path.join(path, "a.txt"), "w") as f:
        f.write(text)


def _read(path) -> str | None:
    return open(os.path.join(path, "a.txt")).read() if os.path.isdir(path) else None


@pytest.mark.parametrize("step", range(3), ids=["moving-old-aside", "moving-new-in", "removing-old"])
def test_a_directory_swap_killed_at_any_step_recovers_and_the_next_write_cleans_up(tmp_path, step):
    out = tmp_path / "model"
    _directory(out, "old")

    def swap():
        with atomic.atomic_directory(out) as temp:
            _directory(temp, "new")

    assert killed_at(step, [(os, "rename"), (atomic, "_remove")], swap)
    contents = {name: _read(tmp_path / name) for name in os.listdir(tmp_path)}
    kinds = sorted("temp" if n.startswith(".model.tmp-") else "old" if n.startswith("model.old-") else n for n in contents)
    assert kinds == [["model", "temp"], ["old", "temp"], ["model", "old"]][step], contents
    assert sorted(contents.values()) == ["new", "old"]  # Nothing lost: both are whole.
    atomic.recover_directory(out)
    assert _read(out) == ("new" if step == 2 else "old")
    assert len(os.listdir(tmp_path)) == (1 if step == 2 else 2)  # A temporary directory waits for a later process.
    code = "import os, sys\nfrom tfstylegan import atomic\nwith atomic.atomic_directory(sys.argv[1]) as temp:\n    os.makedirs(temp)"
    subprocess.run([sys.executable, "-c", code, str(out)], check=True)
    assert os.listdir(tmp_path) == ["model"] and os.listdir(out) == []


def test_a_failed_directory_write_keeps_the_old_one_and_a_file_can_become_a_directory(tmp_path):
    out = tmp_path / "model"
    _directory(out, "old")
    with pytest.raises(RuntimeError, match="stop"), atomic.atomic_directory(out) as temp:
        _directory(temp, "new")
        raise RuntimeError("stop")
    assert os.listdir(tmp_path) == ["model"] and _read(out) == "old"
    (tmp_path / "file").write_text("x")
    with atomic.atomic_directory(tmp_path / "file") as temp:
        _directory(temp, "new")
    assert sorted(os.listdir(tmp_path)) == ["file", "model"] and _read(tmp_path / "file") == "new"


def test_convert_never_replaces_a_directory_by_a_file(tmp_path, capsys):
    out = tmp_path / "nets.keras"
    _directory(out, "old")
    code = convert_cli.main(["tfstylegan-convert", f"--network={SMALL_PKL}", f"--out={out}", "--overwrite"])
    assert code == 1 and f"--out: {out} is a directory; a keras file cannot replace it" in capsys.readouterr().err
    assert os.listdir(tmp_path) == ["nets.keras"] and _read(out) == "old"


def _age(path, seconds=3600):
    os.utime(path, (time.time() - seconds,) * 2)


def test_only_leftovers_older_than_the_process_are_removed(tmp_path):
    from tfstylegan.images import write_png
    from tfstylegan.training.checkpoint import remove_leftovers

    stale, fresh, busy = ".a.png.tmp-0123456789ab.png", ".b.png.tmp-0123456789ab.png", ".c.tmp-0123456789ab"
    for name in (stale, fresh, "x.png.tmp-0123456789ab", ".d.png.tmp-xyz"):
        (tmp_path / name).write_bytes(b"left over")
    (tmp_path / busy).mkdir()
    (tmp_path / busy / "saved_model.pb").write_bytes(b"being written")
    for name in (stale, busy, "x.png.tmp-0123456789ab"):  # Older than this process; busy's file is not.
        _age(tmp_path / name)
    write_png(tmp_path / "new.png", np.zeros([4, 4], np.uint8))
    kept = [fresh, busy, ".d.png.tmp-xyz", "new.png", "x.png.tmp-0123456789ab"]
    assert sorted(os.listdir(tmp_path)) == sorted(kept)
    checkpoints = tmp_path / "checkpoints"
    for name in ("ckpt-3_temp", "ckpt-4_temp"):
        (checkpoints / name).mkdir(parents=True)
        (checkpoints / name / "part-00000-of-00001.data-00000-of-00001.tempstate1").write_bytes(b"x")
    for name in ("checkpoint.tmp0123abcd", "ckpt-3.index"):
        (checkpoints / name).write_text("x")
    for path in (checkpoints / "ckpt-3_temp", *(checkpoints / "ckpt-3_temp").iterdir()):
        _age(path)
    for name in ("checkpoint.tmp0123abcd", "ckpt-3.index"):
        _age(checkpoints / name)
    remove_leftovers(str(checkpoints))
    assert sorted(os.listdir(checkpoints)) == ["ckpt-3.index", "ckpt-4_temp"]
