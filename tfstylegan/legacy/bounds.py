"""Bounds on untrusted pickles, checked before anything is unpickled, and a bounded ``repr``.

Python's C unpickler sets no limits: a 9-byte pickle can ask for a memo of 2**28 entries
(gigabytes), and a few hundred bytes can build a tuple that refers to the same tuples so
many times (a "billion laughs" DAG) that hashing it, printing it or walking it never ends.
:func:`check_pickle_bounds` reads the opcode stream once, without unpickling or copying
anything, and refuses a file that breaks any of these limits:

- at most :data:`MAX_OPCODES` opcodes (so at most that many objects and memo entries);
- a memo index no larger than the number of opcodes read so far, and only indices that
  were stored are read back;
- every declared length (bytes, strings, frames) within the data that follows it, and
  text arguments of at most :data:`MAX_LINE` bytes;
- objects nested at most :data:`MAX_DEPTH` levels deep;
- no object that expands, counting each reference to a shared object again, to more
  than :data:`MAX_EXPANDED` nodes (what a hash, a comparison or a naive walk visits).

An original network pickle stays far inside these limits: the FFHQ 1024x1024 file has
about 10,000 opcodes, nests 12 levels and expands to about 13,000 nodes. The data itself
(the array bytes) is not looked at; numpy's array rebuild checks it against the shape
(:mod:`tfstylegan.legacy.guarded`). :func:`short_repr` is the ``repr`` of error
messages: bounded in length and in work whatever it is given.
"""

from __future__ import annotations

import io
import pickletools
import reprlib
import struct
from itertools import islice
from typing import Any, BinaryIO

import numpy as np

from tfstylegan.legacy.errors import PickleBoundsError

MAX_OPCODES = 1 << 20  # A CIFAR-100 archive has about 200,000; scanning 2**20 takes about 0.3 s.
MAX_DEPTH = 64
MAX_EXPANDED = 1 << 22
MAX_LINE = 1 << 16  # Text arguments (protocol 0 numbers and strings, GLOBAL names), in bytes.


_MARK = pickletools.markobject
_MUTATORS = frozenset({"APPEND", "APPENDS", "SETITEM", "SETITEMS", "ADDITEMS", "BUILD"})
_LENGTH_PREFIX = {  # ArgumentDescriptor.n of the length-prefixed arguments -> (struct format, size)
    pickletools.TAKEN_FROM_ARGUMENT1: ("<B", 1),
    pickletools.TAKEN_FROM_ARGUMENT4: ("<i", 4),
    pickletools.TAKEN_FROM_ARGUMENT4U: ("<I", 4),
    pickletools.TAKEN_FROM_ARGUMENT8U: ("<Q", 8),
}
_FIXED_FORMATS = {1: "<B", 4: "<I", 8: "<Q"}  # Unsigned fixed-size arguments whose value matters.
_VALUE_OPS = frozenset({"PROTO", "FRAME", "BINPUT", "LONG_BINPUT", "BINGET", "LONG_BINGET", "PUT", "GET"})


def _effects() -> dict[int, tuple]:
    """Per opcode byte: (op, items below a mark it consumes or None, items it pops, items it pushes)."""
    table = {}
    for op in pickletools.opcodes:
        before = op.stack_before
        if _MARK in before:
            table[ord(op.code)] = (op, before.index(_MARK), 0, len(op.stack_after))
        else:
            table[ord(op.code)] = (op, None, len(before), len(op.stack_after))
    return table


_EFFECTS = _effects()


