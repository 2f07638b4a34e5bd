"""Odd image folders for ``create_from_images``: odd files, names, modes, depths, labels and outputs.

Each case builds a folder of a few good 8x8 RGB PNGs plus one oddity, and runs the dataset
tool on it in-process, with or without ``--skip_bad``. When the tool succeeds, the
dataset it wrote is read back and compared with what it must hold (the good images,
16-bit images scaled as ``round(v / 257)``), so a silent truncation is a failure.
"""

from __future__ import annotations

import io
import json
import os
import random
from pathlib import Path

import numpy as np

from .harness import Case, register, run_cli

SIZE = 8


def _png(array: np.ndarray) -> bytes:
    import tensorflow as tf

    return tf.io.encode_png(array if array.ndim == 3 else array[:, :, None]).numpy()


def _pil_bytes(array: np.ndarray, fmt: str, mode: str | None = None) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    image = Image.fromarray(array) if mode is None else Image.fromarray(array).convert(mode)
    image.save(buffer, format=fmt)
    return buffer.getvalue()


def _good(rng: random.Random, n: int) -> list[np.ndarray]:
    state = np.random.RandomState(rng.getrandbits(31))
    return [state.randint(0, 256, [SIZE, SIZE, 3]).astype(np.uint8) for _ in range(n)]


def _deep_png(rng: random.Random, channels: int) -> tuple[bytes, np.ndarray]:
    values = (
        np.random.RandomState(rng.getrandbits(31)).randint(0, 65536, [SIZE, SIZE, channels]).astype(np.uint16)
    )
    return _png(values), np.floor(values / 257 + 0.5).astype(np.uint8)


def _oddity(kind: str, rng: random.Random, folder: Path):
    """Adds the odd entry; returns (its name, the 8-bit RGB image it must give) if it is usable, else Nones."""
    path = folder / "odd.png"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dir":
        path.mkdir()
    elif kind == "dangling":
        path.symlink_to(folder / "nowhere.png")
    elif kind == "loop":
        path.symlink_to(path)
    elif kind == "non-utf8 good":
        image = _good(rng, 1)[0]
        with open(os.fsencode(folder) + b"/caf\xe9.png", "wb") as f:
            f.write(_png(image))
        return os.fsdecode(b"caf\xe9.png"), image
    elif kind == "non-utf8 broken":
        with open(os.fsencode(folder) + b"/\xff\xfe.png", "wb") as f:
            f.write(b"broken")
    elif kind == "truncated":
        path.write_bytes(_png(_good(rng, 1)[0])[: rng.randint(8, 60)])
    elif kind == "damaged pixels":
        data = _png(np.random.RandomState(1).randint(0, 256, [SIZE, SIZE, 3]).astype(np.uint8))
        path.write_bytes(data[: data.index(b"IDAT") + 10])
    elif kind == "random bytes":
        path.write_bytes(rng.randbytes(rng.randint(1, 4096)))
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "text as jpg":
        (folder / "odd.jpg").write_text("not a jpeg")
    elif kind in ("bigger", "non-square", "not a power of two"):
        shape = {"bigger": [16, 16, 3], "non-square": [8, 16, 3], "not a power of two": [12, 12, 3]}[kind]
        path.write_bytes(_png(np.zeros(shape, np.uint8)))
    elif kind in ("gray", "palette", "rgba", "la", "bilevel", "cmyk"):
        mode = {"gray": "L", "palette": "P", "rgba": "RGBA", "la": "LA", "bilevel": "1", "cmyk": "CMYK"}[kind]
        fmt = "JPEG" if mode == "CMYK" else "PNG"
        (folder / f"odd.{fmt.lower()}").write_bytes(_pil_bytes(_good(rng, 1)[0], fmt, mode))
    elif kind == "48-bit png":
        data, expected = _deep_png(rng, 3)
        path.write_bytes(data)
        return path.name, expected
    elif kind in ("16-bit gray png", "64-bit png", "16-bit tiff", "float tiff", "int32 tiff"):
        if kind == "16-bit gray png":
            path.write_bytes(_deep_png(rng, 1)[0])
        elif kind == "64-bit png":
            path.write_bytes(_deep_png(rng, 4)[0])
        else:
            dtype = {"16-bit tiff": np.uint16, "float tiff": np.float32, "int32 tiff": np.int32}[kind]
            (folder / "odd.tif").write_bytes(_pil_bytes(np.zeros([SIZE, SIZE], dtype), "TIFF"))
    elif kind == "decompression bomb":
        import struct
        import zlib

        ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
        chunk = b"IHDR" + ihdr
        path.write_bytes(
            b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
        )
    return None, None


