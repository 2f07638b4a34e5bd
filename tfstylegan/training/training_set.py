"""Opening the training data named by a configuration, with errors that name the flag."""

from __future__ import annotations

import os

import tensorflow as tf

from tfstylegan.data.tfrecords import DatasetError, TFRecordDataset
from tfstylegan.paths import PathError, check_remote_path
from tfstylegan.resolution import resolution_log2
from tfstylegan.training.config import ConfigError, DatasetInfo, TrainConfig

SYNTHETIC_RESOLUTION = 32
SYNTHETIC_CLASSES = 4  # circle, square, triangle, cross


def wants_labels(cfg: TrainConfig) -> bool:
    return cfg.max_label_size not in (0, "0", None)


def synthetic_dir(cfg: TrainConfig) -> str:
    """Where the built-in shapes dataset of this configuration is written (and reused)."""
    suffix = "-labels" if wants_labels(cfg) else ""
    return os.path.join(cfg.result_dir, f"_synthetic-shapes{SYNTHETIC_RESOLUTION}-{cfg.synthetic_images}{suffix}")


def _max_label_size(cfg: TrainConfig):
    value = cfg.max_label_size
    if value in ("full", None):
        return value or 0
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise ConfigError("max_label_size", value, "expected 'full' or a number of label components >= 0") from None
    if value < 0:
        raise ConfigError("max_label_size", value, "expected 'full' or a number of label components >= 0")
    return value


def _open(cfg: TrainConfig, path: str) -> TFRecordDataset:
    """The dataset at the configured resolution; ``full_resolution`` is set to the files' largest."""
    try:
        full = TFRecordDataset(path, max_label_size=_max_label_size(cfg))
        full_resolution = full.resolution
        if cfg.resolution is not None:
            try:
                resolution_log2(cfg.resolution)
            except ValueError:
                raise ConfigError("resolution", cfg.resolution, "expected a power of two >= 4") from None
            if cfg.resolution > full.resolution:
                raise ConfigError(
                    "resolution",
                    cfg.resolution,
                    f"the dataset at {path} is only {full.resolution}x{full.resolution}; "
                    f"this configuration trains at {cfg.resolution} (use a larger dataset or another --config)",
                )
            if cfg.resolution != full.resolution:
                full = TFRecordDataset(path, resolution=cfg.resolution, max_label_size=_max_label_size(cfg))
    except DatasetError as e:
        raise ConfigError("data_dir", path, str(e)) from None
    if wants_labels(cfg) and full.label_size == 0:
        raise ConfigError(
            "max_label_size",
            cfg.max_label_size,
            f"labels were requested (--cond / --max_label_size) but the dataset at {path} has none "
            "(no *.labels file)",
        )
    full.full_resolution = full_resolution
    return full


def dataset_info(cfg: TrainConfig) -> DatasetInfo:
    """The data's resolution, channels and labels, without creating anything."""
    if cfg.data_dir is not None and "://" in cfg.data_dir:
        try:
            check_remote_path(cfg.data_dir)
        except PathError as e:
            raise ConfigError("data_dir", cfg.data_dir, str(e).removeprefix(f"{cfg.data_dir}: ")) from None
    if cfg.data_dir is None:
        labels = SYNTHETIC_CLASSES if wants_labels(cfg) else 0
        if cfg.resolution not in (None, SYNTHETIC_RESOLUTION):
            raise ConfigError(
                "resolution", cfg.resolution, f"the built-in dataset is {SYNTHETIC_RESOLUTION}x{SYNTHETIC_RESOLUTION}"
            )
        _max_label_size(cfg)
        return DatasetInfo(synthetic_dir(cfg), SYNTHETIC_RESOLUTION, 3, labels, cfg.synthetic_images)
    return info_of(_open(cfg, cfg.data_dir))


def info_of(ts: TFRecordDataset) -> DatasetInfo:
    """The :class:`DatasetInfo` of an opened dataset."""
    full = getattr(ts, "full_resolution", ts.resolution)
    return DatasetInfo(ts.tfrecord_dir, ts.resolution, ts.num_channels, ts.label_size, ts.num_images, full)


def open_training_set(cfg: TrainConfig, create: bool = True, worker: int = 0) -> TFRecordDataset:
    """The training set; the built-in shapes are generated on first use when ``data_dir`` is None.

    Args:
        cfg: the configuration.
        create: generate the built-in shapes if they are missing.
        worker: this process' worker index (multi-worker training). Every worker writes
            its own copy of the built-in shapes (``..-worker<i>`` beside the chief's): the
            images are a function of a fixed seed, so the copies are identical, and no
            two processes ever write one folder (the result directory may be shared).
    """
    if cfg.data_dir is not None:
        return _open(cfg, cfg.data_dir)
    from tfstylegan.data.synthetic import create_synthetic_dataset

    path = synthetic_dir(cfg) + (f"-worker{worker}" if worker else "")
    try:
        return _open(cfg, path)
    except ConfigError:
        if not create:
            raise
    tf.io.gfile.makedirs(cfg.result_dir)
    create_synthetic_dataset(
        path, num_images=cfg.synthetic_images, resolution=SYNTHETIC_RESOLUTION, labels=wants_labels(cfg), overwrite=True
    )
    return _open(cfg, path)