class _Scan:
    """The state of one scan: a symbolic stack of ``[depth, expanded size]`` cells, marks, memo."""

    def __init__(self, file: BinaryIO, start: int, size: int):
        self.file = file
        self.start = start
        self.size = size  # Bytes from the start of the pickle to the end of the file.
        self.stack: list[list[int]] = []
        self.marks: list[int] = []
        self.memo: dict[int, list[int]] = {}
        self.count = 0

    @property
    def pos(self) -> int:
        return self.file.tell() - self.start

    def fail(self, message: str, kind: str = "invalid") -> None:
        raise PickleBoundsError(f"{message} at byte {self.pos}", kind)

    def read(self, n: int, what: str) -> bytes:
        raw = self.file.read(n)
        if len(raw) < n:
            self.fail(f"{what} is cut off", kind="truncated")
        return raw

    def read_line(self, what: str) -> bytes:
        line = self.file.readline(MAX_LINE + 1)
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE:
                self.fail(f"{what} is a text line of more than {MAX_LINE} bytes", kind="bound")
            self.fail(f"{what} has no end", kind="truncated")
        return line[:-1]

    def pop(self, n: int) -> list[list[int]]:
        floor = self.marks[-1] if self.marks else 0
        if len(self.stack) - n < floor:
            self.fail("the opcodes take more items than were pushed")
        if n == 0:
            return []
        items = self.stack[-n:]
        del self.stack[-n:]
        return items

    def pop_to_mark(self) -> list[list[int]]:
        if not self.marks:
            self.fail("an opcode needs a MARK that was never pushed")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def read_argument(self, op) -> int | None:
        """Moves past the argument of ``op``; returns its value for the ops whose value matters."""
        arg, name = op.arg, op.name
        if arg is None:
            return None
        n = arg.n
        if n == pickletools.UP_TO_NEWLINE:
            line = self.read_line(f"the text argument of {name}")
            if name in ("GLOBAL", "INST"):
                self.read_line(f"the text argument of {name}")
            if name in ("PUT", "GET"):
                try:
                    return int(line)
                except ValueError:
                    self.fail(f"{name} has a bad memo index")
            return None
        if n in _LENGTH_PREFIX:
            fmt, size = _LENGTH_PREFIX[n]
            (length,) = struct.unpack(fmt, self.read(size, f"the length of {name}"))
            if length < 0:
                self.fail(f"{name} declares a negative length {length}")
            remaining = self.size - self.pos
            if length > remaining:
                self.fail(f"{name} declares {length} bytes but only {remaining} follow", kind="truncated")
            self.file.seek(length, 1)  # The payload is not read.
            return None
        raw = self.read(n, f"the argument of {name}")
        return struct.unpack(_FIXED_FORMATS[n], raw)[0] if name in _VALUE_OPS else None

    def push(self, cell: list[int], what: str) -> None:
        if cell[0] > MAX_DEPTH:
            self.fail(f"{what} nests objects more than {MAX_DEPTH} levels deep", "bound")
        if cell[1] > MAX_EXPANDED:
            self.fail(
                f"{what} refers to the same objects so often that it expands to more than {MAX_EXPANDED} "
                "nodes (a pickle bomb)",
                "bound",
            )
        self.stack.append(cell)

    def step(self, op, argument: int | None) -> bool:
        """Applies one opcode to the symbolic stack; True at STOP."""
        name = op.name
        if name in ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"):
            index = len(self.memo) if name == "MEMOIZE" else argument
            if index > self.count:
                self.fail(
                    f"{name} stores memo entry {index} after only {self.count} opcodes (a memory bomb)",
                    "bound",
                )
            if len(self.stack) <= (self.marks[-1] if self.marks else 0):
                self.fail(f"{name} with nothing to store")
            self.memo[index] = self.stack[-1]
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            if argument not in self.memo:
                self.fail(f"{name} reads memo entry {argument}, which was never stored")
            self.push(self.memo[argument], name)
        elif name == "MARK":
            self.marks.append(len(self.stack))
        elif name == "DUP":
            self.push(self.pop(1)[0], name)
            self.stack.append(self.stack[-1])
        elif name == "POP" and len(self.stack) == (self.marks[-1] if self.marks else 0) and self.marks:
            self.marks.pop()  # As the unpickler does: POP with nothing above the mark drops the mark.
        elif name == "STOP":
            self.pop(1)
            return True
        else:
            self._generic(op, name)
        return False

    def _generic(self, op, name: str) -> None:
        _, below_mark, pops, pushes = _EFFECTS[ord(op.code)]
        if below_mark is None:
            items = self.pop(pops)
        else:
            above = self.pop_to_mark()
            items = self.pop(below_mark) + above
        if not pushes:
            return
        if name in _MUTATORS:  # The first item is the object being filled; it stays the same object.
            target, rest = items[0], items[1:]
            if rest:
                target[0] = max(target[0], 1 + max(cell[0] for cell in rest))
                target[1] = min(target[1] + sum(cell[1] for cell in rest), MAX_EXPANDED + 1)
            self.push(target, name)
            return
        depth = 1 + max(cell[0] for cell in items) if items else 0
        size = min(1 + sum(cell[1] for cell in items), MAX_EXPANDED + 1)
        self.push([depth, size], name)


