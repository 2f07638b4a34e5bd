"""``python -m tfstylegan.dataset_tool <command> ...``: the dataset tool (see :mod:`tfstylegan.cli.dataset_tool`)."""

import sys

from tfstylegan.cli.dataset_tool import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m tfstylegan.dataset_tool"))
