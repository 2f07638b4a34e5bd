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

``--network`` takes an original-style pickle, a ``.keras`` file (Gs alone or a G/D/Gs
bundle) or a training run directory. Seed ``s`` is the latent
``np.random.RandomState(s).randn(latent_size)``; with ``--noise_mode=random`` its noise
comes from ``tf.random.Generator.from_seed(s)``. Images are converted to 8 bits like
the original scripts (``convert_images_to_uint8``) and written as ``seed<NNNN>.png``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from absl import flags

from tfstylegan.cli._runner import load_networks_from_flag, run_tool, usage_error

FLAGS = flags.FlagValues()
_d = dict(flag_values=FLAGS)
flags.DEFINE_string("network", None, "Network pickle, .keras file or training run directory.", **_d)
flags.DEFINE_string("outdir", "out", "Directory for the PNG files (created if needed).", **_d)
flags.DEFINE_string(
    "seeds",
    None,
    "Seeds, e.g. 0-99,200,300-310. Images: one per seed. Figures: uncurated = the one seed of all "
    "latents; noise-detail, noise-components, truncation = one row or cell per seed (default: the "
    "paper's). rank_by_d: the pool.",
    **_d,
)
flags.DEFINE_float(
    "truncation_psi",
    None,
    "Truncation psi; 1 disables. Default: the network's configured value (0.7) for images and the "
    "uncurated figure; no truncation in the other figures, as the original.",
    **_d,
)
flags.DEFINE_integer(
    "truncation_cutoff",
    None,
    "Number of layers truncated, from the coarsest. Default: the network's configured value (8); "
    "all layers in the truncation figure.",
    lower_bound=0,
    **_d,
)
flags.DEFINE_integer(
    "class_idx", None, "Class of a conditional network, as a one-hot label.", lower_bound=0, **_d
)
flags.DEFINE_list(
    "labels", None, "Label of a conditional network as label_size comma-separated numbers.", **_d
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
    "grid_cols", 0, "Columns of the grid; 0 = ceil(sqrt(number of images)).", lower_bound=0, **_d
)
flags.DEFINE_integer(
    "batch_size",
    None,
    "Images per network call. Seed images and --rank_by_d run compiled batches of this one shape "
    "(default 8; the last is padded, so an image does not depend on the other seeds of a run, and "
    "differs from an eager Gs.generate of its seed alone by at most one 8-bit level in a rare pixel). "
    "Figures run eager batches (default 1, which makes every image bit-equal to Gs.generate of its "
    "latent alone; larger batches may round a rare pixel differently).",
    lower_bound=1,
    **_d,
)
flags.DEFINE_integer("rows", 3, "uncurated: rows of full-size images.", lower_bound=1, **_d)
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
flags.DEFINE_integer("num_samples", 100, "noise-detail: noise draws per seed.", lower_bound=5, **_d)
flags.DEFINE_integer(
    "rank_by_d", None, "Keep the N samples of the pool that D scores highest.", lower_bound=1, **_d
)
flags.DEFINE_integer(
    "rank_pool",
    None,
    "rank_by_d: pool size, seeds 0..M-1 (default 10 N); or give the pool as --seeds.",
    lower_bound=1,
    **_d,
)
flags.mark_flag_as_required("network", flag_values=FLAGS)


def _seeds(flag: str, default: Sequence[int] | None = None) -> list[int] | None:
    from tfstylegan.generation import parse_seeds

    spec = FLAGS[flag].value
    if spec is None:
        return None if default is None else list(default)
    try:
        return parse_seeds(spec)
    except ValueError as e:
        raise usage_error(flag, str(e)) from None


def _floats(flag: str, kind: type = float) -> list | None:
    values = FLAGS[flag].value
    if values is None:
        return None
    try:
        return [kind(v) for v in values]
    except ValueError:
        what = "integers" if kind is int else "numbers"
        raise usage_error(flag, f"expected comma-separated {what}, got {','.join(values)!r}") from None


