"""Exporting trained networks: ``.keras`` files and a SavedModel that serves images.

``.keras`` files come in two kinds:

- **Gs alone**: ``Gs.save("gs.keras")``, i.e. a plain :class:`~tfstylegan.GStyle`. Enough
  to generate images; ``keras.saving.load_model`` returns the generator.
- **A bundle** of ``G``, ``D`` and ``Gs``: :class:`NetworkBundle`, written by
  :func:`save_keras`. It holds everything an original pickle holds (weights, ``lod``,
  ``dlatent_avg``, the stored noise), so it converts back to a pickle losslessly.

:func:`export_saved_model` writes a TensorFlow SavedModel of ``Gs`` that loads with
plain ``tf.saved_model.load`` and runs without this package installed. Signatures:

- ``serving_default(latents, labels, truncation_psi, truncation_cutoff)``: the stored
  noise inputs (deterministic).
- ``random_noise(latents, labels, truncation_psi, truncation_cutoff, noise_seeds)``:
  fresh noise, a pure function of each row's ``noise_seeds`` entry; ``noise_seeds`` int64.
- ``random_noise_int32(...)``: the same with int32 ``noise_seeds`` (what
  ``tf.constant([3, 1, 4])`` makes); equal seed values give equal images.

Inputs: ``latents`` float32 ``[N, latent_size]``; ``labels`` float32
``[N, label_size]`` (``[N, 0]`` for an unconditional network); ``truncation_psi``
float32 scalar (1 disables truncation); ``truncation_cutoff`` int32 scalar (the number
of layers truncated, counted from the coarsest; <= 0 disables, >= ``num_layers`` truncates
all); ``noise_seeds`` ``[N]``. Output: ``{"images": uint8 [N, R, R, C]}`` (NHWC,
converted like the original's ``convert_images_to_uint8``). The loaded object's
``serve_random_noise(...)`` function takes int32 and int64 seeds alike, and its ``info()``
returns the network's sizes.
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from tfstylegan.atomic import atomic_directory, atomic_output
from tfstylegan.generation import truncate_in_graph
from tfstylegan.images import convert_images_to_uint8
from tfstylegan.networks import DBasic, GStyle
from tfstylegan.noise import SampleNoise

_BUNDLE_KEYS = ("G", "D", "Gs")


@keras.saving.register_keras_serializable(package="tfstylegan")
class NetworkBundle(keras.Model):
    """``G``, ``D`` and ``Gs`` in one Keras model, so that one ``.keras`` file holds them all.

    It is only a container (it has no ``call``); its config is the three networks'
    serialized configs and its weights are theirs.

    Args:
        G: The generator being trained (:class:`~tfstylegan.GStyle`).
        D: The discriminator (:class:`~tfstylegan.DBasic`).
        Gs: The long-term average of the generator (:class:`~tfstylegan.GStyle`).
    """

    def __init__(self, G: GStyle, D: DBasic, Gs: GStyle, name: str = "network_bundle", **kwargs):
        super().__init__(name=name, **kwargs)
        for key, net, cls in (("G", G, GStyle), ("D", D, DBasic), ("Gs", Gs, GStyle)):
            if not isinstance(net, cls):
                raise TypeError(f"NetworkBundle: {key} must be a {cls.__name__}, got {type(net).__name__}")
        self.G = G
        self.D = D
        self.Gs = Gs
        self.built = True

    def get_config(self):
        config = super().get_config()
        config.update({key: keras.saving.serialize_keras_object(getattr(self, key)) for key in _BUNDLE_KEYS})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        nets = {key: keras.saving.deserialize_keras_object(config.pop(key)) for key in _BUNDLE_KEYS}
        return cls(**nets, **config)


def save_keras(path: str | os.PathLike, Gs: GStyle, G: GStyle | None = None, D: DBasic | None = None) -> None:
    """Write networks as a ``.keras`` file (atomically).

    Args:
        path: Destination; must end in ``.keras``.
        Gs: The generator to export.
        G, D: Give both to write a :class:`NetworkBundle` of ``G``, ``D`` and ``Gs``;
            give neither to write ``Gs`` alone.
    """
    path = os.fspath(path)
    if not path.endswith(".keras"):
        raise ValueError(f"a .keras file name must end in '.keras', got {path!r}")
    if (G is None) != (D is None):
        raise ValueError("give both G and D (a bundle) or neither (Gs alone)")
    model = Gs if G is None else NetworkBundle(G, D, Gs)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_output(path) as temp:
        model.save(temp)


def _input_specs(latent_size: int, label_size: int) -> list[tf.TensorSpec]:
    return [
        tf.TensorSpec([None, latent_size], tf.float32, name="latents"),
        tf.TensorSpec([None, label_size], tf.float32, name="labels"),
        tf.TensorSpec([], tf.float32, name="truncation_psi"),
        tf.TensorSpec([], tf.int32, name="truncation_cutoff"),
    ]


class GsServing(tf.Module):
    """A ``tf.Module`` around ``Gs`` with the serving functions of :func:`export_saved_model`.

    ``serve_random_noise`` is traced for int64 and for int32 ``noise_seeds``, so the saved
    function takes both and each has a signature (:meth:`signatures`).
    """

    def __init__(self, Gs: GStyle):
        super().__init__(name="Gs_serving")
        self.Gs = Gs
        self.latent_size = int(Gs.cfg.latent_size)
        self.label_size = int(Gs.cfg.label_size)
        self.serve = tf.function(self._serve, input_signature=_input_specs(self.latent_size, self.label_size))
        self.serve_random_noise = tf.function(self._serve_random_noise)
        for dtype in (tf.int64, tf.int32):
            self._random_noise(dtype)
        self.info = tf.function(self._info, input_signature=[])

    def _random_noise(self, dtype: tf.DType):
        seeds = tf.TensorSpec([None], dtype, name="noise_seeds")
        return self.serve_random_noise.get_concrete_function(*_input_specs(self.latent_size, self.label_size), seeds)

    def signatures(self) -> dict:
        """The SavedModel signatures by name (see the module docstring)."""
        return {
            "serving_default": self.serve,
            "random_noise": self._random_noise(tf.int64),
            "random_noise_int32": self._random_noise(tf.int32),
        }

    def _dlatents(self, latents, labels, truncation_psi, truncation_cutoff):
        dlatents = self.Gs.mapping(latents, labels if self.label_size else None)  # [N, num_layers, dlatent_size]
        return truncate_in_graph(self.Gs, dlatents, truncation_psi, truncation_cutoff)

    def _serve(self, latents, labels, truncation_psi, truncation_cutoff):
        dlatents = self._dlatents(latents, labels, truncation_psi, truncation_cutoff)
        images = self.Gs.synthesis(dlatents, randomize_noise=False)
        return {"images": convert_images_to_uint8(images)}

    def _serve_random_noise(self, latents, labels, truncation_psi, truncation_cutoff, noise_seeds):
        dlatents = self._dlatents(latents, labels, truncation_psi, truncation_cutoff)
        images = self.Gs.synthesis(dlatents, randomize_noise=True, rng=SampleNoise(noise_seeds))
        return {"images": convert_images_to_uint8(images)}

    def _info(self):
        cfg = self.Gs.cfg
        return {
            "latent_size": tf.constant(self.latent_size, tf.int32),
            "label_size": tf.constant(self.label_size, tf.int32),
            "resolution": tf.constant(int(cfg.resolution), tf.int32),
            "num_channels": tf.constant(int(cfg.num_channels), tf.int32),
            "num_layers": tf.constant(int(self.Gs.num_layers), tf.int32),
            "default_truncation_psi": tf.constant(
                1.0 if cfg.truncation_psi is None else float(cfg.truncation_psi), tf.float32
            ),
            "default_truncation_cutoff": tf.constant(
                0 if cfg.truncation_cutoff is None else int(cfg.truncation_cutoff), tf.int32
            ),
        }


def export_saved_model(Gs: GStyle, export_dir: str | os.PathLike) -> None:
    """Write ``Gs`` as a SavedModel that serves uint8 images (see the module docstring).

    The directory is written next to its final place and swapped in when complete, so a
    kill at any moment leaves the old directory or the new one
    (:func:`tfstylegan.atomic.atomic_directory`, which also states the recovery rule).

    Args:
        Gs: The generator.
        export_dir: Destination directory.
    """
    module = GsServing(Gs)
    signatures = module.signatures()
    with atomic_directory(export_dir) as temp:
        tf.saved_model.save(module, temp, signatures=signatures)


__all__ = ["GsServing", "NetworkBundle", "export_saved_model", "save_keras"]
