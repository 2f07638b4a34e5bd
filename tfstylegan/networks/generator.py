"""G_style: the style-based generator (mapping + synthesis, truncation, style mixing)."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from tfstylegan import ops
from tfstylegan.networks.base import Network
from tfstylegan.networks.mapping import MAPPING_KWARGS, GMapping
from tfstylegan.networks.synthesis import SYNTHESIS_KWARGS, GSynthesis
from tfstylegan.noise import DEFAULT_RANDOM

# The original G_style keyword arguments and their defaults.
STYLE_KWARGS = dict(
    truncation_psi=0.7,  # Pull w towards dlatent_avg by this factor; None or 1 = no truncation.
    truncation_cutoff=8,  # Truncate only layers below this index; None = no truncation.
    truncation_psi_val=None,  # What is_validation=True uses instead of truncation_psi.
    truncation_cutoff_val=None,  # What is_validation=True uses instead of truncation_cutoff.
    dlatent_avg_beta=0.995,  # Training keeps dlatent_avg as an EMA of w with this decay; None = off.
    style_mixing_prob=0.9,  # Chance that a training batch mixes two w at a random layer; None = off.
)

_SUB_KWARGS = {k: v for k, v in {**MAPPING_KWARGS, **SYNTHESIS_KWARGS}.items() if k != "dlatent_broadcast"}
# Arguments that G_style accepts in the original (its own + everything its sub-networks take).
G_KWARGS = {**STYLE_KWARGS, **_SUB_KWARGS}

CONFIG = object()  # sentinel: "use the value the network was configured with"


def _is_python_one(x) -> bool:
    return x is not None and not tf.is_tensor(x) and not isinstance(x, tf.Variable) and x == 1


def _is_python_le0(x) -> bool:
    return x is not None and not tf.is_tensor(x) and not isinstance(x, tf.Variable) and x <= 0


def disables_truncation(truncation_psi, truncation_cutoff) -> bool:
    """GStyle's rule: a None or Python ``psi == 1``, or a None or Python ``cutoff <= 0``, means no truncation.

    Tensors and variables never disable it: a tensor psi is always applied.
    """
    return (
        truncation_psi is None
        or _is_python_one(truncation_psi)
        or truncation_cutoff is None
        or _is_python_le0(truncation_cutoff)
    )


@keras.saving.register_keras_serializable(package="tfstylegan")
class GStyle(Network):
    """The style-based generator of the StyleGAN paper (the original ``G_style``).

    Holds ``mapping`` (:class:`GMapping`) and ``synthesis`` (:class:`GSynthesis`), the
    non-trainable ``dlatent_avg`` ``[dlatent_size]`` and the ``lod`` variable, which is
    the synthesis network's own (``G.lod is G.synthesis.lod``), so setting G's lod
    drives its synthesis network.

    Call: ``G(latents, labels=None, **overrides)`` returns NHWC images. Keyword
    overrides (any of ``truncation_psi``, ``truncation_cutoff``, ``truncation_psi_val``,
    ``truncation_cutoff_val``, ``dlatent_avg_beta``, ``style_mixing_prob``,
    ``randomize_noise``, ``is_training``, ``is_validation``, ``rng``) replace the
    configured values for that call, as the original's ``Network.run(**kwargs)`` does.
    ``lod_range=(lo, hi)`` promises ``lo <= lod < hi`` so the recursive synthesis is
    pruned at trace time (see ``networks.base.lod_cond``).

    - ``is_training=True``: no truncation; ``dlatent_avg`` is updated with
      ``dlatent_avg_beta``; style mixing with ``style_mixing_prob``.
    - ``is_validation=True``: ``truncation_psi_val`` / ``truncation_cutoff_val``.
    - A Python ``truncation_psi == 1`` or ``truncation_cutoff <= 0`` (or None)
      disables truncation. A tensor psi is always applied.
    """

    original_kwargs = G_KWARGS
    original_name = "G"

    def __init__(self, name: str = "G", **kwargs):
        super().__init__(name=name, **kwargs)
        cfg = self._cfg
        policy = self.dtype_policy
        self.synthesis = GSynthesis(dtype=policy, **{k: cfg[k] for k in SYNTHESIS_KWARGS})
        self.num_layers = self.synthesis.num_styles
        mapping_kwargs = {k: cfg[k] for k in MAPPING_KWARGS if k != "dlatent_broadcast"}
        self.mapping = GMapping(dtype=policy, dlatent_broadcast=self.num_layers, **mapping_kwargs)
        self._build_now()

    def build_all(self):
        self.dlatent_avg = self.add_weight(
            name="dlatent_avg",
            shape=(self.cfg.dlatent_size,),
            dtype="float32",
            initializer="zeros",
            trainable=False,
            autocast=False,
            aggregation="mean",
        )

    @property
    def lod(self):
        """The level-of-detail variable (shared with ``synthesis``)."""
        return self.synthesis.lod

    @property
    def resolution(self) -> int:
        return self.cfg.resolution

    def original_variables(self):
        """``[(local_name, variable)]`` of G's own variables, in the original's order."""
        return [("lod", self.lod), ("dlatent_avg", self.dlatent_avg)]

    def call(
        self,
        latents,
        labels=None,
        truncation_psi=CONFIG,
        truncation_cutoff=CONFIG,
        truncation_psi_val=CONFIG,
        truncation_cutoff_val=CONFIG,
        dlatent_avg_beta=CONFIG,
        style_mixing_prob=CONFIG,
        is_training=False,
        is_validation=False,
        randomize_noise=None,
        rng=None,
        lod_range=None,
    ):
        c = self._cfg
        pick = lambda value, key: c[key] if value is CONFIG else value
        truncation_psi = pick(truncation_psi, "truncation_psi")
        truncation_cutoff = pick(truncation_cutoff, "truncation_cutoff")
        dlatent_avg_beta = pick(dlatent_avg_beta, "dlatent_avg_beta")
        style_mixing_prob = pick(style_mixing_prob, "style_mixing_prob")
        if is_training and is_validation:
            raise ValueError("is_training and is_validation cannot both be True")
        if is_validation:
            truncation_psi = pick(truncation_psi_val, "truncation_psi_val")
            truncation_cutoff = pick(truncation_cutoff_val, "truncation_cutoff_val")
        if is_training or disables_truncation(truncation_psi, truncation_cutoff):
            truncation_psi = truncation_cutoff = None
        if not is_training or _is_python_one(dlatent_avg_beta):
            dlatent_avg_beta = None
        if not is_training or _is_python_le0(style_mixing_prob):
            style_mixing_prob = None
        rng = rng or DEFAULT_RANDOM

        dlatents = self.mapping(latents, labels)  # [N, num_layers, dlatent_size]

        if dlatent_avg_beta is not None:
            batch_avg = tf.reduce_mean(tf.cast(dlatents[:, 0], tf.float32), axis=0)  # [dlatent_size]
            self.dlatent_avg.assign(ops.lerp(batch_avg, self.dlatent_avg, dlatent_avg_beta))

        if style_mixing_prob is not None:
            dlatents = self._style_mix(dlatents, latents, labels, style_mixing_prob, rng)

        if truncation_psi is not None:
            dlatents = self.truncate(dlatents, truncation_psi, truncation_cutoff)

        return self.synthesis(dlatents, randomize_noise=randomize_noise, rng=rng, lod_range=lod_range)

    def _style_mix(self, dlatents, latents, labels, prob, rng):
        """Style mixing regularisation: layers >= a random cutoff take a second W."""
        latents2 = rng.normal(tf.shape(latents), dtype=tf.float32)
        dlatents2 = self.mapping(latents2, labels)
        layer_idx = np.arange(self.num_layers)[np.newaxis, :, np.newaxis]  # [1, L, 1]
        cur_layers = self.num_layers - tf.cast(self.lod, tf.int32) * 2
        # Both draws are made every call (the original draws the cutoff inside a tf.cond):
        # every replica then advances its random stream alike, so the generator's state
        # stays the same on all replicas and a checkpoint resumes each of them exactly.
        decision = rng.uniform([], 0.0, 1.0, dtype=tf.float32)
        cutoff = rng.uniform([], 1, cur_layers, dtype=tf.int32)
        mixing_cutoff = tf.where(decision < prob, cutoff, cur_layers)
        mask = tf.broadcast_to(layer_idx < mixing_cutoff, tf.shape(dlatents))  # [N, L, D]
        return tf.where(mask, dlatents, dlatents2)

    def truncate(self, dlatents, truncation_psi, truncation_cutoff):
        """The truncation trick: ``avg + (w - avg) * psi`` for layers ``< cutoff``."""
        layer_idx = np.arange(self.num_layers)[np.newaxis, :, np.newaxis]  # [1, L, 1]
        ones = np.ones(layer_idx.shape, dtype=np.float32)
        coefs = tf.where(layer_idx < truncation_cutoff, truncation_psi * ones, ones)  # [1, L, 1]
        avg = tf.cast(self.dlatent_avg, dlatents.dtype)
        return ops.lerp(avg, dlatents, tf.cast(coefs, dlatents.dtype))

    def generate(
        self,
        latents,
        labels=None,
        truncation_psi=CONFIG,
        truncation_cutoff=CONFIG,
        randomize_noise=True,
        rng=None,
    ):
        """Generate images the way the original ``pretrained_example.py`` does.

        Args:
            latents: ``[N, latent_size]`` Z vectors.
            labels: ``[N, label_size]`` or None / ``[N, 0]`` without labels.
            truncation_psi: Truncation strength; 1 or None disables truncation. Default:
                the network's ``truncation_psi`` (0.7 unless configured otherwise).
            truncation_cutoff: Number of layers truncated; None or <= 0 disables it.
                Default: the network's ``truncation_cutoff`` (8 unless configured otherwise).
            randomize_noise: Fresh noise (True) or the stored noise inputs (False).
            rng: Optional source of the noise (see :mod:`tfstylegan.noise`).

        Returns:
            float32 NHWC images ``[N, R, R, C]`` in about [-1, 1].
        """
        images = self(
            tf.convert_to_tensor(latents, tf.float32),
            None if labels is None else tf.convert_to_tensor(labels, tf.float32),
            truncation_psi=truncation_psi,
            truncation_cutoff=truncation_cutoff,
            randomize_noise=randomize_noise,
            rng=rng,
        )
        return tf.cast(images, tf.float32)
