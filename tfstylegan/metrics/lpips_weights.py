"""The weights of the LPIPS-VGG16 distance: NVIDIA's pickle, or a documented ``.npz``.

Two user-supplied files are read, told apart by content:

- ``vgg16_zhang_perceptual.pkl`` (NVIDIA; used by StyleGAN's PPL and StyleGAN2's
  projector): one pickled ``dnnlib.tflib.network.Network`` whose build function
  (``lpips_network``) takes NCHW float images in [0, 255], divides by 255, normalises by
  the ImageNet mean/std (RGB), runs the 13 VGG16 convolutions (3x3, SAME, ReLU; 2x2
  SAME max-pooling between the stages) and weights the unit-normalised feature
  differences of the five stages with Zhang et al.'s linear layers. It is read through
  the allowlist unpickler of :mod:`tfstylegan.legacy` (nothing in it is run) and mapped
  strictly by position and shape: 31 variables, in creation order, 13 pairs of a conv
  kernel ``[3, 3, in, out]`` and a bias ``[out]`` with the VGG16 progression
  3-64-64-128-128-256-256-256-512-512-512-512-512-512, then the five linear layers
  ``[1, 1, C, 1]`` for C = 64, 128, 256, 512, 512. Anything else is an error that lists
  the file's variables.
- ``.npz`` (:data:`NPZ_FORMAT`): ``conv{1..13}_kernel`` ``[3, 3, in, out]``,
  ``conv{1..13}_bias`` ``[out]``, ``lin{0..4}`` ``[C]``, ``preprocess`` (``"imagenet"``:
  RGB, ``x / 255`` then ImageNet mean/std, as the pickle; ``"caffe"``: BGR, minus the
  Caffe means, for VGG16 weights ported from Caffe such as Keras') and ``format``.
  :mod:`tfstylegan.metrics.lpips_convert` writes it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import zipfile

import numpy as np

from tfstylegan.atomic import atomic_output
from tfstylegan.legacy import LegacyPickleError, NetworkStub, SafeUnpickler
from tfstylegan.metrics.base import WeightsFileError

VGG16_CHANNELS = [3, 64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512]
"""Input channels of conv 1, then the output channels of convs 1..13."""

FEATURE_CONVS = (2, 4, 7, 10, 13)
"""The convs (1-based) whose ReLU outputs LPIPS compares: the end of each VGG16 stage."""

LIN_CHANNELS = [64, 128, 256, 512, 512]
"""Channels of the five LPIPS linear layers."""

PREPROCESSING = ("imagenet", "caffe")

NPZ_FORMAT = "tfstylegan-lpips-vgg16-v1"
"""The ``format`` entry of the ``.npz`` layout."""

VGG16_PICKLE_FILENAME = "vgg16_zhang_perceptual.pkl"


class VGG16WeightsError(WeightsFileError):
    """The VGG16/LPIPS weights file is missing, unreadable or not of the expected layout."""


@dataclasses.dataclass
class LPIPSWeights:
    """The arrays of an LPIPS-VGG16 distance.

    Attributes:
        kernels: 13 conv kernels ``[3, 3, in, out]`` float32.
        biases: 13 conv biases ``[out]``.
        lin: 5 linear-layer weights ``[C]``.
        preprocess: ``"imagenet"`` or ``"caffe"`` (see the module docstring).
        identity: names the weights (a file digest), for logs and caches.
    """

    kernels: list[np.ndarray]
    biases: list[np.ndarray]
    lin: list[np.ndarray]
    preprocess: str = "imagenet"
    identity: str = "unknown"

    def __post_init__(self) -> None:
        problems = check_shapes(self.kernels, self.biases, self.lin)
        if problems:
            raise VGG16WeightsError("LPIPS-VGG16 weights of the wrong layout: " + "; ".join(problems))
        if self.preprocess not in PREPROCESSING:
            raise VGG16WeightsError(f"preprocess must be one of {PREPROCESSING}, got {self.preprocess!r}")


def expected_layout() -> list[tuple[str, tuple[int, ...]]]:
    """``(role, shape)`` of the pickle's 31 variables, in order."""
    layout = []
    for i in range(13):
        cin, cout = VGG16_CHANNELS[i], VGG16_CHANNELS[i + 1]
        layout += [(f"conv{i + 1} kernel", (3, 3, cin, cout)), (f"conv{i + 1} bias", (cout,))]
    layout += [(f"lin{i}", (1, 1, c, 1)) for i, c in enumerate(LIN_CHANNELS)]
    return layout


