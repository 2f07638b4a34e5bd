"""Files of a projection: target images in (crop, resize), per-target results out.

A projected target is a folder holding:

- ``target.png``: the target as projected (center-cropped and resized to the network's
  resolution, see :func:`prepare_target`);
- ``proj.png``: the projection, ``Gs.synthesis`` of the dlatents with the noise maps;
- ``dlatents.npz``: ``dlatents`` float32 ``[num_layers, dlatent_size]`` and one noise map
  per layer, ``noise0``, ``noise1``, ... float32 ``[1, H, W, 1]`` (the layout of the
  network's own noise inputs ``Gs.synthesis.noise_inputs``);
- ``progress.npz`` (written by the projection tool): ``steps`` int64 ``[K]`` and
  ``dlatents`` float32 ``[K, num_layers, dlatent_size]``, the dlatents before the first
  step and every few steps after (:func:`write_progress`), from which a video of the
  optimisation is rendered.

Every file is written atomically.
"""

from __future__ import annotations

import os

import numpy as np
import PIL.Image
import PIL.ImageOps

from tfstylegan.atomic import atomic_output
from tfstylegan.images import write_png


def prepare_target(image, resolution: int, num_channels: int) -> np.ndarray:
    """A target as uint8 ``[resolution, resolution, num_channels]``.

    The image (a PIL image or a uint8 ``[H, W]`` / ``[H, W, C]`` array) is converted to
    grayscale or RGB (alpha dropped), center-cropped to the largest square and resized
    with a Lanczos filter when its side is not ``resolution``.
    """
    if isinstance(image, np.ndarray):
        if (
            image.dtype != np.uint8
            or image.ndim not in (2, 3)
            or (image.ndim == 3 and image.shape[2] not in (1, 3, 4))
        ):
            raise ValueError(
                f"a target array must be uint8 [H, W] or [H, W, 1|3|4], got {image.dtype} {image.shape}"
            )
        image = PIL.Image.fromarray(image[:, :, 0] if image.ndim == 3 and image.shape[2] == 1 else image)
    image = image.convert("L" if num_channels == 1 else "RGB")
    width, height = image.size
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    image = image.crop((left, top, left + side, top + side))
    if side != resolution:
        image = image.resize((resolution, resolution), PIL.Image.Resampling.LANCZOS)
    array = np.asarray(image, dtype=np.uint8)
    return array[:, :, np.newaxis] if array.ndim == 2 else array  # [R, R, C]


def load_target(path: str | os.PathLike, resolution: int, num_channels: int) -> np.ndarray:
    """:func:`prepare_target` of an image file (its EXIF orientation applied)."""
    try:
        with PIL.Image.open(path) as image:
            image = PIL.ImageOps.exif_transpose(image)
            image.load()
    except (OSError, PIL.UnidentifiedImageError) as exc:
        raise ValueError(f"{os.fspath(path)}: cannot read the image ({exc})") from None
    return prepare_target(image, resolution, num_channels)


def write_projection(outdir: str | os.PathLike, result, index: int = 0) -> None:
    """Write target ``index`` of a :class:`~tfstylegan.projection.ProjectionResult` into ``outdir``.

    Writes ``target.png``, ``proj.png`` and ``dlatents.npz`` (see the module docstring).
    """
    outdir = os.fspath(outdir)
    os.makedirs(outdir, exist_ok=True)
    write_png(os.path.join(outdir, "target.png"), result.targets[index])
    write_png(os.path.join(outdir, "proj.png"), result.images[index])
    arrays = {"dlatents": np.asarray(result.dlatents[index], np.float32)}
    arrays.update(
        {f"noise{k}": np.asarray(v[index : index + 1], np.float32) for k, v in enumerate(result.noise)}
    )
    _write_npz(os.path.join(outdir, "dlatents.npz"), arrays)


def _write_npz(path: str, arrays: dict) -> None:
    with atomic_output(path) as temp, open(temp, "wb") as f:
        np.savez(f, **arrays)


def _read_npz(path: str, what: str) -> dict:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: cannot read the {what} ({exc})") from None


def _in_folder(path: str | os.PathLike, name: str) -> str:
    path = os.fspath(path)
    return os.path.join(path, name) if os.path.isdir(path) else path


def write_progress(outdir: str | os.PathLike, steps, dlatents) -> None:
    """Write ``progress.npz``: the steps ``[K]`` and the dlatents ``[K, num_layers, dlatent_size]`` at them."""
    steps, dlatents = np.asarray(steps, np.int64), np.asarray(dlatents, np.float32)
    if dlatents.ndim != 3 or steps.shape != dlatents.shape[:1]:
        raise ValueError(f"need steps [K] and dlatents [K, L, D], got {steps.shape} and {dlatents.shape}")
    os.makedirs(os.fspath(outdir), exist_ok=True)
    _write_npz(os.path.join(os.fspath(outdir), "progress.npz"), {"steps": steps, "dlatents": dlatents})


def load_progress(path: str | os.PathLike, Gs=None) -> tuple[np.ndarray, np.ndarray]:
    """``(steps [K], dlatents [K, num_layers, dlatent_size])`` of a ``progress.npz`` (the file or its folder).

    With ``Gs``, the dlatents' shape is checked against the network.
    """
    path = _in_folder(path, "progress.npz")
    arrays = _read_npz(path, "projection progress")
    steps, dlatents = arrays.get("steps"), arrays.get("dlatents")
    if steps is None or dlatents is None or dlatents.ndim != 3 or steps.shape != dlatents.shape[:1] or not len(steps):
        raise ValueError(f"{path}: expected 'steps' [K] and 'dlatents' [K, num_layers, dlatent_size], K >= 1")
    if Gs is not None and dlatents.shape[1:] != (Gs.num_layers, Gs.cfg.dlatent_size):
        raise ValueError(
            f"{path}: dlatents {dlatents.shape[1:]} do not fit this network, which needs "
            f"{(Gs.num_layers, Gs.cfg.dlatent_size)}"
        )
    return steps.astype(np.int64), dlatents.astype(np.float32)


def load_projection(path: str | os.PathLike, Gs=None) -> tuple[np.ndarray, list[np.ndarray]]:
    """``(dlatents [num_layers, dlatent_size], noise maps [1, H, W, 1] per layer)`` of a ``dlatents.npz``.

    ``path`` is the file or its folder. With ``Gs``, the shapes are checked against the network.
    """
    path = _in_folder(path, "dlatents.npz")
    arrays = _read_npz(path, "projection")
    if "dlatents" not in arrays or arrays["dlatents"].ndim != 2:
        raise ValueError(f"{path}: expected 'dlatents' [num_layers, dlatent_size], got keys {sorted(arrays)}")
    noise = [arrays[f"noise{k}"] for k in range(len(arrays)) if f"noise{k}" in arrays]
    if Gs is not None:
        want = (Gs.num_layers, Gs.cfg.dlatent_size)
        if arrays["dlatents"].shape != want:
            raise ValueError(
                f"{path}: dlatents {arrays['dlatents'].shape} do not fit this network, which needs {want}"
            )
        shapes = [tuple(v.shape) for v in Gs.synthesis.noise_inputs]
        if [v.shape for v in noise] != shapes:
            raise ValueError(
                f"{path}: noise maps {[v.shape for v in noise]} do not fit this network's {shapes}"
            )
    return arrays["dlatents"].astype(np.float32), [v.astype(np.float32) for v in noise]