ODDITIES = {  # kind -> refused without --skip_bad (a bad file), else skipped with a warning
    "fifo": False,
    "dir": False,
    "dangling": False,
    "loop": False,
    "non-utf8 good": False,
    "non-utf8 broken": True,
    "truncated": True,
    "damaged pixels": True,
    "random bytes": True,
    "empty": True,
    "text as jpg": True,
    "bigger": True,
    "non-square": True,
    "not a power of two": True,
    "gray": True,
    "palette": True,
    "rgba": True,
    "la": True,
    "bilevel": True,
    "cmyk": True,
    "48-bit png": False,
    "16-bit gray png": True,
    "64-bit png": True,
    "16-bit tiff": True,
    "float tiff": True,
    "int32 tiff": True,
    "decompression bomb": True,
}

_BAD_LABELS = {
    "class 10**9": lambda names: "".join(f"{n},{10**9 if i == 0 else 0}\n" for i, n in enumerate(names)),
    "invalid utf-8": lambda names: b"".join(f"{n},0\n".encode() for n in names) + b"\xff\xfe,1\n",
    "json 10**5 deep": lambda names: "[" * 100_000 + "]" * 100_000,
    "json huge int": lambda names: json.dumps({n: 0 for n in names})[:-1] + ', "x": ' + "9" * 5000 + "}",
    "nan": lambda names: "".join(f"{n},nan,1\n" for n in names),
    "missing names": lambda names: f"{names[0]},1\n",
}


def _run(folder: Path, out: Path, flags: list[str], expected: list[np.ndarray] | None):
    def probe():
        from tfstylegan.cli import dataset_tool
        from tfstylegan.data.tfrecords import TFRecordDataset

        run_cli(dataset_tool.main, ["create_from_images", str(out), str(folder), "--shuffle", "0", *flags])
        if expected is not None:
            stored = TFRecordDataset(str(out)).read_all_np()[0]
            want = np.stack(expected)
            if stored.shape != want.shape or not np.array_equal(stored, want):
                raise AssertionError(
                    f"the dataset holds {stored.shape} images, not the {want.shape} expected"
                )

    return probe


def odd_file(rng: random.Random, workdir: Path) -> Case:
    folder = workdir / "images"
    folder.mkdir()
    images = {f"img{i:03d}.png": image for i, image in enumerate(_good(rng, rng.randint(2, 6)))}
    for name, image in images.items():
        (folder / name).write_bytes(_png(image))
    kind = rng.choice(sorted(ODDITIES))
    name, image = _oddity(kind, rng, folder)
    if name is not None:
        images[name] = image
    skip = rng.random() < 0.5
    names = sorted(os.listdir(folder))
    expected = [images[n] for n in names if n in images]  # The tool's order (--shuffle 0): sorted names.
    refuse = ODDITIES[kind] and not skip
    flags = ["--skip_bad"] if skip else []
    note = f"{kind}{' --skip_bad' if skip else ''} ({len(names)} entries)"
    return Case(
        _run(folder, workdir / "out", flags, None if refuse else expected),
        "refuse" if refuse else "any",
        note,
    )


def bad_labels(rng: random.Random, workdir: Path) -> Case:
    folder = workdir / "images"
    folder.mkdir()
    good = _good(rng, 3)
    names = [f"img{i:03d}.png" for i in range(len(good))]
    for name, image in zip(names, good):
        (folder / name).write_bytes(_png(image))
    kind = rng.choice(sorted(_BAD_LABELS) + ["fifo", "dir"])
    ext = ".json" if kind.startswith("json") else ".csv"
    labels = workdir / f"labels{ext}"
    if kind == "fifo":
        os.mkfifo(labels)
    elif kind == "dir":
        labels.mkdir()
    else:
        content = _BAD_LABELS[kind](names)
        labels.write_bytes(content if isinstance(content, bytes) else content.encode())
    return Case(_run(folder, workdir / "out", ["--labels", str(labels)], None), "refuse", f"labels: {kind}")


def bad_output(rng: random.Random, workdir: Path) -> Case:
    folder = workdir / "images"
    folder.mkdir()
    for i, image in enumerate(_good(rng, 2)):
        (folder / f"img{i:03d}.png").write_bytes(_png(image))
    (workdir / "file").write_text("x")
    kind = rng.choice(["under a file", "is a file", "existing dataset"])
    out = {
        "under a file": workdir / "file" / "ds",
        "is a file": workdir / "file",
        "existing dataset": workdir / "ds",
    }[kind]
    if kind == "existing dataset":
        _run(folder, out, [], None)()
    return Case(_run(folder, out, [], None), "refuse", f"output {kind}")


register("images.odd_file", odd_file, 14, 80)
register("images.bad_labels", bad_labels, 4, 16)
register("images.bad_output", bad_output, 2, 6)
