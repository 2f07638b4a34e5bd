"""``tfstylegan-generate video``: interpolation loops, style mixing, noise and projection videos.

::

    tfstylegan-generate video --network=network.pkl --seeds=1-4 --out=loop.mp4                 # slerp in Z
    tfstylegan-generate video --network=network.pkl --seeds=1-4 --space=w --seconds_per_seed=3 --out=w.mp4
    tfstylegan-generate video --network=network.pkl --mode=style-mix --base_seed=5 --seeds=1-3 --layers=coarse --out=mix.mp4
    tfstylegan-generate video --network=network.pkl --mode=noise --seeds=5 --seconds=4 --out=noise.gif
    tfstylegan-generate video --network=network.pkl --mode=project --projection=out/me --out=me.mp4

Modes:

- ``interpolate``: a closed loop through ``--seeds``, ``--seconds_per_seed`` from each to the
  next; ``--space=z`` follows great circles between the latents, ``--space=w`` lerps their W.
- ``style-mix``: ``--base_seed``'s image whose styles in ``--layers`` (default coarse) come
  from a W loop through ``--seeds``.
- ``noise``: one seed's image with the noise of ``--layers`` (default all) moving in a loop of
  ``--seconds``; every frame keeps the dlatents (the paper's stochastic variation).
- ``project``: the saved progress of ``tfstylegan-project`` (a target's folder: its
  ``progress.npz`` of dlatent snapshots, rendered with the projection's final noise maps),
  beside the target.

Truncation (``--truncation_psi``, ``--truncation_cutoff``) applies to the seeds' W in every
frame; frames use the stored noise except in the noise mode. Frames are rendered in
compiled batches (``--batch_size``) and streamed to the file. ``.mp4`` needs the ``video``
extra (``pip install "tfstylegan[video]"``); without it a ``.gif`` of the same name is
written instead, with a note.
"""

from __future__ import annotations

import os
import sys
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

MODES = ("interpolate", "style-mix", "noise", "project")

MAX_FRAMES = 10**6  # Frames of one video (over 9 hours at 30 fps).

FLAGS = flags.FlagValues()
_d = dict(flag_values=FLAGS)
parse.define_network_flags(FLAGS)
flags.DEFINE_string("out", None, "The video file: .mp4 or .gif.", **_d)
flags.DEFINE_enum("mode", "interpolate", MODES, "What the video shows (see above).", **_d)
flags.DEFINE_string(
    "seeds", None, "interpolate, style-mix: the seeds of the loop (2 to 1,000,000); noise: the one seed.", **_d
)
flags.DEFINE_enum("space", "z", ["z", "w"], "interpolate: slerp between latents (z) or lerp between W (w).", **_d)
flags.DEFINE_float(
    "fps", 30.0, f"Frames per second (a video has at most {MAX_FRAMES:,} frames).", lower_bound=0.01, **_d
)
flags.DEFINE_float("seconds_per_seed", 2.0, "interpolate, style-mix: seconds from one seed to the next.", **_d)
flags.DEFINE_float("seconds", 4.0, "noise: length of the loop in seconds.", **_d)
flags.DEFINE_integer("base_seed", None, "style-mix: the seed whose image the video shows.", lower_bound=0, **_d)
flags.DEFINE_list(
    "layers", None, "style-mix: layers taken from the loop (default coarse); noise: layers whose noise "
    "moves (default all). coarse, middle, fine, A-B, A- or A, comma-separated.", **_d
)
flags.DEFINE_integer("noise_seed", 0, "noise: seed of the fresh noise maps.", lower_bound=0, **_d)
flags.DEFINE_string("projection", None, "project: a target's folder written by tfstylegan-project.", **_d)
flags.DEFINE_bool("with_target", True, "project: show the target left of the projection.", **_d)
flags.DEFINE_integer(
    "batch_size",
    8,
    f"Frames per compiled network call (at most {MAX_BATCH}).",
    lower_bound=1,
    upper_bound=MAX_BATCH,
    **_d,
)
flags.mark_flag_as_required("out", flag_values=FLAGS)

# The flags that belong to some modes only, and the modes that take each.
_SEED_MODES = ("interpolate", "style-mix", "noise")
MODE_FLAGS = {
    "seeds": _SEED_MODES,
    "truncation_psi": _SEED_MODES,
    "truncation_cutoff": _SEED_MODES,
    "class_idx": _SEED_MODES,
    "labels": _SEED_MODES,
    "space": ("interpolate",),
    "seconds_per_seed": ("interpolate", "style-mix"),
    "seconds": ("noise",),
    "base_seed": ("style-mix",),
    "layers": ("style-mix", "noise"),
    "noise_seed": ("noise",),
    "projection": ("project",),
    "with_target": ("project",),
}


def _check_mode_flags(mode: str) -> None:
    for flag, modes in MODE_FLAGS.items():
        if FLAGS[flag].present and mode not in modes:
            raise usage_error(flag, f"does not apply to --mode={mode} (only to {', '.join(modes)})")


def _output(prog: str) -> str:
    """The file to write: ``--out``, or the same name as a GIF when MP4 cannot be written."""
    from tfstylegan import video_writer

    out = FLAGS.out
    stem, ext = os.path.splitext(out)
    if ext.lower() not in (".mp4", ".gif"):
        raise usage_error("out", f"{out}: expected a .mp4 or .gif file name")
    if ext.lower() == ".mp4" and not video_writer.mp4_available():
        out = stem + ".gif"
        print(
            f'{prog}: note: MP4 needs imageio and imageio-ffmpeg (pip install "tfstylegan[video]"); writing {out}',
            file=sys.stderr,
        )
    check_output_flag("out", out, "file")
    return out