def _label(Gs):
    """The label vector from --class_idx / --labels, checked against the network."""
    from tfstylegan.generation import one_hot

    label_size = Gs.cfg.label_size
    class_idx, labels = FLAGS.class_idx, _floats("labels")
    if class_idx is not None and labels is not None:
        raise usage_error("class_idx", "give --class_idx or --labels, not both")
    if label_size == 0:
        if class_idx is not None or labels is not None:
            flag = "class_idx" if class_idx is not None else "labels"
            raise usage_error(flag, "the network is unconditional (label_size=0); it takes no label")
        return None
    if class_idx is not None:
        if class_idx >= label_size:
            raise usage_error("class_idx", f"{class_idx} is out of range; the network has {label_size} classes")
        return one_hot(class_idx, label_size)
    if labels is not None:
        if len(labels) != label_size:
            raise usage_error("labels", f"the network needs {label_size} label values, got {len(labels)}")
        import numpy as np

        return np.asarray(labels, np.float32)
    raise usage_error(
        "class_idx", f"the network is conditional (label_size={label_size}); give --class_idx or --labels"
    )


def _save_images(images, names: Sequence[str]) -> None:
    from tfstylegan.images import image_grid, write_png

    os.makedirs(FLAGS.outdir, exist_ok=True)
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

    batches = generation.BatchGenerator(Gs, **_seed_options()).seed_batches(_seeds("seeds"), label)
    if FLAGS.grid:
        _save_images(np.concatenate([images for _, images in batches]), [])
        return
    for seeds, images in batches:
        _save_images(images, [f"seed{seed:04d}.png" for seed in seeds])


def _check_flags_for_figure(figure: str) -> None:
    """Refuse flags that the chosen figure cannot honour."""
    if FLAGS.rank_by_d is not None:
        raise usage_error("rank_by_d", "cannot be combined with --figure")
    if FLAGS.grid:
        raise usage_error("grid", "cannot be combined with --figure")
    if figure == "all" and FLAGS.seeds is not None:
        raise usage_error("seeds", "--figure=all uses the paper's seeds; choose one figure to set them")
    if figure == "style-mixing" and FLAGS.seeds is not None:
        raise usage_error("seeds", "the style-mixing figure takes --row_seeds and --col_seeds")
    if FLAGS.noise_mode is not None and figure != "uncurated":
        why = "noise-detail draws noise; the others use the stored noise"
        raise usage_error("noise_mode", f"only the uncurated figure takes it ({why})")
    if figure == "truncation" and FLAGS.truncation_psi is not None:
        raise usage_error("truncation_psi", "the truncation figure takes its psi values from --psis")


# The paper's figures: one function per figure (the figures module, the network and the options
# all figures share), and the table of figures by name.


def _uncurated(fig, Gs, common: dict):
    seeds = _seeds("seeds", [fig.UNCURATED_SEED])
    if len(seeds) != 1:
        raise usage_error("seeds", f"the uncurated figure draws every latent from one seed, got {len(seeds)}")
    try:
        return fig.uncurated_figure(
            Gs,
            seeds[0],
            rows=FLAGS.rows,
            lods=_floats("lods", int),
            truncation_psi=FLAGS.truncation_psi,
            truncation_cutoff=FLAGS.truncation_cutoff,
            row_psis=_floats("psis"),
            random_noise=FLAGS.noise_mode != "const",
            **common,
        )
    except ValueError as e:
        raise usage_error("lods", str(e)) from None


def _style_mixing(fig, Gs, common: dict):
    rows = _seeds("row_seeds", fig.STYLE_MIXING_ROW_SEEDS)
    cols = _seeds("col_seeds", fig.STYLE_MIXING_COL_SEEDS)
    ranges = FLAGS.style_ranges
    if ranges is not None:
        try:
            ranges = [fig.parse_layer_range(r, Gs.num_layers) for r in ranges]
        except ValueError as e:
            raise usage_error("style_ranges", str(e)) from None
        if len(ranges) not in (1, len(rows)):
            raise usage_error("style_ranges", f"give one range per row ({len(rows)}) or one for all rows")
    truncation = dict(truncation_psi=FLAGS.truncation_psi, truncation_cutoff=FLAGS.truncation_cutoff)
    return fig.style_mixing_figure(Gs, rows, cols, ranges, **truncation, **common)


