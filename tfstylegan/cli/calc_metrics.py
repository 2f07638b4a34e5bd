"""Compute metrics (FID, PPL, SWD) of a trained generator against a dataset.

::

    tfstylegan-calc-metrics --network=network.pkl --data_dir=datasets/ffhq \\
        --metrics=fid50k,ppl_wend,swd16k --inception_weights=classify_image_graph_def.pb \\
        --vgg16_weights=vgg16_zhang_perceptual.pkl --mirror_augment --cache_dir=cache

Prints one line per metric in the original's layout (network name, time, value), e.g.
``network-final                  time 1h 32m 10s  fid50k 4.4159``, and appends it to
``<run_dir>/metric-<name>.txt`` when a run directory is known (``--run_dir``, or
``--network`` itself when it is a run directory).

Metrics: ``fid50k`` (the paper's; ``fid<N>k`` / ``fid<N>`` for other image counts),
``ppl_zfull``, ``ppl_wfull``, ``ppl_zend``, ``ppl_wend`` (100k samples; ``ppl_wend10k`` for
fewer), ``swd16k`` (ProGAN's; ``swd<N>k`` = N x 1024 images, e.g. ``swd1k``). The generator
runs as in the original's metrics: ``is_validation=True`` (no truncation unless
``--truncation_psi`` is given) and fresh noise; PPL never truncates. FID needs an Inception
file (``--inception_weights``: the 2015 graph ``classify_image_graph_def.pb`` for the papers'
numbers, or Keras' ``.h5``), PPL the LPIPS-VGG16 weights (``--vgg16_weights``), SWD nothing.
Nothing is downloaded; docs/metrics.md says where the files come from.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from absl import flags

from tfstylegan.cli._runner import (
    MAX_BATCH,
    check_output_flag,
    load_networks_from_flag,
    make_output_dir,
    run_tool,
    usage_error,
)

FLAGS = flags.FlagValues()
_d = dict(flag_values=FLAGS)
flags.DEFINE_string("network", None, "Network pickle, .keras file or training run directory.", **_d)
flags.DEFINE_string("data_dir", None, "Dataset directory with the *-rNN.tfrecords files.", **_d)
flags.DEFINE_list("metrics", ["fid50k"], "Metrics: fid50k, fid<N>k, ppl_zfull/wfull/zend/wend, swd16k, swd<N>k.", **_d)
flags.DEFINE_string(
    "inception_weights",
    None,
    "For FID: the 2015 Inception graph classify_image_graph_def.pb (the papers' FIDs) or the Keras "
    "InceptionV3 'notop' weights inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5.",
    **_d,
)
flags.DEFINE_string(
    "vgg16_weights", None, "For PPL: vgg16_zhang_perceptual.pkl or an LPIPS-VGG16 .npz (docs/metrics.md).", **_d
)
flags.DEFINE_bool("ppl_crop", True, "PPL crops to the face region, as the original (FFHQ); off = whole image.", **_d)
flags.DEFINE_string("cache_dir", None, "Directory caching real-image statistics; unset = no cache.", **_d)
flags.DEFINE_integer(
    "minibatch",
    None,
    f"Generated images per network call, at most {MAX_BATCH}; unset = each metric's own (FID 8).",
    lower_bound=1,
    upper_bound=MAX_BATCH,
    **_d,
)
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
flags.DEFINE_string(
    "run_dir", None, "Append each result line to <run_dir>/metric-<name>.txt (created if needed).", **_d
)
flags.DEFINE_bool(
    "testonly_random_inception",
    False,
    "TESTS ONLY: random Inception weights; every value is meaningless.",
    **_d,
)
flags.DEFINE_integer(
    "testonly_inception_resolution", 299, "TESTS ONLY: Inception input size (>= 75).", lower_bound=75, **_d
)
flags.DEFINE_bool("testonly_random_vgg16", False, "TESTS ONLY: random VGG16 weights; PPLs are meaningless.", **_d)
flags.mark_flags_as_required(["network", "data_dir"], flag_values=FLAGS)


def _main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise usage_error("network", f"unexpected arguments {argv[1:]}; every option is a --flag")
    from tfstylegan.metrics.registry import get_metrics, metric_needs

    try:
        needs = metric_needs(get_metrics(FLAGS.metrics))
    except ValueError as e:
        raise usage_error("metrics", str(e)) from None
    if not os.path.isdir(FLAGS.data_dir):
        raise usage_error("data_dir", f"{FLAGS.data_dir} is not a directory")
    if FLAGS.run_dir is not None and "://" in FLAGS.run_dir:
        raise usage_error("run_dir", f"{FLAGS.run_dir}: the result lines are appended to local files; give a local folder")
    for flag in ("run_dir", "cache_dir"):  # Both are folders this tool writes into (created if missing).
        if FLAGS[flag].value is not None:
            check_output_flag(flag, FLAGS[flag].value)

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
    # Build the feature networks before loading anything big: a missing weights file is reported at once.
    features, distance = _feature_networks(needs)
    Gs = load_networks_from_flag(network_file).Gs
    print(f'Evaluating {",".join(FLAGS.metrics)} of "{network_file}" on "{FLAGS.data_dir}"', flush=True)
    for name in FLAGS.metrics:
        try:
            results = run_metrics(
                Gs,
                FLAGS.data_dir,
                [name],
                features=features,
                distance=distance,
                cache_dir=FLAGS.cache_dir,
                minibatch_size=FLAGS.minibatch,
                truncation_psi=FLAGS.truncation_psi,
                truncation_cutoff=FLAGS.truncation_cutoff,
                mirror_augment=FLAGS.mirror_augment,
                label_mode=FLAGS.label_mode,
                seed=FLAGS.seed,
                ppl_crop=FLAGS.ppl_crop,
                log=lambda line: print(line, file=sys.stderr, flush=True),
            )
        except DatasetError as e:
            raise usage_error("data_dir", str(e)) from None
        line = result_line(network_file, name, results)
        print(line, flush=True)
        if run_dir is not None:
            make_output_dir(run_dir, flag="run_dir")
            with open(os.path.join(run_dir, f"metric-{name}.txt"), "a") as f:
                f.write(line + "\n")


def _feature_networks(needs: set[str]):
    """The Inception features and LPIPS distance the metrics need (None where not needed)."""
    from tfstylegan.metrics.inception import InceptionFeatures
    from tfstylegan.metrics.lpips import LPIPS

    if FLAGS.testonly_random_inception or FLAGS.testonly_random_vgg16:
        print(
            "WARNING: --testonly_random_*: a feature network has RANDOM weights; the values "
            "below are MEANINGLESS and only exercise the code.",
            file=sys.stderr,
        )
        import keras

        keras.utils.set_random_seed(FLAGS.seed)  # The same random network on every run.
    features = distance = None
    if "features" in needs:
        features = InceptionFeatures(
            FLAGS.inception_weights,
            resolution=FLAGS.testonly_inception_resolution,
            allow_random_init=FLAGS.testonly_random_inception,
        )
    if "distance" in needs:
        distance = LPIPS(FLAGS.vgg16_weights, allow_random_init=FLAGS.testonly_random_vgg16)
    return features, distance


def main(argv: Sequence[str] | None = None, prog: str = "tfstylegan-calc-metrics") -> int:
    """Run the tool on a command line (``argv[0]`` is the program name; None = ``sys.argv``).

    Returns:
        The exit status: 0 on success, 1 on a usage or input error (reported on stderr).
    """
    return run_tool(_main, FLAGS, argv, prog=prog, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
