"""Images from a trained generator: seeds, grids, the StyleGAN paper's figures, ranking by D.

Conventions shared with the original ``pretrained_example.py`` and
``generate_figures.py``:

- A seed ``s`` means the latent ``np.random.RandomState(s).randn(latent_size)``.
- Images become 8-bit through :func:`tfstylegan.convert_images_to_uint8` (the original
  ``tflib.convert_images_to_uint8``: scale to [0, 255], round half up, clip), for single
  images, grids and figures alike, as in those scripts.
- Stored noise (``randomize_noise=False``) is deterministic. Fresh noise comes from
  ``tf.random.Generator`` objects, one per image, so an image never depends on the
  other images of its batch: for seed images the generator is
  ``tf.random.Generator.from_seed(seed)``.
- Everything runs eagerly and, by default, one image per network call, so an image
  equals what ``Gs.generate`` returns for that latent alone in Python, bit for bit, and
  does not depend on the other images of a run. (TensorFlow's CPU and GPU kernels may
  round differently for other batch sizes or in compiled graphs: a rare pixel then
  differs by one 8-bit level. ``batch_size`` trades that for speed.)

Every figure function returns a ``PIL.Image``; sizes follow the network's resolution and
number of layers (the paper used 1024 x 1024 FFHQ networks with 18 layers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import PIL.Image
import tensorflow as tf

from tfstylegan.images import blank_image, convert_images_to_uint8, image_grid, to_pil
from tfstylegan.networks import DBasic, GStyle
from tfstylegan.noise import PerImageNoise, seed_noise
from tfstylegan.resolution import resolution_log2

# Layer ranges by name (the paper's section 3.1): coarse = 4x4-8x8, middle = 16x16-32x32,
# fine = 64x64 and up. Ends are clipped to the network's number of layers.
NAMED_RANGES = {"coarse": (0, 4), "middle": (4, 8), "fine": (8, None)}

# The original generate_figures.py settings, used as defaults.
UNCURATED_SEED = 5
UNCURATED_ROWS = 3
UNCURATED_LODS = (0, 1, 2, 2, 3, 3)
STYLE_MIXING_COL_SEEDS = (639, 701, 687, 615, 2268)
STYLE_MIXING_ROW_SEEDS = (888, 829, 1898, 1733, 1614, 845)
NOISE_DETAIL_SEEDS = (1157, 1012)
NOISE_DETAIL_SAMPLES = 100
NOISE_COMPONENT_SEEDS = (1967, 1555)
TRUNCATION_SEEDS = (91, 388)
TRUNCATION_PSIS = (1.0, 0.7, 0.5, 0.0, -0.5, -1.0)


# ----------------------------------------------------------------------------------
# Parsing.


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


# ----------------------------------------------------------------------------------
# Latents, labels, noise.


def seed_latents(seeds: Sequence[int], latent_size: int) -> np.ndarray:
    """``[N, latent_size]`` float32: row i is ``RandomState(seeds[i]).randn(latent_size)``."""
    return np.stack([np.random.RandomState(seed).randn(latent_size) for seed in seeds]).astype(np.float32)


def one_hot(class_idx: int, label_size: int) -> np.ndarray:
    """The float32 one-hot label ``[label_size]`` of class ``class_idx``."""
    if not 0 <= class_idx < label_size:
        raise ValueError(f"class index {class_idx} is out of range for label_size {label_size}")
    return np.eye(label_size, dtype=np.float32)[class_idx]


def _tile_label(Gs: GStyle, label: np.ndarray | None, n: int) -> np.ndarray | None:
    """``[n, label_size]`` copies of ``label``, or None for an unconditional network."""
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
    return np.tile(label[np.newaxis], [n, 1])


# ----------------------------------------------------------------------------------
# Generating.


def _default_truncation(Gs: GStyle, truncation_psi, truncation_cutoff):
    cfg = Gs.cfg
    psi = cfg.truncation_psi if truncation_psi is None else truncation_psi
    cutoff = cfg.truncation_cutoff if truncation_cutoff is None else truncation_cutoff
    return (1.0 if psi is None else psi), (0 if cutoff is None else cutoff)


def generate(
    Gs: GStyle,
    latents: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    truncation_psi: float | None = None,
    truncation_cutoff: int | None = None,
    noise: Sequence[tf.random.Generator] | None = None,
    batch_size: int = 1,
) -> np.ndarray:
    """Float images of ``Gs.generate`` over minibatches.

    Args:
        Gs: The generator.
        latents: ``[N, latent_size]``.
        labels: ``[N, label_size]`` or None.
        truncation_psi: None = the network's configured value (0.7 by default); 1 disables.
        truncation_cutoff: None = the network's configured value (8 by default).
        noise: None = the stored noise inputs; else one generator per image.
        batch_size: Images per network call.

    Returns:
        float32 ``[N, R, R, C]`` in about [-1, 1].
    """
    psi, cutoff = _default_truncation(Gs, truncation_psi, truncation_cutoff)
    if noise is not None and len(noise) != len(latents):
        raise ValueError(f"{len(latents)} latents but {len(noise)} noise generators")
    out = []
    for start in range(0, len(latents), max(int(batch_size), 1)):
        end = min(start + max(int(batch_size), 1), len(latents))
        images = Gs.generate(
            latents[start:end],
            None if labels is None else labels[start:end],
            truncation_psi=psi,
            truncation_cutoff=cutoff,
            randomize_noise=noise is not None,
            rng=None if noise is None else PerImageNoise(noise[start:end]),
        )
        out.append(images.numpy())
    return np.concatenate(out, axis=0)


def generate_uint8(Gs: GStyle, latents: np.ndarray, labels: np.ndarray | None = None, **kwargs) -> np.ndarray:
    """:func:`generate`, converted to uint8 ``[N, R, R, C]``."""
    return convert_images_to_uint8(generate(Gs, latents, labels, **kwargs))


def generate_seeds(
    Gs: GStyle,
    seeds: Sequence[int],
    label: np.ndarray | None = None,
    *,
    random_noise: bool = False,
    **kwargs,
) -> np.ndarray:
    """uint8 images ``[N, R, R, C]`` of the given seeds (see the module docstring).

    Args:
        Gs: The generator.
        seeds: One image per seed.
        label: ``[label_size]`` label of every image, for a conditional network.
        random_noise: Fresh noise from ``tf.random.Generator.from_seed(seed)`` (True)
            or the stored noise inputs (False).
        **kwargs: ``truncation_psi``, ``truncation_cutoff``, ``batch_size`` of :func:`generate`.
    """
    latents = seed_latents(seeds, Gs.cfg.latent_size)
    labels = _tile_label(Gs, label, len(seeds))
    noise = seed_noise(seeds) if random_noise else None
    return generate_uint8(Gs, latents, labels, noise=noise, **kwargs)


def _synthesize_uint8(Gs: GStyle, dlatents: np.ndarray, batch_size: int = 1) -> np.ndarray:
    """uint8 images of W vectors ``[N, num_layers, dlatent_size]`` with the stored noise."""
    out = []
    for start in range(0, len(dlatents), max(int(batch_size), 1)):
        images = Gs.synthesis(
            tf.constant(dlatents[start : start + max(int(batch_size), 1)]), randomize_noise=False
        )
        out.append(convert_images_to_uint8(tf.cast(images, tf.float32)).numpy())
    return np.concatenate(out, axis=0)


# ----------------------------------------------------------------------------------
# The paper's figures.


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
    labels = _tile_label(Gs, label, count)
    noise = list(tf.random.Generator.from_seed(seed).split(count)) if random_noise else None
    psis = [truncation_psi] * count if not row_psis else [row_psis[band % len(row_psis)] for band in bands]
    images = np.zeros([count, res, res, Gs.cfg.num_channels], np.uint8)
    for psi in dict.fromkeys(psis):  # Each distinct psi once, in order.
        idx = [i for i, p in enumerate(psis) if p == psi]
        images[idx] = generate_uint8(
            Gs,
            latents[idx],
            None if labels is None else labels[idx],
            truncation_psi=psi,
            truncation_cutoff=truncation_cutoff,
            noise=None if noise is None else [noise[i] for i in idx],
            batch_size=batch_size,
        )
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
        latents = seed_latents(seeds, Gs.cfg.latent_size)
        labels = _tile_label(Gs, label, len(seeds))
        dlatents = Gs.mapping(tf.constant(latents), None if labels is None else tf.constant(labels))
        if truncation_psi is not None:
            _, cutoff = _default_truncation(Gs, truncation_psi, truncation_cutoff)
            dlatents = Gs.truncate(dlatents, truncation_psi, cutoff)
        return dlatents.numpy()  # [N, num_layers, dlatent_size]

    src, dst = dlatents_of(col_seeds), dlatents_of(row_seeds)
    src_images, dst_images = _synthesize_uint8(Gs, src, batch_size), _synthesize_uint8(Gs, dst, batch_size)
    canvas = blank_image(res * (len(col_seeds) + 1), res * (len(row_seeds) + 1), Gs.cfg.num_channels)
    for col, image in enumerate(src_images):
        canvas.paste(to_pil(image), ((col + 1) * res, 0))
    for row, image in enumerate(dst_images):
        canvas.paste(to_pil(image), (0, (row + 1) * res))
        mixed = np.repeat(dst[row][np.newaxis], len(col_seeds), axis=0)  # [cols, num_layers, dlatent_size]
        layers = list(ranges[row])
        mixed[:, layers] = src[:, layers]
        for col, image in enumerate(_synthesize_uint8(Gs, mixed, batch_size)):
            canvas.paste(to_pil(image), ((col + 1) * res, (row + 1) * res))
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
        latents = np.repeat(seed_latents([seed], Gs.cfg.latent_size), num_samples, axis=0)
        images = generate_uint8(
            Gs,
            latents,
            _tile_label(Gs, label, num_samples),
            truncation_psi=truncation_psi,
            truncation_cutoff=truncation_cutoff,
            noise=list(tf.random.Generator.from_seed(seed).split(num_samples)),
            batch_size=batch_size,
        )
        canvas.paste(to_pil(images[0]), (0, row * res))
        for i in range(4):
            crop = to_pil(images[i + 1]).crop((x0, y0, x0 + size, y0 + size))
            crop = crop.resize((half, half), PIL.Image.NEAREST)
            canvas.paste(crop, (res + (i % 2) * half, row * res + (i // 2) * half))
        std = np.std(np.mean(images, axis=3), axis=0) * 4  # [R, R]
        std = np.clip(std + 0.5, 0, 255).astype(np.uint8)
        canvas.paste(to_pil(std), (res * 2, row * res))
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
    latents = seed_latents(seeds, Gs.cfg.latent_size)
    labels = _tile_label(Gs, label, len(seeds))
    stored = [v.numpy() for v in noise_vars]
    variants = []
    try:
        for noise_range in noise_ranges:
            for i, (var, value) in enumerate(zip(noise_vars, stored)):
                var.assign(value if i in noise_range else np.zeros_like(value))
            images = generate_uint8(
                Gs,
                latents,
                labels,
                truncation_psi=truncation_psi,
                truncation_cutoff=truncation_cutoff,
                batch_size=batch_size,
            )
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
    layers, as the original), with the stored noise.
    """
    res = Gs.cfg.resolution
    cutoff = Gs.num_layers if truncation_cutoff is None else truncation_cutoff
    latents = seed_latents(seeds, Gs.cfg.latent_size)
    labels = _tile_label(Gs, label, len(seeds))
    dlatents = Gs.mapping(tf.constant(latents), None if labels is None else tf.constant(labels))
    canvas = blank_image(res * len(psis), res * len(seeds), Gs.cfg.num_channels)
    for row in range(len(seeds)):
        row_dlatents = np.concatenate(
            [Gs.truncate(dlatents[row : row + 1], float(psi), cutoff).numpy() for psi in psis]
        )  # [psis, num_layers, dlatent_size]
        for col, image in enumerate(_synthesize_uint8(Gs, row_dlatents, batch_size)):
            canvas.paste(to_pil(image), (col * res, row * res))
    return canvas


