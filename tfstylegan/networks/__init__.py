"""Keras models of the original networks: G_mapping, G_synthesis, G_style, D_basic."""

from tfstylegan.networks.discriminator import D_KWARGS, DBasic
from tfstylegan.networks.generator import G_KWARGS, STYLE_KWARGS, GStyle
from tfstylegan.networks.mapping import MAPPING_KWARGS, GMapping
from tfstylegan.networks.synthesis import SYNTHESIS_KWARGS, GSynthesis

# The original build-function names, as stored in pickles (build_func_name).
BUILD_FUNCS = {"G_style": GStyle, "G_mapping": GMapping, "G_synthesis": GSynthesis, "D_basic": DBasic}

__all__ = [
    "BUILD_FUNCS",
    "D_KWARGS",
    "DBasic",
    "G_KWARGS",
    "GMapping",
    "GStyle",
    "GSynthesis",
    "MAPPING_KWARGS",
    "STYLE_KWARGS",
    "SYNTHESIS_KWARGS",
]
