"""Command-line tool that creates, inspects and unpacks multi-resolution TFRecord datasets.

The commands, positional arguments, flags and defaults of the original StyleGAN
``dataset_tool.py`` are kept, e.g.::

    tfstylegan-dataset-tool create_from_images datasets/mine ~/my-images --shuffle 1
    tfstylegan-dataset-tool create_from_hdf5 datasets/celebahq ~/celeba-hq-1024x1024.h5
    tfstylegan-dataset-tool extract datasets/mine ~/extracted

Additions: ``info`` and ``create_synthetic`` commands; ``--overwrite`` and
``--progress_interval`` on every ``create_*`` command; ``--resize``, ``--resize_mode``,
``--channels``, ``--labels`` and ``--skip_bad`` on ``create_from_images``; ``display`` writes a grid PNG
instead of opening a window. Problems with the inputs are reported as one ``Error:``
line (exit status 1), without a traceback; an output that cannot be written (under a
file, in a folder that cannot be written, an existing dataset without ``--overwrite``)
is refused before any work. Datasets are written under temporary names and renamed when
complete; an overwritten dataset stays until the new one is complete.

The commands are a table (:data:`COMMANDS`): each names the function of
:mod:`tfstylegan.data.builders` or :mod:`tfstylegan.data.inspection` that it runs with
the parsed arguments. Unlike the other tools (absl flags), this one keeps argparse:
its users type the original's subcommands with positional arguments.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow is imported below.

from tfstylegan import paths  # noqa: E402
from tfstylegan.data import builders, inspection  # noqa: E402
from tfstylegan.data.errors import DatasetError  # noqa: E402
from tfstylegan.data.image_folder import RESIZE_MODES  # noqa: E402
from tfstylegan.data.tfrecords.outputs import check_output_dir, check_output_file  # noqa: E402
from tfstylegan.resolution import MAX_RESOLUTION  # noqa: E402

DEFAULT_PROG = "tfstylegan-dataset-tool"


def _arg(*flags: str, **kwargs) -> tuple[tuple[str, ...], dict]:
    """One argument of a command: the ``add_argument`` positional and keyword arguments."""
    return flags, kwargs


def _switch(flag: str, help_text: str, default: int = 0) -> tuple[tuple[str, ...], dict]:
    """A 0/1 option that may be given bare: ``--verify`` means ``--verify 1``."""
    return _arg(flag, help=f"{help_text} (default: {default})", type=_int(0, 1), nargs="?", const=1, default=default)


def _int(lo: int, hi: int) -> Callable[[str], int]:
    """The ``type`` of an integer option in ``[lo, hi]``: anything else is a usage error naming the option."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"expected an integer in [{lo}, {hi}], got {text!r}")
        return value

    parse.__name__ = "integer"  # argparse names the type in some messages.
    return parse


MAX_COUNT = 10**9  # Images a command may be asked to write.
MAX_SYNTHETIC_BYTES = 2**30  # create_synthetic draws every image in memory first.


_DATASET = _arg("tfrecord_dir", help="Dataset directory (TFRecords in the original format)")
_OUTPUT = _arg("tfrecord_dir", help="Output dataset directory (must not hold a dataset yet)")
_MNIST_DIR = _arg("mnist_dir", help="Folder with the MNIST idx files")
_LMDB_DIR = _arg("lmdb_dir", help="The category's LMDB folder")
_MAX_IMAGES = _arg(
    "--max_images", help="Stop after this many images (default: all)", type=_int(1, MAX_COUNT), default=None
)
_SHUFFLE = _arg(
    "--shuffle",
    help="1 = shuffle the record order with seed 123, 0 = keep the file order (default: 1)",
    type=_int(0, 1),
    default=1,
)
_RANDOM_SEED = _arg(
    "--random_seed", help="Seed of the random choices (default: 123)", type=_int(0, 2**32 - 1), default=123
)
# Every create_* command also takes these, after its own arguments.
_CREATE_FLAGS = (
    _switch("--overwrite", "Replace an existing dataset"),
    _arg(
        "--progress_interval",
        help="Images between progress lines (default: auto)",
        type=_int(1, MAX_COUNT),
        default=None,
    ),
)


@dataclasses.dataclass(frozen=True)
class Command:
    """One command of the tool."""

    run: Callable[..., object]  # Called with the parsed arguments as keyword arguments.
    summary: str  # One line for the help.
    example: str  # A usage example, from the command name on.
    arguments: tuple = ()  # _arg(...) entries, in the order of the help.
    output: str | None = None  # The argument naming the output folder ('dir:<arg>') or file ('file:<arg>').


