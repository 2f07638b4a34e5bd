"""Streaming writers for videos (MP4 through imageio-ffmpeg, else animated GIF).

Frames are ``[H, W, C]`` uint8 arrays (C = 1 or 3) appended one at a time; nothing keeps
more than the current frame, so memory stays flat however long the video. Every output
is written to a temporary file beside its destination and moved into place with one
rename when complete (:mod:`tfstylegan.atomic`), so a reader never sees a half-written
file and a failure or a kill leaves any previous file untouched.

- ``.mp4`` needs the optional ``video`` extra (``pip install "tfstylegan[video]"``:
  ``imageio`` and ``imageio-ffmpeg``, which ships its own ffmpeg). H.264, yuv420p.
- ``.gif`` uses Pillow only. Each frame gets its own 256-colour palette; GIF frame delays
  are whole hundredths of a second, so the frame rate is rounded to ``100 / round(100 / fps)``.
"""

from __future__ import annotations

import contextlib
import io
import os

import numpy as np
import PIL.Image

from tfstylegan import atomic

FORMATS = ("mp4", "gif")


def mp4_available() -> bool:
    """Whether ``imageio`` and ``imageio-ffmpeg`` (the ``video`` extra) are installed."""
    try:
        import imageio  # noqa: F401
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False
    return True


def video_format(path: str | os.PathLike) -> str:
    """``'mp4'`` or ``'gif'`` from the file name, with a clear error for anything else."""
    ext = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if ext not in FORMATS:
        raise ValueError(
            f"{os.fspath(path)}: unknown video format {ext!r}; expected a .mp4 or .gif file name"
        )
    if ext == "mp4" and not mp4_available():
        raise ValueError(
            f"{os.fspath(path)}: writing MP4 needs imageio and imageio-ffmpeg "
            '(pip install "tfstylegan[video]"); or give a .gif file name'
        )
    return ext


def _check_frame(frame: np.ndarray, size: tuple | None) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] not in (1, 3):
        raise ValueError(f"a video frame must be uint8 [H, W, 1 or 3], got {frame.dtype} {frame.shape}")
    if size is not None and frame.shape != size:
        raise ValueError(f"every frame must have the first frame's shape {size}, got {frame.shape}")
    return frame


class _GifStream:
    """An animated GIF written frame by frame to an open binary file.

    Pillow encodes each frame as a one-frame GIF with its own palette (octree
    quantisation); its palette and LZW data are copied into the stream as a frame with a
    local colour table.
    """

    def __init__(self, file, delay_cs: int):
        self.file = file
        self.delay_cs = delay_cs
        self.started = False

    def append(self, frame: np.ndarray) -> None:
        if frame.shape[2] == 1:  # 256 gray levels: exact
            image = PIL.Image.fromarray(frame[:, :, 0], "L")
        else:  # octree: ~100x faster than median cut at 256x256, ~2x its error on smooth images
            image = PIL.Image.fromarray(frame, "RGB").quantize(256, method=PIL.Image.Quantize.FASTOCTREE)
        buffer = io.BytesIO()
        image.save(buffer, format="GIF")
        palette, flags, image_data = _split_single_gif(buffer.getvalue())
        if not self.started:
            self._write_header(frame.shape[1], frame.shape[0])
        width, height = frame.shape[1], frame.shape[0]
        table_bits = (len(palette) // 3).bit_length() - 2  # 2**(bits + 1) colours
        gce = bytes([0x21, 0xF9, 4, 0]) + self.delay_cs.to_bytes(2, "little") + bytes([0, 0])
        descriptor = b"\x2c" + bytes(4) + width.to_bytes(2, "little") + height.to_bytes(2, "little")
        self.file.write(gce + descriptor + bytes([0x80 | flags | table_bits]) + palette + image_data)

    def _write_header(self, width: int, height: int) -> None:
        # Logical screen without a global colour table, then the loop-forever extension.
        screen = width.to_bytes(2, "little") + height.to_bytes(2, "little") + bytes([0, 0, 0])
        loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
        self.file.write(b"GIF89a" + screen + loop)
        self.started = True

    def close(self) -> None:
        self.file.write(b"\x3b")


def _split_single_gif(data: bytes) -> tuple[bytes, int, bytes]:
    """``(colour table, interlace flag, LZW image data)`` of a one-frame GIF as Pillow writes it."""
    packed = data[10]
    if not packed & 0x80:
        raise ValueError("Pillow wrote a GIF frame without a global colour table")
    pos = 13 + 3 * 2 ** ((packed & 7) + 1)
    palette = data[13:pos]
    while data[pos] == 0x21:  # skip extension blocks: label, then sub-blocks up to a 0 length
        pos += 2
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    if data[pos] != 0x2C or data[pos + 9] & 0x80:
        raise ValueError("unexpected GIF layout from Pillow")
    start = pos + 10  # LZW minimum code size, then sub-blocks up to a 0 length
    pos = start + 1
    while data[pos]:
        pos += data[pos] + 1
    return palette, data[start - 1] & 0x40, data[start : pos + 1]


class VideoWriter:
    """Writes frames to ``path`` (``.mp4`` or ``.gif``) as they come; use as a context manager.

    Args:
        path: Output file; its extension picks the format (see :func:`video_format`).
        fps: Frames per second.
        quality: MP4 quality 0-10 (imageio's scale; 10 = best).

    The file appears at ``path`` only when the ``with`` block ends without an error.
    """

    def __init__(self, path: str | os.PathLike, fps: float = 30.0, quality: float = 8.0):
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.path = os.fspath(path)
        self.format = video_format(self.path)
        self.fps = float(fps)
        self.quality = quality
        self.num_frames = 0
        self._size = None

    def __enter__(self) -> VideoWriter:
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        self._temp = atomic.temp_path(self.path)
        if self.format == "mp4":
            import imageio

            self._stream = imageio.get_writer(
                self._temp, format="FFMPEG", mode="I", fps=self.fps, codec="libx264", quality=self.quality,
                pixelformat="yuv420p", macro_block_size=1, ffmpeg_log_level="error",
            )  # fmt: skip
        else:
            self._file = open(self._temp, "wb")  # noqa: SIM115 - closed in __exit__
            self._stream = _GifStream(self._file, max(int(round(100.0 / self.fps)), 1))
        return self

    def append(self, frame: np.ndarray) -> None:
        """Add one uint8 ``[H, W, C]`` frame (every frame must have the same shape)."""
        frame = _check_frame(frame, self._size)
        if self.format == "mp4":
            if frame.shape[0] % 2 or frame.shape[1] % 2:
                raise ValueError(
                    f"MP4 (yuv420p) needs even frame sizes, got {frame.shape[1]}x{frame.shape[0]}"
                )
            self._stream.append_data(np.repeat(frame, 3, axis=2) if frame.shape[2] == 1 else frame)
        else:
            self._stream.append(frame)
        self._size = frame.shape
        self.num_frames += 1

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self._stream.close()
            if self.format == "gif":
                self._file.close()
            if exc_type is None and self.num_frames == 0:
                raise ValueError(f"{self.path}: no frames to write")
            if exc_type is None:
                atomic.replace(self._temp, self.path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(self._temp)
