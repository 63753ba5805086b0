"""Large sheets held as columns (Arrow / NumPy) instead of one Python object per cell.

A report with a hundred thousand rows (GD-01 of a province) spent nearly all its time in
per-cell Python: reading, cleaning, typing and checking every cell one by one. For such
sheets the readers keep the first rows as ordinary Python rows (the header block, where
the form, unit, period and header row are found) and the rest as a `Body` of columns, one
`Column` per sheet column. `LazyRows` makes head + body look like the old `list` of rows
for the code that reads a few rows (header search, numbering row), so nothing else had to
change; `fastrows.py` checks the body column by column.

The string helpers here reproduce the Python functions of `text.py` exactly: each one is
vectorised only over cells made of characters where Arrow's Unicode functions and Python's
agree (printable ASCII and the Vietnamese letters); any other cell goes through the Python
function itself. The tests compare both on every character of that alphabet.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest.intake.text import fold, strip_accents

# str.isspace() characters: what Python's str.strip() and str.split() remove.
PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(
    chr(c) for c in range(0x2000, 0x200B)) + "\u2028\u2029\u202f\u205f\u3000")

# The Vietnamese letters beyond ASCII (both cases); with printable ASCII, the "safe" alphabet.
VIETNAMESE_LETTERS = (
    "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"
    "ÀÁẢÃẠĂẰẮẲẴẶÂẦẤẨẪẬÈÉẺẼẸÊỀẾỂỄỆÌÍỈĨỊÒÓỎÕỌÔỒỐỔỖỘƠỜỚỞỠỢÙÚỦŨỤƯỪỨỬỮỰỲÝỶỸỴĐ"
)


def _re2_class(chars: str) -> str:
    return "".join(f"\\x{{{ord(c):04x}}}" for c in chars)


SAFE_ALPHABET = "".join(map(chr, range(0x20, 0x7F))) + VIETNAMESE_LETTERS
SAFE_TEXT = f"^[\\x20-\\x7e{_re2_class(VIETNAMESE_LETTERS)}]*$"
# A whitespace character other than the plain space, or two spaces: `" ".join(s.split())`
# would change the text.
_UNSPLIT = f"  |[{_re2_class(PY_WHITESPACE.replace(' ', ''))}]"


def _mask(arr: pa.Array) -> np.ndarray:
    """A boolean Arrow array as a NumPy mask (null counts as False)."""
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


def clean_strings(arr: pa.Array) -> pa.Array:
    """`readers._clean` on text cells that are already NFC, without NUL and no-break spaces:
    stripped of Python whitespace, empty → null."""
    trimmed = pc.utf8_trim(arr, PY_WHITESPACE)
    return pc.if_else(pc.equal(pc.binary_length(trimmed), 0), pa.scalar(None, pa.string()),
                      trimmed)


def safe_mask(arr: pa.Array) -> np.ndarray:
    """True where a (non-null) cell holds only printable ASCII and Vietnamese letters."""
    return _mask(pc.match_substring_regex(pc.cast(arr, pa.string()), SAFE_TEXT))


def _python_where(arr: pa.Array, todo: np.ndarray, func) -> pa.Array:
    """`arr` with `func` (a str → str function) applied, in Python, where `todo` is True."""
    positions = np.flatnonzero(todo)
    if not len(positions):
        return arr
    values = arr.take(pa.array(positions, pa.int64())).to_pylist()
    done = pa.array([None if v is None else func(v) for v in values], pa.string())
    return pc.replace_with_mask(arr, pa.array(todo), done)


def strip_accents_strings(arr: pa.Array) -> pa.Array:
    """`text.strip_accents` of every cell (null stays null)."""
    arr = pc.cast(arr, pa.string())
    safe = safe_mask(arr)
    out = pc.replace_substring(pc.replace_substring(arr, "đ", "d"), "Đ", "D")
    out = pc.utf8_lower(pc.replace_substring_regex(pc.utf8_normalize(out, "NFD"), r"\p{Mn}", ""))
    valid = _mask(pc.is_valid(arr))
    return _python_where(pc.if_else(pa.array(safe), out, arr), valid & ~safe, strip_accents)


def fold_strings(arr: pa.Array) -> pa.Array:
    """`text.fold` of every cell; a null cell folds to "" as `fold(None)` does."""
    arr = pc.cast(arr, pa.string())
    if pc.all(pc.string_is_ascii(arr)).as_py() is not False:  # codes: lower case is enough
        folded = pc.replace_substring_regex(pc.ascii_lower(arr), "[^0-9a-z]+", " ")
        return pc.fill_null(pc.utf8_trim(folded, " "), "")
    safe = safe_mask(arr)
    out = strip_accents_strings(arr)
    out = pc.utf8_trim(pc.replace_substring_regex(out, "[^0-9a-z]+", " "), " ")
    valid = _mask(pc.is_valid(arr))
    out = _python_where(out, valid & ~safe, fold)
    return pc.fill_null(out, "")


def unsplit_mask(arr: pa.Array) -> np.ndarray:
    """True where `" ".join(cell.split())` differs from the (stripped) cell."""
    return _mask(pc.match_substring_regex(pc.cast(arr, pa.string()), _UNSPLIT))


# --- columns ---------------------------------------------------------------------------------

@dataclass
class Column:
    """One sheet column's cells below the head, as `readers._clean` would have left them.

    kind "str": every non-empty cell is text (`strings`, null = empty cell);
    kind "float": every non-empty cell is a Python float (`floats`, `valid` says which);
    kind "obj": anything else, one Python object per cell (`objects`, None = empty).
    """

    kind: str
    length: int
    strings: pa.Array | None = None
    floats: np.ndarray | None = None
    objects: list[Any] | None = None
    valid: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    _values: list[Any] | None = field(default=None, repr=False)

    @classmethod
    def of_strings(cls, arr: pa.Array) -> Column:
        arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
        return cls("str", len(arr), strings=arr, valid=_mask(pc.is_valid(arr)))

    @classmethod
    def of_floats(cls, values: np.ndarray, valid: np.ndarray) -> Column:
        return cls("float", len(values), floats=values, valid=valid)

    @classmethod
    def of_objects(cls, values: list[Any]) -> Column:
        valid = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
        return cls("obj", len(values), objects=values, valid=valid)

    @classmethod
    def empty(cls, length: int) -> Column:
        return cls.of_objects([None] * length)

    def values(self) -> list[Any]:
        """Every cell as a Python value (cached: used for the rows that need Python)."""
        if self._values is None:
            if self.kind == "str":
                self._values = self.strings.to_pylist()
            elif self.kind == "float":
                self._values = [float(v) if ok else None
                                for v, ok in zip(self.floats.tolist(), self.valid.tolist(),
                                                 strict=True)]
            else:
                self._values = self.objects
        return self._values

    def value(self, i: int) -> Any:
        if self._values is not None:
            return self._values[i]
        if self.kind == "str":
            return self.strings[i].as_py()
        if self.kind == "float":
            return float(self.floats[i]) if self.valid[i] else None
        return self.objects[i]

    def take(self, positions: np.ndarray) -> Column:
        if len(positions) and positions[-1] - positions[0] == len(positions) - 1:
            return self.slice(int(positions[0]), int(positions[0]) + len(positions))
        if self.kind == "str":
            return Column.of_strings(self.strings.take(pa.array(positions, pa.int64())))
        if self.kind == "float":
            return Column.of_floats(self.floats[positions], self.valid[positions])
        objects = self.objects
        return Column.of_objects([objects[p] for p in positions.tolist()])


    def slice(self, start: int, stop: int) -> Column:
        """Cells start…stop-1 (positions sorted and contiguous: no copy)."""
        if self.kind == "str":
            return Column("str", stop - start, strings=self.strings.slice(start, stop - start),
                          valid=self.valid[start:stop])
        if self.kind == "float":
            return Column.of_floats(self.floats[start:stop], self.valid[start:stop])
        return Column("obj", stop - start, objects=self.objects[start:stop],
                      valid=self.valid[start:stop])


def column_from_values(values: Sequence[Any]) -> Column:
    """A column from cleaned Python values (None = empty), typed by what it holds."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if kinds == {str}:
        return Column.of_strings(pa.array(values, pa.string()))
    if kinds <= {float}:
        valid = np.fromiter((v is not None for v in values), dtype=bool, count=len(values))
        floats = np.array([0.0 if v is None else v for v in values], dtype=np.float64)
        return Column.of_floats(floats, valid)
    return Column.of_objects(list(values))


