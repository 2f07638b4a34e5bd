"""``python -m tfstylegan.calc_metrics ...``: see :mod:`tfstylegan.cli.calc_metrics`."""

import sys

from tfstylegan.cli.calc_metrics import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m tfstylegan.calc_metrics"))
