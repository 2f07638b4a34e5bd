"""Joining local and remote paths for tf.io.gfile; the check of output paths."""

import os
import re
import tempfile

import pytest

from tfstylegan.paths import PathError, basename, check_output_path, join, make_output_dir


def test_join_keeps_remote_paths_with_slashes():
    assert join("gs://bucket/runs", "network-final.pkl") == "gs://bucket/runs/network-final.pkl"
    assert join("gs://bucket/runs/", "x") == "gs://bucket/runs/x"


def test_join_uses_the_local_separator():
    assert join("results/00000-run", "log.txt") == os.path.join("results/00000-run", "log.txt")
    assert join("", "faces-r05.tfrecords") == "faces-r05.tfrecords"
    assert join("/", "x") == os.path.join("/", "x")


def test_basename_ignores_trailing_slashes():
    assert basename("datasets/faces/") == basename("datasets/faces") == "faces"
    assert basename("gs://bucket/datasets/faces//") == "faces"


def test_output_paths_are_checked_before_any_work(tmp_path):
    check_output_path(str(tmp_path / "a" / "b"), "dir")  # Missing folders are created later, like mkdir -p.
    check_output_path(str(tmp_path / "new.pkl"), "file")
    assert not (tmp_path / "a").exists() and os.listdir(tmp_path) == []  # The check creates nothing.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for path, kind, message in [
        (blocker, "dir", f"{blocker} is a regular file, not a directory"),
        (blocker / "sub" / "x.pkl", "file", f"{blocker} is a regular file, not a directory"),
        (tmp_path, "file", f"cannot write the file {tmp_path}: it is a directory"),
        ("s3://bucket/runs", "dir", "TensorFlow has no file system for s3:// paths (tensorflow-io adds"),
        ("nosuch://x/y", "file", "TensorFlow has no file system for nosuch:// paths; use a local path or gs://"),
        ("", "dir", "the output path is empty"),
        (f"{tmp_path}/new.pkl/", "file", f"cannot write the file {tmp_path}/new.pkl/: the path names a folder, not a file"),
        ("gs://bucket/", "file", "cannot write the file gs://bucket/: the path names a folder, not a file"),
    ]:
        with pytest.raises(PathError, match=re.escape(message)):
            check_output_path(str(path), kind)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    with pytest.raises(PathError, match="is a dangling link, not a directory"):
        check_output_path(str(tmp_path / "dangling" / "out"), "dir")
    assert make_output_dir(str(tmp_path / "x" / "y")) == str(tmp_path / "x" / "y") and (tmp_path / "x" / "y").is_dir()


def test_an_unwritable_folder_is_found_by_trying(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)  # Root may write anywhere: stand in for a read-only folder.
    with pytest.raises(PathError, match=re.escape(f"{tmp_path} is not writable (Permission denied)")):
        check_output_path(str(tmp_path / "out"), "dir")

