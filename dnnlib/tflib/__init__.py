"""Aliases for ``dnnlib.tflib``: only the :class:`Network` stand-in."""

from dnnlib.tflib.network import Network

__all__ = ["Network"]
