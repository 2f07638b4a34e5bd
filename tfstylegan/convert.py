"""``python -m tfstylegan.convert ...``: see :mod:`tfstylegan.cli.convert`."""

import sys

from tfstylegan.cli.convert import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m tfstylegan.convert"))
