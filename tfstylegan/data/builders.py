"""Building datasets in the original multi-resolution format: the dataset tool's ``create_*`` commands.

Each function takes the command's positional arguments and options as keyword arguments,
with the original tool's defaults, plus ``overwrite`` (replace a dataset already in
``tfrecord_dir``) and ``progress_interval`` (images between progress lines, None = auto).
Inputs that cannot work raise :class:`~tfstylegan.data.errors.DatasetError` naming the
file; the output is written under temporary names and renamed only when complete.
"""

from __future__ import annotations

import io
import posixpath

import numpy as np
import PIL.Image
import tensorflow as tf

from tfstylegan import paths
from tfstylegan.data import archives, image_folder, image_labels, synthetic
from tfstylegan.data.errors import DatasetError
from tfstylegan.data.tfrecords import TFRecordExporter
from tfstylegan.resolution import resolution_log2


def _exporter(
    tfrecord_dir: str, expected_images: int, overwrite: int = 0, progress_interval: int | None = None
) -> TFRecordExporter:
    return TFRecordExporter(
        tfrecord_dir, expected_images, overwrite=bool(overwrite), progress_interval=progress_interval
    )


def _write_all(
    tfrecord_dir, images, labels=None, shuffle=True, overwrite: int = 0, progress_interval: int | None = None
) -> None:
    """Writes in-memory images ``[N, H, W, C]`` (and labels ``[N, L]``), shuffled like the original."""
    with _exporter(tfrecord_dir, images.shape[0], overwrite, progress_interval) as tfr:
        order = tfr.choose_shuffled_order() if shuffle else np.arange(images.shape[0])
        for idx in order:
            tfr.add_image(images[idx])
        if labels is not None:
            tfr.add_labels(labels[order])


def create_mnist(
    tfrecord_dir: str, mnist_dir: str, overwrite: int = 0, progress_interval: int | None = None
) -> None:
    """MNIST (32x32 grayscale, one-hot labels), shuffled."""
    print(f'Loading MNIST from "{mnist_dir}"')
    images, labels = archives.load_mnist(mnist_dir)
    _write_all(tfrecord_dir, images, archives.onehot(labels), True, overwrite, progress_interval)


def create_mnistrgb(
    tfrecord_dir: str,
    mnist_dir: str,
    num_images: int = 1000000,
    random_seed: int = 123,
    overwrite: int = 0,
    progress_interval: int | None = None,
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


def create_cifar10(
    tfrecord_dir: str, cifar10_dir: str, overwrite: int = 0, progress_interval: int | None = None
) -> None:
    """CIFAR-10 training set with one-hot labels, shuffled."""
    print(f'Loading CIFAR-10 from "{cifar10_dir}"')
    images, labels = archives.load_cifar10(cifar10_dir)
    _write_all(tfrecord_dir, images, archives.onehot(labels), True, overwrite, progress_interval)


def create_cifar100(
    tfrecord_dir: str, cifar100_dir: str, overwrite: int = 0, progress_interval: int | None = None
) -> None:
    """CIFAR-100 training set with one-hot fine labels, shuffled."""
    print(f'Loading CIFAR-100 from "{cifar100_dir}"')
    images, labels = archives.load_cifar100(cifar100_dir)
    _write_all(tfrecord_dir, images, archives.onehot(labels), True, overwrite, progress_interval)


def create_svhn(
    tfrecord_dir: str, svhn_dir: str, overwrite: int = 0, progress_interval: int | None = None
) -> None:
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
    tfrecord_dir: str,
    lmdb_dir: str,
    resolution: int = 256,
    max_images: int | None = None,
    overwrite: int = 0,
    progress_interval: int | None = None,
) -> None:
    """One LSUN category: centre square crop, Lanczos resize to ``resolution``, LMDB order.

    Images that fail to decode are reported and skipped, as in the original.
    """

    def convert(img):
        crop = min(img.shape[:2])
        top, left = (img.shape[0] - crop) // 2, (img.shape[1] - crop) // 2
        img = img[top : top + crop, left : left + crop]  # [crop, crop, 3]
        return np.asarray(
            PIL.Image.fromarray(img).resize((resolution, resolution), PIL.Image.Resampling.LANCZOS)
        )

    _export_lmdb(tfrecord_dir, lmdb_dir, max_images, overwrite, progress_interval, convert)


