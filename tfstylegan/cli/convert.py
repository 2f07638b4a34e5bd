"""Convert trained networks between original-style pickles, ``.keras`` files and SavedModels.

::

    tfstylegan-convert --network=network.pkl --out=networks.keras            # G, D, Gs bundle
    tfstylegan-convert --network=network.pkl --out=gs.keras --format=keras_gs  # Gs alone
    tfstylegan-convert --network=network.pkl --out=gs_saved_model             # SavedModel of Gs
    tfstylegan-convert --network=networks.keras --out=network.pkl             # back to a pickle
    tfstylegan-convert --network=gs.keras --G=g.keras --D=d.keras --out=network.pkl

``--network`` takes anything the other tools take: a pickle, a ``.keras`` file or a
training run directory. The output format follows ``--out`` unless ``--format`` says
otherwise: ``.pkl`` = original-style pickle of ``(G, D, Gs)``; ``.keras`` = a bundle of
G, D and Gs when the source has them, else Gs alone; anything else = a SavedModel
directory serving Gs (see :mod:`tfstylegan.export`). A pickle needs all three networks:
a ``.keras`` file of Gs alone converts to a pickle only together with ``--G`` and
``--D`` (``.keras`` files of those networks).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from absl import flags

from tfstylegan.atomic import recover_directory
from tfstylegan.cli._runner import (
    check_output_flag,
    load_networks_from_flag,
    make_output_dir,
    run_tool,
    usage_error,
)

FORMATS = ["auto", "pkl", "keras", "keras_gs", "saved_model"]

FLAGS = flags.FlagValues()
_d = dict(flag_values=FLAGS)
flags.DEFINE_string("network", None, "Source: network pickle, .keras file or training run directory.", **_d)
flags.DEFINE_string("out", None, "Destination file (.pkl, .keras) or SavedModel directory.", **_d)
flags.DEFINE_enum(
    "format",
    "auto",
    FORMATS,
    "pkl = original-style pickle, keras = G/D/Gs bundle, keras_gs = Gs alone, saved_model = "
    "SavedModel of Gs; auto = from the --out name.",
    **_d,
)
flags.DEFINE_string("G", None, "A .keras file of G, when the source holds only Gs.", **_d)
flags.DEFINE_string("D", None, "A .keras file of D, when the source holds only Gs.", **_d)
flags.DEFINE_bool("overwrite", False, "Replace --out if it exists.", **_d)
flags.mark_flags_as_required(["network", "out"], flag_values=FLAGS)


def _format(out: str) -> str:
    if FLAGS.format != "auto":
        return FLAGS.format
    if out.endswith(".pkl"):
        return "pkl"
    if out.endswith(".keras"):
        return "keras"
    return "saved_model"


def _load_single(flag: str, cls):
    import keras

    path = FLAGS[flag].value
    if not os.path.isfile(path):
        raise usage_error(flag, f"{path} does not exist")
    try:
        net = keras.saving.load_model(path)
    except Exception as e:  # Keras raises many types for a bad file.
        raise usage_error(flag, f"cannot load {path} ({type(e).__name__}: {e})") from None
    if not isinstance(net, cls):
        raise usage_error(flag, f"{path} holds a {type(net).__name__}, expected a {cls.__name__}")
    return net


def _main(argv: list[str]) -> None:
    if len(argv) > 1:
        raise usage_error("network", f"unexpected arguments {argv[1:]}; every option is a --flag")
    out = FLAGS.out
    fmt = _format(out)
    if fmt in ("keras", "keras_gs") and not out.endswith(".keras"):
        raise usage_error("out", f"a .keras file name must end in '.keras', got {out!r}")
    recover_directory(out)  # A SavedModel whose replacement was killed is back in place first.
    if os.path.exists(out) and not FLAGS.overwrite:
        raise usage_error("out", f"{out} exists; pass --overwrite to replace it")
    if fmt != "saved_model" and os.path.isdir(out):  # --overwrite replaces a file, never a folder by a file.
        raise usage_error("out", f"{out} is a directory; a {fmt} file cannot replace it, give another name")
    check_output_flag("out", out, "dir" if fmt == "saved_model" else "file")

    from tfstylegan import export
    from tfstylegan.legacy.network_pkl import save_network_pkl
    from tfstylegan.networks import DBasic, GStyle

    G, D, Gs = load_networks_from_flag(FLAGS.network)
    for flag in ("G", "D"):
        if FLAGS[flag].value is not None and (G is not None or D is not None):
            raise usage_error(flag, f"{FLAGS.network} already holds G and D")
    if FLAGS.G is not None:
        G = _load_single("G", GStyle)
    if FLAGS.D is not None:
        D = _load_single("D", DBasic)

    make_output_dir(os.path.dirname(out) or ".", flag="out")  # Its missing folders, as every tool's outputs.
    if fmt == "pkl":
        if G is None or D is None:
            missing = " and ".join(k for k, v in (("G", G), ("D", D)) if v is None)
            raise usage_error(
                "G" if G is None else "D",
                f"a pickle holds G, D and Gs, but {FLAGS.network} gives only Gs; pass {missing} as "
                "--G/--D .keras files, or convert from a pickle, a run directory or a G/D/Gs .keras bundle",
            )
        save_network_pkl(out, G, D, Gs)
        what = "G, D and Gs as an original-style pickle"
    elif fmt == "keras" and G is not None and D is not None:
        export.save_keras(out, Gs, G, D)
        what = "a .keras bundle of G, D and Gs"
    elif fmt in ("keras", "keras_gs"):
        export.save_keras(out, Gs)
        what = "Gs as a .keras file"
    else:
        export.export_saved_model(Gs, out)
        what = "a SavedModel of Gs (signatures serving_default, random_noise)"
    print(f"Wrote {out}: {what}")


def main(argv: Sequence[str] | None = None, prog: str = "tfstylegan-convert") -> int:
    """Run the tool on a command line (``argv[0]`` is the program name; None = ``sys.argv``).

    Returns:
        The exit status: 0 on success, 1 on a usage or input error (reported on stderr).
    """
    return run_tool(_main, FLAGS, argv, prog=prog, doc=__doc__)


if __name__ == "__main__":
    raise SystemExit(main())
