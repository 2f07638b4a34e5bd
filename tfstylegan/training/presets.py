"""Named configurations: the original train.py's StyleGAN configs and a CPU-sized ``tiny`` one.

The original train.py chooses a dataset line and a GPU-count line by uncommenting them;
here ``--config`` names the dataset line and the GPU count picks the minibatch table.
"""

from __future__ import annotations

from tfstylegan.training.config import ConfigError, TrainConfig

# The original train.py's per-GPU-count minibatch tables: num_gpus -> (minibatch_base, minibatch_dict).
STYLEGAN_MINIBATCH = {
    1: (4, {4: 128, 8: 128, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8, 512: 4}),
    2: (8, {4: 256, 8: 256, 16: 128, 32: 64, 64: 32, 128: 16, 256: 8}),
    4: (16, {4: 512, 8: 256, 16: 128, 32: 64, 64: 32, 128: 16}),
    8: (32, {4: 512, 8: 256, 16: 128, 32: 64, 64: 32}),
}
# The original train.py's learning rates per resolution (the same for G and D).
STYLEGAN_LRATE = {128: 0.0015, 256: 0.002, 512: 0.003, 1024: 0.003}


def _stylegan(desc: str, mirror_augment: bool, resolution: int | None, dataset: str) -> dict:
    return dict(
        desc=desc,
        dataset=dataset,
        overrides=dict(
            resolution=resolution,
            mirror_augment=mirror_augment,
            total_kimg=25000.0,
            grid_size="4k",
            sched_args=dict(
                lod_initial_resolution=8,
                G_lrate_dict=dict(STYLEGAN_LRATE),
                D_lrate_dict=dict(STYLEGAN_LRATE),
            ),
        ),
        minibatch_tables=STYLEGAN_MINIBATCH,
    )


# name -> description, the dataset it was made for, TrainConfig overrides, minibatch tables (or None).
PRESETS = {
    "ffhq": _stylegan("sgan-ffhq", True, None, "ffhq (1024x1024)"),
    "ffhq512": _stylegan("sgan-ffhq512", True, 512, "ffhq, read at 512x512"),
    "ffhq256": _stylegan("sgan-ffhq256", True, 256, "ffhq, read at 256x256"),
    "celebahq": _stylegan("sgan-celebahq", True, None, "celebahq (1024x1024)"),
    "bedroom": _stylegan("sgan-bedroom", False, None, "lsun-bedroom-full (256x256)"),
    "car": _stylegan("sgan-car", False, None, "lsun-car-512x384 (512x512)"),
    "cat": _stylegan("sgan-cat", False, None, "lsun-cat-full (256x256)"),
    "tiny": dict(
        desc="sgan-tiny",
        dataset="the built-in 32x32 shapes, or any small dataset",
        overrides=dict(
            G_args=dict(fmap_base=256, fmap_max=128, latent_size=128, dlatent_size=128, mapping_fmaps=128),
            D_args=dict(fmap_base=256, fmap_max=128),
            D_loss_args={"r1_gamma": 1.0},  # Sharper shapes than 10 in a CPU-length run at 32x32.
            mirror_augment=True,
            total_kimg=150.0,  # About 10 minutes on a 2-core CPU.
            G_smoothing_kimg=2.0,
            grid_size="12x6",
            image_snapshot_ticks=1,
            network_snapshot_ticks=5,
            metrics=["swd1k"],  # Needs no weights file (tfstylegan.metrics.registry.DEFAULT_SNAPSHOT_METRIC).
            checkpoint_ticks=1,
            sched_args=dict(
                lod_initial_resolution=8,
                lod_training_kimg=6,
                lod_transition_kimg=6,
                minibatch_base=32,
                G_lrate_base=0.002,
                D_lrate_base=0.002,
                tick_kimg_base=4,
                tick_kimg_dict={},
            ),
        ),
        minibatch_tables=None,
    ),
}


def preset_config(name: str, num_gpus: int, user_sched_args: dict | None = None) -> TrainConfig:
    """The :class:`TrainConfig` of a preset for ``num_gpus`` GPUs (replicas).

    Args:
        name: a key of :data:`PRESETS`.
        num_gpus: picks the original's minibatch table of the StyleGAN presets.
        user_sched_args: schedule arguments the user sets; a minibatch given there
            replaces the table, so any GPU count works.

    Raises:
        ConfigError: unknown preset, or no minibatch table for ``num_gpus``.
    """
    if name not in PRESETS:
        raise ConfigError("config", name, f"expected one of {', '.join(PRESETS)}")
    preset = PRESETS[name]
    overrides = {k: (dict(v) if isinstance(v, dict) else v) for k, v in preset["overrides"].items()}
    sched = dict(overrides.pop("sched_args", {}))
    tables = preset["minibatch_tables"]
    user = user_sched_args or {}
    if tables is not None and not ({"minibatch_base", "minibatch_dict"} & set(user)):
        if num_gpus not in tables:
            raise ConfigError(
                "num_gpus",
                num_gpus,
                f"the {name} config has the original's minibatch tables for {', '.join(map(str, tables))} GPU(s); "
                "use one of those or give --minibatch_base/--minibatch_dict",
            )
        base, table = tables[num_gpus]
        sched.update(minibatch_base=base, minibatch_dict=dict(table))
    desc = f"{preset['desc']}-{num_gpus}gpu"
    return TrainConfig(config=name, desc=desc, sched_args=sched, **overrides)
