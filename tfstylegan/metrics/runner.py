"""Run metrics by name on a generator and a dataset, and report them like the original.

:func:`run_metrics` is what both the ``tfstylegan-calc-metrics`` tool and a training
loop call: it takes ``Gs``, a dataset directory in the original TFRecord format and
metric names (``fid50k``, ``ppl_wend``, ``swd16k``, ...; see
:mod:`tfstylegan.metrics.registry`), and returns the values. The generator is evaluated as
the original's metrics do: ``is_validation=True`` (so no truncation unless the network was
configured with ``truncation_psi_val``) and fresh noise, here drawn from a seeded
generator; PPL calls the mapping and synthesis networks itself, without truncation.

Example::

    results = run_metrics(Gs, "datasets/ffhq", ["fid50k", "ppl_wend"], cache_dir="cache",
                          inception_weights="classify_image_graph_def.pb",
                          vgg16_weights="vgg16_zhang_perceptual.pkl")
    # {"fid50k": 4.4, "fid50k_time_s": 5400.2, "ppl_wend": 200.1, "ppl_wend_time_s": 3000.0}
    print(result_line("network-final", "fid50k", results))
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence

import tensorflow as tf

from tfstylegan import generation
from tfstylegan.data.tfrecords import DatasetError, TFRecordDataset
from tfstylegan.metrics.base import MetricContext, label_sampler_from_array
from tfstylegan.metrics.inception import InceptionFeatures
from tfstylegan.metrics.lpips import LPIPS
from tfstylegan.metrics.registry import get_metrics, metric_needs
from tfstylegan.progress import format_time

LABEL_MODES = ("zeros", "dataset")


def metric_values(metric: str, results: dict[str, float]) -> dict[str, float]:
    """The values ``metric`` reported in ``results``: its own key and ``<metric>_<suffix>`` keys
    (SWD's levels), in the order reported, without the time."""
    return {
        key: value
        for key, value in results.items()
        if (key == metric or key.startswith(metric + "_")) and key != f"{metric}_time_s"
    }


def result_line(network_name: str, metric: str, results: dict[str, float]) -> str:
    """One line per metric, laid out like the original's metric logs.

    ``<network name, 30 columns> time <duration, 12 columns> <key> <value> ...``, e.g.
    ``network-snapshot-010000         time 1m 23s       fid50k 12.3456``; metrics with several
    values (SWD's levels and average) list each as the original's ``MetricBase`` does.
    """
    name = os.path.splitext(os.path.basename(os.path.normpath(network_name)))[0]
    if len(name) > 29:
        name = "..." + name[-26:]
    duration = format_time(results[f"{metric}_time_s"])
    values = "".join(f" {key} {value:<10.4f}" for key, value in metric_values(metric, results).items())
    return f"{name:<30s} time {duration:<12s}{values}".rstrip()


def run_metrics(
    Gs,
    data_dir: str | os.PathLike,
    metrics: Sequence[str],
    *,
    features: InceptionFeatures | None = None,
    inception_weights: str | os.PathLike | None = None,
    distance: LPIPS | None = None,
    vgg16_weights: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    minibatch_size: int | None = None,
    truncation_psi: float | None = None,
    truncation_cutoff: int | None = None,
    mirror_augment: bool = False,
    label_mode: str = "zeros",
    seed: int = 0,
    ppl_crop: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict[str, float]:
    """Evaluate metrics (``fid50k``, ``ppl_wend``, ``swd16k``, ...) of a generator.

    Args:
        Gs: The generator (:class:`~tfstylegan.GStyle`).
        data_dir: Dataset directory (``*-rNN.tfrecords``); its full-resolution images are
            the reals, read in file order and repeated if the metric needs more.
        metrics: Metric names for :func:`~tfstylegan.metrics.registry.get_metric`.
        features: A ready Inception feature extractor for FID (reuse one across calls in a
            training loop); None = build :class:`InceptionFeatures` from
            ``inception_weights`` if an FID metric is asked for.
        inception_weights: The Inception file (2015 graph ``.pb`` or Keras ``.h5``).
        distance: A ready LPIPS distance for PPL; None = build :class:`LPIPS` from
            ``vgg16_weights`` if a PPL metric is asked for.
        vgg16_weights: ``vgg16_zhang_perceptual.pkl`` or an LPIPS ``.npz``.
        cache_dir: Where real-image statistics are cached; None = no cache.
        minibatch_size: Images per generator call; None = each metric's own (FID 8, SWD 16,
            PPL 32 = 16 pairs).
        truncation_psi: None = the original's validation behaviour (the network's
            ``truncation_psi_val``, normally no truncation); else this psi (FID, SWD).
        truncation_cutoff: With ``truncation_psi``: layers truncated; None = the
            network's configured cutoff.
        mirror_augment: Mirror a random half of the reals for FID, for datasets trained
            with mirror augmentation (as the original).
        label_mode: For conditional networks: ``zeros`` feeds all-zero labels (what the
            original's metrics feed), ``dataset`` samples the dataset's labels.
        seed: Seed of the latents, the noise and the label sampling.
        ppl_crop: PPL crops to the face region (the original, for FFHQ); False = whole image.
        log: Where progress lines go; None = ``absl.logging.info``.

    Returns:
        ``{name: value, name + "_time_s": seconds}`` for every metric, plus the extra
        values of metrics that report several (``swd16k_256``, ...).

    Raises:
        ValueError: an unknown metric or label mode.
        DatasetError: a dataset that does not fit the network.
        WeightsFileError: no usable Inception or VGG16 file for the metrics asked for.
    """
    metric_objs = _named_metrics(metrics, ppl_crop)
    if label_mode not in LABEL_MODES:
        raise ValueError(f"label_mode must be one of {LABEL_MODES}, got {label_mode!r}")
    dataset = _open_dataset(data_dir, Gs.cfg, bool(Gs.cfg.label_size) and label_mode == "dataset")
    features, distance = _feature_networks(metric_objs, features, inception_weights, distance, vgg16_weights)
    ctx = _metric_context(
        Gs,
        dataset,
        label_mode,
        generate=_validation_generator(Gs, truncation_psi, truncation_cutoff, seed),
        cache_dir=None if cache_dir is None else os.fspath(cache_dir),
        mirror_augment=mirror_augment,
        seed=seed,
        minibatch_size=minibatch_size,
        features=features,
        distance=distance,
        log=log,
    )
    results: dict[str, float] = {}
    for metric in metric_objs:
        with dataset.naming_read_errors():
            results.update(metric.compute(ctx))
    return results


def _named_metrics(names: Sequence[str], ppl_crop: bool) -> list:
    """The metric objects of ``names``; without ``ppl_crop``, PPL measures the whole image."""
    metric_objs = get_metrics(list(names))
    return [dataclasses.replace(m, crop=False) if hasattr(m, "crop") and not ppl_crop else m for m in metric_objs]


def _feature_networks(metric_objs, features, inception_weights, distance, vgg16_weights) -> tuple:
    """``(features, distance)``: those given, else built from their weights files if a metric needs them."""
    needs = metric_needs(metric_objs)
    if "features" in needs and features is None:
        features = InceptionFeatures(inception_weights)
    if "distance" in needs and distance is None:
        distance = LPIPS(vgg16_weights)
    return features, distance


def _metric_context(Gs, dataset: TFRecordDataset, label_mode: str, **settings) -> MetricContext:
    """The generator's sizes and the reals of ``dataset`` with ``settings`` (the other fields).

    ``label_mode="dataset"`` samples the labels of ``dataset`` with ``settings["seed"]``.
    """
    label_size = int(Gs.cfg.label_size)
    label_sampler = None
    if label_size and label_mode == "dataset":
        label_sampler = label_sampler_from_array(dataset.labels, seed=settings["seed"])
    reals_batch = max(settings["minibatch_size"] or 8, 64)
    return MetricContext(
        latent_size=int(Gs.cfg.latent_size),
        reals=lambda: dataset.as_dataset(reals_batch).as_numpy_iterator(),
        dataset_path=dataset.tfrecord_dir,
        resolution=dataset.resolution,
        label_size=label_size,
        label_sampler=label_sampler,
        Gs=Gs,
        **settings,
    )


def _validation_generator(Gs, truncation_psi, truncation_cutoff, seed: int):
    """``(latents, labels) -> images`` as the original's metrics run Gs: validation mode, seeded fresh noise."""
    label_size = int(Gs.cfg.label_size)
    noise = tf.random.Generator.from_seed(seed)

    @tf.function
    def generate(latents, labels):
        return generation.generate(
            Gs,
            latents,
            labels if label_size else None,
            truncation_psi=truncation_psi,
            truncation_cutoff=truncation_cutoff,
            is_validation=True,
            randomize_noise=True,
            rng=noise,
        )

    return generate


def _open_dataset(data_dir, cfg, with_labels: bool) -> TFRecordDataset:
    """The reals of ``data_dir``, checked against the network's resolution, channels and labels."""
    dataset = TFRecordDataset(
        os.fspath(data_dir),
        max_label_size="full" if with_labels else 0,
        shuffle_mb=0,
        prefetch_mb=16,
        repeat=True,
    )
    if dataset.resolution != cfg.resolution or dataset.num_channels != cfg.num_channels:
        raise DatasetError(
            f"{data_dir} holds {dataset.resolution}x{dataset.resolution} images with {dataset.num_channels} "
            f"channel(s), but the network makes {cfg.resolution}x{cfg.resolution} with {cfg.num_channels}"
        )
    if with_labels and dataset.label_size != cfg.label_size:
        raise DatasetError(f"{data_dir} has labels of size {dataset.label_size}, but the network takes {cfg.label_size}")
    return dataset


__all__ = ["LABEL_MODES", "format_time", "metric_values", "result_line", "run_metrics"]
