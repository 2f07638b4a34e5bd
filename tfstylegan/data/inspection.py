"""Looking at a dataset in the multi-resolution format: the dataset tool's display, extract, compare and info."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from tfstylegan import paths
from tfstylegan.data.tfrecords import TFRecordDataset
from tfstylegan.images import image_grid, write_png


def _open_dataset(tfrecord_dir: str, max_label_size) -> TFRecordDataset:
    """The dataset in file order (no shuffling, no repeat), announced as the original tool does."""
    print(f'Loading dataset "{tfrecord_dir}"')
    return TFRecordDataset(tfrecord_dir, max_label_size=max_label_size, repeat=False, shuffle_mb=0)


def display(tfrecord_dir: str, output: str | None = None, num_images: int = 64) -> None:
    """Writes the first images of a dataset as a grid PNG and prints their labels."""
    dset = _open_dataset(tfrecord_dir, "full")
    images, labels = next(dset.iter_np(0, minibatch_size=max(num_images, 1)))
    n, h, w, _ = images.shape
    grid = image_grid(images)  # ceil(sqrt(n)) columns
    rows, cols = grid.shape[0] // h, grid.shape[1] // w
    if output is None:
        output = f"{paths.basename(tfrecord_dir)}-grid.png"
    write_png(output, grid)
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
            write_png(paths.join(output_dir, f"img{idx:08d}.png"), image)
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
            f"  labels       {dset.label_size} components ({kind}) in {paths.basename(dset.label_file)}, {size} bytes"
        )
    print("  levels")
    for lod, path in sorted(dset.tfr_files.items()):
        size = tf.io.gfile.stat(path).length
        total += size
        lh, lw, _ = dset.level_shape(lod)
        print(
            f"    lod {lod}  {paths.basename(path):28s} {lw:5d}x{lh:<5d} {dset.num_images} records  {size} bytes"
        )
    print(f"  size on disk {total} bytes ({total / 2**20:.1f} MiB)")
    if verify:
        dset.verify()
        print("  verified     every record of every level reads back")