def _make_folder(out: str) -> str:
    make_output_dir(os.path.dirname(out) or ".", flag="out")
    return out


def _seeds(mode: str) -> list[int]:
    seeds = parse.seeds(FLAGS, "seeds") or []
    if mode == "noise" and len(seeds) != 1:
        raise usage_error("seeds", "--mode=noise takes one seed, e.g. --seeds=5")
    if mode != "noise" and len(seeds) < 2:
        raise usage_error("seeds", f"--mode={mode} takes a loop of 2 or more seeds, e.g. --seeds=1-4")
    return seeds


def _frames(seconds_flag: str, seeds: int = 1) -> None:
    """Refuses a video of no frame, or of more than :data:`MAX_FRAMES` (``seeds`` stretches of ``--<seconds_flag>``)."""
    given = f"--fps={FLAGS.fps} and --{seconds_flag}={FLAGS[seconds_flag].value}"
    frames = round(min(FLAGS.fps * FLAGS[seconds_flag].value, MAX_FRAMES + 1))  # The product may overflow.
    if frames < 1:
        raise usage_error(seconds_flag, f"{given} give no frame")
    if frames * seeds > MAX_FRAMES:
        raise usage_error(seconds_flag, f"{given} give more than {MAX_FRAMES:,} frames, the most a video may have")


def _project_video(Gs, out: str, common: dict) -> int:
    """Render a projection folder's ``progress.npz`` beside its ``target.png``."""
    import numpy as np
    import PIL.Image

    from tfstylegan import video
    from tfstylegan.projection_files import load_progress, load_projection

    folder = FLAGS.projection
    if folder is None:
        raise usage_error("projection", "--mode=project needs the folder of a projected target")
    try:
        _, noise = load_projection(folder, Gs)
        _, snapshots = load_progress(folder, Gs)
        target = None
        if FLAGS.with_target:
            with PIL.Image.open(os.path.join(folder, "target.png")) as image:
                target = np.asarray(image.convert("L" if Gs.cfg.num_channels == 1 else "RGB"))
            target = target.reshape(*target.shape[:2], Gs.cfg.num_channels)  # [R, R, C]
    except (OSError, ValueError) as e:
        raise usage_error("projection", str(e)) from None
    if target is not None and target.shape[0] != Gs.cfg.resolution:
        raise usage_error("projection", f"{folder}: target.png is not {Gs.cfg.resolution} pixels high")
    return video.progress_video(Gs, _make_folder(out), snapshots, noise or None, target, **common)


def _seed_video(Gs, mode: str, out: str, common: dict) -> int:
    from tfstylegan import video

    seeds, label = _seeds(mode), parse.label(FLAGS, Gs)
    common = dict(common, truncation_psi=FLAGS.truncation_psi, truncation_cutoff=FLAGS.truncation_cutoff, label=label)
    if mode == "interpolate":
        kwargs = dict(space=FLAGS.space, seconds_per_seed=FLAGS.seconds_per_seed)
        return video.interpolation_video(Gs, _make_folder(out), seeds, **kwargs, **common)
    if mode == "style-mix":
        if FLAGS.base_seed is None:
            raise usage_error("base_seed", "--mode=style-mix needs the seed of the image it shows")
        layers = parse.layers(FLAGS, "layers", Gs.num_layers) if FLAGS.layers else list(range(min(4, Gs.num_layers)))
        kwargs = dict(seconds_per_seed=FLAGS.seconds_per_seed)
        return video.style_mix_video(Gs, _make_folder(out), FLAGS.base_seed, seeds, layers, **kwargs, **common)
    if not Gs.synthesis.noise_inputs:
        raise usage_error("mode", "the network has no noise inputs (use_noise=False)")
    kwargs = dict(noise_layers=parse.layers(FLAGS, "layers", Gs.num_layers), noise_seed=FLAGS.noise_seed)
    return video.noise_video(Gs, _make_folder(out), seeds[0], seconds=FLAGS.seconds, **kwargs, **common)


def _main(argv: list[str], prog: str) -> None:
    if len(argv) > 1:
        raise usage_error("network", f"unexpected arguments {argv[1:]}; every option is a --flag")
    mode = FLAGS.mode
    _check_mode_flags(mode)
    if mode != "project":  # What needs no network first, so that mistakes are reported at once.
        _frames("seconds" if mode == "noise" else "seconds_per_seed", len(_seeds(mode)))
    out = _output(prog)
    Gs = load_networks_from_flag(FLAGS.network).Gs
    common = dict(fps=FLAGS.fps, batch_size=FLAGS.batch_size, progress=True)
    count = _project_video(Gs, out, common) if mode == "project" else _seed_video(Gs, mode, out, common)
    print(f"{out}  ({count} frames at {FLAGS.fps:g} fps)")


def main(argv: Sequence[str] | None = None, prog: str = "tfstylegan-generate video") -> int:
    """Run ``tfstylegan-generate video`` (``argv[0]`` is the program name; None = ``sys.argv``).

    Returns:
        The exit status: 0 on success, 1 on a usage or input error (reported on stderr).
    """
    return run_tool(lambda rest: _main(rest, prog), FLAGS, argv, prog=prog, doc=__doc__)


__all__ = ["MODES", "main"]
