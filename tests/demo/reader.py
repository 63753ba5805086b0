"""A small, independent reader of the demo world's files, for the tests only.

It does not share code with the generator (nor with the intake engine): it finds header rows
by their normalised text, maps columns, parses Vietnamese numbers and returns plain rows, so
the tests check what a reader actually sees in the files.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import openpyxl

CODE = re.compile(r"^(KT|XH|YT)\d\d$")
PERIOD = re.compile(r"(?:thang\s*|\bt)(\d{1,2})(?:/|\s*nam\s*)(\d{4})")


def title_period(title: str) -> str | None:
    """`... tháng 10 năm 2024`, `tháng 10/2024`, `T10/2024` → `2024-10`."""
    found = PERIOD.search(norm(title))
    return f"{int(found.group(2))}-{int(found.group(1)):02d}" if found else None


def norm(text: object) -> str:
    """Lower case, no diacritics, single spaces: how headers are compared."""
    s = unicodedata.normalize("NFD", str(text or ""))
    s = "".join(c for c in s if not unicodedata.combining(c)).replace("đ", "d").replace("Đ", "D")
    return " ".join(s.lower().split())


def number(value: object) -> float | None:
    """A cell as a number: numeric cells as they are, text the Vietnamese way (`1.234,5`)."""
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip().replace(" ", "").replace("\u00a0", "")
    if not re.fullmatch(r"-?[\d.]*(,\d+)?", text) or not re.search(r"\d", text):
        raise ValueError(f"not a number: {value!r}")
    return float(text.replace(".", "").replace(",", "."))


@dataclass
class Sheet:
    name: str
    rows: list[list]
    hidden_rows: set[int] = field(default_factory=set)
    merged: list[str] = field(default_factory=list)


def visible_sheets(path: Path) -> list[Sheet]:
    wb = openpyxl.load_workbook(path, data_only=True)
    out = []
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        hidden = {i for i, d in ws.row_dimensions.items() if d.hidden}
        out.append(Sheet(ws.title, rows, hidden, [str(m) for m in ws.merged_cells.ranges]))
    return out


def read_csv(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = unicodedata.normalize("NFC", data.decode("cp1258"))
    delim = ";" if ";" in text.splitlines()[0] else ","
    return [row for row in csv.reader(io.StringIO(text), delimiter=delim)]


HEADER_KEYS = {
    "stt": "stt", "ma chi tieu": "code", "chi tieu": "name", "don vi tinh": "unit",
    "ke hoach nam": "plan", "thuc hien thang": "value", "luy ke tu dau nam": "ytd",
    "ghi chu": "note", "cung ky nam truoc": "prev",
}


@dataclass
class IndicatorFile:
    header_row: int  # 1-based
    title: str
    unit_line: str
    columns: dict[str, int]
    lines: list[dict]  # code/name/value/ytd/plan as read
    hidden: bool = False
    two_level: bool = False


def _column_key(text: str) -> str | None:
    t = norm(text).replace("thuc hien lu", "lu")
    if t in ("thang", "thuc hien thang"):
        return "value"
    for k, v in HEADER_KEYS.items():
        if t == k:
            return v
    return None


def read_indicator(path: Path, names: dict[str, str]) -> IndicatorFile:
    """KTXH-01 / YT-01 from xlsx or csv. `names` maps normalised indicator names to codes."""
    if path.suffix.lower() == ".csv":
        rows = read_csv(path)
        header_idx, block, hidden, two = 0, [], set(), False
    else:
        sheet = visible_sheets(path)[0]
        rows, hidden = sheet.rows, sheet.hidden_rows
        header_idx = next(i for i, r in enumerate(rows[:15])
                          if any(norm(c) == "chi tieu" for c in r))
        block = [str(c) for r in rows[:header_idx] for c in r if c]
        two = any(norm(c) == "thang" for c in rows[header_idx + 1])
    head = rows[header_idx]
    cols: dict[str, int] = {}
    for i, c in enumerate(head):
        k = _column_key(c) if c else None
        if k:
            cols[k] = i
    if two:
        for i, c in enumerate(rows[header_idx + 1]):
            k = _column_key(c) if c else None
            if k:
                cols[k] = i
    start = header_idx + (2 if two else 1)
    lines = []
    for i in range(start, len(rows)):
        r = rows[i]
        cells = [norm(c) for c in r if c not in (None, "")]
        if any(c.startswith("nguoi lap bieu") or ", ngay " in c for c in cells):
            break
        code = str(r[cols["code"]]).strip() if "code" in cols and r[cols["code"]] else None
        name = r[cols["name"]] if cols.get("name") is not None and cols["name"] < len(r) else None
        if code is None and name is not None:
            code = names.get(norm(name))
            if code is None and not _is_group(r, cols):
                code = f"?{name}"
        if code is None:
            continue
        line = {"code": code, "name": name, "row": i + 1, "hidden": (i + 1) in hidden}
        for k in ("value", "ytd", "plan", "prev"):
            if k in cols and cols[k] < len(r):
                line[k] = r[cols[k]]
        lines.append(line)
    title = next((c for c in block if title_period(c)), "")
    return IndicatorFile(header_idx + 1, title, block[0] if block else "", cols, lines,
                         bool(hidden), two)


def _is_group(r: list, cols: dict) -> bool:
    values = [r[cols[k]] for k in ("value", "unit") if k in cols and cols[k] < len(r)]
    return all(v in (None, "") for v in values)


@dataclass
class HccFile:
    header_row: int
    unit_line: str
    title: str
    rows: dict[str, list[int]]
    total: list[int]
    merged: list[str]


def read_hcc(path: Path) -> HccFile:
    sheet = visible_sheets(path)[0]
    rows = sheet.rows
    h = next(i for i, r in enumerate(rows[:15]) if any(norm(c) == "linh vuc" for c in r))
    block = [str(c) for r in rows[:h] for c in r if c]
    fields: dict[str, list[int]] = {}
    total: list[int] = []
    for r in rows[h + 2:]:
        label = norm(r[1]) if len(r) > 1 else ""
        if not label:
            continue
        vals = [int(number(v) or 0) for v in r[2:13]]
        if label == "tong cong":
            total = vals
            break
        fields[unicodedata.normalize("NFC", str(r[1]))] = vals
    title = next((c for c in block if title_period(c)), "")
    return HccFile(h + 1, block[0], title, fields, total, sheet.merged)


@dataclass
class GdFile:
    sheets: list[str]
    schools: list[dict]
    unit_line: str = ""


def read_gd(path: Path) -> GdFile:
    schools, names, unit_line = [], [], ""
    for sheet in visible_sheets(path):
        rows = sheet.rows
        h = next((i for i, r in enumerate(rows[:15]) if any(norm(c) == "ma truong" for c in r)),
                 None)
        if h is None:  # a notes sheet
            continue
        if not names:
            unit_line = next((str(c) for r in rows[:h] for c in r if c), "")
        names.append(sheet.name)
        for i in range(h + 1, len(rows)):
            r = rows[i]
            if not r or r[0] in (None, "") or norm(r[0]).startswith("nguoi lap"):
                if any(norm(c).startswith("nguoi lap bieu") for c in r if c):
                    break
                continue
            schools.append({
                "code": str(r[0]), "name": r[1], "level": r[2],
                "commune": unicodedata.normalize("NFC", str(r[3])),
                "classes": number(r[4]), "pupils": number(r[5]), "girls": number(r[6]),
                "minority": number(r[7]), "dropouts": number(r[8]), "teachers": number(r[9]),
                "rooms": number(r[10]), "standard": r[11], "sheet": sheet.name, "row": i + 1,
            })
    return GdFile(names, schools, unit_line)
