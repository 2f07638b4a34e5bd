"""Run metrics by name on a generator and a dataset, and report them like the original.

:func:`run_metrics` is what both the ``tfstylegan-calc-metrics`` tool and a training
loop call: it takes ``Gs``, a dataset directory in the original TFRecord format and
metric names, and returns the values. The generator is evaluated as the original's
metrics do: ``is_validation=True`` (so no truncation unless the network was configured
with ``truncation_psi_val``) and fresh noise, here drawn from a seeded generator.

Example::

    features = InceptionFeatures("inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5")
    results = run_metrics(Gs, "datasets/ffhq", ["fid50k"], features=features, cache_dir="cache")
    # {"fid50k": 4.4, "fid50k_time_s": 5400.2}
    print(result_line("network-final", "fid50k", results))
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

import tensorflow as tf

from tfstylegan.data.tfrecords import DatasetError, TFRecordDataset
from tfstylegan.metrics.fid import InceptionFeatures, get_metric, label_sampler_from_array

LABEL_MODES = ("zeros", "dataset")


def format_time(seconds: float) -> str:
    """A duration the way the original logs it: ``12s``, ``1m 23s``, ``2h 03m 04s``, ``1d 02h 03m``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 60 * 60:
        return f"{s // 60}m {s % 60:02d}s"
    if s < 24 * 60 * 60:
        return f"{s // 3600}h {(s // 60) % 60:02d}m {s % 60:02d}s"
    return f"{s // 86400}d {(s // 3600) % 24:02d}h {(s // 60) % 60:02d}m"


def result_line(network_name: str, metric: str, results: dict[str, float]) -> str:
    """One line per metric, laid out like the original's metric logs.

    ``<network name, 30 columns> time <duration, 12 columns> <metric> <value>``, e.g.
    ``network-snapshot-010000         time 1m 23s       fid50k 12.3456``.
    """
    name = os.path.splitext(os.path.basename(os.path.normpath(network_name)))[0]
    if len(name) > 29:
        name = "..." + name[-26:]
    duration = format_time(results[f"{metric}_time_s"])
    return f"{name:<30s} time {duration:<12s} {metric} {results[metric]:<10.4f}".rstrip()


def run_metrics(
    Gs,
    data_dir: str | os.PathLike,
    metrics: Sequence[str],
    *,
    features: InceptionFeatures | None = None,
    inception_weights: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    minibatch_size: int = 8,
    truncation_psi: float | None = None,
    truncation_cutoff: int | None = None,
    mirror_augment: bool = False,
    label_mode: str = "zeros",
    seed: int = 0,
) -> dict[str, float]:
    """Evaluate metrics (``fid50k``, ``fid10k``, ``fid500``, ...) of a generator.

    Args:
        Gs: The generator (:class:`~tfstylegan.GStyle`).
        data_dir: Dataset directory (``*-rNN.tfrecords``); its full-resolution images are
            the reals, read in file order and repeated if the metric needs more.
        metrics: Metric names for :func:`~tfstylegan.metrics.fid.get_metric`.
        features: A ready feature extractor (reuse one across calls in a training loop);
            None = build :class:`InceptionFeatures` from ``inception_weights``.
        inception_weights: The Inception weights file, when ``features`` is None.
        cache_dir: Where real-image statistics are cached; None = no cache.
        minibatch_size: Images per generator call.
        truncation_psi: None = the original's validation behaviour (the network's
            ``truncation_psi_val``, normally no truncation); else this psi.
        truncation_cutoff: With ``truncation_psi``: layers truncated; None = the
            network's configured cutoff.
        mirror_augment: Mirror a random half of the reals, for datasets trained with
            mirror augmentation (as the original).
        label_mode: For conditional networks: ``zeros`` feeds all-zero labels (what the
            original's metrics feed), ``dataset`` samples the dataset's labels.
        seed: Seed of the latents, the noise and the label sampling.

    Returns:
        ``{name: value, name + "_time_s": seconds}`` for every metric.

    Raises:
        ValueError: an unknown metric or label mode.
        DatasetError: a dataset that does not fit the network.
        InceptionWeightsError: no usable Inception weights.
    """
    metric_objs = [
        dataclasses.replace(get_metric(name), minibatch_size=int(minibatch_size)) for name in metrics
    ]
    if label_mode not in LABEL_MODES:
        raise ValueError(f"label_mode must be one of {LABEL_MODES}, got {label_mode!r}")
    cfg = Gs.cfg
    label_size = int(cfg.label_size)
    dataset = TFRecordDataset(
        os.fspath(data_dir),
        max_label_size="full" if (label_size and label_mode == "dataset") else 0,
        shuffle_mb=0,
        prefetch_mb=16,
        repeat=True,
    )
    if dataset.resolution != cfg.resolution or dataset.num_channels != cfg.num_channels:
        raise DatasetError(
            f"{data_dir} holds {dataset.resolution}x{dataset.resolution} images with {dataset.num_channels} "
            f"channel(s), but the network makes {cfg.resolution}x{cfg.resolution} with {cfg.num_channels}"
        )
    label_sampler = None
    if label_size and label_mode == "dataset":
        if dataset.label_size != label_size:
            raise DatasetError(
                f"{data_dir} has labels of size {dataset.label_size}, but the network takes {label_size}"
            )
        label_sampler = label_sampler_from_array(dataset.labels, seed=seed)
    if features is None:
        features = InceptionFeatures(inception_weights)

    overrides = {}
    if truncation_psi is not None:
        cutoff = cfg.truncation_cutoff if truncation_cutoff is None else truncation_cutoff
        overrides = dict(truncation_psi_val=truncation_psi, truncation_cutoff_val=cutoff)
    noise = tf.random.Generator.from_seed(seed)

    @tf.function
    def generate(latents, labels):
        return Gs(
            latents,
            labels if label_size else None,
            is_validation=True,
            randomize_noise=True,
            rng=noise,
            **overrides,
        )

    results: dict[str, float] = {}
    for metric in metric_objs:
        reals = dataset.as_dataset(max(minibatch_size, 64)).as_numpy_iterator()
        with dataset.naming_read_errors():
            results.update(
                metric.compute(
                    generate,
                    features,
                    reals,
                    latent_size=int(cfg.latent_size),
                    dataset_path=dataset.tfrecord_dir,
                    resolution=dataset.resolution,
                    cache_dir=cache_dir,
                    mirror_augment=mirror_augment,
                    label_size=label_size,
                    label_sampler=label_sampler,
                    seed=seed,
                )
            )
    return results


__all__ = ["LABEL_MODES", "format_time", "result_line", "run_metrics"]
