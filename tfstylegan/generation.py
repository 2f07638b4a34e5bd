"""From latents to pixels: the one route of the tools, figures, SavedModel, metrics and snapshots.

- A seed ``s`` means the latent ``np.random.RandomState(s).randn(latent_size)`` (the original
  ``pretrained_example.py``) and the noise of ``tf.random.Generator.from_seed(s)``.
- :func:`resolve_truncation` settles the truncation once: None = the network's value
  (0.7 and 8 for the original networks); ``psi=1`` or ``cutoff=0`` = none.
- :func:`generate` is one pass through ``Gs``, eager or in a ``tf.function``;
  :func:`generate_images` runs eager minibatches (the figures), which with ``batch_size=1``
  equal ``Gs.generate`` of each latent alone, bit for bit.
- :func:`generate_seeds` and :class:`BatchGenerator` run compiled batches of one shape, the
  last one padded: the graph is the same for every call, so a seed's image does not depend
  on which or how many seeds were asked for. Compiled graphs round a little differently
  from eager calls: on CPU, 6e-5 (32 x 32 test network) to 7e-4 (FFHQ architecture at 128 x
  128) of the 8-bit values differ by one level from ``Gs.generate`` of the seed alone, none by
  more (``docs/using.md``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import tensorflow as tf

from tfstylegan.images import convert_images_to_uint8
from tfstylegan.networks import GStyle
from tfstylegan.networks.generator import disables_truncation
from tfstylegan.noise import PerImageNoise, RandomSource

DEFAULT_BATCH_SIZE = 8  # Images per compiled call of generate_seeds.
MAX_SEEDS = 10**6  # Seeds a list may hold: each is a latent, made before the first image.


# ----------------------------------------------------------------------------------
# Inputs: seeds, latents, labels.


def parse_seeds(spec: str) -> list[int]:
    """Seeds from a comma list of integers and inclusive ranges, e.g. ``"0-99,200,300-310"``.

    Raises:
        ValueError: a malformed item, a negative seed, a reversed range, an empty list or
            more than :data:`MAX_SEEDS` seeds (counted before any list is made).
    """
    seeds, count = [], 0
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
        count += hi - lo + 1
        if count > MAX_SEEDS:
            raise ValueError(f"{spec!r} holds more than {MAX_SEEDS:,} seeds")
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

    Values are picked as the original's ``Gs.run`` picks them, then judged by GStyle's rule
    (``disables_truncation``): None, a Python ``psi == 1`` or ``cutoff <= 0`` = none.

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


def truncate(Gs: GStyle, dlatents, truncation_psi=None, truncation_cutoff=None) -> tf.Tensor:
    """W ``[N, num_layers, dlatent_size]`` truncated as :func:`resolve_truncation` says (or as is)."""
    dlatents = dlatents if tf.is_tensor(dlatents) else tf.convert_to_tensor(dlatents, tf.float32)
    truncation = resolve_truncation(Gs, truncation_psi, truncation_cutoff)
    return dlatents if truncation is None else Gs.truncate(dlatents, *truncation)


def dlatents_of(Gs: GStyle, latents, labels=None, *, truncation_psi=None, truncation_cutoff=None) -> tf.Tensor:
    """W ``[N, num_layers, dlatent_size]`` of latents, truncated as :func:`resolve_truncation` says."""
    labels = None if labels is None else tf.convert_to_tensor(labels, tf.float32)
    return truncate(Gs, Gs.mapping(tf.convert_to_tensor(latents, tf.float32), labels), truncation_psi, truncation_cutoff)


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
    """One pass through ``Gs`` (eager or traced): float32 NHWC images ``[N, R, R, C]``, about [-1, 1].

    The truncation is resolved here and handed to ``Gs.generate`` as the values to apply.

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
    return Gs.generate(latents, labels, psi, cutoff, randomize_noise=randomize_noise, rng=rng)


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


def padded_batches(fn: Callable, batch_size: int, *arrays: np.ndarray | None) -> Iterator[np.ndarray]:
    """``fn(start, *batch)`` on batches of ``batch_size`` rows, the last padded with zero rows.

    Every call gets arrays of one shape (None stays None), so a compiled ``fn`` is traced
    once. Yields each output as a numpy array, without the padding rows.
    """
    n = len(next(a for a in arrays if a is not None))
    if n == 0:
        raise ValueError("nothing to generate: no latents")
    for start in range(0, n, batch_size):
        count = min(batch_size, n - start)
        pad = lambda a, count=count, start=start: np.pad(  # [batch_size, ...]
            a[start : start + count], [(0, batch_size - count)] + [(0, 0)] * (a.ndim - 1)
        )
        batch = [None if a is None else pad(a) for a in arrays]
        yield np.asarray(fn(start, *batch))[:count]


