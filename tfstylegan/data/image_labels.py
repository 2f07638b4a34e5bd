"""The labels of a folder of images, read from a JSON or CSV file for ``create_from_images``.

Every problem is a :class:`~tfstylegan.data.errors.DatasetError` naming the file (and the
line, for text that is not UTF-8 or a CSV row that is wrong). Nothing in a labels file
can make the tool allocate without bound: class indices are at most
:data:`MAX_CLASSES` - 1, label vectors at most :data:`MAX_CLASSES` long, the one-hot
array at most :data:`MAX_ONEHOT_VALUES` values, every number finite, and JSON nested at
most as deep as its format needs (deeper is refused before it is parsed).
"""

from __future__ import annotations

import csv
import io
import json
import math
import posixpath
import re

import numpy as np
import tensorflow as tf

from tfstylegan.data.errors import DatasetError
from tfstylegan.paths import open_regular_file

MAX_CLASSES = 100_000  # Class indices and label vector lengths.
MAX_ONEHOT_VALUES = 1 << 28  # Values of the one-hot label array (1 GiB of float32).
MAX_JSON_DEPTH = 2  # {name: [numbers]}: an object of lists.
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _read_text(path: str) -> str:
    """The file as UTF-8 text (a BOM is dropped); invalid UTF-8 is an error naming the line."""
    try:
        if "://" in path:
            with tf.io.gfile.GFile(path, "rb") as f:
                data = f.read()
        else:
            with open_regular_file(path) as f:
                data = f.read()
    except (OSError, tf.errors.OpError) as e:
        reason = getattr(e, "strerror", None) or getattr(e, "message", None) or type(e).__name__
        raise DatasetError(f"labels file {path}: cannot read it ({reason})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise DatasetError(f"labels file {path}: line {line} is not valid UTF-8 text") from None


def _json_depth(text: str) -> int:
    """How deep the JSON arrays and objects of ``text`` nest (strings skipped), without parsing it."""
    codes = np.frombuffer(_JSON_STRING.sub('""', text).encode("utf-8", "surrogatepass"), np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64) - np.isin(codes, (ord("]"), ord("}")))
    return int(np.cumsum(steps).max(initial=0))


def _class_or_vector(path: str, name: str, value) -> int | list[float]:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, list) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    ):
        return [float(v) for v in value]
    raise DatasetError(
        f"{path}: the label of {name!r} is {str(value)[:60]}; expected a class index (int) or a list of numbers"
    )


def _json_entries(path: str, text: str) -> dict[str, int | list[float]]:
    depth = _json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise DatasetError(
            f"{path}: JSON nested {depth} levels deep; expected an object of class indices or lists"
        )
    try:
        data = json.loads(text)
    except ValueError as e:  # JSONDecodeError, and integers of more than 4300 digits.
        raise DatasetError(f"{path}: invalid JSON ({str(e)[:200]})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a JSON object mapping file names to labels")
    return {name: _class_or_vector(path, name, value) for name, value in data.items()}


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise DatasetError(f"{where}: {text[:40]!r} is not a number") from None


def _is_int_text(text: str) -> bool:
    return text.strip().lstrip("+-").isdigit()


def _csv_rows(path: str, text: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text))
    rows = []
    try:
        for row in reader:
            if row and any(c.strip() for c in row) and not row[0].lstrip().startswith("#"):
                rows.append((reader.line_num, row))
    except csv.Error as e:
        raise DatasetError(f"{path}: line {reader.line_num} is not valid CSV ({e})") from None
    if rows and len(rows[0][1]) > 1:
        try:
            float(rows[0][1][1])
        except ValueError:
            rows = rows[1:]  # Header.
    return rows


def _csv_entries(path: str, text: str) -> dict[str, int | list[float]]:
    entries: dict[str, int | list[float]] = {}
    for line, row in _csv_rows(path, text):
        name, values = row[0].strip(), [c.strip() for c in row[1:]]
        if not values:
            raise DatasetError(f"{path}: line {line} ({name[:60]!r}) has no label")
        if len(values) == 1 and _is_int_text(values[0]):
            if len(values[0]) > 12:
                raise DatasetError(f"{path}: line {line}: class {values[0][:20]}... is too large")
            entries[name] = int(values[0])
        else:
            entries[name] = [_number(v, f"{path}: line {line}") for v in values]
    return entries


def _label_array(path: str, values: list[int | list[float]]) -> np.ndarray:
    """Class indices as one-hot ``[N, max + 1]``, or label vectors of one length, as float32."""
    if all(isinstance(v, int) for v in values):
        low, high = min(values), max(values)
        if low < 0 or high >= MAX_CLASSES:
            raise DatasetError(
                f"{path}: class indices must lie in [0, {MAX_CLASSES}), got {low if low < 0 else high}"
            )
        if len(values) * (high + 1) > MAX_ONEHOT_VALUES:
            raise DatasetError(
                f"{path}: one-hot labels of {len(values)} images and {high + 1} classes would take "
                f"{len(values) * (high + 1) * 4 / 2**30:.1f} GiB; at most {MAX_ONEHOT_VALUES * 4 / 2**30:.0f} GiB"
            )
        onehot = np.zeros([len(values), high + 1], np.float32)
        onehot[np.arange(len(values)), values] = 1.0
        return onehot
    if any(isinstance(v, int) for v in values):
        raise DatasetError(f"{path} mixes class indices and label vectors; use one kind for every image")
    sizes = {len(v) for v in values}
    if len(sizes) != 1:
        raise DatasetError(f"{path}: label vectors have different lengths {sorted(sizes)[:8]}")
    if not 1 <= sizes.pop() <= MAX_CLASSES:
        raise DatasetError(f"{path}: label vectors must have 1 to {MAX_CLASSES} values")
    if not all(math.isfinite(x) for v in values for x in v):
        raise DatasetError(f"{path}: label vectors must hold finite numbers (no NaN or inf)")
    return np.asarray(values, dtype=np.float32)


_LABEL_FORMATS = {".json": _json_entries, ".csv": _csv_entries}


def read_labels_file(path: str, image_names: list[str]) -> np.ndarray:
    """Reads per-image labels and returns them in the order of ``image_names``.

    Formats (chosen by the extension), UTF-8 text:

    - ``.json``: an object mapping a file name (without folder) to a class index (int) or a
      label vector (list of numbers): ``{"img000.png": 2, "img001.png": 0}``.
    - ``.csv``: rows ``filename,class`` or ``filename,v1,v2,...``; an optional header row
      (recognised by a non-numeric second column); blank lines and lines starting with
      ``#`` are skipped. A single integer column is a class index; a single value with a
      decimal point is a one-element vector.

    Class indices become one-hot vectors of size ``max(class) + 1`` (as the original's
    converters do). Every image needs a label; entries for other files are ignored.

    Args:
        path: the labels file.
        image_names: file names (without folder) of the images.

    Returns:
        float32 ``[len(image_names), label_size]``.
    """
    ext = posixpath.splitext(path)[1].lower()
    if ext not in _LABEL_FORMATS:
        raise DatasetError(f"labels file {path}: unknown format {ext!r}; expected .json or .csv")
    if not tf.io.gfile.exists(path):
        raise DatasetError(f"labels file {path} does not exist")
    entries = _LABEL_FORMATS[ext](path, _read_text(path))
    missing = [n for n in image_names if n not in entries]
    if missing:
        shown = ", ".join(repr(n)[1:-1] for n in missing[:5]) + (
            f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        )
        raise DatasetError(f"{path} has no label for {len(missing)} image(s): {shown}")
    return _label_array(path, [entries[n] for n in image_names])
