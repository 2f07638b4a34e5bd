"""Compute metrics (FID) of a trained generator against a dataset.

::

    tfstylegan-calc-metrics --network=network.pkl --data_dir=datasets/ffhq \\
        --metrics=fid50k --inception_weights=inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5 \\
        --mirror_augment --cache_dir=cache

Prints one line per metric in the original's layout (network name, time, value), e.g.
``network-final                  time 1h 32m 10s  fid50k 4.4159``, and appends it to
``<run_dir>/metric-<name>.txt`` when a run directory is known (``--run_dir``, or
``--network`` itself when it is a run directory).

Metrics: ``fid50k`` (the paper's), or ``fid<N>k`` / ``fid<N>`` for other image counts.
The generator runs as in the original's metrics: ``is_validation=True`` (no truncation
unless ``--truncation_psi`` is given) and fresh noise. FID needs the Keras ImageNet
Inception-v3 weights file (``--inception_weights``); nothing is downloaded.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from absl import flags

from tfstylegan.cli._runner import load_networks_from_flag, run_tool, usage_error

FLAGS = flags.FlagValues()
_d = dict(flag_values=FLAGS)
flags.DEFINE_string("network", None, "Network pickle, .keras file or training run directory.", **_d)
flags.DEFINE_string("data_dir", None, "Dataset directory with the *-rNN.tfrecords files.", **_d)
flags.DEFINE_list("metrics", ["fid50k"], "Metrics to compute: fid50k, fid<N>k, fid<N>.", **_d)
flags.DEFINE_string(
    "inception_weights",
    None,
    "The Keras ImageNet InceptionV3 'notop' weights file "
    "(inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5). Required for FID.",
    **_d,
)
flags.DEFINE_string("cache_dir", None, "Directory caching real-image statistics; unset = no cache.", **_d)
flags.DEFINE_integer("minibatch", 8, "Generated images per network call.", lower_bound=1, **_d)
flags.DEFINE_float(
    "truncation_psi",
    None,
    "Truncate the generator with this psi; unset = no truncation (validation mode).",
    **_d,
)
flags.DEFINE_integer(
    "truncation_cutoff",
    None,
    "With --truncation_psi: layers truncated; unset = the network's value.",
    lower_bound=0,
    **_d,
)
flags.DEFINE_bool(
    "mirror_augment", False, "Mirror a random half of the real images (datasets trained so).", **_d
)
flags.DEFINE_enum(
    "label_mode",
    "zeros",
    ["zeros", "dataset"],
    "Conditional networks: zeros = all-zero labels (the original), dataset = the dataset's labels.",
    **_d,
)
flags.DEFINE_integer("seed", 0, "Seed of the latents, noise and labels.", lower_bound=0, **_d)
flags.DEFINE_string("run_dir", None, "Append each result line to <run_dir>/metric-<name>.txt.", **_d)
flags.DEFINE_bool(
    "testonly_random_inception",
    False,
    "TESTS ONLY: random Inception weights; every value is meaningless.",
    **_d,
)
flags.DEFINE_integer(
    "testonly_inception_resolution", 299, "TESTS ONLY: Inception input size (>= 75).", lower_bound=75, **_d
)
flags.mark_flags_as_required(["network", "data_dir"], flag_values=FLAGS)


def _main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise usage_error("network", f"unexpected arguments {argv[1:]}; every option is a --flag")
    from tfstylegan.metrics.fid import InceptionFeatures, get_metric

    for name in FLAGS.metrics:
        try:
            get_metric(name)
        except ValueError as e:
            raise usage_error("metrics", str(e)) from None
    if not os.path.isdir(FLAGS.data_dir):
        raise usage_error("data_dir", f"{FLAGS.data_dir} is not a directory")
    if FLAGS.run_dir is not None and not os.path.isdir(FLAGS.run_dir):
        raise usage_error("run_dir", f"{FLAGS.run_dir} is not a directory")

    from tfstylegan.data.tfrecords import DatasetError
    from tfstylegan.loading import NetworkSourceError, locate_network_file
    from tfstylegan.metrics.runner import result_line, run_metrics

    try:
        network_file = locate_network_file(FLAGS.network)
    except NetworkSourceError as e:
        raise usage_error("network", str(e)) from None
    run_dir = FLAGS.run_dir
    if run_dir is None and os.path.isdir(FLAGS.network):
        run_dir = FLAGS.network

    if FLAGS.testonly_random_inception:
        print(
            "WARNING: --testonly_random_inception: the Inception network has RANDOM weights; the values "
            "below are MEANINGLESS and only exercise the code.",
            file=sys.stderr,
        )
        import keras

        keras.utils.set_random_seed(FLAGS.seed)  # The same random network on every run.
    # Build the feature extractor before loading anything big: a missing weights file is reported at once.
    features = InceptionFeatures(
        FLAGS.inception_weights,
        resolution=FLAGS.testonly_inception_resolution,
        allow_random_init=FLAGS.testonly_random_inception,
    )
    Gs = load_networks_from_flag(network_file).Gs
    print(f'Evaluating {",".join(FLAGS.metrics)} of "{network_file}" on "{FLAGS.data_dir}"', flush=True)
    for name in FLAGS.metrics:
        try:
            results = run_metrics(
                Gs,
                FLAGS.data_dir,
                [name],
                features=features,
                cache_dir=FLAGS.cache_dir,
                minibatch_size=FLAGS.minibatch,
                truncation_psi=FLAGS.truncation_psi,
                truncation_cutoff=FLAGS.truncation_cutoff,
                mirror_augment=FLAGS.mirror_augment,
                label_mode=FLAGS.label_mode,
                seed=FLAGS.seed,
            )
        except DatasetError as e:
            raise usage_error("data_dir", str(e)) from None
        line = result_line(network_file, name, results)
        print(line, flush=True)
        if run_dir is not None:
            with open(os.path.join(run_dir, f"metric-{name}.txt"), "a") as f:
                f.write(line + "\n")


def main(argv: Sequence[str] | None = None, prog: str = "tfstylegan-calc-metrics") -> int:
    """Run the tool on a command line (``argv[0]`` is the program name; None = ``sys.argv``).

    Returns:
        The exit status: 0 on success, 1 on a usage or input error (reported on stderr).
    """
    return run_tool(_main, FLAGS, argv, prog=prog, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
