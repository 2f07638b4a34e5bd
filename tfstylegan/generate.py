"""``python -m tfstylegan.generate ...``: images and figures (see :mod:`tfstylegan.cli.generate`)."""

import sys

from tfstylegan.cli.generate import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m tfstylegan.generate"))
