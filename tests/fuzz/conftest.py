"""``fuzz_full`` tests run only when asked for by name (``pytest tests/fuzz -m fuzz_full``)."""

import pytest


def pytest_collection_modifyitems(config, items):
    if "fuzz_full" in (config.getoption("markexpr") or ""):
        return
    skip = pytest.mark.skip(
        reason="the full fuzz corpus runs with -m fuzz_full (or python -m tests.fuzz --full)"
    )
    for item in items:
        if "fuzz_full" in item.keywords:
            item.add_marker(skip)