def _noise_detail(fig, Gs, common: dict):
    return fig.noise_detail_figure(
        Gs,
        _seeds("seeds", fig.NOISE_DETAIL_SEEDS),
        num_samples=FLAGS.num_samples,
        truncation_psi=1.0 if FLAGS.truncation_psi is None else FLAGS.truncation_psi,
        truncation_cutoff=FLAGS.truncation_cutoff,
        **common,
    )


def _noise_components(fig, Gs, common: dict):
    if not Gs.synthesis.noise_inputs:
        raise usage_error("figure", "the network has no noise inputs (use_noise=False)")
    return fig.noise_components_figure(
        Gs,
        _seeds("seeds", fig.NOISE_COMPONENT_SEEDS),
        truncation_psi=1.0 if FLAGS.truncation_psi is None else FLAGS.truncation_psi,
        truncation_cutoff=FLAGS.truncation_cutoff,
        **common,
    )


def _truncation(fig, Gs, common: dict):
    psis = _floats("psis")
    return fig.truncation_figure(
        Gs,
        _seeds("seeds", fig.TRUNCATION_SEEDS),
        fig.TRUNCATION_PSIS if psis is None else psis,
        truncation_cutoff=FLAGS.truncation_cutoff,
        **common,
    )


# --figure name -> (file written, function that draws it).
FIGURES = {
    "uncurated": ("figure02-uncurated.png", _uncurated),
    "style-mixing": ("figure03-style-mixing.png", _style_mixing),
    "noise-detail": ("figure04-noise-detail.png", _noise_detail),
    "noise-components": ("figure05-noise-components.png", _noise_components),
    "truncation": ("figure08-truncation-trick.png", _truncation),
}
flags.DEFINE_enum(
    "figure", None, [*FIGURES, "all"], "Write a figure of the paper instead of seed images.", **_d
)


def _figure(Gs, figure: str, label) -> None:
    """Draw one figure of :data:`FIGURES` and write its file."""
    from tfstylegan import figures
    from tfstylegan.images import write_png

    filename, draw = FIGURES[figure]
    image = draw(figures, Gs, dict(label=label, batch_size=FLAGS.batch_size or 1))
    os.makedirs(FLAGS.outdir, exist_ok=True)
    path = os.path.join(FLAGS.outdir, filename)
    write_png(path, image)
    print(f"{path}  ({image.width}x{image.height})")


def _rank_by_d(G_D_Gs, label) -> None:
    from tfstylegan import figures as fig

    _, D, Gs = G_D_Gs
    n = FLAGS.rank_by_d
    if D is None:
        raise usage_error(
            "rank_by_d",
            f"{FLAGS.network} holds only Gs; ranking needs D: pass a pickle, a run directory or a bundle",
        )
    seeds = _seeds("seeds")
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
        raise usage_error("network", f"unexpected arguments {argv[1:]}; every option is a --flag")
    # Check what needs no network first, so that mistakes are reported at once.
    for flag in ("seeds", "row_seeds", "col_seeds"):
        _seeds(flag)
    for flag in ("labels", "psis"):
        _floats(flag)
    figure = FLAGS.figure
    if figure is not None:
        _check_flags_for_figure(figure)
    elif FLAGS.rank_by_d is None and FLAGS.seeds is None:
        raise usage_error("seeds", "give the seeds of the images, e.g. --seeds=0-7 (or choose a --figure)")

    nets = load_networks_from_flag(FLAGS.network)
    Gs = nets.Gs
    label = _label(Gs)
    if figure is not None:
        for name in FIGURES if figure == "all" else [figure]:
            _figure(Gs, name, label)
    elif FLAGS.rank_by_d is not None:
        _rank_by_d(nets, label)
    else:
        _seed_images(Gs, label)


def main(argv: Sequence[str] | None = None, prog: str = "tfstylegan-generate") -> int:
    """Run the tool on a command line (``argv[0]`` is the program name; None = ``sys.argv``).

    Returns:
        The exit status: 0 on success, 1 on a usage or input error (reported on stderr).
    """
    return run_tool(_main, FLAGS, argv, prog=prog, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
