"""The tiny network configurations the tests share: CPU-sized, built in well under a second.

Tests that need a network of their own numbers (a hand-computed table, a FLOP criterion,
a fixture's static_kwargs) keep their own; every other test takes one of these, through
the builders and networks of ``tests/conftest.py`` or, where a parametrization needs
the numbers at import time, from here.
"""

# An 8x8 RGB generator (4 styles, 8 feature maps at every resolution) for generation and figures.
GS_8 = dict(
    resolution=8, num_channels=3, fmap_base=32, fmap_max=8, latent_size=8, dlatent_size=8, mapping_fmaps=8,
    mapping_layers=2,
)

# A 16x16 conditional (3 classes) G and D: the Keras conventions, exports, pickle round trips.
G_16 = dict(
    num_channels=3, resolution=16, label_size=3, fmap_base=64, fmap_max=16, latent_size=8, dlatent_size=8,
    mapping_fmaps=8, mapping_layers=2,
)
D_16 = dict(num_channels=3, resolution=16, label_size=3, fmap_base=64, fmap_max=16, mbstd_group_size=2)

# The training tests' G_args and D_args; resolution and channels come from the dataset
# (tests/data/small/dataset/rgb32: 32x32 RGB).
TRAIN_G_ARGS = dict(fmap_base=64, fmap_max=32, latent_size=16, dlatent_size=16, mapping_fmaps=16, mapping_layers=2)
TRAIN_D_ARGS = dict(fmap_base=64, fmap_max=32)
TRAIN_RESOLUTION = 32


def as_flag(args: dict) -> str:
    """``train.py``'s ``--G_args``/``--D_args`` value: ``key=value,key=value``."""
    return ",".join(f"{k}={v}" for k, v in args.items())


# Builders: every call makes fresh networks (fresh weights a test may change). The
# fixtures of the same names in tests/conftest.py hand these out.


def tiny_gs(**overrides):
    """A fresh 8x8 ``Gs`` (:data:`GS_8` updated with ``overrides``)."""
    from tfstylegan import GStyle

    return GStyle(name="Gs", **{**GS_8, **overrides})


def tiny_G_D(**overrides):
    """A fresh 16x16 conditional ``(G, D)``; ``overrides`` (e.g. ``label_size``) go to both."""
    from tfstylegan import DBasic, GStyle

    return GStyle(**{**G_16, **overrides}), DBasic(**{**D_16, **overrides})


def train_G_D(**overrides):
    """A fresh 32x32 RGB ``(G, D)`` of the training tests; ``overrides`` (e.g. ``dtype``) go to both."""
    from tfstylegan import DBasic, GStyle

    res = dict(num_channels=3, resolution=TRAIN_RESOLUTION)
    return GStyle(**res, **{**TRAIN_G_ARGS, **overrides}), DBasic(**res, **{**TRAIN_D_ARGS, **overrides})
