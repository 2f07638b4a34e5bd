"""Command-line tool that creates, inspects and unpacks multi-resolution TFRecord datasets.

The commands, positional arguments, flags and defaults of the original StyleGAN
``dataset_tool.py`` are kept, e.g.::

    tfstylegan-dataset-tool create_from_images datasets/mine ~/my-images --shuffle 1
    tfstylegan-dataset-tool create_from_hdf5 datasets/celebahq ~/celeba-hq-1024x1024.h5
    tfstylegan-dataset-tool extract datasets/mine ~/extracted

Additions: ``info`` and ``create_synthetic`` commands; ``--overwrite`` and
``--progress_interval`` on every ``create_*`` command; ``--resize``, ``--resize_mode``,
``--channels`` and ``--labels`` on ``create_from_images``; ``display`` writes a grid PNG
instead of opening a window. Problems with the inputs are reported as one ``Error:``
line (exit status 1), without a traceback. Datasets are written under temporary names
and renamed when complete.
"""

from __future__ import annotations

import argparse
import io
import os
import posixpath
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # Before TensorFlow is imported below.

import numpy as np  # noqa: E402
import PIL.Image  # noqa: E402
import tensorflow as tf  # noqa: E402

from tfstylegan.data import archives, image_folder, synthetic  # noqa: E402
from tfstylegan.data.tfrecords import DatasetError, TFRecordDataset, TFRecordExporter  # noqa: E402
from tfstylegan.resolution import resolution_log2  # noqa: E402

DEFAULT_PROG = "tfstylegan-dataset-tool"


def _exporter(
    tfrecord_dir: str, expected_images: int, overwrite=0, progress_interval=None
) -> TFRecordExporter:
    return TFRecordExporter(
        tfrecord_dir, expected_images, overwrite=bool(overwrite), progress_interval=progress_interval
    )


def _write_all(tfrecord_dir, images, labels=None, shuffle=True, overwrite=0, progress_interval=None) -> None:
    """Writes in-memory images ``[N, H, W, C]`` (and labels ``[N, L]``), shuffled like the original."""
    with _exporter(tfrecord_dir, images.shape[0], overwrite, progress_interval) as tfr:
        order = tfr.choose_shuffled_order() if shuffle else np.arange(images.shape[0])
        for idx in order:
            tfr.add_image(images[idx])
        if labels is not None:
            tfr.add_labels(labels[order])


def _open_dataset(tfrecord_dir: str, max_label_size) -> TFRecordDataset:
    print(f'Loading dataset "{tfrecord_dir}"')
    return TFRecordDataset(tfrecord_dir, max_label_size=max_label_size, repeat=False, shuffle_mb=0)


def _to_pil(image: np.ndarray) -> PIL.Image.Image:
    """``[H, W, C]`` uint8 with C in {1, 3} as a PIL image."""
    return PIL.Image.fromarray(image[:, :, 0] if image.shape[2] == 1 else image)  # Mode L or RGB.


# ----------------------------------------------------------------------------
# Inspecting datasets.


