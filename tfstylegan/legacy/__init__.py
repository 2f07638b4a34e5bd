"""Original StyleGAN (v1) pickles: safe reading and faithful writing, without TensorFlow.

:func:`load_pickle_states` reads an original ``network.pkl`` into plain
:class:`NetworkState` objects through an allowlist unpickler; nothing stored in the file
is run. :func:`save_pickle_states` writes such states back in the original layout.

Modules, from the bottom up: :mod:`~tfstylegan.legacy.errors`,
:mod:`~tfstylegan.legacy.bounds` (the opcode pre-scan that bounds memory and work before
anything is unpickled, and a bounded ``repr``), :mod:`~tfstylegan.legacy.guarded` (the
allowlist unpickler and its numpy helpers), :mod:`~tfstylegan.legacy.network_state` (:class:`NetworkState`),
:mod:`~tfstylegan.legacy.stub` (:class:`NetworkStub`, the stand-in for the original
network class), :mod:`~tfstylegan.legacy.reader` and :mod:`~tfstylegan.legacy.writer`.
:mod:`~tfstylegan.legacy.static_kwargs` bounds the constructor arguments of a stored network.
Converting states to Keras networks and back, which needs TensorFlow, is in
:mod:`~tfstylegan.legacy.state` and :mod:`~tfstylegan.legacy.network_pkl`; this package
does not import them.
"""

from tfstylegan.legacy.errors import ConversionError, LegacyPickleError, PickleBoundsError, UnsafePickleError
from tfstylegan.legacy.network_state import BUILD_MODULE_SRC_PLACEHOLDER, STATE_KEYS, NetworkState
from tfstylegan.legacy.reader import SafeUnpickler, load_pickle_states
from tfstylegan.legacy.stub import NetworkStub
from tfstylegan.legacy.writer import save_pickle_states

__all__ = [
    "BUILD_MODULE_SRC_PLACEHOLDER",
    "STATE_KEYS",
    "ConversionError",
    "LegacyPickleError",
    "NetworkState",
    "NetworkStub",
    "PickleBoundsError",
    "SafeUnpickler",
    "UnsafePickleError",
    "load_pickle_states",
    "save_pickle_states",
]
