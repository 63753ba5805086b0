"""The rows layout checked column by column, for large sheets (see columnar.py).

`read_rows_columnar` gives exactly what `layouts.read_rows` gives — the same records, the same
problems in the same order — but does per column what `RowReader.row` does per cell:

1. which rows are data: blank rows, the footer (signature block), total rows and section
   headings are found with vector masks (footer and total candidates then confirmed by the
   Python functions themselves);
2. every loaded column is typed: the common shapes (digits in an integer column, a plain
   text) with vector operations, every other cell once per distinct value through
   `layouts._typed` itself — a cell's typed value and its problems depend on the value only;
3. the rules between values are evaluated on whole integer columns; keys are folded and
   compared as columns.

A row none of whose cells, rules or keys can raise a problem ("clean") goes straight into a
`ColumnBlock`; every other row — and the first rows, above the columnar body — is checked
by `RowReader.row`, in order, so its problems read exactly as before. Clean rows raise no
problem, so the order of the problems is the order of the rows.
"""

from __future__ import annotations

import ast
from collections.abc import MutableMapping
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest.intake.columnar import (
    SAFE_ALPHABET,
    Column,
    _re2_class,
    fold_strings,
    safe_mask,
    strip_accents_strings,
    unsplit_mask,
)
from ingest.intake.contracts import Contract, Rule, evaluate
from ingest.intake.headers import HeaderMatch, is_numbering_row
from ingest.intake.layouts import (
    FOOTER_MAX_CELLS,
    DataRow,
    RowReader,
    _Cells,
    _footer_regexes,
    _is_footer,
    _typed,
)
from ingest.intake.problems import Problems
from ingest.intake.readers import Sheet
from ingest.intake.records import ColumnBlock, KeyRegistry, Records, RecordsBuilder
from ingest.intake.text import fold, is_blank

FOOTER_SCAN_DIRECT = 2000  # up to this many sparse rows are checked in Python directly


def read_rows_columnar(
    sheet: Sheet, match: HeaderMatch, contract: Contract, problems: Problems,
    period_start: date | None, period_end: date | None,
    seen_keys: MutableMapping[str, tuple[str, int]],
) -> Records:
    """`layouts.read_rows` for a sheet whose body is held as columns."""
    return _ColumnarReader(sheet, match, contract, problems, period_start, period_end,
                           seen_keys).run()


