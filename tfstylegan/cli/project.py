"""Project photos into a trained network: the dlatents and noise maps from which Gs redraws each one.

::

    tfstylegan-project --network=network.pkl --target=me.jpg --outdir=out --vgg16_weights=vgg16_zhang_perceptual.pkl
    tfstylegan-project --network=network.pkl --target=photos/ --outdir=out --batch_size=4 --save_video

``--target`` is an image or a folder of images (in name order). Each target is cropped to
its central square and resized to the network's resolution, then optimised for ``--steps``
Adam steps after StyleGAN2's projector (docs/projection.md). ``--vgg16_weights`` (NVIDIA's
``vgg16_zhang_perceptual.pkl`` or an LPIPS ``.npz``, as the metrics take it) gives the
perceptual distance; without it the pixel loss alone is used, which projects less well.

Each target gets a folder ``<outdir>/<target name>/`` with:

- ``target.png``: the target as projected; ``proj.png``: the projection;
- ``dlatents.npz``: ``dlatents`` ``[num_layers, dlatent_size]`` and the noise maps
  ``noise0``, ``noise1``, ... ``[1, H, W, 1]`` (for ``tfstylegan-generate edit --dlatents``);
- ``progress.npz``: the dlatents before the first step and every ``--frame_every`` steps
  (for ``tfstylegan-generate video --mode=project``);
- with ``--save_video``: ``proj.mp4`` (``.gif`` without the ``video`` extra), the target
  beside the projection as it runs, a frame every ``--frame_every`` steps.
"""

from __future__ import annotations

import os
import sys
import warnings
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

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")

FLAGS = flags.FlagValues()
_d = dict(flag_values=FLAGS)
flags.DEFINE_string("network", None, "Network pickle, .keras file or training run directory.", **_d)
flags.DEFINE_string("target", None, "An image, or a folder of images (each is projected).", **_d)
flags.DEFINE_string("outdir", "out", "Directory of the per-target folders (created if needed).", **_d)
flags.DEFINE_enum(
    "space", "w", ["w", "wplus"], "w: one w for every layer (edits well); wplus: one per layer (fits more).", **_d
)
flags.DEFINE_integer("steps", 1000, "Optimisation steps.", lower_bound=1, **_d)
flags.DEFINE_integer("seed", 0, "Seed of the initial noise maps and the dlatent noise.", lower_bound=0, **_d)
flags.DEFINE_string("vgg16_weights", None, "vgg16_zhang_perceptual.pkl or an LPIPS .npz (docs/metrics.md).", **_d)
flags.DEFINE_float(
    "mse_weight", None, "Weight of the pixel loss; default 0 with --vgg16_weights, 1 without.", lower_bound=0, **_d
)
flags.DEFINE_integer(
    "batch_size",
    1,
    f"Targets projected together (each on its own; at most {MAX_BATCH}).",
    lower_bound=1,
    upper_bound=MAX_BATCH,
    **_d,
)
flags.DEFINE_bool("save_video", False, "Write each target's optimisation as proj.mp4 (or proj.gif).", **_d)
flags.DEFINE_integer("frame_every", 10, "Steps between two video frames / dlatent snapshots.", lower_bound=1, **_d)
flags.DEFINE_integer("class_idx", None, "Class of a conditional network, as a one-hot label.", lower_bound=0, **_d)
flags.DEFINE_list("labels", None, "Label of a conditional network as label_size comma-separated numbers.", **_d)
flags.mark_flag_as_required("network", flag_values=FLAGS)
flags.mark_flag_as_required("target", flag_values=FLAGS)


def target_files(path: str) -> list[tuple[str, str]]:
    """``(name, path)`` of each target: the image itself, or a folder's images in name order.

    The name (the file name without its extension) is the target's output folder.
    """
    if os.path.isfile(path):
        files = [path]
    elif os.path.isdir(path):
        files = [
            os.path.join(path, name)
            for name in sorted(os.listdir(path))
            if name.lower().endswith(IMAGE_EXTENSIONS) and not name.startswith(".")
        ]
        if not files:
            raise usage_error("target", f"{path} holds no images ({', '.join(IMAGE_EXTENSIONS)})")
    else:
        raise usage_error("target", f"{path} does not exist")
    named, seen = [], {}
    for file in files:
        name = os.path.splitext(os.path.basename(file))[0]
        if name in seen:
            raise usage_error("target", f"{seen[name]} and {file} would share the output folder {name!r}")
        seen[name] = file
        named.append((name, file))
    return named


