"""Shared test setup: quiet TF logs, two logical CPU devices, the fixtures and the tiny networks."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from tests import DATA, tiny_networks  # noqa: E402

# Two logical CPUs so MirroredStrategy tests can run on a CPU-only machine. This must
# happen before TensorFlow creates any op, hence at conftest import time.
_cpus = tf.config.list_physical_devices("CPU")
try:
    tf.config.set_logical_device_configuration(
        _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
    )
except RuntimeError:  # already initialised (e.g. a plugin touched TF first)
    pass


@pytest.fixture(scope="session")
def data_dir():
    """The folder holding the reference fixtures (``small/``, ``cond/``)."""
    return DATA


# ----------------------------------------------------------------------------------------
# Tiny networks: builders, so that every test gets fresh weights it may change.


@pytest.fixture(scope="session")
def tiny_gs():
    """``tiny_gs(**overrides)``: a fresh 8x8 ``Gs`` (:func:`tests.tiny_networks.tiny_gs`)."""
    return tiny_networks.tiny_gs


@pytest.fixture(scope="session")
def tiny_G_D():
    """``tiny_G_D(**overrides)``: a fresh 16x16 conditional ``(G, D)`` (:func:`tests.tiny_networks.tiny_G_D`)."""
    return tiny_networks.tiny_G_D


@pytest.fixture(scope="session")
def train_G_D():
    """``train_G_D(**overrides)``: a fresh 32x32 ``(G, D)`` of the training tests (:func:`tests.tiny_networks.train_G_D`)."""
    return tiny_networks.train_G_D


# ----------------------------------------------------------------------------------------
# The reference pickles' networks, loaded once. Tests only read them: one that changes a
# weight loads its own copy. The teardown checks that no test changed them.


def _shared_networks(name):
    from tfstylegan import load_network_pkl

    nets = load_network_pkl(DATA / name / "network.pkl")
    before = [[v.numpy().copy() for v in net.weights] for net in nets]
    yield nets
    for net, values in zip(nets, before):
        for v, b in zip(net.weights, values):
            assert np.array_equal(v.numpy(), b), f"a test changed the shared {name} {net.name}: {v.path}"


@pytest.fixture(scope="session")
def small_networks():
    """``(G, D, Gs)`` of ``tests/data/small/network.pkl`` (32x32, unconditional), read only."""
    yield from _shared_networks("small")


@pytest.fixture(scope="session")
def cond_networks():
    """``(G, D, Gs)`` of ``tests/data/cond/network.pkl`` (16x16, 5 classes), read only."""
    yield from _shared_networks("cond")
