"""The paper's figures that edit the inputs of fixed seeds: style mixing (figure 3), noise
components (figure 5) and the truncation trick (figure 8). All use the stored noise."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import PIL.Image

from tfstylegan import generation
from tfstylegan.images import blank_image, convert_images_to_uint8, to_pil
from tfstylegan.networks import GStyle

# Layer ranges by name (the paper's section 3.1): coarse = 4x4-8x8, middle = 16x16-32x32,
# fine = 64x64 and up. Ends are clipped to the network's number of layers.
NAMED_RANGES = {"coarse": (0, 4), "middle": (4, 8), "fine": (8, None)}

# The original generate_figures.py settings, used as defaults.
STYLE_MIXING_COL_SEEDS = (639, 701, 687, 615, 2268)
STYLE_MIXING_ROW_SEEDS = (888, 829, 1898, 1733, 1614, 845)
NOISE_COMPONENT_SEEDS = (1967, 1555)
TRUNCATION_SEEDS = (91, 388)
TRUNCATION_PSIS = (1.0, 0.7, 0.5, 0.0, -0.5, -1.0)


def parse_layer_range(spec: str, num_layers: int) -> range:
    """A layer range: ``coarse``, ``middle``, ``fine``, ``A-B`` (inclusive), ``A-`` or ``A``.

    The end is clipped to ``num_layers``, so ``fine`` (``8-``) is empty for networks of
    32 x 32 and below.

    Raises:
        ValueError: a malformed range.
    """
    spec = spec.strip()
    if spec in NAMED_RANGES:
        lo, hi = NAMED_RANGES[spec]
    else:
        match = re.fullmatch(r"(\d+)(-(\d*))?", spec)
        if match is None:
            raise ValueError(
                f"bad layer range {spec!r}; expected coarse, middle, fine, A-B, A- or A (layer indices)"
            )
        lo = int(match.group(1))
        if match.group(2) is None:
            hi = lo + 1
        elif match.group(3) == "":
            hi = None
        else:
            hi = int(match.group(3)) + 1
            if hi <= lo:
                raise ValueError(f"bad layer range {spec!r}: the end is below the start")
    hi = num_layers if hi is None else min(hi, num_layers)
    return range(min(lo, hi), hi)


def default_style_ranges(num_rows: int) -> list[str]:
    """The original's row ranges, generalised: the first half coarse, the next third middle, the rest fine."""
    return [
        "coarse" if i < num_rows / 2 else "middle" if i < num_rows * 5 / 6 else "fine"
        for i in range(num_rows)
    ]


def style_mixing_figure(
    Gs: GStyle,
    row_seeds: Sequence[int] = STYLE_MIXING_ROW_SEEDS,
    col_seeds: Sequence[int] = STYLE_MIXING_COL_SEEDS,
    style_ranges: Sequence[range | str] | None = None,
    *,
    label: np.ndarray | None = None,
    truncation_psi: float | None = None,
    truncation_cutoff: int | None = None,
    batch_size: int = 1,
) -> PIL.Image.Image:
    """Style mixing (figure 3): a matrix of row images given styles of column images.

    The top row shows the column (source) images, the left column the row
    (destination) images. Cell ``(r, c)`` is row image ``r`` whose W in the layers
    ``style_ranges[r]`` is replaced by column image ``c``'s. Stored noise; no truncation
    unless ``truncation_psi`` is given (the original truncates nothing here).

    Args:
        Gs: The generator.
        row_seeds: Destination seeds, one per row.
        col_seeds: Source seeds, one per column.
        style_ranges: Per row, the layers copied from the source: ranges or specs for
            :func:`parse_layer_range`; one entry applies to every row. None =
            :func:`default_style_ranges`.
        label: ``[label_size]`` label for a conditional network.
        truncation_psi, truncation_cutoff: Optional truncation of every W (cutoff None
            = the network's configured cutoff).
        batch_size: Images per network call.
    """
    num_layers = Gs.num_layers
    if style_ranges is None:
        style_ranges = default_style_ranges(len(row_seeds))
    ranges = [parse_layer_range(r, num_layers) if isinstance(r, str) else r for r in style_ranges]
    if len(ranges) == 1:
        ranges = ranges * len(row_seeds)
    if len(ranges) != len(row_seeds):
        raise ValueError(
            f"{len(ranges)} style ranges for {len(row_seeds)} rows; give one per row or one for all"
        )
    res = Gs.cfg.resolution

    def dlatents_of(seeds):
        latents = generation.seed_latents(seeds, Gs.cfg.latent_size)
        labels = generation.tile_label(Gs, label, len(seeds))
        psi = 1.0 if truncation_psi is None else truncation_psi  # 1 = none
        dlatents = generation.dlatents_of(Gs, latents, labels, truncation_psi=psi, truncation_cutoff=truncation_cutoff)
        return dlatents.numpy()  # [N, num_layers, dlatent_size]

    src, dst = dlatents_of(col_seeds), dlatents_of(row_seeds)
    src_images = generation.synthesize(Gs, src, batch_size)
    dst_images = generation.synthesize(Gs, dst, batch_size)
    canvas = blank_image(res * (len(col_seeds) + 1), res * (len(row_seeds) + 1), Gs.cfg.num_channels)
    for col, image in enumerate(src_images):
        canvas.paste(to_pil(image), ((col + 1) * res, 0))
    for row, image in enumerate(dst_images):
        canvas.paste(to_pil(image), (0, (row + 1) * res))
        mixed = np.repeat(dst[row][np.newaxis], len(col_seeds), axis=0)  # [cols, num_layers, dlatent_size]
        layers = list(ranges[row])
        mixed[:, layers] = src[:, layers]
        for col, image in enumerate(generation.synthesize(Gs, mixed, batch_size)):
            canvas.paste(to_pil(image), ((col + 1) * res, (row + 1) * res))
    return canvas


