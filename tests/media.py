"""Reading back what the image and video tools write, as the tests compare it."""

import os

import numpy as np
import PIL.Image

DATA = os.path.join(os.path.dirname(__file__), "data")
SMALL_PKL = os.path.join(DATA, "small", "network.pkl")  # 32 x 32, 8 layers, dlatent_size 32
COND_PKL = os.path.join(DATA, "cond", "network.pkl")  # 16 x 16, 5 classes


def read_png(path) -> np.ndarray:
    """A PNG as its uint8 array (``[H, W]`` for gray, ``[H, W, 3]`` for RGB)."""
    with PIL.Image.open(path) as image:
        return np.asarray(image)


def read_gif(path) -> tuple[np.ndarray, list]:
    """``(frames [T, H, W, 3], durations in ms)``."""
    frames, durations = [], []
    with PIL.Image.open(path) as image:
        for k in range(image.n_frames):
            image.seek(k)
            frames.append(np.asarray(image.convert("RGB")))
            durations.append(image.info["duration"])
    return np.stack(frames), durations


def read_mp4(path) -> np.ndarray:
    """``[T, H, W, 3]`` frames of an MP4 (needs imageio and imageio-ffmpeg)."""
    import imageio

    with imageio.get_reader(path, format="FFMPEG") as reader:
        return np.stack(list(reader.iter_data()))


def mean_error(a, b) -> np.ndarray:
    """Mean absolute difference of each frame of ``a`` with each of ``b``: ``[len(a), len(b)]``."""
    a, b = a.astype(np.float32), b.astype(np.float32)
    return np.abs(a[:, np.newaxis] - b[np.newaxis]).mean(axis=(2, 3, 4))