# ----------------------------------------------------------------------------------
# Ranking by the discriminator.


def rank_by_discriminator(
    Gs: GStyle,
    D: DBasic,
    seeds: Sequence[int],
    keep: int,
    label: np.ndarray | None = None,
    *,
    random_noise: bool = False,
    batch_size: int = 1,
    **kwargs,
) -> list[tuple[int, float, np.ndarray]]:
    """The ``keep`` seeds whose images ``D`` scores highest.

    Each float image is scored on its own (a minibatch of one), so a score does not
    depend on the other samples through D's minibatch standard deviation layer; with
    labels, D scores the image under the label it was generated with.

    Args:
        Gs: The generator.
        D: The discriminator.
        seeds: The pool of candidate seeds.
        keep: How many to keep.
        label: ``[label_size]`` label for a conditional network.
        random_noise: As in :func:`generate_seeds`.
        batch_size: Images per generator call.
        **kwargs: ``truncation_psi``, ``truncation_cutoff`` of :func:`generate`.

    Returns:
        ``[(seed, score, uint8 image [R, R, C])]``, best first (ties keep seed order).
    """
    if not 1 <= keep <= len(seeds):
        raise ValueError(f"cannot keep {keep} of {len(seeds)} samples")
    latents = seed_latents(seeds, Gs.cfg.latent_size)
    labels = _tile_label(Gs, label, len(seeds))
    images = generate(
        Gs,
        latents,
        labels,
        noise=seed_noise(seeds) if random_noise else None,
        batch_size=batch_size,
        **kwargs,
    )
    scores = [
        float(np.asarray(D(images[i : i + 1], None if labels is None else labels[i : i + 1]))[0, 0])
        for i in range(len(seeds))
    ]
    order = sorted(range(len(seeds)), key=lambda i: -scores[i])[:keep]
    uint8 = convert_images_to_uint8(images)
    return [(int(seeds[i]), scores[i], uint8[i]) for i in order]


__all__ = [
    "NAMED_RANGES",
    "PerImageNoise",
    "default_noise_ranges",
    "default_style_ranges",
    "generate",
    "generate_seeds",
    "generate_uint8",
    "image_grid",
    "noise_components_figure",
    "noise_detail_figure",
    "one_hot",
    "parse_layer_range",
    "parse_seeds",
    "rank_by_discriminator",
    "seed_latents",
    "seed_noise",
    "style_mixing_figure",
    "to_pil",
    "truncation_figure",
    "uncurated_figure",
]