class BatchGenerator:
    """Float images of latents in compiled batches of one fixed shape (see the module docstring).

    Args:
        Gs: The generator.
        batch_size: Images per compiled call; fewer are padded to this many.
        truncation_psi, truncation_cutoff: As :func:`resolve_truncation` (None = the
            network's configured values).
        random_noise: Fresh noise from each image's own seeded generator (True) or the
            stored noise (False).
    """

    def __init__(
        self,
        Gs: GStyle,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        truncation_psi: float | None = None,
        truncation_cutoff: int | None = None,
        random_noise: bool = False,
    ):
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.Gs, self.batch_size = Gs, int(batch_size)
        self.truncation = dict(truncation_psi=truncation_psi, truncation_cutoff=truncation_cutoff)
        self.noise = PerImageNoise.from_seeds([0] * self.batch_size) if random_noise else None
        self._run = tf.function(self._batch)

    def _batch(self, latents, labels):
        return generate(
            self.Gs, latents, labels, randomize_noise=self.noise is not None, rng=self.noise, **self.truncation
        )

    def batches(self, latents: np.ndarray, labels: np.ndarray | None = None, noise_seeds=None) -> Iterator[np.ndarray]:
        """Float32 images of latents, one array per batch of ``batch_size`` (the last may be smaller).

        Args:
            latents: ``[N, latent_size]``.
            labels: ``[N, label_size]`` or None.
            noise_seeds: ``[N]`` seeds of the images' noise generators, with ``random_noise``.
        """
        if (self.noise is None) != (noise_seeds is None):
            raise ValueError("give noise_seeds exactly when the generator draws fresh noise")
        latents = np.asarray(latents, np.float32)
        labels = None if labels is None else np.asarray(labels, np.float32)
        seeds = None if noise_seeds is None else np.asarray(noise_seeds, np.int64)

        def batch(start, z, c, s):
            if self.noise is not None:
                self.noise.reseed(s)
            return self._run(tf.constant(z), None if c is None else tf.constant(c))

        return padded_batches(batch, self.batch_size, latents, labels, seeds)

    def __call__(self, latents: np.ndarray, labels: np.ndarray | None = None, noise_seeds=None) -> np.ndarray:
        """Float32 images ``[N, R, R, C]`` of latents ``[N, latent_size]`` (arguments of :meth:`batches`)."""
        return np.concatenate(list(self.batches(latents, labels, noise_seeds)), axis=0)

    def seed_batches(self, seeds: Sequence[int], label=None, as_uint8: bool = True) -> Iterator[tuple]:
        """``(seeds, images)`` of each batch of the seeds' images (see :func:`generate_seeds`), when done."""
        seeds = [int(seed) for seed in seeds]
        latents, labels = seed_latents(seeds, self.Gs.cfg.latent_size), tile_label(self.Gs, label, len(seeds))
        start = 0
        for images in self.batches(latents, labels, None if self.noise is None else seeds):
            yield seeds[start : start + len(images)], convert_images_to_uint8(images) if as_uint8 else images
            start += len(images)


def generate_seeds(
    Gs: GStyle,
    seeds: Sequence[int],
    label: np.ndarray | None = None,
    *,
    random_noise: bool = False,
    truncation_psi: float | None = None,
    truncation_cutoff: int | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    as_uint8: bool = True,
) -> np.ndarray:
    """Images ``[N, R, R, C]`` of the given seeds, in compiled batches (see the module docstring).

    Args:
        Gs: The generator.
        seeds: One image per seed.
        label: ``[label_size]`` label of every image, for a conditional network.
        random_noise: Fresh noise from ``tf.random.Generator.from_seed(seed)`` (True)
            or the stored noise inputs (False).
        truncation_psi, truncation_cutoff: None = the network's configured values.
        batch_size: Images per compiled call.
        as_uint8: uint8 images (:func:`~tfstylegan.convert_images_to_uint8`), else float32.
    """
    generator = BatchGenerator(
        Gs,
        batch_size=batch_size,
        truncation_psi=truncation_psi,
        truncation_cutoff=truncation_cutoff,
        random_noise=random_noise,
    )
    return np.concatenate([images for _, images in generator.seed_batches(seeds, label, as_uint8)], axis=0)


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "BatchGenerator",
    "dlatents_of",
    "generate",
    "generate_images",
    "generate_seeds",
    "padded_batches",
    "one_hot",
    "MAX_SEEDS",
    "parse_seeds",
    "resolve_truncation",
    "seed_latents",
    "synthesize",
    "tile_label",
    "truncate",
    "truncate_in_graph",
    "truncation_sweep",
]
