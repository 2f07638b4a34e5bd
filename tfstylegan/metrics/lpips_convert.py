"""Write the ``.npz`` LPIPS-VGG16 weights (docs/metrics.md) from other files.

The functions here convert; the command line is :mod:`tfstylegan.cli.lpips_convert`.

::

    # From Keras' VGG16 ImageNet weights and the five LPIPS linear layers:
    python -m tfstylegan.metrics.lpips_convert --output=lpips_vgg16.npz \\
        --keras_vgg16=vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5 --lin=lpips_lin.npz
    # From NVIDIA's pickle (the same weights as the pickle, in a file without pickles):
    python -m tfstylegan.metrics.lpips_convert --output=lpips_vgg16.npz --pickle=vgg16_zhang_perceptual.pkl

``--lin`` is an ``.npz`` with ``lin0`` .. ``lin4`` (C = 64, 128, 256, 512, 512 values each,
any shape, e.g. the ``[1, C, 1, 1]`` weights of the LPIPS repository's ``vgg.pth``). Keras'
VGG16 weights come from Caffe (BGR, mean-subtracted input), so the file is marked
``preprocess="caffe"``; they are not the VGG16 the LPIPS layers were trained on, so PPLs from
it compare only with PPLs from the same file, not with the papers'.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np

from tfstylegan.metrics.lpips_weights import LIN_CHANNELS, LPIPSWeights, VGG16WeightsError


def weights_from_keras_vgg16(path: str, lin: Sequence[np.ndarray]) -> LPIPSWeights:
    """The 13 convs of a Keras VGG16 weights file plus the LPIPS layers, ``preprocess="caffe"``.

    Raises:
        VGG16WeightsError: the file does not load into ``keras.applications.VGG16``.
    """
    import keras  # noqa: PLC0415 (only this conversion needs Keras)

    model = keras.applications.VGG16(include_top=False, weights=None)
    try:
        model.load_weights(path)
    except Exception as e:  # h5py and Keras raise many types here
        raise VGG16WeightsError(f"{path}: not Keras VGG16 weights ({type(e).__name__}: {e})") from None
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    kernels, biases = zip(*(layer.get_weights() for layer in convs))
    return LPIPSWeights(
        list(kernels), list(biases), [np.asarray(w, np.float32).reshape(-1) for w in lin], "caffe"
    )


def read_lin(path: str) -> list[np.ndarray]:
    """``lin0`` .. ``lin4`` of an ``.npz``, flattened."""
    try:
        with np.load(path, allow_pickle=False) as data:
            lin = [np.asarray(data[f"lin{i}"], np.float32).reshape(-1) for i in range(5)]
    except (OSError, KeyError, ValueError) as e:
        raise VGG16WeightsError(
            f"{path}: expected an .npz with lin0..lin4 ({type(e).__name__}: {e})"
        ) from None
    sizes = [w.size for w in lin]
    if sizes != LIN_CHANNELS:
        raise VGG16WeightsError(f"{path}: lin0..lin4 have {sizes} values, expected {LIN_CHANNELS}")
    return lin


if __name__ == "__main__":
    from tfstylegan.cli.lpips_convert import main  # noqa: PLC0415

    sys.exit(main())

__all__ = ["read_lin", "weights_from_keras_vgg16"]
