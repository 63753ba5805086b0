"""Find a form's header row in the first rows of a sheet and map its columns.

Staff move columns, add columns, write headers in other case, without diacritics, with line
breaks, or merged over two rows (HCC-06's two-level header). Each column of the sheet gets a
*label path* — `("ket qua giai quyet", "da giai quyet", "qua han")` — and each contract
column is matched to the first free sheet column whose path fits one of its aliases.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from ingest.intake.contracts import Contract
from ingest.intake.readers import Sheet
from ingest.intake.text import display, fold, is_blank, strip_accents

HEADER_SEARCH_ROWS = 15
_DIGITS = re.compile(r"\b\d+\b")
_SUBGROUP = re.compile(r"^(.+?)\s*[:\-–]\s*(tong so|tong cong|tong)\s*$")


@dataclass(frozen=True)
class HeaderMatch:
    """Where the header is (0-based first row, 1 or 2 rows deep) and which column is which."""

    row: int
    depth: int
    columns: dict[str, int]  # contract column → 0-based sheet column
    labels: dict[int, str]  # sheet column → header text as written (for messages)
    missing_required: tuple[str, ...]

    @property
    def first_data_row(self) -> int:
        return self.row + self.depth

    @property
    def score(self) -> int:
        return len(self.columns)


def label_key(text: str) -> str:
    """A header text as compared: folded, standalone numbers dropped (`tháng 10` → `thang`)."""
    return " ".join(_DIGITS.sub(" ", fold(text)).split())


def _merged_values(sheet: Sheet, rows: range) -> dict[tuple[int, int], object]:
    """Value of every cell covered by a merged range touching `rows` (top-left's value)."""
    out: dict[tuple[int, int], object] = {}
    for r0, c0, r1, c1 in sheet.merged:
        if r1 < rows.start or r0 >= rows.stop:
            continue
        value = sheet.cell(r0, c0)
        for r in range(max(r0, rows.start), min(r1, rows.stop - 1) + 1):
            for c in range(c0, c1 + 1):
                out[(r, c)] = value
    return out


def _paths(sheet: Sheet, row: int, depth: int) -> dict[int, tuple[str, ...]]:
    """Label path of every column for a header of `depth` rows starting at `row`."""
    rows = range(row, row + depth)
    merged = _merged_values(sheet, rows)
    width = sheet.width

    def value(r: int, c: int) -> object:
        return merged.get((r, c), sheet.cell(r, c))

    grid = [[value(r, c) for c in range(width)] for r in rows]
    if depth == 2:
        # Without merge information (CSV, some writers) a group label sits in its first column
        # only: carry it right over the columns that have a sub-label under them.
        top, bottom = grid
        group = None
        for c in range(width):
            if not is_blank(top[c]):
                group = top[c] if not is_blank(bottom[c]) else None
            elif group is not None and not is_blank(bottom[c]) and (row, c) not in merged:
                top[c] = group
            else:
                group = None
    paths: dict[int, tuple[str, ...]] = {}
    subgroup: dict[str, str] = {}
    for c in range(width):
        parts: list[str] = []
        for level, _r in enumerate(rows):
            cell = grid[level][c]
            if is_blank(cell):
                continue
            raw = strip_accents(display(cell))
            m = _SUBGROUP.match(raw.strip())
            parent = parts[-1] if parts else ""
            if m:
                sub = label_key(m.group(1))
                subgroup[parent] = sub
                comps = [sub, label_key(m.group(2))]
            else:
                comps = [label_key(raw)]
                if level == depth - 1 and depth > 1 and parent in subgroup and parts:
                    comps = [subgroup[parent], *comps]
            for comp in comps:
                if comp and (not parts or parts[-1] != comp):
                    parts.append(comp)
        if depth > 1 and len(parts) == 1 and is_blank(grid[-1][c]):
            subgroup.pop(parts[0], None)
        if parts:
            paths[c] = tuple(parts)
    return paths


@lru_cache(maxsize=1 << 16)  # pure, and asked again for every row, depth and contract
def _fits(alias: tuple[str, ...], path: tuple[str, ...]) -> bool:
    if " ".join(alias) == " ".join(path):
        return True
    if alias[-1] != path[-1] or len(alias) > len(path):
        return False
    it = iter(path)
    return all(part in it for part in alias)


@lru_cache(maxsize=1 << 16)
def _prefix_fits(alias: tuple[str, ...], path: tuple[str, ...]) -> bool:
    joined_alias, joined_path = " ".join(alias), " ".join(path)
    return len(joined_alias.split()) >= 2 and (
        joined_path.startswith(joined_alias + " ") or path[-1].startswith(joined_alias + " ")
    )


def match_columns(contract: Contract, paths: dict[int, tuple[str, ...]]) -> dict[str, int]:
    """Contract column → sheet column: exact fits first, then `alias …` prefixes."""
    taken: dict[str, int] = {}
    used: set[int] = set()
    for fits in (_fits, _prefix_fits):
        for name, column in contract.columns.items():
            if name in taken:
                continue
            for alias in column.headers:
                hit = next((c for c, p in paths.items() if c not in used and fits(alias, p)), None)
                if hit is not None:
                    taken[name] = hit
                    used.add(hit)
                    break
    return taken


def _required_missing(contract: Contract, columns: dict[str, int]) -> tuple[str, ...]:
    missing = [n for n, c in contract.columns.items() if c.required and n not in columns]
    if contract.layout == "indicators":
        keys = [k for k in (contract.code_column, contract.name_column) if k]
        if keys and not any(k in columns for k in keys):
            missing.append(contract.name_column or keys[0])
    if contract.layout == "rows":
        missing = [
            n for n in missing
            if not (contract.columns[n].from_sheet_name and contract.columns[n].type == "choice")
        ]
    return tuple(missing)


def find_header(sheet: Sheet, contract: Contract, search_rows: int = HEADER_SEARCH_ROWS
                ) -> HeaderMatch | None:
    """The best header for `contract` in the first `search_rows` rows, or None.

    Best = most contract columns matched; a complete match (every required column) beats an
    incomplete one; on a tie the single-row header and the earlier row win. Remembered on
    the sheet: recognising the form asks it for every contract, judging asks it again.
    """
    cache = sheet.__dict__.setdefault("_headers", {})
    key = (id(contract), contract.form, search_rows)
    if key not in cache:
        cache[key] = _find_header(sheet, contract, search_rows)
    return cache[key]


def _sheet_paths(sheet: Sheet, row: int, depth: int) -> dict[int, tuple[str, ...]]:
    """`_paths`, once per sheet, row and depth (the same for every contract tried)."""
    cache = sheet.__dict__.setdefault("_label_paths", {})
    if (row, depth) not in cache:
        cache[(row, depth)] = _paths(sheet, row, depth)
    return cache[(row, depth)]


def _find_header(sheet: Sheet, contract: Contract, search_rows: int) -> HeaderMatch | None:
    best: HeaderMatch | None = None
    best_key: tuple = ()
    for row in range(min(search_rows, len(sheet.rows))):
        if all(is_blank(v) for v in sheet.rows[row]):
            continue
        for depth in (1, 2):
            if depth == 2 and row + 1 >= len(sheet.rows):
                continue
            paths = _sheet_paths(sheet, row, depth)
            columns = match_columns(contract, paths)
            if len(columns) < 2:
                continue
            missing = _required_missing(contract, columns)
            key = (not missing, len(columns), -depth, -row)
            if key > best_key:
                labels = {c: " / ".join(_raw_labels(sheet, row, depth, c)) for c in paths}
                best = HeaderMatch(row, depth, columns, labels, missing)
                best_key = key
    return best


def _raw_labels(sheet: Sheet, row: int, depth: int, col: int) -> list[str]:
    merged = _merged_values(sheet, range(row, row + depth))
    out: list[str] = []
    for r in range(row, row + depth):
        v = merged.get((r, col), sheet.cell(r, col))
        text = " ".join(display(v).split())
        if text and text not in out:
            out.append(text)
    return out


_NUMBERING = re.compile(r"^\(?([0-9]{1,2}|[a-z])\)?$")


def is_numbering_row(values: list[object]) -> bool:
    """The `(1) (2) (3)` or `A B 1 2` row some forms put under the header."""
    cells = [fold(display(v)) if isinstance(v, str) else display(v)
             for v in values if not is_blank(v)]
    if len(cells) < 3:
        return False
    if not all(_NUMBERING.match(str(c).strip().lower()) for c in cells):
        return False
    numbers = [int(c) for c in cells if str(c).isdigit()]
    return len(numbers) >= 2 and all(b == a + 1 for a, b in itertools.pairwise(numbers))
