"""tfstylegan: the original StyleGAN (v1) in TensorFlow 2 / Keras 3.

Main entry points:

- :func:`load_network_pkl` / :func:`save_network_pkl`: original ``(G, D, Gs)`` pickles.
- :func:`load_networks`: a pickle, a ``.keras`` file or a training run directory;
  :func:`export_saved_model`: a SavedModel that serves Gs.
- :class:`GStyle` (G, Gs), :class:`DBasic` (D), :class:`GMapping`, :class:`GSynthesis`.
- :func:`convert_images_to_uint8`: network images in [-1, 1] -> uint8.

Images at every public boundary are NHWC float32 in [-1, 1].

The names are resolved on first use, so that ``tfstylegan.legacy`` (and a plain
``pickle.load`` of an original file through the ``dnnlib`` aliases) works without
importing TensorFlow.
"""

from tfstylegan._lazy import lazy_exports

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "load_network_pkl": "tfstylegan.legacy.network_pkl",
    "save_network_pkl": "tfstylegan.legacy.network_pkl",
    "load_networks": "tfstylegan.loading",
    "export_saved_model": "tfstylegan.export",
    "GStyle": "tfstylegan.networks",
    "DBasic": "tfstylegan.networks",
    "GMapping": "tfstylegan.networks",
    "GSynthesis": "tfstylegan.networks",
    "convert_images_to_uint8": "tfstylegan.images",
    "training_schedule": "tfstylegan.schedule",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports("tfstylegan", _EXPORTS, globals())