def _distance():
    """LPIPS of ``--vgg16_weights``, or None."""
    from tfstylegan.metrics.lpips import LPIPS
    from tfstylegan.metrics.lpips_weights import VGG16WeightsError

    if FLAGS.vgg16_weights is None:
        return None
    try:
        return LPIPS(FLAGS.vgg16_weights)
    except VGG16WeightsError as e:
        raise usage_error("vgg16_weights", str(e)) from None


def _video_paths(folders: Sequence[str], prog: str) -> list[str]:
    """``proj.mp4`` in each folder, or ``proj.gif`` (with a note) without the video extra."""
    from tfstylegan.video_writer import mp4_available

    if mp4_available():
        return [os.path.join(f, "proj.mp4") for f in folders]
    note = 'MP4 needs imageio and imageio-ffmpeg (pip install "tfstylegan[video]"); writing proj.gif'
    print(f"{prog}: note: {note}", file=sys.stderr)
    return [os.path.join(f, "proj.gif") for f in folders]


def _project_all(projector, targets, folders: Sequence[str], prog: str) -> None:
    """Project ``targets`` ``[N, R, R, C]`` a batch at a time and write each one's folder."""
    import contextlib

    import numpy as np

    from tfstylegan import video
    from tfstylegan.progress import ProgressBar
    from tfstylegan.projection_files import write_progress, write_projection

    b, steps = projector.batch_size, FLAGS.steps
    videos = _video_paths(folders, prog) if FLAGS.save_video else None
    bar = ProgressBar("steps")
    total = -(-len(targets) // b) * steps
    for start in range(0, len(targets), b):
        batch, names = targets[start : start + b], folders[start : start + b]
        snapshots = []

        def report(status, start=start):
            bar(start // b * steps + status.step, total, f"loss {float(np.mean(status.loss)):.4f}")

        with contextlib.ExitStack() as stack:
            on_frame = None if videos is None else stack.enter_context(
                video.projection_frames(videos[start : start + b], batch)
            )
            result = projector.run(
                batch, steps, FLAGS.seed, progress=report, on_frame=on_frame, frame_every=FLAGS.frame_every,
                on_dlatents=lambda step, dlatents, keep=snapshots.append: keep((step, dlatents)),
            )  # fmt: skip
        for i, folder in enumerate(names):
            write_projection(folder, result, i)
            write_progress(folder, [s for s, _ in snapshots], np.stack([d[i] for _, d in snapshots]))
            print(f"{folder}  loss {result.loss[i]:.4f}")


def _main(argv: list[str], prog: str) -> None:
    import numpy as np

    from tfstylegan import projection

    if len(argv) > 1:
        raise usage_error("target", f"unexpected arguments {argv[1:]}; every option is a --flag")
    files = target_files(FLAGS.target)
    if FLAGS.vgg16_weights is not None and not os.path.exists(FLAGS.vgg16_weights):
        raise usage_error("vgg16_weights", f"{FLAGS.vgg16_weights} does not exist")
    check_output_flag("outdir", FLAGS.outdir)
    Gs = load_networks_from_flag(FLAGS.network).Gs
    label = parse.label(FLAGS, Gs)
    try:
        targets = [projection.load_target(path, Gs.cfg.resolution, Gs.cfg.num_channels) for _, path in files]
    except ValueError as e:
        raise usage_error("target", str(e)) from None
    distance = _distance()
    outdir = make_output_dir(FLAGS.outdir)
    folders = [make_output_dir(os.path.join(outdir, name)) for name, _ in files]
    if distance is None:
        why = "projecting with the pixel loss alone, which gives blurrier, less faithful projections than LPIPS"
        print(f"{prog}: warning: no --vgg16_weights: {why}", file=sys.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the pixel-loss warning: said above in one line
        projector = projection.Projector(
            Gs,
            distance,
            space=FLAGS.space,
            batch_size=min(FLAGS.batch_size, len(targets)),
            mse_weight=FLAGS.mse_weight,
            label=label,
        )
    _project_all(projector, np.stack(targets), folders, prog)


def main(argv: Sequence[str] | None = None, prog: str = "tfstylegan-project") -> int:
    """Run the tool on a command line (``argv[0]`` is the program name; None = ``sys.argv``).

    Returns:
        The exit status: 0 on success, 1 on a usage or input error (reported on stderr).
    """
    return run_tool(lambda rest: _main(rest, prog), FLAGS, argv, prog=prog, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main(prog="python -m tfstylegan.cli.project"))