def check_pickle_bounds(source: bytes | BinaryIO) -> int:
    """Checks the opcode stream of a pickle against the bounds in the module docstring.

    Linear in the number of opcodes; the payloads of bytes and strings are skipped, not
    read or copied.

    Args:
        source: The whole pickle, or a seekable binary file positioned at its start (it is
            positioned there again on return).

    Returns:
        The pickle protocol the stream declares (0 when it has no PROTO opcode).

    Raises:
        PickleBoundsError: A bound is broken (``kind`` 'bound'), the stream ends early
            ('truncated') or is not a pickle ('invalid').
    """
    file = io.BytesIO(source) if isinstance(source, (bytes, bytearray, memoryview)) else source
    start = file.tell()
    size = file.seek(0, io.SEEK_END) - start
    file.seek(start)
    try:
        return _scan(_Scan(file, start, size))
    finally:
        file.seek(start)


def _scan(scan: _Scan) -> int:
    protocol = 0
    read, stack, marks, effects = scan.file.read, scan.stack, scan.marks, _EFFECTS
    while True:
        code = read(1)
        if not code:
            scan.fail("the data ends before the pickle's STOP opcode", kind="truncated")
        entry = effects.get(code[0])
        if entry is None:
            scan.fail(f"unknown opcode {code!r}")
        op = entry[0]
        scan.count += 1
        if scan.count > MAX_OPCODES:
            scan.fail(f"more than {MAX_OPCODES} opcodes", "bound")
        argument = scan.read_argument(op) if op.arg is not None else None
        if code[0] in _LEAVES:  # Fast path: a number, string, None, an empty container.
            stack.append([0, 1])
            continue
        if op.name == "PROTO":
            protocol = argument
            if protocol > 5:
                scan.fail(f"unsupported pickle protocol {protocol}")
        elif op.name == "FRAME" and argument > scan.size - scan.pos:
            scan.fail(
                f"a frame declares {argument} bytes but only {scan.size - scan.pos} follow", kind="truncated"
            )
        elif op.name == "POP" and len(stack) > (marks[-1] if marks else 0):
            stack.pop()
            continue
        if scan.step(op, argument):
            return protocol


# Opcodes that only push a new object made of nothing on the stack.
_LEAVES = frozenset(
    code
    for code, (op, below_mark, pops, pushes) in _EFFECTS.items()
    if below_mark is None
    and pops == 0
    and pushes == 1
    and op.name not in ("GET", "BINGET", "LONG_BINGET", "GLOBAL", "MARK")
)


class _ShortRepr(reprlib.Repr):
    """reprlib's bounded repr, also for big ints, bytes and numpy values (whose repr is unbounded)."""

    def __init__(self):
        super().__init__()
        self.maxlevel = 3
        self.maxstring = self.maxother = self.maxlong = 40
        self.maxtuple = self.maxlist = self.maxdict = self.maxset = self.maxfrozenset = 4

    def repr_int(self, x: int, level: int) -> str:
        return repr(x) if x.bit_length() <= 128 else f"<an int of {x.bit_length()} bits>"

    def repr_bytes(self, x: bytes, level: int) -> str:
        return repr(x[:24]) + ("..." if len(x) > 24 else "")

    def repr_bytearray(self, x: bytearray, level: int) -> str:
        return f"bytearray({self.repr_bytes(bytes(x[:24]), level)})"

    def repr_dict(self, x: dict, level: int) -> str:  # reprlib sorts the keys first: unbounded work.
        if not x:
            return "{}"
        if level <= 0:
            return "{...}"
        items = [
            f"{self.repr1(k, level - 1)}: {self.repr1(v, level - 1)}"
            for k, v in islice(x.items(), self.maxdict)
        ]
        return "{" + ", ".join(items) + (", ..." if len(x) > self.maxdict else "") + "}"

    def repr_set(self, x, level: int) -> str:
        return f"<a {type(x).__name__} of {len(x)} item(s)>"

    repr_frozenset = repr_set

    def repr_instance(self, x: Any, level: int) -> str:
        shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
        if shape == () and isinstance(x, np.generic):
            return f"{type(x).__name__}({self.repr1(x.item(), level)})"
        if isinstance(shape, tuple) and dtype is not None:  # A numpy array.
            return f"<{type(x).__name__} of shape {list(shape)[:8]} and dtype {str(dtype)[:20]}>"
        try:
            return super().repr_instance(x, level)
        except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real error.
            return f"<{type(x).__name__}>"


_SHORT = _ShortRepr()


def short_repr(value: Any) -> str:
    """A ``repr`` of at most about 100 characters that does bounded work on any value."""
    return _SHORT.repr(value)
