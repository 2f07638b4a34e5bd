"""Generate images and the StyleGAN paper's figures from a trained network.

Images of seeds (one PNG each, or one grid)::

    tfstylegan-generate --network=network.pkl --seeds=0-7 --outdir=out
    tfstylegan-generate --network=results/00000-sgan-ffhq --seeds=0-63 --grid --truncation_psi=0.5
    tfstylegan-generate --network=cond.pkl --seeds=0-3 --class_idx=2 --noise_mode=random

The paper's figures (``--figure=all`` writes all five)::

    tfstylegan-generate --network=network.pkl --figure=uncurated        # figures 2, 10-12
    tfstylegan-generate --network=network.pkl --figure=style-mixing     # figure 3
    tfstylegan-generate --network=network.pkl --figure=noise-detail     # figure 4
    tfstylegan-generate --network=network.pkl --figure=noise-components # figure 5
    tfstylegan-generate --network=network.pkl --figure=truncation       # figure 8

The best of a pool of samples according to the discriminator::

    tfstylegan-generate --network=network.pkl --rank_by_d=8 --rank_pool=80 --grid

Edits along a direction in W, and videos (``tfstylegan-generate edit --help``, ``... video --help``)::

    tfstylegan-generate edit --network=network.pkl --dlatents=out/me --direction=smile.npy
    tfstylegan-generate video --network=network.pkl --mode=interpolate --seeds=1-4 --out=loop.mp4

``--network`` takes an original-style pickle, a ``.keras`` file (Gs alone or a G/D/Gs
bundle) or a training run directory. Seed ``s`` is the latent
``np.random.RandomState(s).randn(latent_size)``; with ``--noise_mode=random`` its noise
comes from ``tf.random.Generator.from_seed(s)``. Images are converted to 8 bits like
the original scripts (``convert_images_to_uint8``) and written as ``seed<NNNN>.png``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from absl import app, flags

from tfstylegan.cli import generate_edit, generate_video
from tfstylegan.cli import generate_flags as parse
from tfstylegan.cli._runner import (
    MAX_BATCH,
    check_output_flag,
    load_networks_from_flag,
    make_output_dir,
    run_tool,
    usage_error,
)
from tfstylegan.cli.generate_figures import FIGURES, check_flags, write_figure

SUBCOMMANDS = {"edit": generate_edit, "video": generate_video}  # the first word -> its module

FLAGS = flags.FlagValues()
_d = dict(flag_values=FLAGS)
parse.define_network_flags(
    FLAGS,
    psi_help="Truncation psi; 1 disables. Default: the network's configured value (0.7) for images and the "
    "uncurated figure; no truncation in the other figures, as the original.",
    cutoff_help="Number of layers truncated, from the coarsest. Default: the network's configured value (8); "
    "all layers in the truncation figure.",
)
flags.DEFINE_string("outdir", "out", "Directory for the PNG files (created if needed).", **_d)
flags.DEFINE_string(
    "seeds",
    None,
    "Seeds, e.g. 0-99,200,300-310. Images: one per seed. Figures: uncurated = the one seed of all "
    "latents; noise-detail, noise-components, truncation = one row or cell per seed (default: the "
    "paper's). rank_by_d: the pool. At most 1,000,000 seeds.",
    **_d,
)
flags.DEFINE_enum(
    "noise_mode",
    None,
    ["const", "random"],
    "const = the network's stored noise, random = fresh noise seeded by the seed. Default: const, "
    "random for the uncurated figure (as the original).",
    **_d,
)
flags.DEFINE_bool("grid", False, "Write one grid image (grid.png) instead of one PNG per image.", **_d)
flags.DEFINE_integer(
    "grid_cols",
    0,
    "Columns of the grid, at most 256; 0 = ceil(sqrt(number of images)).",
    lower_bound=0,
    upper_bound=256,
    **_d,
)
flags.DEFINE_integer(
    "batch_size",
    None,
    "Images per network call. Seed images and --rank_by_d run compiled batches of this one shape "
    "(default 8; the last is padded, so an image does not depend on the other seeds of a run, and "
    "differs from an eager Gs.generate of its seed alone by at most one 8-bit level in a rare pixel). "
    "Figures run eager batches (default 1, which makes every image bit-equal to Gs.generate of its "
    f"latent alone; larger batches may round a rare pixel differently). At most {MAX_BATCH}.",
    lower_bound=1,
    upper_bound=MAX_BATCH,
    **_d,
)
flags.DEFINE_integer(
    "rows", 3, "uncurated: rows of full-size images (at most 32).", lower_bound=1, upper_bound=32, **_d
)
flags.DEFINE_list(
    "lods", None, "uncurated: log2 shrink factor of each column; default 0,1,2,2,3,3 (as fits).", **_d
)
flags.DEFINE_list(
    "psis",
    None,
    "truncation: psi of each column (default 1,0.7,0.5,0,-0.5,-1); uncurated: psi of each row.",
    **_d,
)
flags.DEFINE_string("row_seeds", None, "style-mixing: seeds of the rows (default: the paper's six).", **_d)
flags.DEFINE_string(
    "col_seeds", None, "style-mixing: seeds of the columns (default: the paper's five).", **_d
)
flags.DEFINE_list(
    "style_ranges",
    None,
    "style-mixing: layers copied from the column image, per row or one for all: coarse (0-3), "
    "middle (4-7), fine (8-), A-B, A- or A. Default: half the rows coarse, a third middle, the rest fine.",
    **_d,
)
flags.DEFINE_integer(
    "num_samples", 100, "noise-detail: noise draws per seed (at most 1000).", lower_bound=5, upper_bound=1000, **_d
)
flags.DEFINE_integer(
    "rank_by_d",
    None,
    "Keep the N samples of the pool that D scores highest (at most 100,000).",
    lower_bound=1,
    upper_bound=100_000,
    **_d,
)
flags.DEFINE_integer(
    "rank_pool",
    None,
    "rank_by_d: pool size, seeds 0..M-1 (default 10 N), at most 1,000,000; or give the pool as --seeds.",
    lower_bound=1,
    upper_bound=1_000_000,
    **_d,
)


flags.DEFINE_enum(
    "figure", None, [*FIGURES, "all"], "Write a figure of the paper instead of seed images.", **_d
)


def _save_images(images, names: Sequence[str]) -> None:
    from tfstylegan.images import image_grid, write_png

    make_output_dir(FLAGS.outdir)
    if FLAGS.grid:
        path = os.path.join(FLAGS.outdir, "grid.png")
        write_png(path, image_grid(images, FLAGS.grid_cols or None))
        print(path)
        return
    for image, name in zip(images, names):
        path = os.path.join(FLAGS.outdir, name)
        write_png(path, image)
        print(path)


def _seed_options() -> dict:
    """The options of seed images and of ranking: noise, truncation, compiled batch size."""
    from tfstylegan import generation

    return dict(
        random_noise=FLAGS.noise_mode == "random",
        truncation_psi=FLAGS.truncation_psi,
        truncation_cutoff=FLAGS.truncation_cutoff,
        batch_size=FLAGS.batch_size or generation.DEFAULT_BATCH_SIZE,
    )


def _seed_images(Gs, label) -> None:
    """One PNG per seed, written as each compiled batch is done (or one grid of them all)."""
    import numpy as np

    from tfstylegan import generation

    batches = generation.BatchGenerator(Gs, **_seed_options()).seed_batches(parse.seeds(FLAGS, "seeds"), label)
    if FLAGS.grid:
        _save_images(np.concatenate([images for _, images in batches]), [])
        return
    for seeds, images in batches:
        _save_images(images, [f"seed{seed:04d}.png" for seed in seeds])


def _rank_by_d(G_D_Gs, label) -> None:
    from tfstylegan import figures as fig

    _, D, Gs = G_D_Gs
    n = FLAGS.rank_by_d
    if D is None:
        raise usage_error(
            "rank_by_d",
            f"{FLAGS.network} holds only Gs; ranking needs D: pass a pickle, a run directory or a bundle",
        )
    seeds = parse.seeds(FLAGS, "seeds")
    if seeds is not None and FLAGS.rank_pool is not None:
        raise usage_error("rank_pool", "give the pool as --seeds or its size as --rank_pool, not both")
    if seeds is None:
        seeds = list(range(FLAGS.rank_pool or 10 * n))
    if n > len(seeds):
        raise usage_error("rank_by_d", f"cannot keep {n} of a pool of {len(seeds)} samples")
    ranked = fig.rank_by_discriminator(Gs, D, seeds, n, label, **_seed_options())
    print(f"The {n} of {len(seeds)} samples that D scores highest:")
    print("rank   seed        score")
    for rank, (seed, score, _) in enumerate(ranked):
        print(f"{rank:4d} {seed:6d} {score:12.6f}")
    images = [image for _, _, image in ranked]
    _save_images(images, [f"rank{rank:03d}-seed{seed:04d}.png" for rank, (seed, _, _) in enumerate(ranked)])


def _main(argv: list[str]) -> None:
    """The tool, on parsed flags (see the module docstring)."""
    if len(argv) > 1:
        if argv[1] in SUBCOMMANDS:
            raise app.UsageError(f"{argv[1]!r} must come first: tfstylegan-generate {argv[1]} --network=... ...")
        raise usage_error("network", f"unexpected arguments {argv[1:]}; every option is a --flag")
    # Check what needs no network first, so that mistakes are reported at once.
    for flag in ("seeds", "row_seeds", "col_seeds"):
        parse.seeds(FLAGS, flag)
    for flag in ("labels", "psis"):
        parse.numbers(FLAGS, flag)
    figure = FLAGS.figure
    if figure is not None:
        check_flags(FLAGS, figure)
    elif FLAGS.rank_by_d is None and FLAGS.seeds is None:
        raise usage_error("seeds", "give the seeds of the images, e.g. --seeds=0-7 (or choose a --figure)")

    check_output_flag("outdir", FLAGS.outdir)
    nets = load_networks_from_flag(FLAGS.network)
    Gs = nets.Gs
    label = parse.label(FLAGS, Gs)
    if figure is not None:
        for name in FIGURES if figure == "all" else [figure]:
            write_figure(FLAGS, Gs, name, label)
    elif FLAGS.rank_by_d is not None:
        _rank_by_d(nets, label)
    else:
        _seed_images(Gs, label)


def main(argv: Sequence[str] | None = None, prog: str = "tfstylegan-generate") -> int:
    """Run the tool on a command line (``argv[0]`` is the program name; None = ``sys.argv``).

    A first word ``edit`` or ``video`` runs that mode (:mod:`~tfstylegan.cli.generate_edit`,
    :mod:`~tfstylegan.cli.generate_video`) on the rest of the line; otherwise every
    argument is a flag of the seed images, figures and ranking.

    Returns:
        The exit status: 0 on success, 1 on a usage or input error (reported on stderr).
    """
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] in SUBCOMMANDS:
        sub = f"{prog} {argv[1]}"
        return SUBCOMMANDS[argv[1]].main([sub, *argv[2:]], prog=sub)
    return run_tool(_main, FLAGS, argv, prog=prog, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