# The commands in the order of the help.
COMMANDS: dict[str, Command] = {
    "display": Command(
        inspection.display,
        "Write the first images of a dataset as a grid PNG.",
        "display data/faces",
        (
            _DATASET,
            _arg("--output", help="PNG file to write (default: <dataset name>-grid.png)", default=None),
            _arg(
                "--num_images", help="Number of images in the grid, at most 1024 (default: 64)", type=_int(1, 1024), default=64
            ),
        ),
        output="file:output",
    ),
    "extract": Command(
        inspection.extract,
        "Write every image of a dataset as a PNG file.",
        "extract data/faces extracted-faces",
        (_DATASET, _arg("output_dir", help="Folder for the PNG files (created if missing)")),
        output="dir:output_dir",
    ),
    "compare": Command(
        inspection.compare,
        "Check that two datasets hold the same images (and labels).",
        "compare data/faces data/faces-copy",
        (
            _arg("tfrecord_dir_a", help="First dataset directory"),
            _arg("tfrecord_dir_b", help="Second dataset directory"),
            _arg("--ignore_labels", help="1 = compare images only (default: 0)", type=_int(0, 1), default=0),
        ),
    ),
    "info": Command(
        inspection.info,
        "Print image count, resolutions, labels and size on disk.",
        "info data/faces",
        (_DATASET, _switch("--verify", "Also read every record of every level")),
    ),
    "create_mnist": Command(
        builders.create_mnist,
        "Convert the MNIST training set (idx .gz files).",
        "create_mnist data/mnist raw/mnist",
        (_OUTPUT, _MNIST_DIR),
    ),
    "create_mnistrgb": Command(
        builders.create_mnistrgb,
        "Make RGB images by stacking three random MNIST digits.",
        "create_mnistrgb data/mnistrgb raw/mnist",
        (
            _OUTPUT,
            _MNIST_DIR,
            _arg(
                "--num_images",
                help="How many RGB images to make (default: 1000000)",
                type=_int(1, MAX_COUNT),
                default=1000000,
            ),
            _RANDOM_SEED,
        ),
    ),
    "create_cifar10": Command(
        builders.create_cifar10,
        "Convert CIFAR-10 (the python pickle batches), with class labels.",
        "create_cifar10 data/cifar10 raw/cifar-10-batches-py",
        (_OUTPUT, _arg("cifar10_dir", help="Folder with data_batch_1..5")),
    ),
    "create_cifar100": Command(
        builders.create_cifar100,
        "Convert CIFAR-100 (the python pickle files), with fine labels.",
        "create_cifar100 data/cifar100 raw/cifar-100-python",
        (_OUTPUT, _arg("cifar100_dir", help="Folder with the train file")),
    ),
    "create_svhn": Command(
        builders.create_svhn,
        "Convert SVHN (pickled train/extra parts), with digit labels.",
        "create_svhn data/svhn raw/svhn",
        (_OUTPUT, _arg("svhn_dir", help="Folder with the pickled SVHN parts")),
    ),
    "create_lsun": Command(
        builders.create_lsun,
        "Convert one LSUN category (LMDB), centre-cropped to a square.",
        "create_lsun data/lsun-bedroom raw/bedroom_train_lmdb --resolution 256 --max_images 200000",
        (
            _OUTPUT,
            _LMDB_DIR,
            _arg(
                "--resolution",
                help="Side of the square images (default: 256)",
                type=_int(4, MAX_RESOLUTION),
                default=256,
            ),
            _MAX_IMAGES,
        ),
    ),
    "create_lsun_wide": Command(
        builders.create_lsun_wide,
        "Convert one LSUN category to wide images, padded to a square canvas.",
        "create_lsun_wide data/lsun-car-wide raw/car_lmdb --width 512 --height 384",
        (
            _OUTPUT,
            _LMDB_DIR,
            _arg("--width", help="Image width in pixels (default: 512)", type=_int(1, MAX_RESOLUTION), default=512),
            _arg("--height", help="Image height in pixels (default: 384)", type=_int(1, MAX_RESOLUTION), default=384),
            _MAX_IMAGES,
        ),
    ),
    "create_celeba": Command(
        builders.create_celeba,
        "Convert aligned CelebA (img_align_celeba), cropped to 128x128.",
        "create_celeba data/celeba raw/celeba",
        (
            _OUTPUT,
            _arg("celeba_dir", help="Folder that holds img_align_celeba/"),
            _arg("--cx", help="Crop centre, x pixel (default: 89)", type=_int(0, MAX_RESOLUTION), default=89),
            _arg("--cy", help="Crop centre, y pixel (default: 121)", type=_int(0, MAX_RESOLUTION), default=121),
        ),
    ),
    "create_from_images": Command(
        builders.create_from_images,
        "Convert a folder of image files (PNG, JPEG, ...).",
        "create_from_images data/faces my-photos --resize 256",
        (
            _OUTPUT,
            _arg("image_dir", help="Folder of images (not searched recursively)"),
            _SHUFFLE,
            _arg(
                "--resize",
                help="Resize every image to RES x RES, a power of two (default: none)",
                type=_int(4, MAX_RESOLUTION),
                default=None,
            ),
            _arg(
                "--resize_mode",
                help="How --resize makes non-square images square (default: center_crop)",
                choices=RESIZE_MODES,
                default="center_crop",
            ),
            _arg(
                "--channels",
                help="Convert every image to 1 (grayscale) or 3 (RGB) channels (default: as the first image)",
                type=int,
                choices=[1, 3],
                default=None,
            ),
            _arg(
                "--labels",
                help="JSON or CSV file: image file name -> class index or label vector (default: none)",
                default=None,
            ),
            _switch("--skip_bad", "Leave out (and list) the images that cannot be used, instead of stopping"),
        ),
    ),
    "create_from_hdf5": Command(
        builders.create_from_hdf5,
        "Convert an HDF5 archive of the original tools (e.g. CelebA-HQ).",
        "create_from_hdf5 data/celebahq raw/celeba-hq-1024x1024.h5",
        (
            _OUTPUT,
            _arg("hdf5_filename", help="The .h5 file (labels from <stem>-labels.npy beside it, if present)"),
            _SHUFFLE,
        ),
    ),
    "create_synthetic": Command(
        builders.create_synthetic,
        "Create the built-in dataset of coloured shapes.",
        "create_synthetic datasets/shapes --num_images 2000 --labels 1",
        (
            _OUTPUT,
            _arg(
                "--num_images",
                help="Number of images (default: 1000); they are drawn in memory, at most 1 GiB of pixels",
                type=_int(1, MAX_COUNT),
                default=1000,
            ),
            _arg("--resolution", help="Image resolution (default: 32)", type=_int(4, MAX_RESOLUTION), default=32),
            _switch("--labels", "Write one-hot shape labels"),
            _RANDOM_SEED,
        ),
    ),
}


