"""The fuzz suite under pytest: a seeded sample of every class by default, the full corpus with ``-m fuzz_full``.

The same runs as ``python -m tests.fuzz`` (sample) and ``python -m tests.fuzz --full``.
"""

import pytest

from . import harness


def _assert_no_failures(results):
    print(harness.summary(results))
    failures = [r for r in results if r.outcome in harness.FAILURES]
    assert not failures, harness.summary(results)


def test_every_generator_registers_a_class():
    generators = harness.load_generators()
    prefixes = {name.split(".")[0] for name in generators}
    assert {"pickles", "datasets", "images", "flags"} <= prefixes
    assert all(g.full >= g.sample >= 1 for g in generators.values())
    full = {p: sum(g.full for n, g in generators.items() if n.startswith(p + ".")) for p in prefixes}
    assert full["pickles"] >= 500 and full["datasets"] >= 50 and full["images"] >= 50 and full["flags"] >= 200


def test_fuzz_sample():
    _assert_no_failures(harness.run(full=False))


@pytest.mark.fuzz_full
def test_fuzz_full():
    _assert_no_failures(harness.run(full=True))
