"""``python -m tfstylegan.metrics.lpips_convert``: the LPIPS-VGG16 ``.npz`` from other files.

::

    python -m tfstylegan.metrics.lpips_convert --output=lpips_vgg16.npz \\
        --keras_vgg16=vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 --lin=lpips_lin.npz
    python -m tfstylegan.metrics.lpips_convert --output=lpips_vgg16.npz --pickle=vgg16_zhang_perceptual.pkl

``--lin``: an ``.npz`` with ``lin0`` .. ``lin4`` (64, 128, 256, 512, 512 values). Keras' VGG16
weights are Caffe's (BGR input minus the Caffe means); the file says so and the distance
preprocesses accordingly. See docs/metrics.md for the layout and what such a file compares with.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from absl import flags

from tfstylegan.cli._runner import run_tool, usage_error

FLAGS = flags.FlagValues()
_d = dict(flag_values=FLAGS)
flags.DEFINE_string("output", None, "The .npz to write.", **_d)
flags.DEFINE_string("pickle", None, "NVIDIA's vgg16_zhang_perceptual.pkl to convert.", **_d)
flags.DEFINE_string("keras_vgg16", None, "Keras VGG16 weights (.h5, include_top=False) to convert.", **_d)
flags.DEFINE_string("lin", None, "With --keras_vgg16: .npz of the LPIPS linear layers lin0..lin4.", **_d)
flags.mark_flag_as_required("output", flag_values=FLAGS)


def _main(argv: list[str]) -> None:
    from tfstylegan.metrics.lpips_convert import read_lin, weights_from_keras_vgg16
    from tfstylegan.metrics.lpips_weights import load_lpips_weights, save_lpips_npz

    if len(argv) > 1:
        raise usage_error("output", f"unexpected arguments {argv[1:]}")
    if (FLAGS.pickle is None) == (FLAGS.keras_vgg16 is None):
        raise usage_error("pickle", "give exactly one of --pickle and --keras_vgg16")
    if FLAGS.pickle is not None:
        weights = load_lpips_weights(FLAGS.pickle)
    else:
        if FLAGS.lin is None:
            raise usage_error(
                "lin", "--keras_vgg16 needs the LPIPS linear layers (--lin=<.npz of lin0..lin4>)"
            )
        for name in ("keras_vgg16", "lin"):
            if not os.path.isfile(FLAGS[name].value):
                raise usage_error(name, f"{FLAGS[name].value}: no such file")
        weights = weights_from_keras_vgg16(FLAGS.keras_vgg16, read_lin(FLAGS.lin))
    save_lpips_npz(FLAGS.output, weights)
    print(f"Wrote {FLAGS.output} (preprocess={weights.preprocess})")


def main(argv: Sequence[str] | None = None, prog: str = "python -m tfstylegan.metrics.lpips_convert") -> int:
    """Run the converter on a command line; returns the exit status (1 on a usage or input error)."""
    return run_tool(_main, FLAGS, argv, prog=prog, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
