"""Runs the fuzz suite: ``python -m tests.fuzz [--full] [--seed N] [--only PREFIX]``.

Without ``--full`` a seeded sample of every class runs (as the test suite does); with it,
the full corpus (500+ pickles, 50+ datasets and image folders, each through several
probes). Prints one line per case (with ``--verbose``), then counts per class and
outcome, and exits 1 if any case failed.
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from . import harness  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the full corpus instead of the sample")
    parser.add_argument("--seed", type=int, default=0, help="seed of the cases (default 0)")
    parser.add_argument(
        "--only", default=None, help="only classes whose name starts with this (e.g. pickles.)"
    )
    parser.add_argument("--verbose", action="store_true", help="one line per case")
    args = parser.parse_args()

    def report(result):
        if args.verbose or result.outcome in harness.FAILURES:
            print(
                f"{result.generator} #{result.index}: {result.outcome} ({result.seconds:.2f} s) {result.note}",
                flush=True,
            )

    results = harness.run(full=args.full, seed=args.seed, only=args.only, report=report)
    print(harness.summary(results))
    return 1 if any(r.outcome in harness.FAILURES for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
