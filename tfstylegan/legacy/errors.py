"""The errors of the legacy pickle reader and of the guarded unpickler beneath it."""

from __future__ import annotations

import pickle


class LegacyPickleError(pickle.UnpicklingError):
    """A file or state is not a readable original StyleGAN network pickle.

    The guarded helpers raise it for any pickle (data archives too) whose arguments to an
    allowed global are not what numpy writes. Every refusal of the reader is one of these
    (or a subclass), with a message that names the file and what was wrong.
    """


class UnsafePickleError(LegacyPickleError):
    """A pickle refers to a global outside the allowlist, or uses persistent IDs.

    Raised before the global can be called, so nothing named by the file was run.

    Attributes:
        module: Module of the refused global (None for a persistent ID).
        name: Name of the refused global (None for a persistent ID).
    """

    def __init__(self, message: str, module: str | None = None, name: str | None = None):
        super().__init__(message)
        self.module = module
        self.name = name


class PickleBoundsError(LegacyPickleError):
    """A pickle breaks a bound of :mod:`tfstylegan.legacy.bounds`; refused before unpickling.

    Attributes:
        kind: 'bound' (the stream asks for too much), 'truncated' (it ends early) or
            'invalid' (it is not a pickle stream).
    """

    def __init__(self, message: str, kind: str = "bound"):
        super().__init__(message)
        self.kind = kind


class ConversionError(LegacyPickleError, ValueError):
    """A network state does not describe a network tfstylegan can build or fill.

    The networks are in the wrong places, a build function or a static kwarg is unknown
    or out of bounds, or the variables do not match the network.
    """
