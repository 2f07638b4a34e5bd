"""Original StyleGAN (v1) pickles: safe reading and faithful writing, without TensorFlow.

:func:`load_pickle_states` reads an original ``network.pkl`` into plain
:class:`NetworkState` objects through an allowlist unpickler; nothing stored in the file
is run. :func:`save_pickle_states` writes such states back in the original layout.
"""

from tfstylegan.legacy.unpickle import (
    BUILD_MODULE_SRC_PLACEHOLDER,
    STATE_KEYS,
    LegacyPickleError,
    NetworkState,
    NetworkStub,
    SafeUnpickler,
    UnsafePickleError,
    load_pickle_states,
    save_pickle_states,
)

__all__ = [
    "BUILD_MODULE_SRC_PLACEHOLDER",
    "STATE_KEYS",
    "LegacyPickleError",
    "NetworkState",
    "NetworkStub",
    "SafeUnpickler",
    "UnsafePickleError",
    "load_pickle_states",
    "save_pickle_states",
]
