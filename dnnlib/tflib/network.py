"""Alias for ``dnnlib.tflib.network``: a data-only ``Network`` stand-in."""

from tfstylegan.legacy.stub import NetworkStub


class Network(NetworkStub):
    """Stand-in for the original network class, as a plain ``pickle.load`` finds it.

    Unpickling keeps the checked state as ``.state`` (a
    :class:`tfstylegan.legacy.NetworkState`) and runs nothing; pickling writes the
    original state dict again. It has no TensorFlow graph and cannot be run.
    """
