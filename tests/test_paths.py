"""Joining local and remote paths for tf.io.gfile."""

import os

from tfstylegan.paths import basename, join


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