def check_shapes(kernels, biases, lin) -> list[str]:
    """Every way the arrays differ from the VGG16/LPIPS layout (empty if they fit)."""
    problems = []
    if len(kernels) != 13 or len(biases) != 13 or len(lin) != 5:
        return [
            f"expected 13 kernels, 13 biases and 5 linear weights, got {len(kernels)}, {len(biases)}, {len(lin)}"
        ]
    for i in range(13):
        want = (3, 3, VGG16_CHANNELS[i], VGG16_CHANNELS[i + 1])
        if np.shape(kernels[i]) != want:
            problems.append(f"conv{i + 1} kernel is {np.shape(kernels[i])}, expected {want}")
        if np.shape(biases[i]) != want[-1:]:
            problems.append(f"conv{i + 1} bias is {np.shape(biases[i])}, expected {want[-1:]}")
    for i, c in enumerate(LIN_CHANNELS):
        if np.shape(lin[i]) != (c,):
            problems.append(f"lin{i} is {np.shape(lin[i])}, expected ({c},)")
    return problems


def weights_from_state(state, source: str = "the pickle") -> LPIPSWeights:
    """Maps the variables of an unpickled LPIPS network strictly onto :class:`LPIPSWeights`.

    Args:
        state: a :class:`tfstylegan.legacy.NetworkState` with 31 own variables in the order
            of :func:`expected_layout` and no sub-networks.
        source: names the file in errors.

    Raises:
        VGG16WeightsError: any variable missing, extra, out of order or of another shape.
    """
    variables = list(state.variables)
    layout = expected_layout()
    problems = []
    if state.components:
        problems.append(f"it has sub-networks {list(state.components)}, expected none")
    if len(variables) != len(layout):
        problems.append(f"it has {len(variables)} variables, expected {len(layout)}")
    for i, ((name, value), (role, shape)) in enumerate(zip(variables, layout)):
        if tuple(np.shape(value)) != shape:
            problems.append(f"variable {i} {name!r} is {tuple(np.shape(value))}, expected the {role} {shape}")
    problems += _numbering_problems([name for name, _ in variables]) if len(variables) == len(layout) else []
    if problems:
        listing = "\n".join(
            f"  {i:2d} {name} {tuple(np.shape(value))}" for i, (name, value) in enumerate(variables)
        )
        expected = "\n".join(f"  {i:2d} {role} {shape}" for i, (role, shape) in enumerate(layout))
        raise VGG16WeightsError(
            f"{source}: network {state.name!r} is not the LPIPS-VGG16 network of {VGG16_PICKLE_FILENAME}: "
            + "; ".join(problems[:6])
            + f".\nIts variables:\n{listing}\nExpected, in this order:\n{expected}"
        )
    arrays = [np.asarray(value, np.float32) for _, value in variables]
    return LPIPSWeights(
        kernels=arrays[0:26:2],
        biases=arrays[1:26:2],
        lin=[a.reshape(-1) for a in arrays[26:]],
        preprocess="imagenet",
    )