def default_noise_ranges(num_layers: int) -> list[range]:
    """The original's noise ranges: all layers, none, fine (8 and up), coarse (below 8)."""
    split = min(8, num_layers)
    return [range(0, num_layers), range(0, 0), range(split, num_layers), range(0, split)]


def noise_components_figure(
    Gs: GStyle,
    seeds: Sequence[int] = NOISE_COMPONENT_SEEDS,
    noise_ranges: Sequence[range] | None = None,
    *,
    flips: Sequence[int] = (1,),
    label: np.ndarray | None = None,
    truncation_psi: float = 1.0,
    truncation_cutoff: int | None = None,
    batch_size: int = 1,
) -> PIL.Image.Image:
    """Noise components (figure 5): stored noise kept only in some layers.

    Each seed's cell is 2 x 2 half images: top left with noise in ``noise_ranges[0]``,
    top right ``[1]``, bottom left ``[2]``, bottom right ``[3]`` (by default all, none,
    fine, coarse layers). The images of the seeds at the positions ``flips`` are
    mirrored, as in the original.

    The network's stored noise is scaled temporarily and restored before returning.

    Args:
        Gs: The generator (with noise inputs).
        seeds: One cell per seed.
        noise_ranges: Four ranges of layer indices; None = :func:`default_noise_ranges`.
        flips: Indices into ``seeds`` of images to mirror left-right.
        label: ``[label_size]`` label for a conditional network.
        truncation_psi: 1 (the original) disables truncation.
        truncation_cutoff: None = the network's configured cutoff.
        batch_size: Images per network call.
    """
    noise_vars = list(Gs.synthesis.noise_inputs)
    if not noise_vars:
        raise ValueError("the network has no noise inputs (use_noise=False)")
    if noise_ranges is None:
        noise_ranges = default_noise_ranges(len(noise_vars))
    if len(noise_ranges) != 4:
        raise ValueError(f"need 4 noise ranges, got {len(noise_ranges)}")
    res = Gs.cfg.resolution
    half = res // 2
    latents = generation.seed_latents(seeds, Gs.cfg.latent_size)
    labels = generation.tile_label(Gs, label, len(seeds))
    stored = [v.numpy() for v in noise_vars]
    variants = []
    try:
        for noise_range in noise_ranges:
            for i, (var, value) in enumerate(zip(noise_vars, stored)):
                var.assign(value if i in noise_range else np.zeros_like(value))
            images = generation.generate_images(
                Gs,
                latents,
                labels,
                truncation_psi=truncation_psi,
                truncation_cutoff=truncation_cutoff,
                batch_size=batch_size,
            )
            images = convert_images_to_uint8(images)
            flip = [i for i in flips if 0 <= i < len(seeds)]
            images[flip] = images[flip, :, ::-1]
            variants.append(images)
    finally:
        for var, value in zip(noise_vars, stored):
            var.assign(value)
    canvas = blank_image(res * len(seeds), res * 2, Gs.cfg.num_channels)
    left, right = (0, 0, half, res), (half, 0, res, res)
    for col in range(len(seeds)):
        x = col * res
        canvas.paste(to_pil(variants[0][col]).crop(left), (x, 0))
        canvas.paste(to_pil(variants[1][col]).crop(right), (x + half, 0))
        canvas.paste(to_pil(variants[2][col]).crop(left), (x, res))
        canvas.paste(to_pil(variants[3][col]).crop(right), (x + half, res))
    return canvas


def truncation_figure(
    Gs: GStyle,
    seeds: Sequence[int] = TRUNCATION_SEEDS,
    psis: Sequence[float] = TRUNCATION_PSIS,
    *,
    label: np.ndarray | None = None,
    truncation_cutoff: int | None = None,
    batch_size: int = 1,
) -> PIL.Image.Image:
    """The truncation trick (figure 8): one row per seed, one column per psi.

    ``w' = avg + (w - avg) * psi`` in the layers below ``truncation_cutoff`` (None = all
    layers, as the original), with the stored noise
    (:func:`~tfstylegan.generation.truncation_sweep`).
    """
    res = Gs.cfg.resolution
    latents = generation.seed_latents(seeds, Gs.cfg.latent_size)
    labels = generation.tile_label(Gs, label, len(seeds))
    dlatents = generation.dlatents_of(Gs, latents, labels, truncation_psi=1.0)  # untruncated
    canvas = blank_image(res * len(psis), res * len(seeds), Gs.cfg.num_channels)
    for row in range(len(seeds)):
        row_dlatents = generation.truncation_sweep(Gs, dlatents[row : row + 1], psis, truncation_cutoff)
        for col, image in enumerate(generation.synthesize(Gs, row_dlatents.numpy(), batch_size)):
            canvas.paste(to_pil(image), (col * res, row * res))
    return canvas
