"""The paper's figures of fresh samples: uncurated images (figures 2, 10-12) and noise detail
(figure 4); and ranking samples by the discriminator."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import PIL.Image

from tfstylegan import generation
from tfstylegan.images import blank_image, convert_images_to_uint8, to_pil
from tfstylegan.networks import DBasic, GStyle
from tfstylegan.noise import split_noise
from tfstylegan.resolution import resolution_log2

# The original generate_figures.py settings, used as defaults.
UNCURATED_SEED = 5
UNCURATED_ROWS = 3
UNCURATED_LODS = (0, 1, 2, 2, 3, 3)
NOISE_DETAIL_SEEDS = (1157, 1012)
NOISE_DETAIL_SAMPLES = 100


def uncurated_figure(
    Gs: GStyle,
    seed: int = UNCURATED_SEED,
    *,
    rows: int = UNCURATED_ROWS,
    lods: Sequence[int] | None = None,
    label: np.ndarray | None = None,
    truncation_psi: float | None = None,
    truncation_cutoff: int | None = None,
    row_psis: Sequence[float] | None = None,
    random_noise: bool = True,
    batch_size: int = 1,
) -> PIL.Image.Image:
    """Uncurated images at several sizes (figures 2, 10-12).

    Columns hold images shrunk by ``2**lod``: a column of lod ``l`` has ``rows * 2**l``
    images. All latents come from one ``RandomState(seed)``, column by column, as in the
    original; so does the noise (one generator per image, split from ``seed``).

    Args:
        Gs: The generator.
        seed: Seed of the latents and the noise.
        rows: Rows of full-size images.
        lods: Shrink factor (log2) of each column; None = the original's
            ``0,1,2,2,3,3``, keeping the lods whose images are at least 4 x 4.
        label: ``[label_size]`` label for a conditional network.
        truncation_psi: None = the network's configured truncation (the original's).
        truncation_cutoff: None = the network's configured cutoff.
        row_psis: One psi per full-size row (cycled), overriding ``truncation_psi``.
        random_noise: Fresh noise (the original) or the stored noise.
        batch_size: Images per network call.
    """
    res = Gs.cfg.resolution
    max_lod = resolution_log2(res) - 2
    if lods is None:
        lods = [lod for lod in UNCURATED_LODS if lod <= max_lod]
    lods = list(lods)
    if not lods or any(lod < 0 or lod > max_lod for lod in lods):
        raise ValueError(f"lods must be between 0 and {max_lod} for a {res}x{res} network, got {lods}")
    if rows < 1:
        raise ValueError(f"rows must be >= 1, got {rows}")
    # Every image in column order, with the full-size row (band) it sits in.
    bands = [row // 2**lod for lod in lods for row in range(rows * 2**lod)]
    count = len(bands)
    latents = np.random.RandomState(seed).randn(count, Gs.cfg.latent_size).astype(np.float32)
    labels = generation.tile_label(Gs, label, count)
    noise = split_noise(seed, count) if random_noise else None
    psis = [truncation_psi] * count if not row_psis else [row_psis[band % len(row_psis)] for band in bands]
    images = np.zeros([count, res, res, Gs.cfg.num_channels], np.uint8)
    for psi in dict.fromkeys(psis):  # Each distinct psi once, in order.
        idx = [i for i, p in enumerate(psis) if p == psi]
        batch = generation.generate_images(
            Gs,
            latents[idx],
            None if labels is None else labels[idx],
            truncation_psi=psi,
            truncation_cutoff=truncation_cutoff,
            noise=None if noise is None else [noise[i] for i in idx],
            batch_size=batch_size,
        )
        images[idx] = convert_images_to_uint8(batch)
    canvas = blank_image(sum(res // 2**lod for lod in lods), res * rows, Gs.cfg.num_channels)
    image_iter = iter(images)
    x = 0
    for lod in lods:
        size = res // 2**lod
        for row in range(rows * 2**lod):
            image = to_pil(next(image_iter))
            if lod:
                image = image.resize((size, size), PIL.Image.LANCZOS)
            canvas.paste(image, (x, row * size))
        x += size
    return canvas


def noise_detail_figure(
    Gs: GStyle,
    seeds: Sequence[int] = NOISE_DETAIL_SEEDS,
    *,
    num_samples: int = NOISE_DETAIL_SAMPLES,
    label: np.ndarray | None = None,
    truncation_psi: float = 1.0,
    truncation_cutoff: int | None = None,
    batch_size: int = 1,
) -> PIL.Image.Image:
    """Noise detail (figure 4): one latent, many noise draws.

    Per seed (row): the first image; a 2 x 2 block of zoomed crops of four other draws
    (the original's crop, scaled to the resolution, magnified 2x); and the standard
    deviation over all ``num_samples`` draws of each pixel's mean over channels
    (times 4, as the original), as a gray image.

    Args:
        Gs: The generator.
        seeds: One row per seed; its noise generators are split from ``seed``.
        num_samples: Noise draws per seed (>= 5).
        label: ``[label_size]`` label for a conditional network.
        truncation_psi: 1 (the original) disables truncation.
        truncation_cutoff: None = the network's configured cutoff.
        batch_size: Images per network call.
    """
    if num_samples < 5:
        raise ValueError(f"num_samples must be >= 5 (one image and four crops), got {num_samples}")
    res = Gs.cfg.resolution
    half = res // 2
    # The original crops (650, 180)-(906, 436) of 1024 x 1024 images.
    x0, y0, size = 650 * res // 1024, 180 * res // 1024, max(256 * res // 1024, 1)
    canvas = blank_image(res * 3, res * len(seeds), Gs.cfg.num_channels)
    for row, seed in enumerate(seeds):
        latents = np.repeat(generation.seed_latents([seed], Gs.cfg.latent_size), num_samples, axis=0)
        images = generation.generate_images(
            Gs,
            latents,
            generation.tile_label(Gs, label, num_samples),
            truncation_psi=truncation_psi,
            truncation_cutoff=truncation_cutoff,
            noise=split_noise(seed, num_samples),
            batch_size=batch_size,
        )
        images = convert_images_to_uint8(images)
        canvas.paste(to_pil(images[0]), (0, row * res))
        for i in range(4):
            crop = to_pil(images[i + 1]).crop((x0, y0, x0 + size, y0 + size))
            crop = crop.resize((half, half), PIL.Image.NEAREST)
            canvas.paste(crop, (res + (i % 2) * half, row * res + (i // 2) * half))
        std = np.std(np.mean(images, axis=3), axis=0) * 4  # [R, R]
        std = np.clip(std + 0.5, 0, 255).astype(np.uint8)
        canvas.paste(to_pil(std), (res * 2, row * res))
    return canvas


def rank_by_discriminator(
    Gs: GStyle,
    D: DBasic,
    seeds: Sequence[int],
    keep: int,
    label: np.ndarray | None = None,
    *,
    random_noise: bool = False,
    batch_size: int = generation.DEFAULT_BATCH_SIZE,
    truncation_psi: float | None = None,
    truncation_cutoff: int | None = None,
) -> list[tuple[int, float, np.ndarray]]:
    """The ``keep`` seeds whose images ``D`` scores highest.

    The images are those of :func:`~tfstylegan.generation.generate_seeds` (so a kept
    seed's image is its seed image). Each float image is scored on its own (a minibatch
    of one), so a score does not depend on the other samples through D's minibatch
    standard deviation layer; with labels, D scores the image under the label it was
    generated with.

    Args:
        Gs: The generator.
        D: The discriminator.
        seeds: The pool of candidate seeds.
        keep: How many to keep.
        label: ``[label_size]`` label for a conditional network.
        random_noise, batch_size, truncation_psi, truncation_cutoff: As in
            :func:`~tfstylegan.generation.generate_seeds`.

    Returns:
        ``[(seed, score, uint8 image [R, R, C])]``, best first (ties keep seed order).
    """
    if not 1 <= keep <= len(seeds):
        raise ValueError(f"cannot keep {keep} of {len(seeds)} samples")
    labels = generation.tile_label(Gs, label, len(seeds))
    images = generation.generate_seeds(
        Gs,
        seeds,
        label,
        random_noise=random_noise,
        truncation_psi=truncation_psi,
        truncation_cutoff=truncation_cutoff,
        batch_size=batch_size,
        as_uint8=False,
    )
    scores = [
        float(np.asarray(D(images[i : i + 1], None if labels is None else labels[i : i + 1]))[0, 0])
        for i in range(len(seeds))
    ]
    order = sorted(range(len(seeds)), key=lambda i: -scores[i])[:keep]
    uint8 = convert_images_to_uint8(images)
    return [(int(seeds[i]), scores[i], uint8[i]) for i in order]
