"""Package attributes imported on first use (PEP 562), so that light entry points stay light."""

from __future__ import annotations

import importlib


def lazy_exports(package: str, exports: dict[str, str], namespace: dict):
    """Module-level ``__getattr__`` and ``__dir__`` for ``package``.

    Args:
        package: The package's name, for error messages.
        exports: Public name -> the module that defines it.
        namespace: The package's ``globals()``; a name is cached there once imported.
    """

    def __getattr__(name):
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__():
        return sorted(list(namespace) + list(exports))

    return __getattr__, __dir__