def build_parser(prog: str = DEFAULT_PROG) -> argparse.ArgumentParser:
    """The argument parser: one subcommand per entry of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Write, inspect and convert datasets in the original StyleGAN multi-resolution TFRecord format.",
        epilog=f"Options of one command: {prog} <command> --help",
    )
    subparsers = parser.add_subparsers(dest="command")
    subparsers.required = True
    for name, command in COMMANDS.items():
        sub = subparsers.add_parser(
            name,
            help=command.summary,
            description=command.summary,
            epilog=f"e.g. {prog} {command.example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        for flags, kwargs in command.arguments + (_CREATE_FLAGS if name.startswith("create_") else ()):
            sub.add_argument(*flags, **kwargs)
    return parser


def _check_output(name: str, command: Command, args: dict) -> None:
    """Refuses an output that cannot be written, or a dataset too large to draw, before the command does any work."""
    kind, arg = ("dir", "tfrecord_dir") if name.startswith("create_") else (command.output or ":").split(":")
    if arg and args[arg] is not None and "://" in args[arg]:  # Local outputs: the dataset's own checks below.
        try:
            paths.check_remote_path(args[arg])
        except paths.PathError as e:
            raise DatasetError(str(e)) from None
    if name.startswith("create_"):
        check_output_dir(args["tfrecord_dir"], bool(args["overwrite"]))
    elif kind == "dir":
        check_output_dir(args[arg], overwrite=True, what="the images")
    elif arg and args[arg] is not None:
        check_output_file(args[arg])
    if name == "create_synthetic" and args["num_images"] * args["resolution"] ** 2 * 3 > MAX_SYNTHETIC_BYTES:
        raise DatasetError(
            f"--num_images={args['num_images']} images of {args['resolution']}x{args['resolution']} take more "
            f"than {MAX_SYNTHETIC_BYTES >> 30} GiB, and create_synthetic draws them all in memory"
        )


def main(argv: list[str] | None = None, prog: str = DEFAULT_PROG) -> int:
    """Runs one command; returns the exit status (0, or 1 after printing an ``Error:`` line).

    Args:
        argv: the arguments after the program name; None = ``sys.argv[1:]``.
        prog: the program name shown in the help.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = vars(build_parser(prog).parse_args(argv if argv else ["-h"]))
    name = args.pop("command")
    command = COMMANDS[name]
    try:
        _check_output(name, command, args)
        command.run(**args)
    except DatasetError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted; nothing was left that looks like a complete dataset.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
