"""The parsed rows of a file, held as columns when they came from a large sheet.

`Records` is a read-only sequence of dicts — what `Outcome.records` and `FileResult.records`
have always been — made of blocks: plain lists of dicts (rows checked one by one) and
`ColumnBlock`s (rows checked column by column, see fastrows.py). A dict is only built when
someone reads it; the warehouse load (`copy_text`) writes the COPY text of a column block
with Arrow, without building any. `KeyRegistry` is the "keys seen so far" of a file's rows
(duplicate school codes across sheets), fed in bulk by the columnar path.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_NULL = "\\N"


@dataclass
class ColumnBlock:
    """Records of consecutive clean rows of one sheet: one typed column per loaded field.

    A column is an Arrow array (int64, string or bool; null = None) or a list of Python
    values (anything else, e.g. Decimal). Keys come in the order a row's dict has them.
    """

    names: tuple[str, ...]
    columns: dict[str, pa.Array | list[Any]]
    sheet: str
    source_rows: np.ndarray

    def __len__(self) -> int:
        return len(self.source_rows)

    def record(self, i: int) -> dict[str, Any]:
        out = {n: _value(self.columns[n], i) for n in self.names}
        out["source_sheet"], out["source_row"] = self.sheet, int(self.source_rows[i])
        return out

    def dicts(self) -> list[dict[str, Any]]:
        values = [_pylist(self.columns[n]) for n in self.names]
        rows = self.source_rows.tolist()
        names = (*self.names, "source_sheet", "source_row")
        sheet = self.sheet
        return [dict(zip(names, (*vals, sheet, r), strict=True))
                for *vals, r in zip(*values, rows, strict=True)]

    def column_sum(self, name: str) -> Any:
        """`sum((r[name] or 0) for r in records)` over this block."""
        col = self.columns[name]
        if isinstance(col, pa.Array) and pa.types.is_integer(col.type):
            return sum(v for v in col.drop_null().to_pylist())
        return sum((v or 0) for v in _pylist(col))

    def slice(self, start: int, stop: int) -> ColumnBlock:
        return ColumnBlock(self.names, {n: _slice(c, start, stop) for n, c in self.columns.items()},
                           self.sheet, self.source_rows[start:stop])

    def copy_text(self, file_id: int, load: Sequence[str]) -> pa.Array:
        """One COPY text line per record (`file_id, source_sheet, source_row, *load`),
        each ending in a newline, exactly as `store._copy_text` writes them."""
        # the same text on every line (file_id, sheet) is one scalar, repeated by the join;
        # the newline is appended to the last field (short) rather than to the whole line
        sheet = _copy_column(pa.array([self.sheet], pa.string()))[0]
        fields = [pa.scalar(str(file_id), pa.string()), sheet,
                  pc.cast(pa.array(self.source_rows), pa.string())]
        fields.extend(_copy_column(self.columns[name]) for name in load)
        fields[-1] = pc.binary_join_element_wise(fields[-1], pa.scalar(""), "\n")
        return pc.binary_join_element_wise(*fields, "\t")


def _value(col: pa.Array | list[Any], i: int) -> Any:
    return col[i].as_py() if isinstance(col, pa.Array) else col[i]


def _pylist(col: pa.Array | list[Any]) -> list[Any]:
    return col.to_pylist() if isinstance(col, pa.Array) else list(col)


def _slice(col: pa.Array | list[Any], start: int, stop: int) -> pa.Array | list[Any]:
    return col.slice(start, stop - start) if isinstance(col, pa.Array) else col[start:stop]


def _text_bytes(col: pa.Array) -> bytes:
    """The text of a string array's values, end to end: of its own slice only (the data
    buffer of a slice is the whole array's, and the COPY writes a large block in slices)."""
    data = col.buffers()[2]
    if data is None or not len(col):
        return b""
    kind = np.int64 if pa.types.is_large_string(col.type) else np.int32
    offsets = np.frombuffer(col.buffers()[1], dtype=kind)
    first, last = int(offsets[col.offset]), int(offsets[col.offset + len(col)])
    return data.slice(first, last - first).to_pybytes()


def _copy_column(col: pa.Array | list[Any]) -> pa.Array:
    """A typed column as COPY text fields (`\\N` for null)."""
    if not isinstance(col, pa.Array):
        from ingest.intake.store import _copy_text

        return pa.array([_copy_text(v) for v in col], pa.string())
    if pa.types.is_boolean(col.type):
        text = pc.if_else(col, "t", "f")
    elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        text = col
        raw = _text_bytes(col)  # any character to escape?
        if any(ch in raw for ch in (b"\\", b"\t", b"\n", b"\r")):
            for char, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"),
                                  ("\r", "\\r")):
                text = pc.replace_substring(text, char, escaped)
    elif pa.types.is_null(col.type):
        return pa.array(np.full(len(col), _NULL, dtype=object), pa.string())
    else:
        text = pc.cast(col, pa.string())
    return pc.fill_null(text, _NULL)


