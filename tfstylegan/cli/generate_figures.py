"""The paper's figures in the generate tool (``--figure=<name>``): one function per figure, and their table.

Each function takes the tool's parsed flags, the :mod:`tfstylegan.figures` module, the
network and the options that every figure shares, and returns the figure as a PIL image.
"""

from __future__ import annotations

import os

from absl import flags

from tfstylegan.cli import generate_flags as parse
from tfstylegan.cli._runner import make_output_dir, usage_error


def check_flags(fv: flags.FlagValues, figure: str) -> None:
    """Refuse flags that the chosen figure cannot honour."""
    if fv.rank_by_d is not None:
        raise usage_error("rank_by_d", "cannot be combined with --figure")
    if fv.grid:
        raise usage_error("grid", "cannot be combined with --figure")
    if figure == "all" and fv.seeds is not None:
        raise usage_error("seeds", "--figure=all uses the paper's seeds; choose one figure to set them")
    if figure == "style-mixing" and fv.seeds is not None:
        raise usage_error("seeds", "the style-mixing figure takes --row_seeds and --col_seeds")
    if fv.noise_mode is not None and figure != "uncurated":
        why = "noise-detail draws noise; the others use the stored noise"
        raise usage_error("noise_mode", f"only the uncurated figure takes it ({why})")
    if figure == "truncation" and fv.truncation_psi is not None:
        raise usage_error("truncation_psi", "the truncation figure takes its psi values from --psis")


def _uncurated(fv, fig, Gs, common: dict):
    seeds = parse.seeds(fv, "seeds", [fig.UNCURATED_SEED])
    if len(seeds) != 1:
        raise usage_error("seeds", f"the uncurated figure draws every latent from one seed, got {len(seeds)}")
    try:
        return fig.uncurated_figure(
            Gs,
            seeds[0],
            rows=fv.rows,
            lods=parse.numbers(fv, "lods", int),
            truncation_psi=fv.truncation_psi,
            truncation_cutoff=fv.truncation_cutoff,
            row_psis=parse.numbers(fv, "psis"),
            random_noise=fv.noise_mode != "const",
            **common,
        )
    except ValueError as e:
        raise usage_error("lods", str(e)) from None


def _style_mixing(fv, fig, Gs, common: dict):
    rows = parse.seeds(fv, "row_seeds", fig.STYLE_MIXING_ROW_SEEDS)
    cols = parse.seeds(fv, "col_seeds", fig.STYLE_MIXING_COL_SEEDS)
    ranges = fv.style_ranges
    if ranges is not None:
        try:
            ranges = [fig.parse_layer_range(r, Gs.num_layers) for r in ranges]
        except ValueError as e:
            raise usage_error("style_ranges", str(e)) from None
        if len(ranges) not in (1, len(rows)):
            raise usage_error("style_ranges", f"give one range per row ({len(rows)}) or one for all rows")
    truncation = dict(truncation_psi=fv.truncation_psi, truncation_cutoff=fv.truncation_cutoff)
    return fig.style_mixing_figure(Gs, rows, cols, ranges, **truncation, **common)


def _noise_detail(fv, fig, Gs, common: dict):
    return fig.noise_detail_figure(
        Gs,
        parse.seeds(fv, "seeds", fig.NOISE_DETAIL_SEEDS),
        num_samples=fv.num_samples,
        truncation_psi=1.0 if fv.truncation_psi is None else fv.truncation_psi,
        truncation_cutoff=fv.truncation_cutoff,
        **common,
    )


def _noise_components(fv, fig, Gs, common: dict):
    if not Gs.synthesis.noise_inputs:
        raise usage_error("figure", "the network has no noise inputs (use_noise=False)")
    return fig.noise_components_figure(
        Gs,
        parse.seeds(fv, "seeds", fig.NOISE_COMPONENT_SEEDS),
        truncation_psi=1.0 if fv.truncation_psi is None else fv.truncation_psi,
        truncation_cutoff=fv.truncation_cutoff,
        **common,
    )


def _truncation(fv, fig, Gs, common: dict):
    psis = parse.numbers(fv, "psis")
    return fig.truncation_figure(
        Gs,
        parse.seeds(fv, "seeds", fig.TRUNCATION_SEEDS),
        fig.TRUNCATION_PSIS if psis is None else psis,
        truncation_cutoff=fv.truncation_cutoff,
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


def write_figure(fv: flags.FlagValues, Gs, figure: str, label) -> None:
    """Draw one figure of :data:`FIGURES` and write its file into ``--outdir``."""
    from tfstylegan import figures
    from tfstylegan.images import write_png

    filename, draw = FIGURES[figure]
    image = draw(fv, figures, Gs, dict(label=label, batch_size=fv.batch_size or 1))
    path = os.path.join(make_output_dir(fv.outdir), filename)
    write_png(path, image)
    print(f"{path}  ({image.width}x{image.height})")


__all__ = ["FIGURES", "check_flags", "write_figure"]
