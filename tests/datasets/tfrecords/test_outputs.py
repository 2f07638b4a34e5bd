"""Writers never lose data: a SIGKILL at each step of an overwrite, of a pickle save; outputs checked first."""

import dataclasses
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.dataset_tool_runs import run_tool, tool_error
from tests.kills import killed_at
from tests.legacy_pickles import fixture_files
from tfstylegan.cli import dataset_tool
from tfstylegan.data.tfrecords import DatasetError, TFRecordDataset, TFRecordExporter, outputs
from tfstylegan.legacy import load_pickle_states, save_pickle_states, writer


def _images(seed, n, res):
    return np.random.RandomState(seed).randint(0, 256, [n, res, res, 3]).astype(np.uint8)


def _contents(path):
    """(images, labels) of the dataset at ``path``, or the DatasetError it gives."""
    try:
        dset = TFRecordDataset(str(path), max_label_size="full", repeat=False, shuffle_mb=0)
        return dset.read_all_np(0)
    except DatasetError as e:
        return e


def _same(got, want):
    return not isinstance(got, Exception) and all(
        a.shape == b.shape and np.array_equal(a, b) for a, b in zip(got, want)
    )


@pytest.mark.parametrize(
    ("res", "labels"), [(16, True), (16, False), (64, True)], ids=["smaller", "smaller-no-labels", "larger"]
)
def test_an_overwrite_killed_at_any_step_reads_as_old_new_or_an_error(tmp_path, res, labels):
    old_images, old_labels = _images(0, 8, 32), np.eye(8, 3, dtype=np.float32)
    new_images = _images(1, 8, res)
    new_labels = np.eye(8, 3, k=1, dtype=np.float32) if labels else None  # Same shape, other values.
    master = tmp_path / "master"
    with TFRecordExporter(str(master), 8, print_progress=False) as tfr:
        for image in old_images:
            tfr.add_image(image)
        tfr.add_labels(old_labels)
    old = (old_images, old_labels)
    new = (new_images, new_labels if labels else np.zeros([8, 0], np.float32))
    operations = [(outputs, "rename"), (outputs, "remove")]
    for step in range(20):
        out = tmp_path / f"step{step}" / "master"
        shutil.copytree(master, out)
        tfr = TFRecordExporter(str(out), 8, print_progress=False, overwrite=True)
        for image in new_images:
            tfr.add_image(image)
        if labels:
            tfr.add_labels(new_labels)
        tfr._close_writers()  # TensorFlow's part is done before the fork.
        killed = killed_at(step, operations, tfr.close)
        got = _contents(out)
        if step == 0:
            assert killed and _same(got, old), "a kill before the first rename must leave the old dataset"
        assert _same(got, old) or _same(got, new) or isinstance(got, DatasetError), (step, got)
        names = sorted(os.listdir(out))
        if not _same(got, new):  # Until the new dataset is complete, every old file is in place or backed up.
            for name in os.listdir(master):
                assert name in names or name + outputs.BACKUP_EXT in names, (step, name, names)
        if not killed:
            assert _same(got, new) and not any(n.endswith((".tmp", ".old")) for n in names), names
            break
    else:
        raise AssertionError("the overwrite never finished")


def test_leftovers_of_a_killed_run_are_removed_by_the_next_writer(tmp_path):
    out = tmp_path / "d"
    with TFRecordExporter(str(out), 1, print_progress=False) as tfr:
        tfr.add_image(np.zeros([8, 8, 3], np.uint8))
    for name in ("d-r03.tfrecords.tmp", "d-rxx.labels.old", "other.tmp"):
        (out / name).write_bytes(b"left over")
    os.utime(out / "d-r03.tfrecords.tmp", (time.time() - 3600,) * 2)  # Older than this process.
    os.utime(out / "d-rxx.labels.old", (time.time() - 3600,) * 2)
    with TFRecordExporter(str(out), 1, print_progress=False, overwrite=True) as tfr:
        tfr.add_image(np.ones([8, 8, 3], np.uint8))
    assert sorted(os.listdir(out)) == ["d-r02.tfrecords", "d-r03.tfrecords", "other.tmp"]


@pytest.mark.parametrize("where", ["writing", "renaming"])
def test_a_pickle_save_killed_leaves_the_old_file_and_the_next_save_cleans_up(tmp_path, where):
    path = tmp_path / "network.pkl"
    shutil.copy(fixture_files("small")[0], path)
    old = path.read_bytes()
    states = load_pickle_states(fixture_files("cond")[0])
    if where == "renaming":
        operations = [(os, "replace")]
    else:  # Die in the middle of the dump: after the first write call of the pickler.
        operations = [(writer._OriginalNamesPickler, "save_global")]
    assert killed_at(0 if where == "renaming" else 1, operations, lambda: save_pickle_states(path, states))
    assert path.read_bytes() == old
    load_pickle_states(path)  # The old file is complete.
    left = [n for n in os.listdir(tmp_path) if n.startswith(".network.pkl.tmp-")]
    assert len(left) == 1
    code = (
        "import sys; from tfstylegan.legacy import load_pickle_states, save_pickle_states; "
        "save_pickle_states(sys.argv[1], load_pickle_states(sys.argv[2]))"
    )
    subprocess.run([sys.executable, "-c", code, str(path), str(fixture_files("cond")[0])], check=True)
    assert sorted(os.listdir(tmp_path)) == ["network.pkl"]  # A later process removed the leftover.
    assert [s.name for s in load_pickle_states(path)] == ["G", "D", "Gs"]
    assert path.read_bytes() != old


def test_outputs_that_cannot_be_written_are_refused_before_any_work(tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("x")
    called = []
    command = dataset_tool.COMMANDS["create_mnist"]
    fake = dataclasses.replace(command, run=lambda **kwargs: called.append(kwargs))
    monkeypatch.setitem(dataset_tool.COMMANDS, "create_mnist", fake)
    err = tool_error(capsys, "create_mnist", tmp_path / "file" / "ds", tmp_path / "mnist")
    assert (
        err
        == f"Error: cannot write the dataset to {tmp_path / 'file' / 'ds'}: {tmp_path / 'file'} is a regular file, not a directory"
    )
    assert called == []
    assert run_tool("create_synthetic", tmp_path / "missing" / "parents" / "ds") == 0  # Parents are created.
    err = tool_error(
        capsys, "display", tmp_path / "missing" / "parents" / "ds", "--output", tmp_path / "nowhere" / "g.png"
    )
    assert (
        f"cannot write {tmp_path / 'nowhere' / 'g.png'}: the folder {tmp_path / 'nowhere'} does not exist"
        in err
    )
    err = tool_error(capsys, "extract", tmp_path / "missing" / "parents" / "ds", tmp_path / "file" / "x")
    assert "cannot write the images to" in err and "is a regular file, not a directory" in err
    if os.geteuid() != 0:  # Permission bits do not stop root.
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        assert "is not writable" in tool_error(capsys, "create_synthetic", locked / "ds")
