"""What every tfstylegan network shares: the original's keyword arguments as Keras config."""

from __future__ import annotations

import types

import keras
import tensorflow as tf

from tfstylegan.resolution import resolution_log2

_KERAS_KWARGS = ("trainable", "dtype")


def nf_fn(fmap_base: int, fmap_decay: float, fmap_max: int):
    """The original's feature-map count per stage: ``min(int(base / 2**(stage*decay)), max)``."""
    return lambda stage: min(int(fmap_base / (2.0 ** (stage * fmap_decay))), fmap_max)


def check_structure(structure: str) -> str:
    """Resolve the original's ``structure`` argument ('auto' means 'recursive')."""
    if structure == "auto":
        return "recursive"
    if structure not in ("fixed", "linear", "recursive"):
        raise ValueError(f"structure must be 'auto', 'fixed', 'linear' or 'recursive', got {structure!r}")
    return structure


def check_nonlinearity(arg: str, value: str) -> None:
    """The networks take the original's 'lrelu' or 'relu'."""
    if value not in ("lrelu", "relu"):
        raise ValueError(f"{arg} must be 'lrelu' or 'relu', got {value!r}")


def lod_cond(lod_in, op: str, level: int, lod_range, true_fn, false_fn):
    """``tf.cond(lod_in < level)`` (op ``'<'``) or ``lod_in > level`` (op ``'>'``) of the recursive structure.

    ``lod_range = (lo, hi)`` is an optional static promise ``lo <= lod < hi`` from the
    caller (the trainer passes ``[floor(lod), floor(lod) + 1)``). When it decides the
    comparison, the branch is chosen at trace time: the graph then holds only the
    layers of one level, and a compiled training step with R1 traces in seconds
    instead of tens of seconds. The values are those of the dynamic choice.
    """
    if lod_range is not None:
        lo, hi = lod_range
        if op == "<" and (hi <= level or lo >= level):
            return true_fn() if hi <= level else false_fn()
        if op == ">" and (lo > level or hi <= level):
            return true_fn() if lo > level else false_fn()
    return tf.cond(lod_in < level if op == "<" else lod_in > level, true_fn, false_fn)


class Network(keras.Model):
    """Base class of G_mapping, G_synthesis, G_style and D_basic.

    Subclasses declare ``original_kwargs`` (the original function's keyword arguments
    and defaults) and ``original_name`` (the network name in the original pickles).
    The constructor accepts exactly those names (plus Keras' ``name``, ``dtype`` and
    ``trainable``; the original's ``dtype`` argument maps onto the Keras dtype policy),
    rejects anything else with an error that names it, and exposes the resolved values
    as ``self.cfg``. The network builds all of its weights in the constructor: shapes
    depend only on the configuration, so a fresh network is complete and can be
    filled from a pickle or a checkpoint at once.
    """

    original_kwargs: dict = {}
    original_name: str = ""

    def __init__(self, name: str | None = None, **kwargs):
        keras_kwargs = {k: kwargs.pop(k) for k in _KERAS_KWARGS if k in kwargs}
        unknown = sorted(set(kwargs) - set(self.original_kwargs))
        if unknown:
            raise TypeError(
                f"{type(self).__name__} got unknown argument(s) {unknown}; "
                f"expected some of {sorted(self.original_kwargs)}"
            )
        super().__init__(name=name or self.original_name, **keras_kwargs)
        if isinstance(kwargs.get("blur_filter"), tuple):
            kwargs["blur_filter"] = list(kwargs["blur_filter"])
        self._static_kwargs = types.MappingProxyType(dict(kwargs))
        self._cfg = types.MappingProxyType({**self.original_kwargs, **kwargs})

    @property
    def cfg(self) -> types.SimpleNamespace:
        """All original keyword arguments, defaults filled in (read-only)."""
        return types.SimpleNamespace(**self._cfg)

    @property
    def static_kwargs(self) -> dict:
        """The keyword arguments given at construction, in order (the original's ``static_kwargs``)."""
        return dict(self._static_kwargs)

    def _setup_growth(self):
        """Validate and resolve what G_synthesis and D_basic share: resolution, structure, fmaps."""
        c = self.cfg
        self.resolution_log2 = resolution_log2(c.resolution)
        self.structure = check_structure(c.structure)
        check_nonlinearity("nonlinearity", c.nonlinearity)
        self.nf = nf_fn(c.fmap_base, c.fmap_decay, c.fmap_max)

    def _add_lod(self):
        """The non-trainable float32 ``lod`` variable (level of detail, 0 = full resolution)."""
        return self.add_weight(
            name="lod",
            shape=(),
            dtype="float32",
            initializer="zeros",
            trainable=False,
            autocast=False,
            aggregation="only_first_replica",
        )

    def check_labels(self, labels, like):
        """Labels as ``[N, label_size]`` in the compute dtype, with a clear error if absent."""
        size = self._cfg["label_size"]
        if labels is None:
            raise ValueError(f"{self.name}: label_size={size} but no labels were given")
        labels = tf.cast(labels, like.dtype)
        if labels.shape.rank != 2 or (labels.shape[1] is not None and labels.shape[1] != size):
            raise ValueError(f"{self.name}: labels must be [N, {size}], got shape {labels.shape}")
        return labels

    def build_all(self):  # pragma: no cover - every subclass overrides
        """Create every weight (shapes depend only on the configuration)."""
        raise NotImplementedError

    def _build_now(self):
        self.build_all()
        self.built = True

    def build(self, input_shape=None):
        """Weights are built in the constructor; nothing depends on the input shape."""

    def build_from_config(self, config):
        """Already complete after ``__init__``; loading needs no shape information."""

    def get_build_config(self):
        return None

    def get_config(self):
        """Keras config: name, trainable, dtype policy and the ``static_kwargs``."""
        config = {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.saving.serialize_keras_object(self.dtype_policy),
        }
        config.update(self.static_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = keras.saving.deserialize_keras_object(config["dtype"])
        return cls(**config)