class Records(Sequence):
    """A sequence of record dicts made of blocks (lists of dicts, `ColumnBlock`s)."""

    def __init__(self, blocks: Iterable[list[dict[str, Any]] | ColumnBlock] = ()):
        self.blocks: list[list[dict[str, Any]] | ColumnBlock] = [b for b in blocks if len(b)]
        self._starts: list[int] = []
        total = 0
        for b in self.blocks:
            self._starts.append(total)
            total += len(b)
        self._len = total

    def __len__(self) -> int:
        return self._len

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        b = bisect.bisect_right(self._starts, index) - 1
        block = self.blocks[b]
        i = index - self._starts[b]
        return block.record(i) if isinstance(block, ColumnBlock) else block[i]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for block in self.blocks:
            yield from (block.dicts() if isinstance(block, ColumnBlock) else block)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Records | list | tuple):
            return len(self) == len(other) and list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Records({len(self)} rows in {len(self.blocks)} blocks)"

    def source_rows(self, sheet: str) -> set[int]:
        """Source row numbers of the records read from `sheet`."""
        out: set[int] = set()
        for block in self.blocks:
            if isinstance(block, ColumnBlock):
                if block.sheet == sheet:
                    out.update(block.source_rows.tolist())
            else:
                out.update(r["source_row"] for r in block if r.get("source_sheet") == sheet)
        return out

    @classmethod
    def concat(cls, parts: Iterable[Sequence[dict[str, Any]]]) -> Records:
        blocks: list[list[dict[str, Any]] | ColumnBlock] = []
        for part in parts:
            if isinstance(part, Records):
                blocks.extend(part.blocks)
            else:
                blocks.append(list(part))
        return cls(blocks)


class RecordsBuilder:
    """Blocks of one sheet's records in row order: dicts appended one by one, column
    blocks appended whole."""

    def __init__(self) -> None:
        self.blocks: list[list[dict[str, Any]] | ColumnBlock] = []

    def append(self, record: dict[str, Any]) -> None:
        if not self.blocks or isinstance(self.blocks[-1], ColumnBlock):
            self.blocks.append([])
        self.blocks[-1].append(record)

    def add_block(self, block: ColumnBlock) -> None:
        if len(block):
            self.blocks.append(block)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(Records(self.blocks))

    def __len__(self) -> int:
        return sum(len(b) for b in self.blocks)

    def column_sum(self, name: str) -> Any:
        total: Any = 0
        for block in self.blocks:
            if isinstance(block, ColumnBlock):
                total = total + block.column_sum(name)
            else:
                total = total + sum((r[name] or 0) for r in block)
        return total

    def build(self) -> Records:
        return Records(self.blocks)


class KeyRegistry(MutableMapping):
    """Folded key → (sheet, Excel row) of its first occurrence, across a file's sheets.

    Behaves as the dict the row checks used; the columnar path adds whole columns of keys
    at once (`add_bulk`), turned into dict entries only if a row checked in Python asks.
    """

    def __init__(self) -> None:
        self._dict: dict[str, tuple[str, int]] = {}
        self._bulk: list[tuple[pa.Array, str, np.ndarray]] = []

    def _settle(self) -> None:
        for keys, sheet, rows in self._bulk:
            for key, row in zip(keys.to_pylist(), rows.tolist(), strict=True):
                self._dict.setdefault(key, (sheet, row))
        self._bulk.clear()

    def add_bulk(self, keys: pa.Array, sheet: str, rows: np.ndarray) -> None:
        """Keys not present yet (the caller checked), with their sheet and Excel rows."""
        if len(keys):
            self._bulk.append((keys, sheet, rows))

    def key_array(self) -> pa.Array:
        parts = [k for k, _, _ in self._bulk]
        parts.append(pa.array(list(self._dict), pa.string()))
        return pa.concat_arrays([pc.cast(p, pa.string()) for p in parts])

    def __getitem__(self, key: str) -> tuple[str, int]:
        self._settle()
        return self._dict[key]

    def __setitem__(self, key: str, value: tuple[str, int]) -> None:
        self._settle()
        self._dict[key] = value

    def __delitem__(self, key: str) -> None:
        self._settle()
        del self._dict[key]

    def __contains__(self, key: object) -> bool:
        self._settle()
        return key in self._dict

    def __iter__(self) -> Iterator[str]:
        self._settle()
        return iter(self._dict)

    def __len__(self) -> int:
        self._settle()
        return len(self._dict)
