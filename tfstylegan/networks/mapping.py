"""G_mapping: latents Z (+ labels) -> disentangled latents W."""

from __future__ import annotations

import keras
import tensorflow as tf

from tfstylegan import layers, ops
from tfstylegan.networks.base import Network, check_nonlinearity

# The original G_mapping keyword arguments and their defaults.
MAPPING_KWARGS = dict(
    latent_size=512,  # Width of the input latents z.
    label_size=0,  # Width of the conditioning labels; 0 = unconditional.
    dlatent_size=512,  # Width of the intermediate latents w.
    dlatent_broadcast=None,  # Copies of w per sample: None -> [N, D], k -> [N, k, D].
    mapping_layers=8,  # Depth of the MLP from z to w.
    mapping_fmaps=512,  # Width of the hidden MLP layers.
    mapping_lrmul=0.01,  # Scales the MLP's effective learning rate (equalized lr).
    mapping_nonlinearity="lrelu",  # Activation of every MLP layer: 'lrelu' or 'relu'.
    use_wscale=True,  # Scale weights at run time by He's constant (equalized lr).
    normalize_latents=True,  # Pixel-normalise [z, label embedding] before the MLP.
)


@keras.saving.register_keras_serializable(package="tfstylegan")
class GMapping(Network):
    """The mapping network of the StyleGAN paper (the original ``G_mapping``).

    Call: ``mapping(latents, labels=None)`` with latents ``[N, latent_size]`` and labels
    ``[N, label_size]`` (``None`` or ``[N, 0]`` without labels) returns dlatents
    ``[N, dlatent_broadcast, dlatent_size]`` (or ``[N, dlatent_size]`` when
    ``dlatent_broadcast`` is None).

    Every constructor argument is the original's, with the original's default.
    """

    original_kwargs = MAPPING_KWARGS
    original_name = "G_mapping"

    def __init__(self, name: str = "G_mapping", **kwargs):
        super().__init__(name=name, **kwargs)
        c = self.cfg
        check_nonlinearity("mapping_nonlinearity", c.mapping_nonlinearity)
        self.label_embedding = (
            layers.LabelEmbedding(c.latent_size, name="LabelConcat", dtype=self.dtype_policy)
            if c.label_size
            else None
        )
        self.dense_layers = []
        for i in range(c.mapping_layers):
            fmaps = c.dlatent_size if i == c.mapping_layers - 1 else c.mapping_fmaps
            self.dense_layers.append(
                layers.Dense(
                    fmaps,
                    gain=layers.SQRT2,
                    use_wscale=c.use_wscale,
                    lrmul=c.mapping_lrmul,
                    nonlinearity=c.mapping_nonlinearity,
                    name=f"Dense{i}",
                    dtype=self.dtype_policy,
                )
            )
        self._build_now()

    def build_all(self):
        c = self.cfg
        width = c.latent_size
        if self.label_embedding is not None:
            self.label_embedding.build((None, c.label_size))
            width += c.latent_size
        for layer in self.dense_layers:
            layer.build((None, width))
            width = layer.fmaps

    def original_variables(self):
        """``[(local_name, variable)]`` in the original's creation order."""
        out = []
        if self.label_embedding is not None:
            out.append(("LabelConcat/weight", self.label_embedding.weight))
        for i, layer in enumerate(self.dense_layers):
            out += [(f"Dense{i}/weight", layer.weight), (f"Dense{i}/bias", layer.bias)]
        return out

    def call(self, latents, labels=None):
        c = self.cfg
        x = tf.cast(latents, self.compute_dtype)  # [N, latent_size]
        if self.label_embedding is not None:
            labels = self.check_labels(labels, x)
            x = tf.concat([x, self.label_embedding(labels)], axis=1)  # [N, 2 * latent_size]
        if c.normalize_latents:
            x = ops.pixel_norm(x)
        for layer in self.dense_layers:
            x = layer(x)
        if c.dlatent_broadcast is not None:
            x = tf.tile(x[:, tf.newaxis], [1, c.dlatent_broadcast, 1])  # [N, broadcast, dlatent_size]
        return x