def create_lsun_wide(
    tfrecord_dir: str,
    lmdb_dir: str,
    width: int = 512,
    height: int = 384,
    max_images: int | None = None,
    overwrite: int = 0,
    progress_interval: int | None = None,
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
    tfrecord_dir: str,
    celeba_dir: str,
    cx: int = 89,
    cy: int = 121,
    overwrite: int = 0,
    progress_interval: int | None = None,
) -> None:
    """CelebA aligned PNGs: 128x128 crops centred on (cx, cy), shuffled."""
    print(f'Loading CelebA from "{celeba_dir}"')
    image_filenames = sorted(
        tf.io.gfile.glob(paths.join(paths.join(celeba_dir, "img_align_celeba_png"), "*.png"))
    )
    expected_images = 202599
    if len(image_filenames) != expected_images:
        raise DatasetError(
            f"expected {expected_images} images in {paths.join(celeba_dir, 'img_align_celeba_png')}, "
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
    shuffle: int = 1,
    resize: int | None = None,
    resize_mode: str = "center_crop",
    channels: int | None = None,
    labels: str | None = None,
    skip_bad: int = 0,
    overwrite: int = 0,
    progress_interval: int | None = None,
) -> None:
    """A folder of images (sorted by name), optionally resized, converted and labelled.

    Every image's header is checked before anything is written, and all bad files are
    reported at once; ``skip_bad`` leaves them out instead (see
    :mod:`tfstylegan.data.image_folder`). The record order is that of a folder without
    the bad files.
    """
    print(f'Loading images from "{image_dir}"')
    filenames = image_folder.list_images(image_dir)
    load = image_folder.ImageLoader(channels=channels, resize=resize, resize_mode=resize_mode)
    bad = []
    for path in filenames:
        try:
            load.check(path)
        except DatasetError as e:
            bad.append((path, str(e)))
    while True:
        if bad and not skip_bad:
            hint = "fix or remove the bad files, or pass --skip_bad to leave them out"
            raise DatasetError(image_folder.bad_files_message(image_dir, bad, len(filenames), hint))
        if bad:
            image_folder.warn(
                image_folder.bad_files_message(image_dir, bad, len(filenames), "left out: --skip_bad")
            )
        skipped = {path for path, _ in bad}
        good = [path for path in filenames if path not in skipped]
        if not good:
            raise DatasetError(f"no usable images in {image_dir}")
        label_array = None
        if labels is not None:
            label_array = image_labels.read_labels_file(labels, [paths.basename(f) for f in good])
        failed = _write_images(tfrecord_dir, good, load, label_array, shuffle, overwrite, progress_interval)
        if not failed:
            return
        bad = sorted(bad + failed)  # Damage found only when decoding: report, or write again without.


def _write_images(tfrecord_dir, filenames, load, label_array, shuffle, overwrite, progress_interval):
    """Writes the images; returns the ``(path, reason)`` of those that failed to decode (nothing written then)."""
    tfr = _exporter(tfrecord_dir, len(filenames), overwrite, progress_interval)
    failed = []
    try:
        order = tfr.choose_shuffled_order() if shuffle else np.arange(len(filenames))
        for idx in order:
            try:
                image = load(filenames[idx])
            except DatasetError as e:
                failed.append((filenames[idx], str(e)))
                continue
            if not failed:
                tfr.add_image(image)
        if failed:
            tfr.abort()
            return failed
        if label_array is not None:
            tfr.add_labels(label_array[order])
    except BaseException:
        tfr.abort()
        raise
    tfr.close()
    return []


def create_from_hdf5(
    tfrecord_dir: str,
    hdf5_filename: str,
    shuffle: int = 1,
    overwrite: int = 0,
    progress_interval: int | None = None,
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
    num_images: int = 1000,
    resolution: int = 32,
    labels: int = 0,
    random_seed: int = 123,
    overwrite: int = 0,
    progress_interval: int | None = None,
) -> None:
    """The built-in coloured-shapes dataset (see :mod:`tfstylegan.data.synthetic`)."""
    print(f"Drawing {num_images} synthetic {resolution}x{resolution} images (seed {random_seed})")
    images, classes = synthetic.generate_shapes(num_images, resolution, random_seed)
    onehot = np.eye(len(synthetic.SHAPES), dtype=np.float32)[classes] if labels else None
    _write_all(tfrecord_dir, images, onehot, False, overwrite, progress_interval)
