"""Train StyleGAN (v1): ``python train.py`` trains a tiny model on built-in data; ``--help`` lists the flags."""

import sys

from tfstylegan.cli.train import main

if __name__ == "__main__":
    sys.exit(main(sys.argv, prog="train.py"))