def _mask(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(pc.fill_null(arr, False).to_numpy(zero_copy_only=False), dtype=bool)


class _Unsupported(Exception):
    """A rule the vector evaluation does not cover (it is then evaluated per row)."""


class _ColumnarReader(RowReader):
    def __init__(self, sheet: Sheet, match: HeaderMatch, contract: Contract, problems: Problems,
                 period_start: date | None, period_end: date | None,
                 seen_keys: MutableMapping[str, tuple[str, int]]):
        super().__init__(sheet, match, contract, problems, period_start, period_end, seen_keys,
                         records=RecordsBuilder())

    def column_sum(self, name: str) -> Any:
        return self.records.column_sum(name)

    # --- the walk ------------------------------------------------------------------------

    def run(self) -> Records:
        sheet, match, contract = self.sheet, self.match, self.contract
        body = sheet.body
        assert body is not None
        nrows = len(sheet.rows)
        first = match.first_data_row
        if first < nrows and is_numbering_row(sheet.rows[first]):
            first += 1
        for index in range(first, min(body.start, nrows)):  # rows above the body
            values = sheet.rows[index]
            if all(is_blank(v) for v in values):
                continue
            if _is_footer(values, contract):
                return self._done()
            self.row(self._data_row(index, values=values))
        self._body(max(first - body.start, 0))
        return self._done()

    def _done(self) -> Records:
        self.finish()
        return self.records.build()

    def _data_row(self, index: int, values: list[Any] | None = None) -> DataRow:
        """The `DataRow` that `layouts.data_rows` yields for sheet row `index` (0-based)."""
        sheet = self.sheet
        body = sheet.body
        if values is None and body is not None and index >= body.start:
            p = index - body.start
            cells = {name: body.column(col).value(p) for name, col in self.match.columns.items()}
        else:
            cells = {name: sheet.cell(index, col) for name, col in self.match.columns.items()}
        return DataRow(sheet.name, index + 1, cells, (index + 1) in sheet.hidden_rows)

    def _body(self, b0: int) -> None:
        sheet, match, contract = self.sheet, self.match, self.contract
        body = sheet.body
        n = body.n - b0
        if n <= 0:
            return
        nonnull = np.zeros(n, dtype=np.int64)
        for col in body.columns:
            nonnull += col.valid[b0:]
        blank = nonnull == 0
        n = self._data_end(b0, nonnull, blank)
        blank = blank[:n]
        columns = {name: body.column(index) for name, index in match.columns.items()}

        def filled(name: str) -> np.ndarray:
            return columns[name].valid[b0:b0 + n]

        count = np.zeros(n, dtype=np.int64)
        for name in self.mapped:
            count += filled(name)
        considered = ~blank & (count > 0)
        total = self._total_rows(columns, b0, n) & considered
        numeric = np.zeros(n, dtype=bool)
        for name in self.numeric.intersection(self.mapped):
            numeric |= filled(name)
        heading = (count <= 1) & ~numeric
        keep = considered & ~total & ~heading
        totals = np.flatnonzero(total)
        kept = np.flatnonzero(keep)
        positions = b0 + kept  # body positions of the record rows
        m = len(positions)
        typed: dict[str, pa.Array | list[Any]] = {}
        bad = np.zeros(m, dtype=bool)
        for name in contract.load:
            typed[name], cell_bad = self._typed_column(name, columns, positions)
            bad |= cell_bad
        for rule in contract.rules:
            bad |= self._rule_false(rule, typed, m)
        source_rows = body.start + positions + 1
        registered = self._duplicate_keys(typed, bad, source_rows)
        clean = np.flatnonzero(~bad)
        block = ColumnBlock(contract.load,
                            {name: _take(col, clean) for name, col in typed.items()},
                            sheet.name, source_rows[clean])
        self._register(*registered, bad)
        # emit in row order: clean runs as column blocks, the other rows one by one
        done = 0
        for k, j in enumerate(np.flatnonzero(bad).tolist()):
            clean_before = j - k
            self.records.add_block(block.slice(done, clean_before))
            done = clean_before
            self.row(self._data_row(body.start + int(positions[j])))
        self.records.add_block(block.slice(done, len(clean)))
        for r in totals.tolist():  # total rows are checked at the end, as in RowReader
            row = self._data_row(body.start + b0 + r)
            self.totals.append((row, _Cells(self.problems, contract, match, row)))

    # --- which rows are data -------------------------------------------------------------

    def _data_end(self, b0: int, nonnull: np.ndarray, blank: np.ndarray) -> int:
        """Index (from b0) of the footer row that ends the data, or the body's length."""
        body, contract = self.sheet.body, self.contract
        candidates = np.flatnonzero(~blank & (nonnull <= FOOTER_MAX_CELLS))
        if len(candidates) > FOOTER_SCAN_DIRECT:
            candidates = candidates[self._footer_prefilter(b0 + candidates)]
        for r in candidates.tolist():
            if _is_footer(body.row(b0 + r), contract):
                return r
        return len(nonnull)

    def _footer_prefilter(self, positions: np.ndarray) -> np.ndarray:
        """Rows among `positions` that may be a footer (a superset: vector regexes on the
        cells of the safe alphabet, every other text cell kept for the Python check)."""
        contract = self.contract
        markers = "|".join(contract.footer_markers)  # folded: [0-9a-z ] only
        _, pattern = _footer_regexes(contract.footer_markers, contract.footer_patterns)
        pattern_re2 = pattern.pattern if pattern is not None and _re2_ok(pattern.pattern) else None
        keep = np.zeros(len(positions), dtype=bool)
        for col in self.sheet.body.columns:
            sub = col.take(positions)
            if sub.kind == "float":
                continue  # numbers are never a footer
            if sub.kind == "obj":
                keep |= sub.valid
                continue
            arr = sub.strings
            safe = safe_mask(arr)
            keep |= sub.valid & ~safe
            if markers:
                keep |= _mask(pc.match_substring_regex(fold_strings(arr),
                                                       f"^(?:{markers})(?: |$)"))
            if pattern is not None:
                if pattern_re2 is None:
                    keep |= sub.valid
                else:
                    keep |= _mask(pc.match_substring_regex(strip_accents_strings(arr),
                                                           pattern_re2))
        return keep

    def _total_rows(self, columns: dict[str, Column], b0: int, n: int) -> np.ndarray:
        """`_is_total` of each row: a label column folds to one of the total labels."""
        contract = self.contract
        labels = set(contract.total_labels)
        out = np.zeros(n, dtype=bool)
        if not labels:
            return out
        letters = set("".join(labels)) - {" "}
        # a cell of the safe alphabet folds letter by letter: one letter or digit outside
        # the labels' own and it cannot fold to a label
        others = "".join(c for c in SAFE_ALPHABET if len(fold(c)) == 1 and fold(c) not in letters)
        positions = np.arange(b0, b0 + n)
        for name in contract.total_label_columns:
            if name not in columns:
                if fold(None) in labels:
                    out[:] = True
                continue
            col = columns[name].take(positions)
            if col.kind == "str":
                arr = col.strings
                maybe = ~safe_mask(arr) | ~col.valid
                if others:
                    maybe |= ~_mask(pc.match_substring_regex(arr, f"[{_re2_class(others)}]"))
                idx = np.flatnonzero(maybe)
                folded = fold_strings(arr.take(pa.array(idx, pa.int64())))
                out[idx] |= _mask(pc.is_in(folded, value_set=pa.array(sorted(labels))))
            else:
                values = col.values()
                out |= np.array([fold(v) in labels for v in values], dtype=bool)
        return out

    # --- typing ----------------------------------------------------------------------------

    def _typed_one(self, name: str, raw: Any) -> tuple[Any, bool]:
        """`_typed` of one cell value, and whether it raised no problem."""
        scratch = Problems()
        row = DataRow(self.sheet.name, 0, {name: raw}, False)
        cells = _Cells(scratch, self.contract, self.match, row)
        value = _typed(cells, self.contract, self.match, name, self.sheet, self.period_start,
                       self.period_end)
        return value, not scratch.items

    def _typed_column(self, name: str, columns: dict[str, Column], positions: np.ndarray
                      ) -> tuple[pa.Array | list[Any], np.ndarray]:
        """Typed values of a loaded column at `positions`, and which cells raise a problem."""
        column = self.contract.columns[name]
        m = len(positions)
        if name not in columns:  # not in the file: the same value for every row
            value, ok = self._typed_one(name, None)
            return _repeat(value, m), np.full(m, not ok)
        col = columns[name].take(positions)
        handled = np.zeros(m, dtype=bool)
        handled_values: pa.Array | None = None
        if column.type == "integer" and col.kind in ("str", "float"):
            if col.kind == "str":
                ok, ints = _digits(col)
            else:
                f = col.floats
                with np.errstate(invalid="ignore"):
                    ok = col.valid & np.isfinite(f) & (np.abs(f) < 1e15)
                    ok &= np.floor(np.where(ok, f, 0)) == np.where(ok, f, 0)
                ints = np.where(ok, f, 0).astype(np.int64)
            ok &= _within(column, ints)
            handled, handled_values = ok, pa.array(ints[ok], pa.int64())
        elif column.type in ("text", "code") and col.kind == "str":
            handled = col.valid & ~unsplit_mask(col.strings)
            handled_values = col.strings.filter(pa.array(handled))
        rest = np.flatnonzero(~handled)
        rest_values, rest_bad = self._per_value(name, col, rest)
        bad = np.zeros(m, dtype=bool)
        bad[rest] = rest_bad
        return _merge(m, np.flatnonzero(handled), handled_values, rest, rest_values), bad

    def _per_value(self, name: str, col: Column, rest: np.ndarray
                   ) -> tuple[pa.Array | list[Any], np.ndarray]:
        """`_typed` once per distinct value among the cells at `rest`."""
        if not len(rest):
            return [], np.zeros(0, dtype=bool)
        sub = col.take(rest)
        if sub.kind == "str":
            encoded = pc.dictionary_encode(sub.strings)
            uniques = [*encoded.dictionary.to_pylist(), None]
            codes = np.asarray(pc.fill_null(encoded.indices, len(uniques) - 1)
                               .to_numpy(zero_copy_only=False), dtype=np.int64)
        elif sub.kind == "float":
            distinct, inverse = np.unique(sub.floats[sub.valid], return_inverse=True)
            uniques = [*(float(v) for v in distinct.tolist()), None]
            codes = np.full(len(rest), len(uniques) - 1, dtype=np.int64)
            codes[sub.valid] = inverse
        else:
            seen: dict[tuple[type, Any], int] = {}
            codes = np.fromiter((seen.setdefault((type(v), v), len(seen)) for v in sub.objects),
                                dtype=np.int64, count=len(rest))
            uniques = [v for _, v in seen]
        results = [self._typed_one(name, u) for u in uniques]
        bad = np.array([not ok for _, ok in results], dtype=bool)[codes]
        values = [v for v, _ in results]
        arr = _as_arrow(values)
        if arr is not None:
            return arr.take(pa.array(codes)), bad
        return [values[c] for c in codes.tolist()], bad

    # --- rules and keys --------------------------------------------------------------------

    def _rule_false(self, rule: Rule, typed: dict[str, Any], m: int) -> np.ndarray:
        """Rows where `evaluate(rule, record)` is False."""
        try:
            values, valid = {}, np.ones(m, dtype=bool)
            for name in rule.names:
                col = typed.get(name)
                if not isinstance(col, pa.Array) or not (pa.types.is_integer(col.type)
                                                        or pa.types.is_null(col.type)):
                    raise _Unsupported(name)
                valid &= _mask(pc.is_valid(col))
                values[name] = (np.zeros(m, dtype=np.int64) if pa.types.is_null(col.type) else
                                np.asarray(pc.fill_null(col, 0).to_numpy(zero_copy_only=False),
                                           dtype=np.int64))
            result = _eval_np(rule.tree.body, values)
        except _Unsupported:
            lists = {n: _pylist(typed.get(n), m) for n in rule.names}
            return np.array([evaluate(rule, {n: lists[n][i] for n in rule.names}) is False
                             for i in range(m)], dtype=bool)
        truth = result if result.dtype == bool else result != 0
        return valid & ~truth

    def _duplicate_keys(self, typed: dict[str, Any], bad: np.ndarray, source_rows: np.ndarray
                        ) -> tuple[pa.Array, np.ndarray, np.ndarray]:
        """Marks rows whose key was seen before (this sheet, earlier sheets) as `bad`;
        returns the folded keys, positions and source rows of the rows that register one."""
        key = self.contract.key
        empty = (pa.array([], pa.string()), np.zeros(0, dtype=np.int64), np.zeros(0, np.int64))
        if not key or key not in typed:
            return empty
        col = typed[key]
        if isinstance(col, pa.Array):
            present = np.flatnonzero(_mask(pc.is_valid(col)))
            values = col.take(pa.array(present, pa.int64()))
            if pa.types.is_string(values.type) or pa.types.is_integer(values.type):
                folded = fold_strings(pc.cast(values, pa.string()))
            else:
                folded = pa.array([fold(v) for v in values.to_pylist()], pa.string())
        else:
            present = np.array([i for i, v in enumerate(col) if v is not None], dtype=np.int64)
            folded = pa.array([fold(col[i]) for i in present.tolist()], pa.string())
        if not len(present):
            return empty
        codes = np.asarray(pc.dictionary_encode(folded).indices.to_numpy(zero_copy_only=False))
        first = np.zeros(len(present), dtype=bool)
        first[np.unique(codes, return_index=True)[1]] = True
        dup = ~first
        if len(self.seen_keys):
            seen = (self.seen_keys.key_array() if isinstance(self.seen_keys, KeyRegistry)
                    else pa.array(list(self.seen_keys), pa.string()))
            dup |= _mask(pc.is_in(folded, value_set=seen))
        bad[present[dup]] = True
        return folded, present, source_rows[present]

    def _register(self, folded: pa.Array, present: np.ndarray, rows: np.ndarray,
                  bad: np.ndarray) -> None:
        """Keys of the clean rows, known before any row is checked in Python (a row checked
        in Python registers its own key, and is never the first of a clean row's key)."""
        clean = np.flatnonzero(~bad[present])
        if not len(clean):
            return
        keys = folded.take(pa.array(clean, pa.int64()))
        if isinstance(self.seen_keys, KeyRegistry):
            self.seen_keys.add_bulk(keys, self.sheet.name, rows[clean])
        else:
            for k, r in zip(keys.to_pylist(), rows[clean].tolist(), strict=True):
                self.seen_keys[k] = (self.sheet.name, r)


# --- helpers -------------------------------------------------------------------------------------

def _digits(col: Column) -> tuple[np.ndarray, np.ndarray]:
    """Cells that are plain integers, and their values.

    Arrow's cast reads what `parse_number` reads as a plain integer (digits, an optional
    sign, leading zeros), and refuses anything else; a refused column is read again with a
    digits-only pattern. Negative and too long numbers are left to `_within` and the per-value
    path, which word their problems.
    """
    try:
        ints = pc.cast(col.strings, pa.int64())
        ok = col.valid.copy()
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        ok = _mask(pc.match_substring_regex(col.strings, "^[0-9]{1,15}$"))
        ints = pc.cast(pc.if_else(pa.array(ok), col.strings, "0"), pa.int64())
    values = np.asarray(pc.fill_null(ints, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return ok & (np.abs(values) < 10**15), values


def _within(column: Any, ints: np.ndarray) -> np.ndarray:
    """Integer cells that `_Cells.number` accepts: not negative unless the minimum allows
    it, within min/max."""
    ok = np.ones(len(ints), dtype=bool)
    if column.min is None or column.min >= 0:
        ok &= ints >= 0
    limit = 2**62
    if column.min is not None:
        low = int(column.min.to_integral_value(ROUND_CEILING))
        ok &= ints >= max(min(low, limit), -limit)
    if column.max is not None:
        high = int(column.max.to_integral_value(ROUND_FLOOR))
        ok &= ints <= max(min(high, limit), -limit)
    return ok


def _as_arrow(values: list[Any]) -> pa.Array | None:
    """Python values as an Arrow array that gives them back unchanged, or None."""
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pa.nulls(len(values))
    if kinds == {int} and all(abs(v) < 2**63 for v in values if v is not None):
        return pa.array(values, pa.int64())
    if kinds == {str}:
        return pa.array(values, pa.string())
    if kinds == {bool}:
        return pa.array(values, pa.bool_())
    return None


def _repeat(value: Any, m: int) -> pa.Array | list[Any]:
    arr = _as_arrow([value])
    return arr.take(pa.array(np.zeros(m, dtype=np.int64))) if arr is not None else [value] * m


def _merge(m: int, handled: np.ndarray, handled_values: pa.Array | None, rest: np.ndarray,
           rest_values: pa.Array | list[Any]) -> pa.Array | list[Any]:
    """One typed column from the vector-typed cells and the per-value-typed ones."""
    if not len(rest):
        return handled_values if handled_values is not None else pa.nulls(m)
    if handled_values is None or not len(handled):
        return rest_values
    if isinstance(rest_values, pa.Array):
        if pa.types.is_null(rest_values.type):
            rest_values = rest_values.cast(handled_values.type)
        if rest_values.type == handled_values.type:
            order = np.empty(m, dtype=np.int64)
            order[handled] = np.arange(len(handled))
            order[rest] = len(handled) + np.arange(len(rest))
            return pa.concat_arrays([handled_values, rest_values]).take(pa.array(order))
    out: list[Any] = [None] * m
    for p, v in zip(handled.tolist(), handled_values.to_pylist(), strict=True):
        out[p] = v
    for p, v in zip(rest.tolist(), _pylist(rest_values, len(rest)), strict=True):
        out[p] = v
    return out


def _take(col: pa.Array | list[Any], idx: np.ndarray) -> pa.Array | list[Any]:
    if len(idx) and idx[-1] - idx[0] == len(idx) - 1:  # a run of rows: no copy
        start = int(idx[0])
        return col.slice(start, len(idx)) if isinstance(col, pa.Array) else \
            col[start:start + len(idx)]
    if isinstance(col, pa.Array):
        return col.take(pa.array(idx, pa.int64()))
    return [col[i] for i in idx.tolist()]


def _pylist(col: pa.Array | list[Any] | None, m: int) -> list[Any]:
    if col is None:
        return [None] * m
    return col.to_pylist() if isinstance(col, pa.Array) else list(col)


def _re2_ok(pattern: str) -> bool:
    try:
        pc.match_substring_regex(pa.array(["x"]), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


_COMPARE = {
    ast.Lt: np.less, ast.LtE: np.less_equal, ast.Gt: np.greater, ast.GtE: np.greater_equal,
    ast.Eq: np.equal,
}


def _eval_np(node: ast.AST, values: dict[str, np.ndarray]) -> np.ndarray:
    """A contract rule (names, integer constants, + -, comparisons) on int64 columns."""
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.Constant):
        number = Decimal(str(node.value))
        if number != number.to_integral_value() or abs(number) >= 2**62:
            raise _Unsupported(node.value)
        return np.int64(int(number))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval_np(node.operand, values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        left, right = _eval_np(node.left, values), _eval_np(node.right, values)
        return left + right if isinstance(node.op, ast.Add) else left - right
    if isinstance(node, ast.Compare):
        result = None
        left = _eval_np(node.left, values)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval_np(comparator, values)
            func = _COMPARE.get(type(op))
            if func is None:
                raise _Unsupported(op)
            step = np.asarray(func(left, right), dtype=bool)
            result = step if result is None else result & step
            left = right
        return result
    raise _Unsupported(type(node).__name__)