def _numbering_problems(names: list[str]) -> list[str]:
    """Names numbered out of order (``conv9/...`` where ``conv10/...`` belongs), when they are numbered.

    Shapes cannot tell apart convs of one shape (conv9..conv13 are all ``[3, 3, 512, 512]``);
    names that carry layer numbers (``conv9/conv9``, ``perceptual_weight_3``) can.
    """
    numbers = [re.search(r"\d+", name) for name in names]
    if not all(numbers):
        return []
    found = [int(m.group()) for m in numbers]
    want = [i // 2 + 1 for i in range(26)] + list(range(5))
    return [
        f"variable {i} {names[i]!r} is numbered {got}, expected {expect} (out of order)"
        for i, (got, expect) in enumerate(zip(found, want))
        if got != expect
    ]


def _file_identity(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return "file-sha256:" + digest.hexdigest()


def _load_pickle(path: str) -> LPIPSWeights:
    try:
        with open(path, "rb") as f:
            network = SafeUnpickler(f).load()
    except LegacyPickleError as e:
        raise VGG16WeightsError(f"{path}: {e}") from None
    except Exception as e:  # a damaged or foreign pickle
        raise VGG16WeightsError(f"{path}: not a readable pickle ({type(e).__name__}: {e:.200})") from None
    if not isinstance(network, NetworkStub) or "state" not in network.__dict__:
        raise VGG16WeightsError(
            f"{path}: holds {type(network).__name__}, expected one pickled dnnlib.tflib.network.Network "
            f"(the LPIPS network of {VGG16_PICKLE_FILENAME})"
        )
    return weights_from_state(network.state, path)


def _load_npz(path: str) -> LPIPSWeights:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except Exception as e:
        raise VGG16WeightsError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None
    needed = [f"conv{i}_{p}" for i in range(1, 14) for p in ("kernel", "bias")] + [
        f"lin{i}" for i in range(5)
    ]
    missing = [k for k in needed + ["preprocess", "format"] if k not in arrays]
    extra = sorted(set(arrays) - set(needed) - {"preprocess", "format"})
    if missing or extra or str(arrays["format"]) != NPZ_FORMAT:
        found = ", ".join(f"{k} {arrays[k].shape}" for k in sorted(arrays))
        raise VGG16WeightsError(
            f"{path}: not an LPIPS-VGG16 .npz of format {NPZ_FORMAT!r} (missing {missing}, unexpected {extra}); "
            f"it holds: {found}"
        )
    try:
        return LPIPSWeights(
            kernels=[arrays[f"conv{i}_kernel"].astype(np.float32) for i in range(1, 14)],
            biases=[arrays[f"conv{i}_bias"].astype(np.float32) for i in range(1, 14)],
            lin=[arrays[f"lin{i}"].astype(np.float32) for i in range(5)],
            preprocess=str(arrays["preprocess"]),
        )
    except VGG16WeightsError as e:
        raise VGG16WeightsError(f"{path}: {e}") from None


def load_lpips_weights(path: str | os.PathLike) -> LPIPSWeights:
    """Reads NVIDIA's ``vgg16_zhang_perceptual.pkl`` or an ``.npz`` of :data:`NPZ_FORMAT`.

    Raises:
        VGG16WeightsError: a missing file, another kind of file, or another layout.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise VGG16WeightsError(missing_weights_message(f"VGG16 weights file not found: {path!r}."))
    with open(path, "rb") as f:
        head = f.read(4)
    if zipfile.is_zipfile(path):
        weights = _load_npz(path)
    elif head[:1] == b"\x80":  # pickle protocol 2+
        weights = _load_pickle(path)
    else:
        raise VGG16WeightsError(
            missing_weights_message(
                f"{path!r} is neither a pickle ({VGG16_PICKLE_FILENAME}) nor an .npz file."
            )
        )
    weights.identity = _file_identity(path)
    return weights


def save_lpips_npz(path: str | os.PathLike, weights: LPIPSWeights) -> None:
    """Writes ``weights`` as an ``.npz`` of :data:`NPZ_FORMAT`, atomically."""
    path = os.fspath(path)
    arrays = {"format": np.array(NPZ_FORMAT), "preprocess": np.array(weights.preprocess)}
    for i in range(13):
        arrays[f"conv{i + 1}_kernel"] = np.asarray(weights.kernels[i], np.float32)
        arrays[f"conv{i + 1}_bias"] = np.asarray(weights.biases[i], np.float32)
    for i in range(5):
        arrays[f"lin{i}"] = np.asarray(weights.lin[i], np.float32).reshape(-1)
    with atomic_output(path) as temp, open(temp, "wb") as f:
        np.savez(f, **arrays)


def missing_weights_message(problem: str) -> str:
    return (
        f"{problem}\nPPL needs the LPIPS-VGG16 weights as a local file (`vgg16_weights=`, the `--vgg16_weights` "
        f"flag); nothing is downloaded at run time. Use NVIDIA's {VGG16_PICKLE_FILENAME} (the file of the "
        "StyleGAN papers' PPL; the original StyleGAN and StyleGAN2 code fetch it from NVIDIA's metric files), "
        "or an .npz written by `python -m tfstylegan.metrics.lpips_convert` (docs/metrics.md)."
    )


def random_lpips_weights(seed: int = 0) -> LPIPSWeights:
    """Randomly initialised weights (He-normal kernels, zero biases, uniform [0, 1) lin). TESTS ONLY."""
    rng = np.random.default_rng(seed)
    kernels = [
        (rng.standard_normal([3, 3, cin, cout]) * np.sqrt(2.0 / (9 * cin))).astype(np.float32)
        for cin, cout in zip(VGG16_CHANNELS[:-1], VGG16_CHANNELS[1:])
    ]
    biases = [np.zeros([c], np.float32) for c in VGG16_CHANNELS[1:]]
    lin = [rng.uniform(0.0, 1.0, [c]).astype(np.float32) for c in LIN_CHANNELS]
    return LPIPSWeights(kernels, biases, lin, "imagenet", identity=f"random-seed-{seed}")


__all__ = [
    "FEATURE_CONVS",
    "LIN_CHANNELS",
    "NPZ_FORMAT",
    "VGG16_CHANNELS",
    "VGG16_PICKLE_FILENAME",
    "LPIPSWeights",
    "VGG16WeightsError",
    "check_shapes",
    "expected_layout",
    "load_lpips_weights",
    "missing_weights_message",
    "random_lpips_weights",
    "save_lpips_npz",
    "weights_from_state",
]