@dataclass
class Body:
    """Rows `start`… of a sheet (0-based) as columns; `lengths` = cells per row as read."""

    start: int
    columns: list[Column]
    lengths: np.ndarray

    @property
    def n(self) -> int:
        return len(self.lengths)

    @property
    def width(self) -> int:
        return int(self.lengths.max()) if len(self.lengths) else 0

    def row(self, i: int) -> list[Any]:
        """Body row i (0-based within the body) as the list the row reader would have built."""
        return [self.columns[c].value(i) for c in range(int(self.lengths[i]))]

    def column(self, index: int) -> Column:
        return self.columns[index] if index < len(self.columns) else Column.empty(self.n)


class LazyRows(Sequence):
    """Head rows (Python lists) followed by body rows built from the columns on demand."""

    def __init__(self, head: list[list[Any]], body: Body):
        self.head = head
        self.body = body

    def __len__(self) -> int:
        return len(self.head) + self.body.n

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if index < len(self.head):
            return self.head[index]
        if index >= len(self):
            raise IndexError(index)
        return self.body.row(index - len(self.head))

    def __iter__(self) -> Iterator[list[Any]]:
        yield from self.head
        for i in range(self.body.n):
            yield self.body.row(i)

    @property
    def width(self) -> int:
        return max([len(r) for r in self.head] + [self.body.width])


def body_from_rows(rows: list[list[Any]], start: int) -> Body:
    """A body from cleaned Python rows (xlsx, xls, quoted CSV)."""
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    width = int(lengths.max()) if len(rows) else 0
    if len(rows) and int(lengths.min()) != width:
        rows = [r + [None] * (width - len(r)) for r in rows]
    columns = [column_from_values(col) for col in zip(*rows, strict=True)] if width else []
    return Body(start, columns, lengths)
