"""The StyleGAN paper's figures from a trained generator, and ranking samples by D.

The figures follow the original ``generate_figures.py``: its seeds and settings are the
defaults, and sizes follow the network's resolution and number of layers (the paper used
1024 x 1024 FFHQ networks with 18 layers). Every figure function returns a ``PIL.Image``.

Latents, labels, truncation and noise follow :mod:`tfstylegan.generation`; images become
8-bit through :func:`tfstylegan.convert_images_to_uint8`, as in the original scripts.
The figures run eagerly, by default one image per network call, so an image equals what
``Gs.generate`` returns for that latent alone, bit for bit (``batch_size`` trades that for
speed: TensorFlow's kernels may round a rare pixel one 8-bit level differently for other
batch sizes). Fresh noise comes from one ``tf.random.Generator`` per image.
"""

from tfstylegan.figures.edits import (
    NAMED_RANGES,
    NOISE_COMPONENT_SEEDS,
    STYLE_MIXING_COL_SEEDS,
    STYLE_MIXING_ROW_SEEDS,
    TRUNCATION_PSIS,
    TRUNCATION_SEEDS,
    default_noise_ranges,
    default_style_ranges,
    noise_components_figure,
    parse_layer_range,
    style_mixing_figure,
    truncation_figure,
)
from tfstylegan.figures.samples import (
    NOISE_DETAIL_SAMPLES,
    NOISE_DETAIL_SEEDS,
    UNCURATED_LODS,
    UNCURATED_ROWS,
    UNCURATED_SEED,
    noise_detail_figure,
    rank_by_discriminator,
    uncurated_figure,
)

__all__ = [
    "NAMED_RANGES",
    "NOISE_COMPONENT_SEEDS",
    "NOISE_DETAIL_SAMPLES",
    "NOISE_DETAIL_SEEDS",
    "STYLE_MIXING_COL_SEEDS",
    "STYLE_MIXING_ROW_SEEDS",
    "TRUNCATION_PSIS",
    "TRUNCATION_SEEDS",
    "UNCURATED_LODS",
    "UNCURATED_ROWS",
    "UNCURATED_SEED",
    "default_noise_ranges",
    "default_style_ranges",
    "noise_components_figure",
    "noise_detail_figure",
    "parse_layer_range",
    "rank_by_discriminator",
    "style_mixing_figure",
    "truncation_figure",
    "uncurated_figure",
]
