"""tfstylegan: the original StyleGAN (v1) in TensorFlow 2 / Keras 3.

Main entry points:

- :func:`load_network_pkl` / :func:`save_network_pkl`: original ``(G, D, Gs)`` pickles.
- :class:`GStyle` (G, Gs), :class:`DBasic` (D), :class:`GMapping`, :class:`GSynthesis`.
- :func:`convert_images_to_uint8`: network images in [-1, 1] -> uint8.

Images at every public boundary are NHWC float32 in [-1, 1].
"""

__version__ = "0.1.0"

from tfstylegan.legacy.network_pkl import load_network_pkl, save_network_pkl
from tfstylegan.networks import DBasic, GMapping, GStyle, GSynthesis
from tfstylegan.ops import convert_images_to_uint8

__all__ = [
    "DBasic",
    "GMapping",
    "GStyle",
    "GSynthesis",
    "convert_images_to_uint8",
    "load_network_pkl",
    "save_network_pkl",
]
