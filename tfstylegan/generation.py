"""From latents to pixels: the one route that the tools, the figures, the SavedModel, the
metrics and the training snapshots take through a generator.

Conventions (those of the original ``pretrained_example.py`` and ``generate_figures.py``):

- A seed ``s`` means the latent ``np.random.RandomState(s).randn(latent_size)``
  (:func:`seed_latents`) and, with fresh noise, the noise of
  ``tf.random.Generator.from_seed(s)``, one generator per image
  (:class:`~tfstylegan.noise.PerImageNoise`), so an image never depends on the other
  images of its batch.
- Truncation is settled once, by :func:`resolve_truncation`: None means the network's
  configured value (0.7 and 8 for the original networks), ``psi=1`` or ``cutoff=0`` turn
  it off.
- :func:`generate` is one pass through ``Gs``, eager or inside a ``tf.function``;
  :func:`generate_images` and :func:`generate_seeds` run eager minibatches, which for
  ``batch_size=1`` equal ``Gs.generate`` of each latent alone, bit for bit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from tfstylegan.images import convert_images_to_uint8
from tfstylegan.networks import GStyle
from tfstylegan.networks.generator import disables_truncation
from tfstylegan.noise import PerImageNoise, RandomSource, seed_noise

DEFAULT_BATCH_SIZE = 1  # Images per network call of generate_seeds.


# ----------------------------------------------------------------------------------
# Inputs: seeds, latents, labels.


def parse_seeds(spec: str) -> list[int]:
    """Seeds from a comma list of integers and inclusive ranges, e.g. ``"0-99,200,300-310"``.

    Raises:
        ValueError: a malformed item, a negative seed, a reversed range or an empty list.
    """
    seeds = []
    for item in str(spec).split(","):
        item = item.strip()
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", item)
        if match is None:
            raise ValueError(
                f"bad seed {item!r} in {spec!r}; expected integers or ranges like 0-99,200,300-310"
            )
        lo = int(match.group(1))
        hi = lo if match.group(2) is None else int(match.group(2))
        if hi < lo:
            raise ValueError(f"bad seed range {item!r}: the end is below the start")
        if hi >= 2**32:
            raise ValueError(f"seed {hi} is too large; numpy seeds are below 2**32")
        seeds.extend(range(lo, hi + 1))
    if not seeds:
        raise ValueError("no seeds given")
    return seeds


def seed_latents(seeds: Sequence[int], latent_size: int) -> np.ndarray:
    """``[N, latent_size]`` float32: row i is ``RandomState(seeds[i]).randn(latent_size)``."""
    return np.stack([np.random.RandomState(seed).randn(latent_size) for seed in seeds]).astype(np.float32)


def one_hot(class_idx: int, label_size: int) -> np.ndarray:
    """The float32 one-hot label ``[label_size]`` of class ``class_idx``."""
    if not 0 <= class_idx < label_size:
        raise ValueError(f"class index {class_idx} is out of range for label_size {label_size}")
    return np.eye(label_size, dtype=np.float32)[class_idx]


def tile_label(Gs: GStyle, label: np.ndarray | None, n: int) -> np.ndarray | None:
    """``[n, label_size]`` copies of ``label``, or None for an unconditional network.

    Raises:
        ValueError: a label for an unconditional network, none for a conditional one,
            or one of the wrong size.
    """
    label_size = Gs.cfg.label_size
    if label_size == 0:
        if label is not None and np.size(label):
            raise ValueError("the network is unconditional (label_size=0) but a label was given")
        return None
    if label is None:
        raise ValueError(f"the network is conditional (label_size={label_size}); give a label")
    label = np.asarray(label, dtype=np.float32).reshape(-1)
    if label.shape[0] != label_size:
        raise ValueError(f"a label needs {label_size} values, got {label.shape[0]}")
    return np.tile(label[np.newaxis], [n, 1])  # [n, label_size]


# ----------------------------------------------------------------------------------
# Truncation.


def resolve_truncation(
    Gs: GStyle,
    truncation_psi=None,
    truncation_cutoff=None,
    *,
    is_validation: bool = False,
) -> tuple | None:
    """The truncation that is applied: ``(psi, cutoff)``, or None for none.

    The values are picked as the original's ``Gs.run`` picks them and then judged by
    :class:`~tfstylegan.GStyle`'s rule (``disables_truncation``): a Python ``psi == 1``
    or ``cutoff <= 0``, or None after picking, turns truncation off; a tensor psi is
    always applied.

    Args:
        Gs: The generator, whose configuration gives the defaults.
        truncation_psi: None = the network's ``truncation_psi`` (with ``is_validation``:
            its ``truncation_psi_val``); else this psi.
        truncation_cutoff: None = the network's ``truncation_cutoff``; else this cutoff.
            With ``is_validation`` and no psi, the network's ``truncation_cutoff_val``.
        is_validation: Evaluate as the original's metrics and snapshots do.
    """
    cfg = Gs.cfg
    if is_validation and truncation_psi is None:
        psi, cutoff = cfg.truncation_psi_val, cfg.truncation_cutoff_val
    else:
        psi = cfg.truncation_psi if truncation_psi is None else truncation_psi
        cutoff = cfg.truncation_cutoff if truncation_cutoff is None else truncation_cutoff
    return None if disables_truncation(psi, cutoff) else (psi, cutoff)


def truncate_in_graph(Gs: GStyle, dlatents: tf.Tensor, truncation_psi: tf.Tensor, truncation_cutoff: tf.Tensor):
    """GStyle's Python-value rule evaluated on tensors: W as is where ``psi == 1`` or ``cutoff <= 0``.

    For graphs that take the truncation as inputs (the SavedModel's signatures).
    """
    truncate = tf.logical_and(tf.not_equal(truncation_psi, 1.0), truncation_cutoff > 0)
    return tf.cond(
        truncate,
        lambda: Gs.truncate(dlatents, truncation_psi, truncation_cutoff),
        lambda: tf.identity(dlatents),
    )


def dlatents_of(Gs: GStyle, latents, labels=None, *, truncation_psi=None, truncation_cutoff=None) -> tf.Tensor:
    """W ``[N, num_layers, dlatent_size]`` of latents, truncated as :func:`resolve_truncation` says."""
    labels = None if labels is None else tf.convert_to_tensor(labels, tf.float32)
    dlatents = Gs.mapping(tf.convert_to_tensor(latents, tf.float32), labels)
    truncation = resolve_truncation(Gs, truncation_psi, truncation_cutoff)
    return dlatents if truncation is None else Gs.truncate(dlatents, *truncation)


def truncation_sweep(Gs: GStyle, dlatents, psis: Sequence[float], truncation_cutoff: int | None = None) -> tf.Tensor:
    """One W ``[1, num_layers, dlatent_size]`` truncated by each psi: ``[len(psis), num_layers, dlatent_size]``.

    Every psi is applied, 1 included, in the layers below ``truncation_cutoff`` (None =
    all layers), as the original's truncation figure does.
    """
    cutoff = Gs.num_layers if truncation_cutoff is None else truncation_cutoff
    return tf.concat([Gs.truncate(dlatents, float(psi), cutoff) for psi in psis], axis=0)


# ----------------------------------------------------------------------------------
# Generating.


def generate(
    Gs: GStyle,
    latents,
    labels=None,
    *,
    truncation_psi=None,
    truncation_cutoff=None,
    is_validation: bool = False,
    randomize_noise: bool | None = None,
    rng: RandomSource | None = None,
) -> tf.Tensor:
    """One pass through ``Gs``: float32 NHWC images ``[N, R, R, C]`` in about [-1, 1].

    Works eagerly and inside a ``tf.function``. The truncation is resolved here
    (:func:`resolve_truncation`) and handed to ``Gs`` as the values to apply.

    Args:
        Gs: The generator.
        latents: ``[N, latent_size]``.
        labels: ``[N, label_size]``, or None for an unconditional network.
        truncation_psi, truncation_cutoff, is_validation: See :func:`resolve_truncation`.
        randomize_noise: Fresh noise (True) or the stored noise (False); None = the
            network's configured ``randomize_noise``.
        rng: The source of fresh noise (see :mod:`tfstylegan.noise`); None = TensorFlow's
            global random ops.
    """
    truncation = resolve_truncation(Gs, truncation_psi, truncation_cutoff, is_validation=is_validation)
    psi, cutoff = (None, None) if truncation is None else truncation
    images = Gs(
        tf.convert_to_tensor(latents, tf.float32),
        None if labels is None else tf.convert_to_tensor(labels, tf.float32),
        truncation_psi=psi,
        truncation_cutoff=cutoff,
        randomize_noise=randomize_noise,
        rng=rng,
    )
    return tf.cast(images, tf.float32)


def generate_images(
    Gs: GStyle,
    latents: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    noise: Sequence[tf.random.Generator] | None = None,
    batch_size: int = 1,
    **truncation,
) -> np.ndarray:
    """Float32 images ``[N, R, R, C]`` of :func:`generate` over eager minibatches.

    With ``batch_size=1`` every image equals ``Gs.generate`` of its latent alone, bit for bit.

    Args:
        Gs: The generator.
        latents: ``[N, latent_size]``.
        labels: ``[N, label_size]`` or None.
        noise: None = the stored noise; else one generator per image
            (:class:`~tfstylegan.noise.PerImageNoise`).
        batch_size: Images per network call.
        **truncation: ``truncation_psi``, ``truncation_cutoff`` of :func:`generate`.
    """
    if noise is not None and len(noise) != len(latents):
        raise ValueError(f"{len(latents)} latents but {len(noise)} noise generators")
    step = max(int(batch_size), 1)
    out = []
    for start in range(0, len(latents), step):
        batch = slice(start, start + step)
        images = generate(
            Gs,
            latents[batch],
            None if labels is None else labels[batch],
            randomize_noise=noise is not None,
            rng=None if noise is None else PerImageNoise(noise[batch]),
            **truncation,
        )
        out.append(images.numpy())
    return np.concatenate(out, axis=0)


def synthesize(Gs: GStyle, dlatents: np.ndarray, batch_size: int = 1) -> np.ndarray:
    """uint8 images ``[N, R, R, C]`` of W ``[N, num_layers, dlatent_size]`` with the stored noise (eager)."""
    step = max(int(batch_size), 1)
    out = []
    for start in range(0, len(dlatents), step):
        images = Gs.synthesis(tf.constant(dlatents[start : start + step]), randomize_noise=False)
        out.append(convert_images_to_uint8(tf.cast(images, tf.float32)).numpy())
    return np.concatenate(out, axis=0)


def generate_seeds(
    Gs: GStyle,
    seeds: Sequence[int],
    label: np.ndarray | None = None,
    *,
    random_noise: bool = False,
    truncation_psi: float | None = None,
    truncation_cutoff: int | None = None,
    batch_size: int = 1,
    as_uint8: bool = True,
) -> np.ndarray:
    """Images ``[N, R, R, C]`` of the given seeds (see the module docstring).

    Args:
        Gs: The generator.
        seeds: One image per seed.
        label: ``[label_size]`` label of every image, for a conditional network.
        random_noise: Fresh noise from ``tf.random.Generator.from_seed(seed)`` (True)
            or the stored noise inputs (False).
        truncation_psi, truncation_cutoff: None = the network's configured values.
        batch_size: Images per network call.
        as_uint8: uint8 images (:func:`~tfstylegan.convert_images_to_uint8`), else float32.
    """
    latents = seed_latents(seeds, Gs.cfg.latent_size)
    labels = tile_label(Gs, label, len(seeds))
    images = generate_images(
        Gs,
        latents,
        labels,
        noise=seed_noise(seeds) if random_noise else None,
        batch_size=batch_size,
        truncation_psi=truncation_psi,
        truncation_cutoff=truncation_cutoff,
    )
    return convert_images_to_uint8(images) if as_uint8 else images


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "dlatents_of",
    "generate",
    "generate_images",
    "generate_seeds",
    "one_hot",
    "parse_seeds",
    "resolve_truncation",
    "seed_latents",
    "synthesize",
    "tile_label",
    "truncate_in_graph",
    "truncation_sweep",
]
