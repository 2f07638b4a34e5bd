"""Every writer of the package, each writing one output into its own folder, for the kill tests.

``python atomic_writers.py <root> <version>`` writes version ``<version>`` of every output
under ``<root>`` (``<root>/<writer>/<output>``), one writer after the other. With
``TFSTYLEGAN_PAUSE_BEFORE_REPLACE`` set, each writer runs in its own thread and stops at
its pause right before the rename that would put its output in place; the next writer
starts only then, and once all of them wait, ``all paused`` is written to stderr, so the
test can kill the process with every writer at its critical point.

The test also imports :func:`write` to make the old outputs in its own process.
"""

import json
import os
import sys
import threading

import numpy as np

from tfstylegan import atomic

SMALL_PKL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "small", "network.pkl")

# writer -> the name of its output in <root>/<writer>/
OUTPUTS = {
    "config": "config.json",
    "png": "seed0000.png",
    "gif": "loop.gif",
    "mp4": "loop.mp4",
    "fid": None,  # fid-stats-<dataset>-<n>-<hash>.npz, written once
    "lpips": "vgg16.npz",
    "pkl": "network.pkl",
    "keras": "networks.keras",
    "saved_model": "gs_saved_model",
    "checkpoint": "checkpoint",
}


class Flatten:
    """Pixels as FID features."""

    identity = "flatten"

    def __call__(self, images):
        return np.reshape(np.asarray(images, np.float32), [len(images), -1])


def _frames(version: int) -> list:
    return [np.full([16, 16, 1], 40 * version + 10 * k, np.uint8) for k in range(3)]


def _video(path: str, version: int) -> None:
    from tfstylegan.video_writer import VideoWriter

    with VideoWriter(path, fps=10) as writer:
        for frame in _frames(version):
            writer.append(frame)


def _checkpoint(folder: str, version: int) -> None:
    """A checkpoint of a variable holding ``version``, saved as a run's CheckpointManager saves it."""
    import tensorflow as tf
    from tensorflow.python.lib.io import file_io

    from tfstylegan.training.checkpoint import remove_leftovers

    remove_leftovers(folder)
    if os.environ.get(atomic.PAUSE_ENV):  # Route TensorFlow's rename of the "latest" file through the hook.
        rename = file_io.rename
        file_io.rename = lambda src, dst, overwrite=False: (
            atomic.replace(src, dst) if os.path.basename(dst) == "checkpoint" else rename(src, dst, overwrite)
        )
    value = tf.Variable(float(version))
    manager = tf.train.CheckpointManager(tf.train.Checkpoint(value=value), folder, max_to_keep=5)
    manager.save(checkpoint_number=1 if version == 0 else 2)  # A resumed run saves the killed tick again.


def _small_saved_model(path: str, version: int) -> None:
    """A SavedModel of a variable holding ``version``, put in place as every directory is."""
    import tensorflow as tf

    module = tf.Module()
    module.value = tf.Variable(float(version))
    with atomic.atomic_directory(path) as temp:
        tf.saved_model.save(module, temp)


def _networks(version: int):
    from tfstylegan import load_network_pkl

    networks = load_network_pkl(SMALL_PKL)
    for net in networks:
        net.lod.assign(float(version))  # What tells the versions apart.
    return networks


def writers(version: int) -> dict:
    """``{writer: function(folder)}`` writing version ``version`` of each output."""
    from tfstylegan import export, images
    from tfstylegan.legacy.network_pkl import save_network_pkl
    from tfstylegan.metrics import fid, lpips_weights
    from tfstylegan.training import run_dir
    from tfstylegan.video_writer import mp4_available

    G, D, Gs = _networks(version)
    reals = [np.full([4, 4, 4, 3], version, np.uint8)]
    made = {
        "config": lambda d: run_dir.write_config(d, json.dumps({"version": version})),
        "png": lambda d: images.write_png(os.path.join(d, OUTPUTS["png"]), np.full([8, 8, 3], 40 * version, np.uint8)),
        "gif": lambda d: _video(os.path.join(d, OUTPUTS["gif"]), version),
        "mp4": lambda d: _video(os.path.join(d, OUTPUTS["mp4"]), version),
        "fid": lambda d: fid.dataset_statistics(
            reals, Flatten(), num_images=4, dataset_path="reals", resolution=4, cache_dir=d
        ),
        "lpips": lambda d: lpips_weights.save_lpips_npz(
            os.path.join(d, OUTPUTS["lpips"]), lpips_weights.random_lpips_weights(version)
        ),
        "pkl": lambda d: save_network_pkl(os.path.join(d, OUTPUTS["pkl"]), G, D, Gs),
        "keras": lambda d: export.save_keras(os.path.join(d, OUTPUTS["keras"]), Gs, G, D),
        # Exporting Gs takes long: only the killed write does it, the others write a small SavedModel.
        "saved_model": lambda d: (
            export.export_saved_model(Gs, os.path.join(d, OUTPUTS["saved_model"]))
            if version == 1
            else _small_saved_model(os.path.join(d, OUTPUTS["saved_model"]), version)
        ),
        "checkpoint": lambda d: _checkpoint(d, version),
    }
    return {name: run for name, run in made.items() if name != "mp4" or mp4_available()}


def write(root: str, version: int, names=OUTPUTS) -> None:
    """Writes version ``version`` of the outputs ``names`` under ``root``, one after the other."""
    for name, run in writers(version).items():
        if name in names:
            os.makedirs(os.path.join(root, name), exist_ok=True)
            run(os.path.join(root, name))


class _Announcements:
    """Stands in for stderr and counts the hook's ``pause before ...`` lines."""

    def __init__(self, stream):
        self.stream, self.count, self.failed = stream, 0, None
        self.changed = threading.Condition()

    def write(self, text: str) -> None:
        self.stream.write(text)
        if text.startswith("pause before"):
            with self.changed:
                self.count += 1
                self.changed.notify_all()

    def flush(self) -> None:
        self.stream.flush()

    def fail(self, error: BaseException) -> None:
        with self.changed:
            self.failed = error
            self.changed.notify_all()


def write_until_paused(root: str, version: int) -> None:
    """Starts each writer in a thread once the previous one waits at its pause; never returns."""
    announcements = _Announcements(sys.stderr)
    sys.stderr = announcements
    for k, (name, run) in enumerate(writers(version).items()):
        folder = os.path.join(root, name)

        def target(run=run, folder=folder):
            try:
                run(folder)
                announcements.fail(RuntimeError("finished without pausing"))
            except BaseException as e:
                announcements.fail(e)

        threading.Thread(target=target, daemon=True).start()
        with announcements.changed:
            announcements.changed.wait_for(lambda k=k: announcements.count > k or announcements.failed)
        if announcements.failed:
            raise SystemExit(f"writer {name} failed: {announcements.failed!r}")
    announcements.stream.write("all paused\n")
    announcements.stream.flush()
    threading.Event().wait()


if __name__ == "__main__":
    if os.environ.get(atomic.PAUSE_ENV):
        write_until_paused(sys.argv[1], int(sys.argv[2]))
    else:
        write(sys.argv[1], int(sys.argv[2]))
