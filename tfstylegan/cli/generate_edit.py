"""``tfstylegan-generate edit``: images moved along a direction in W, a row per input.

Projections (``dlatents.npz`` of ``tfstylegan-project``, with their noise maps) or seeds::

    tfstylegan-generate edit --network=network.pkl --dlatents=out/me --direction=smile.npy
    tfstylegan-generate edit --network=network.pkl --dlatents=out --direction=age.npy --layers=0-7
    tfstylegan-generate edit --network=network.pkl --seeds=1-4 --direction=smile.npy --strengths=-2,0,2

Every input is rendered at every strength: ``dlatents + strength * direction`` in the
layers of ``--layers`` (default all; the others keep their dlatents bit for bit, and
strength 0 is the input itself). The tool writes ``grid.png`` (a row per input, a column
per strength) and one ``<input>-strength<s>.png`` per image (``--grid``: the grid alone).
A direction is a ``.npy`` of shape ``[dlatent_size]`` or ``[num_layers, dlatent_size]``;
``tfstylegan.editing.direction_from_labels`` finds one from labelled dlatents
(docs/projection.md). Seeds are mapped and truncated as the tool's seed images are, and use
the stored noise; projections keep their own dlatents and noise maps.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from absl import flags

from tfstylegan.cli import generate_flags as parse
from tfstylegan.cli._runner import (
    MAX_BATCH,
    check_output_flag,
    load_networks_from_flag,
    make_output_dir,
    run_tool,
    usage_error,
)

FLAGS = flags.FlagValues()
_d = dict(flag_values=FLAGS)
parse.define_network_flags(
    FLAGS,
    psi_help="Seeds: truncation psi of their W; 1 disables. Default: the network's configured value (0.7).",
    cutoff_help="Seeds: number of layers truncated. Default: the network's configured value (8).",
)
flags.DEFINE_string("outdir", "out", "Directory for the PNG files (created if needed).", **_d)
flags.DEFINE_string(
    "dlatents",
    None,
    "A projection's dlatents.npz, its folder, or a folder of projection folders (tfstylegan-project's "
    "--outdir; every subfolder with a dlatents.npz, in name order).",
    **_d,
)
flags.DEFINE_string("seeds", None, "Seeds to edit instead of --dlatents, e.g. 0-3,7 (at most 1,000,000).", **_d)
flags.DEFINE_string(
    "direction", None, "Direction .npy: [dlatent_size] (every layer alike) or [num_layers, dlatent_size].", **_d
)
flags.DEFINE_list("strengths", ["-3", "-1.5", "0", "1.5", "3"], "Multiples of the direction, one column each.", **_d)
flags.DEFINE_list(
    "layers", None, "Layers moved: coarse (0-3), middle (4-7), fine (8-), A-B, A- or A, comma-separated. Default: all.", **_d
)
flags.DEFINE_bool("grid", False, "Write only grid.png, not one PNG per image.", **_d)
flags.DEFINE_integer(
    "batch_size",
    8,
    f"Images per compiled network call (at most {MAX_BATCH}).",
    lower_bound=1,
    upper_bound=MAX_BATCH,
    **_d,
)
flags.mark_flag_as_required("direction", flag_values=FLAGS)


def projection_files(path: str) -> list[tuple[str, str]]:
    """``(name, dlatents.npz path)`` of each projection that ``--dlatents`` names.

    A file is one input, named after its folder when it is a ``dlatents.npz``. A folder
    holding ``dlatents.npz`` is one input; any other folder gives its subfolders that hold
    one and its own ``.npz`` files, in name order.
    """
    if os.path.isfile(path):
        stem = os.path.splitext(os.path.basename(path))[0]
        parent = os.path.basename(os.path.dirname(os.path.abspath(path)))
        return [(parent if stem == "dlatents" else stem, path)]
    if not os.path.isdir(path):
        raise usage_error("dlatents", f"{path} does not exist")
    if os.path.isfile(os.path.join(path, "dlatents.npz")):
        return [(os.path.basename(os.path.abspath(path)), os.path.join(path, "dlatents.npz"))]
    found = []
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if os.path.isfile(os.path.join(full, "dlatents.npz")):
            found.append((name, os.path.join(full, "dlatents.npz")))
        elif name.endswith(".npz") and os.path.isfile(full):
            found.append((os.path.splitext(name)[0], full))
    if not found:
        raise usage_error("dlatents", f"no dlatents.npz in {path} or its subfolders")
    return found


def _projections(Gs, files: Sequence[tuple[str, str]]):
    """``(names, dlatents [N, L, D], noise maps [N, H, W, 1] per layer)`` of projection files."""
    import numpy as np

    from tfstylegan.projection_files import load_projection

    loaded = []
    for _, path in files:
        try:
            loaded.append(load_projection(path, Gs))
        except ValueError as e:
            raise usage_error("dlatents", str(e)) from None
    dlatents = np.stack([d for d, _ in loaded])  # [N, L, D]
    noise = [np.concatenate(maps) for maps in zip(*(n for _, n in loaded))] or None  # per layer [N, H, W, 1]
    return [name for name, _ in files], dlatents, noise


def _seed_inputs(Gs, seeds: Sequence[int]):
    """``(names, truncated dlatents [N, L, D], None)`` of seeds, with the stored noise."""
    from tfstylegan import generation

    latents = generation.seed_latents(seeds, Gs.cfg.latent_size)
    labels = generation.tile_label(Gs, parse.label(FLAGS, Gs), len(seeds))
    truncation = dict(truncation_psi=FLAGS.truncation_psi, truncation_cutoff=FLAGS.truncation_cutoff)
    dlatents = generation.dlatents_of(Gs, latents, labels, **truncation).numpy()
    return [f"seed{seed:04d}" for seed in seeds], dlatents, None


def _write(images, names: Sequence[str], strengths: Sequence[float]) -> None:
    """``grid.png`` of images ``[N, S, R, R, C]`` and, unless ``--grid``, one PNG per image."""
    from tfstylegan.images import image_grid, write_png

    outdir = make_output_dir(FLAGS.outdir)
    n, s = images.shape[:2]
    path = os.path.join(outdir, "grid.png")
    write_png(path, image_grid(images.reshape(n * s, *images.shape[2:]), cols=s))  # a row per input
    print(path)
    if FLAGS.grid:
        return
    for name, row in zip(names, images):
        for strength, image in zip(strengths, row):
            path = os.path.join(outdir, f"{name}-strength{strength:+g}.png")
            write_png(path, image)
            print(path)


def _main(argv: list[str]) -> None:
    from tfstylegan import editing

    if len(argv) > 1:
        raise usage_error("network", f"unexpected arguments {argv[1:]}; every option is a --flag")
    strengths = parse.numbers(FLAGS, "strengths")
    if not strengths:
        raise usage_error("strengths", "give at least one strength, e.g. -3,0,3")
    seeds = parse.seeds(FLAGS, "seeds")
    if (seeds is None) == (FLAGS.dlatents is None):
        raise usage_error("dlatents", "give the inputs as --dlatents (projections) or --seeds, one of the two")
    files = None
    if FLAGS.dlatents is not None:
        for flag in ("truncation_psi", "truncation_cutoff", "class_idx", "labels"):
            if FLAGS[flag].value is not None:
                raise usage_error(flag, "applies to --seeds; projected dlatents are edited as they are")
        files = projection_files(FLAGS.dlatents)

    if not os.path.isfile(FLAGS.direction):
        raise usage_error("direction", f"{FLAGS.direction} does not exist (expected a .npy file)")
    check_output_flag("outdir", FLAGS.outdir)
    Gs = load_networks_from_flag(FLAGS.network).Gs
    try:
        direction = editing.load_direction(FLAGS.direction, Gs.num_layers, Gs.cfg.dlatent_size)
    except ValueError as e:
        raise usage_error("direction", str(e)) from None
    layers = parse.layers(FLAGS, "layers", Gs.num_layers)
    names, dlatents, noise = _seed_inputs(Gs, seeds) if files is None else _projections(Gs, files)
    images = editing.edit_images(Gs, dlatents, direction, strengths, layers, noise, FLAGS.batch_size)
    _write(images, names, strengths)


def main(argv: Sequence[str] | None = None, prog: str = "tfstylegan-generate edit") -> int:
    """Run ``tfstylegan-generate edit`` (``argv[0]`` is the program name; None = ``sys.argv``).

    Returns:
        The exit status: 0 on success, 1 on a usage or input error (reported on stderr).
    """
    return run_tool(_main, FLAGS, argv, prog=prog, doc=__doc__)


__all__ = ["main", "projection_files"]