def display(tfrecord_dir: str, output: str | None = None, num_images: int = 64) -> None:
    """Writes the first images of a dataset as a grid PNG and prints their labels."""
    dset = _open_dataset(tfrecord_dir, "full")
    images, labels = next(dset.iter_np(0, minibatch_size=max(num_images, 1)))
    n, h, w, c = images.shape
    cols = int(np.ceil(np.sqrt(n)))
    rows = -(-n // cols)
    grid = np.zeros([rows * h, cols * w, c], np.uint8)
    for idx in range(n):
        y, x = divmod(idx, cols)
        grid[y * h : (y + 1) * h, x * w : (x + 1) * w] = images[idx]
    if output is None:
        output = f"{posixpath.basename(tfrecord_dir.rstrip('/'))}-grid.png"
    buf = io.BytesIO()
    _to_pil(grid).save(buf, format="PNG")
    with tf.io.gfile.GFile(output, "wb") as f:
        f.write(buf.getvalue())
    if dset.label_size:
        for idx in range(n):
            print(f"idx = {idx:<6d} label = {labels[idx].tolist()}")
    print(f'Wrote the first {n} images ({rows}x{cols} grid, row by row) to "{output}"')


def extract(tfrecord_dir: str, output_dir: str) -> None:
    """Writes every full-resolution image of a dataset as ``img%08d.png``, in record order."""
    dset = _open_dataset(tfrecord_dir, 0)
    print(f'Extracting images to "{output_dir}"')
    tf.io.gfile.makedirs(output_dir)
    interval = max(1000, 10 ** (len(str(dset.num_images)) - 2))  # About 10 to 100 progress lines.
    idx = 0
    for images, _ in dset.iter_np(0):
        for image in images:
            buf = io.BytesIO()
            _to_pil(image).save(buf, format="PNG")
            with tf.io.gfile.GFile(posixpath.join(output_dir, f"img{idx:08d}.png"), "wb") as f:
                f.write(buf.getvalue())
            idx += 1
            if idx % interval == 0:
                print(f"  {idx} / {dset.num_images} images", flush=True)
    print(f"Extracted {idx} images.")


def compare(tfrecord_dir_a: str, tfrecord_dir_b: str, ignore_labels: int = 0) -> tuple[int, int, int]:
    """Compares two datasets image by image (and label by label).

    Returns:
        ``(num_compared, identical_images, identical_labels)``.
    """
    max_label_size = 0 if ignore_labels else "full"
    dset_a = _open_dataset(tfrecord_dir_a, max_label_size)
    dset_b = _open_dataset(tfrecord_dir_b, max_label_size)
    print("Comparing datasets")
    if dset_a.num_images != dset_b.num_images:
        print("The datasets hold different numbers of images")
    idx = identical_images = identical_labels = 0
    for (images_a, labels_a), (images_b, labels_b) in zip(dset_a.iter_np(0), dset_b.iter_np(0)):
        for img_a, lab_a, img_b, lab_b in zip(images_a, labels_a, images_b, labels_b):
            if img_a.shape == img_b.shape and np.array_equal(img_a, img_b):
                identical_images += 1
            else:
                print(f"Image {idx} is different")
            if lab_a.shape == lab_b.shape and np.array_equal(lab_a, lab_b):
                identical_labels += 1
            else:
                print(f"Label {idx} is different")
            idx += 1
    print(f"Identical images: {identical_images} / {idx}")
    if not ignore_labels:
        print(f"Identical labels: {identical_labels} / {idx}")
    return idx, identical_images, identical_labels


def info(tfrecord_dir: str, verify: int = 0) -> None:
    """Prints the number of images, resolutions, labels and size on disk of a dataset."""
    dset = TFRecordDataset(tfrecord_dir, max_label_size="full", repeat=False, shuffle_mb=0)
    h, w, c = dset.shape
    print(f'Dataset "{tfrecord_dir}"')
    print(f"  images       {dset.num_images}")
    print(f"  resolution   {w}x{h}, {c} channel{'s' if c > 1 else ''} (shape [H, W, C] = {dset.shape})")
    total = 0
    if dset.label_file is None:
        print("  labels       none")
    else:
        size = tf.io.gfile.stat(dset.label_file).length
        total += size
        labels = dset.labels
        onehot = (
            dset.label_size > 0 and np.all((labels == 0) | (labels == 1)) and np.all(labels.sum(axis=1) == 1)
        )
        kind = f"one-hot, images per class {labels.sum(axis=0).astype(int).tolist()}" if onehot else "vectors"
        print(
            f"  labels       {dset.label_size} components ({kind}) in {posixpath.basename(dset.label_file)}, {size} bytes"
        )
    print("  levels")
    for lod, path in sorted(dset.tfr_files.items()):
        size = tf.io.gfile.stat(path).length
        total += size
        lh, lw, _ = dset.level_shape(lod)
        print(
            f"    lod {lod}  {posixpath.basename(path):28s} {lw:5d}x{lh:<5d} {dset.num_images} records  {size} bytes"
        )
    print(f"  size on disk {total} bytes ({total / 2**20:.1f} MiB)")
    if verify:
        dset.verify()
        print("  verified     every record of every level reads back")


# ----------------------------------------------------------------------------
# Creating datasets.


def create_mnist(tfrecord_dir: str, mnist_dir: str, overwrite=0, progress_interval=None) -> None:
    """MNIST (32x32 grayscale, one-hot labels), shuffled."""
    print(f'Loading MNIST from "{mnist_dir}"')
    images, labels = archives.load_mnist(mnist_dir)
    _write_all(tfrecord_dir, images, archives.onehot(labels), True, overwrite, progress_interval)


def create_mnistrgb(
    tfrecord_dir: str,
    mnist_dir: str,
    num_images=1000000,
    random_seed=123,
    overwrite=0,
    progress_interval=None,
) -> None:
    """MNIST-RGB: each image stacks three random MNIST digits as its R, G and B channels."""
    print(f'Loading MNIST from "{mnist_dir}"')
    images, _ = archives.load_mnist(mnist_dir)
    images = images[:, :, :, 0]  # [N, 32, 32]
    with _exporter(tfrecord_dir, num_images, overwrite, progress_interval) as tfr:
        rnd = np.random.RandomState(random_seed)
        for _ in range(num_images):
            tfr.add_image(
                images[rnd.randint(images.shape[0], size=3)].transpose(1, 2, 0)
            )  # [3, H, W] => [H, W, 3]


def create_cifar10(tfrecord_dir: str, cifar10_dir: str, overwrite=0, progress_interval=None) -> None:
    """CIFAR-10 training set with one-hot labels, shuffled."""
    print(f'Loading CIFAR-10 from "{cifar10_dir}"')
    images, labels = archives.load_cifar10(cifar10_dir)
    _write_all(tfrecord_dir, images, archives.onehot(labels), True, overwrite, progress_interval)


def create_cifar100(tfrecord_dir: str, cifar100_dir: str, overwrite=0, progress_interval=None) -> None:
    """CIFAR-100 training set with one-hot fine labels, shuffled."""
    print(f'Loading CIFAR-100 from "{cifar100_dir}"')
    images, labels = archives.load_cifar100(cifar100_dir)
    _write_all(tfrecord_dir, images, archives.onehot(labels), True, overwrite, progress_interval)


def create_svhn(tfrecord_dir: str, svhn_dir: str, overwrite=0, progress_interval=None) -> None:
    """SVHN training set with one-hot labels, shuffled."""
    print(f'Loading SVHN from "{svhn_dir}"')
    images, labels = archives.load_svhn(svhn_dir)
    _write_all(tfrecord_dir, images, archives.onehot(labels), True, overwrite, progress_interval)


def _import_lmdb():
    try:
        import lmdb
    except ImportError:
        raise DatasetError(
            "reading LSUN needs the 'lmdb' package; install it with: pip install 'tfstylegan[lsun]' "
            "(or pip install lmdb)"
        ) from None
    return lmdb


def _decode_rgb(value: bytes) -> np.ndarray:
    return np.asarray(PIL.Image.open(io.BytesIO(value)).convert("RGB"))


def _export_lmdb(tfrecord_dir, lmdb_dir, max_images, overwrite, progress_interval, convert) -> None:
    """Write the images of an LSUN LMDB in its key order, each through ``convert``.

    ``convert(img)`` takes a decoded ``[H, W, 3]`` uint8 image and returns the image to
    write, or None to pass over it. Images that fail to decode or convert are reported
    and skipped, as in the original.
    """
    print(f'Loading LSUN dataset from "{lmdb_dir}"')
    lmdb = _import_lmdb()
    with lmdb.open(lmdb_dir, readonly=True, lock=False).begin(write=False) as txn:
        if max_images is None:
            max_images = txn.stat()["entries"]
        with _exporter(tfrecord_dir, max_images, overwrite, progress_interval) as tfr:
            for _key, value in txn.cursor():
                try:
                    img = convert(_decode_rgb(value))
                    if img is not None:
                        tfr.add_image(img)
                except (OSError, ValueError) as e:
                    print(f"Skipping an image: {e}")
                if tfr.cur_images == max_images:
                    break


def create_lsun(
    tfrecord_dir: str, lmdb_dir: str, resolution=256, max_images=None, overwrite=0, progress_interval=None
) -> None:
    """One LSUN category: centre square crop, Lanczos resize to ``resolution``, LMDB order.

    Images that fail to decode are reported and skipped, as in the original.
    """

    def convert(img):
        crop = min(img.shape[:2])
        top, left = (img.shape[0] - crop) // 2, (img.shape[1] - crop) // 2
        img = img[top : top + crop, left : left + crop]  # [crop, crop, 3]
        return np.asarray(PIL.Image.fromarray(img).resize((resolution, resolution), PIL.Image.Resampling.LANCZOS))

    _export_lmdb(tfrecord_dir, lmdb_dir, max_images, overwrite, progress_interval, convert)


def create_lsun_wide(
    tfrecord_dir: str,
    lmdb_dir: str,
    width=512,
    height=384,
    max_images=None,
    overwrite=0,
    progress_interval=None,
) -> None:
    """LSUN with a non-square aspect: ``width x height`` centred on a black ``width x width`` canvas."""
    try:
        resolution_log2(width, "--width", minimum=1)
    except ValueError as e:
        raise DatasetError(str(e)) from None
    if height > width:
        raise DatasetError(f"--height ({height}) must not exceed --width ({width})")

    def convert(img):
        ch = int(np.round(width * img.shape[0] / img.shape[1]))
        if img.shape[1] < width or ch < height:
            return None
        img = img[(img.shape[0] - ch) // 2 : (img.shape[0] + ch) // 2]  # [ch, W, 3] centre rows
        img = PIL.Image.fromarray(img).resize((width, height), PIL.Image.Resampling.LANCZOS)
        canvas = np.zeros([width, width, 3], dtype=np.uint8)
        canvas[(width - height) // 2 : (width + height) // 2] = np.asarray(img)
        return canvas

    _export_lmdb(tfrecord_dir, lmdb_dir, max_images, overwrite, progress_interval, convert)


def create_celeba(
    tfrecord_dir: str, celeba_dir: str, cx=89, cy=121, overwrite=0, progress_interval=None
) -> None:
    """CelebA aligned PNGs: 128x128 crops centred on (cx, cy), shuffled."""
    print(f'Loading CelebA from "{celeba_dir}"')
    image_filenames = sorted(tf.io.gfile.glob(posixpath.join(celeba_dir, "img_align_celeba_png", "*.png")))
    expected_images = 202599
    if len(image_filenames) != expected_images:
        raise DatasetError(
            f"expected {expected_images} images in {posixpath.join(celeba_dir, 'img_align_celeba_png')}, "
            f"found {len(image_filenames)}"
        )
    with _exporter(tfrecord_dir, len(image_filenames), overwrite, progress_interval) as tfr:
        for idx in tfr.choose_shuffled_order():
            img = np.asarray(image_folder.open_image(image_filenames[idx]))
            if img.shape != (218, 178, 3):
                raise DatasetError(f"{image_filenames[idx]} has shape {img.shape}, expected (218, 178, 3)")
            tfr.add_image(img[cy - 64 : cy + 64, cx - 64 : cx + 64])


def create_from_images(
    tfrecord_dir: str,
    image_dir: str,
    shuffle=1,
    resize=None,
    resize_mode="center_crop",
    channels=None,
    labels=None,
    overwrite=0,
    progress_interval=None,
) -> None:
    """A folder of images (sorted by name), optionally resized, converted and labelled."""
    print(f'Loading images from "{image_dir}"')
    filenames = image_folder.list_images(image_dir)
    label_array = None
    if labels is not None:
        label_array = image_folder.read_labels_file(labels, [posixpath.basename(f) for f in filenames])
    load = image_folder.ImageLoader(channels=channels, resize=resize, resize_mode=resize_mode)
    load(filenames[0])  # Channels and size come from the first image; fail before writing anything.
    with _exporter(tfrecord_dir, len(filenames), overwrite, progress_interval) as tfr:
        order = tfr.choose_shuffled_order() if shuffle else np.arange(len(filenames))
        for idx in order:
            tfr.add_image(load(filenames[idx]))
        if label_array is not None:
            tfr.add_labels(label_array[order])


def create_from_hdf5(
    tfrecord_dir: str, hdf5_filename: str, shuffle=1, overwrite=0, progress_interval=None
) -> None:
    """A legacy (ProGAN) HDF5 archive: the ``data*`` array with the largest resolution, NCHW uint8.

    Labels come from ``<archive stem>-labels.npy`` beside the archive, if it exists.
    """
    print(f'Loading HDF5 archive from "{hdf5_filename}"')
    import h5py

    if not tf.io.gfile.exists(hdf5_filename):
        raise DatasetError(f"HDF5 archive {hdf5_filename} does not exist")
    with tf.io.gfile.GFile(hdf5_filename, "rb") as raw:
        try:
            hdf5_file = h5py.File(raw, "r")
        except OSError as e:
            raise DatasetError(f"{hdf5_filename}: not an HDF5 file ({e})") from None
        with hdf5_file:
            candidates = [value for key, value in hdf5_file.items() if key.startswith("data")]
            if not candidates:
                raise DatasetError(
                    f"{hdf5_filename} holds no 'data*' array (found {sorted(hdf5_file.keys())})"
                )
            hdf5_data = max(candidates, key=lambda value: value.shape[3])
            npy_filename = posixpath.splitext(hdf5_filename)[0] + "-labels.npy"
            label_array = None
            if tf.io.gfile.exists(npy_filename):
                with tf.io.gfile.GFile(npy_filename, "rb") as f:
                    label_array = np.load(io.BytesIO(f.read()), allow_pickle=False)
                if label_array.shape[0] != hdf5_data.shape[0]:
                    raise DatasetError(
                        f"{npy_filename} holds {label_array.shape[0]} labels for {hdf5_data.shape[0]} images"
                    )
            with _exporter(tfrecord_dir, hdf5_data.shape[0], overwrite, progress_interval) as tfr:
                order = tfr.choose_shuffled_order() if shuffle else np.arange(hdf5_data.shape[0])
                for idx in order:
                    tfr.add_image(hdf5_data[idx].transpose(1, 2, 0))  # CHW => HWC
                if label_array is not None:
                    tfr.add_labels(label_array[order])


def create_synthetic(
    tfrecord_dir: str,
    num_images=1000,
    resolution=32,
    labels=0,
    random_seed=123,
    overwrite=0,
    progress_interval=None,
) -> None:
    """The built-in coloured-shapes dataset (see :mod:`tfstylegan.data.synthetic`)."""
    print(f"Drawing {num_images} synthetic {resolution}x{resolution} images (seed {random_seed})")
    images, classes = synthetic.generate_shapes(num_images, resolution, random_seed)
    onehot = np.eye(len(synthetic.SHAPES), dtype=np.float32)[classes] if labels else None
    _write_all(tfrecord_dir, images, onehot, False, overwrite, progress_interval)


# ----------------------------------------------------------------------------
# Command line.


def build_parser(prog: str = DEFAULT_PROG) -> argparse.ArgumentParser:
    """The argument parser: the original's commands and flags, plus the additions listed above."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Write, inspect and convert datasets in the original StyleGAN multi-resolution TFRecord format.",
        epilog=f"Options of one command: {prog} <command> --help",
    )
    subparsers = parser.add_subparsers(dest="command")
    subparsers.required = True

    def add_command(name, summary, usage_example):
        return subparsers.add_parser(
            name,
            help=summary,
            description=summary,
            epilog=f"e.g. {prog} {usage_example}",
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    def add_create_flags(p):
        p.add_argument(
            "--overwrite",
            help="Replace an existing dataset (default: 0)",
            type=int,
            nargs="?",
            const=1,
            default=0,
        )
        p.add_argument(
            "--progress_interval",
            help="Images between progress lines (default: auto)",
            type=int,
            default=None,
        )

    def bool_int(p, name, help_text, default=0):
        p.add_argument(
            name, help=f"{help_text} (default: {default})", type=int, nargs="?", const=1, default=default
        )

    p = add_command("display", "Write the first images of a dataset as a grid PNG.", "display data/faces")
    p.add_argument("tfrecord_dir", help="Dataset directory (TFRecords in the original format)")
    p.add_argument("--output", help="PNG file to write (default: <dataset name>-grid.png)", default=None)
    p.add_argument("--num_images", help="Number of images in the grid (default: 64)", type=int, default=64)

    p = add_command("extract", "Write every image of a dataset as a PNG file.", "extract data/faces extracted-faces")
    p.add_argument("tfrecord_dir", help="Dataset directory (TFRecords in the original format)")
    p.add_argument("output_dir", help="Folder for the PNG files (created if missing)")

    p = add_command("compare", "Check that two datasets hold the same images (and labels).", "compare data/faces data/faces-copy")
    p.add_argument("tfrecord_dir_a", help="First dataset directory")
    p.add_argument("tfrecord_dir_b", help="Second dataset directory")
    p.add_argument("--ignore_labels", help="1 = compare images only (default: 0)", type=int, default=0)

    p = add_command("info", "Print image count, resolutions, labels and size on disk.", "info data/faces")
    p.add_argument("tfrecord_dir", help="Dataset directory (TFRecords in the original format)")
    bool_int(p, "--verify", "Also read every record of every level")

    p = add_command(
        "create_mnist", "Convert the MNIST training set (idx .gz files).", "create_mnist data/mnist raw/mnist"
    )
    p.add_argument("tfrecord_dir", help="Output dataset directory (must not hold a dataset yet)")
    p.add_argument("mnist_dir", help="Folder with the MNIST idx files")
    add_create_flags(p)

    p = add_command(
        "create_mnistrgb",
        "Make RGB images by stacking three random MNIST digits.",
        "create_mnistrgb data/mnistrgb raw/mnist",
    )
    p.add_argument("tfrecord_dir", help="Output dataset directory (must not hold a dataset yet)")
    p.add_argument("mnist_dir", help="Folder with the MNIST idx files")
    p.add_argument(
        "--num_images",
        help="How many RGB images to make (default: 1000000)",
        type=int,
        default=1000000,
    )
    p.add_argument("--random_seed", help="Seed of the random choices (default: 123)", type=int, default=123)
    add_create_flags(p)

    p = add_command(
        "create_cifar10",
        "Convert CIFAR-10 (the python pickle batches), with class labels.",
        "create_cifar10 data/cifar10 raw/cifar-10-batches-py",
    )
    p.add_argument("tfrecord_dir", help="Output dataset directory (must not hold a dataset yet)")
    p.add_argument("cifar10_dir", help="Folder with data_batch_1..5")
    add_create_flags(p)

    p = add_command(
        "create_cifar100",
        "Convert CIFAR-100 (the python pickle files), with fine labels.",
        "create_cifar100 data/cifar100 raw/cifar-100-python",
    )
    p.add_argument("tfrecord_dir", help="Output dataset directory (must not hold a dataset yet)")
    p.add_argument("cifar100_dir", help="Folder with the train file")
    add_create_flags(p)

    p = add_command("create_svhn", "Convert SVHN (pickled train/extra parts), with digit labels.", "create_svhn data/svhn raw/svhn")
    p.add_argument("tfrecord_dir", help="Output dataset directory (must not hold a dataset yet)")
    p.add_argument("svhn_dir", help="Folder with the pickled SVHN parts")
    add_create_flags(p)

    p = add_command(
        "create_lsun",
        "Convert one LSUN category (LMDB), centre-cropped to a square.",
        "create_lsun data/lsun-bedroom raw/bedroom_train_lmdb --resolution 256 --max_images 200000",
    )
    p.add_argument("tfrecord_dir", help="Output dataset directory (must not hold a dataset yet)")
    p.add_argument("lmdb_dir", help="The category's LMDB folder")
    p.add_argument("--resolution", help="Side of the square images (default: 256)", type=int, default=256)
    p.add_argument("--max_images", help="Stop after this many images (default: all)", type=int, default=None)
    add_create_flags(p)

    p = add_command(
        "create_lsun_wide",
        "Convert one LSUN category to wide images, padded to a square canvas.",
        "create_lsun_wide data/lsun-car-wide raw/car_lmdb --width 512 --height 384",
    )
    p.add_argument("tfrecord_dir", help="Output dataset directory (must not hold a dataset yet)")
    p.add_argument("lmdb_dir", help="The category's LMDB folder")
    p.add_argument("--width", help="Image width in pixels (default: 512)", type=int, default=512)
    p.add_argument("--height", help="Image height in pixels (default: 384)", type=int, default=384)
    p.add_argument("--max_images", help="Stop after this many images (default: all)", type=int, default=None)
    add_create_flags(p)

    p = add_command(
        "create_celeba", "Convert aligned CelebA (img_align_celeba), cropped to 128x128.", "create_celeba data/celeba raw/celeba"
    )
    p.add_argument("tfrecord_dir", help="Output dataset directory (must not hold a dataset yet)")
    p.add_argument("celeba_dir", help="Folder that holds img_align_celeba/")
    p.add_argument("--cx", help="Crop centre, x pixel (default: 89)", type=int, default=89)
    p.add_argument("--cy", help="Crop centre, y pixel (default: 121)", type=int, default=121)
    add_create_flags(p)

    p = add_command(
        "create_from_images",
        "Convert a folder of image files (PNG, JPEG, ...).",
        "create_from_images data/faces my-photos --resize 256",
    )
    p.add_argument("tfrecord_dir", help="Output dataset directory (must not hold a dataset yet)")
    p.add_argument("image_dir", help="Folder of images (not searched recursively)")
    p.add_argument("--shuffle", help="1 = shuffle the record order with seed 123, 0 = keep the file order (default: 1)", type=int, default=1)
    p.add_argument(
        "--resize",
        help="Resize every image to RES x RES, a power of two (default: none)",
        type=int,
        default=None,
    )
    p.add_argument(
        "--resize_mode",
        help="How --resize makes non-square images square (default: center_crop)",
        choices=image_folder.RESIZE_MODES,
        default="center_crop",
    )
    p.add_argument(
        "--channels",
        help="Convert every image to 1 (grayscale) or 3 (RGB) channels (default: as the first image)",
        type=int,
        choices=[1, 3],
        default=None,
    )
    p.add_argument(
        "--labels",
        help="JSON or CSV file: image file name -> class index or label vector (default: none)",
        default=None,
    )
    add_create_flags(p)

    p = add_command(
        "create_from_hdf5",
        "Convert an HDF5 archive of the original tools (e.g. CelebA-HQ).",
        "create_from_hdf5 data/celebahq raw/celeba-hq-1024x1024.h5",
    )
    p.add_argument("tfrecord_dir", help="Output dataset directory (must not hold a dataset yet)")
    p.add_argument("hdf5_filename", help="The .h5 file (labels from <stem>-labels.npy beside it, if present)")
    p.add_argument("--shuffle", help="1 = shuffle the record order with seed 123, 0 = keep the file order (default: 1)", type=int, default=1)
    add_create_flags(p)

    p = add_command(
        "create_synthetic",
        "Create the built-in dataset of coloured shapes.",
        "create_synthetic datasets/shapes --num_images 2000 --labels 1",
    )
    p.add_argument("tfrecord_dir", help="Output dataset directory (must not hold a dataset yet)")
    p.add_argument("--num_images", help="Number of images (default: 1000)", type=int, default=1000)
    p.add_argument("--resolution", help="Image resolution (default: 32)", type=int, default=32)
    bool_int(p, "--labels", "Write one-hot shape labels")
    p.add_argument("--random_seed", help="Seed of the random choices (default: 123)", type=int, default=123)
    add_create_flags(p)
    return parser


def main(argv: list[str] | None = None, prog: str = DEFAULT_PROG) -> int:
    """Runs one command; returns the exit status (0, or 1 after printing an ``Error:`` line).

    Args:
        argv: the arguments after the program name; None = ``sys.argv[1:]``.
        prog: the program name shown in the help.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(prog).parse_args(argv if argv else ["-h"])
    func = globals()[args.command]
    kwargs = {k: v for k, v in vars(args).items() if k != "command"}
    try:
        func(**kwargs)
    except DatasetError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Interrupted; nothing was left that looks like a complete dataset.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
