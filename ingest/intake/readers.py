"""Turn the bytes of an arriving file into plain sheets of cell values, or a refusal.

One small model (`Book` of `Sheet`s: rows of Python values, Excel-numbered, with merged
ranges, hidden rows and visibility) hides the four containers:
- `.xlsx` / `.xlsm` through python-calamine (fast, reads formulas' cached values, never runs
  macros); hidden rows come from a scan of the sheet XML, which calamine does not report;
- `.xls` through xlrd (merged cells, hidden rows, sheet visibility);
- `.csv` decoded as UTF-8 (with or without BOM) or Windows-1258, delimiter `,`, `;` or tab.
Every text is NFC-normalised here, so nothing downstream sees NFD.
A container that cannot be read raises `Unreadable` with a reason in Vietnamese.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ingest.intake import zipguard
from ingest.intake.columnar import (
    Body,
    Column,
    LazyRows,
    body_from_rows,
    clean_strings,
    column_from_values,
    safe_mask,
)
from ingest.intake.text import clean_text, is_blank

ACCEPTED_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".csv")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
MAX_UNCOMPRESSED = 512 * 1024 * 1024  # a zip bomb is refused, not expanded
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")
# Large sheets: the first HEAD_ROWS rows stay Python lists (header block and header search),
# the rest becomes columns (see columnar.py) once there are at least COLUMNAR_MIN_ROWS of them.
# (The environment variables exist for the tests, which run every case through both paths.)
HEAD_ROWS = int(os.environ.get("IOC_INTAKE_HEAD_ROWS", "40"))
COLUMNAR_MIN_ROWS = int(os.environ.get("IOC_INTAKE_COLUMNAR_MIN_ROWS", "2000"))


class Unreadable(Exception):
    """The container cannot be opened; `reason` is for the staff, `code` for programs."""

    def __init__(self, code: str, reason: str, hint: str | None = None):
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.hint = hint


@dataclass
class Sheet:
    """Cell values of one sheet; `rows[i]` is Excel row i+1, `None` for an empty cell."""

    name: str
    rows: list[list[Any]] | LazyRows
    visible: bool = True
    hidden_rows: frozenset[int] = frozenset()  # Excel row numbers
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based, inclusive

    def cell(self, row: int, col: int) -> Any:
        """0-based access that tolerates ragged rows."""
        if row < len(self.rows) and col < len(self.rows[row]):
            return self.rows[row][col]
        return None

    @cached_property
    def width(self) -> int:
        if isinstance(self.rows, LazyRows):
            return self.rows.width
        return max((len(r) for r in self.rows), default=0)

    @property
    def body(self) -> Body | None:
        """The rows held as columns (large sheets only), after `head_rows` Python rows."""
        return self.rows.body if isinstance(self.rows, LazyRows) else None

    @property
    def head_rows(self) -> int:
        return len(self.rows.head) if isinstance(self.rows, LazyRows) else len(self.rows)


@dataclass
class Book:
    kind: str  # "xlsx", "xls" or "csv"
    sheets: list[Sheet]


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        if not value:
            return None
        text = value.strip() if value.isascii() and "\x00" not in value else clean_text(value)
        return text or None
    if is_blank(value):
        return None
    return value


def read_book(data: bytes, extension: str) -> Book:
    """Read `data` as the container its extension says (checked against its magic bytes)."""
    ext = extension.lower()
    if not data or not data.strip(b"\x00 \t\r\n\xef\xbb\xbf"):
        raise Unreadable("empty_file", "Tệp rỗng, không có nội dung.",
                         "Mở lại biểu mẫu, nhập số liệu, lưu rồi gửi lại.")
    if ext not in ACCEPTED_EXTENSIONS:
        raise Unreadable(
            "unknown_extension",
            f"Loại tệp \"{ext or '(không có phần mở rộng)'}\" không được tiếp nhận.",
            "Chỉ nhận tệp Excel (.xlsx, .xlsm, .xls) hoặc .csv; hãy lưu biểu mẫu dưới một "
            "trong các dạng này rồi gửi lại.",
        )
    if data.startswith(OLE_MAGIC):
        if _ENCRYPTED_MARK in data:
            raise Unreadable(
                "password_protected",
                "Tệp Excel được đặt mật khẩu nên không mở được.",
                "Gỡ mật khẩu (Tệp > Thông tin > Bảo vệ sổ làm việc > Mã hóa bằng mật khẩu, "
                "xóa mật khẩu), lưu rồi gửi lại.",
            )
        if ext == ".csv":
            raise _corrupt()
        return _read_xls(data)
    if ext == ".csv":
        return _read_csv(data)
    if data.startswith(ZIP_MAGIC):
        return _read_xlsx(data)
    if ext == ".xls" and data.lstrip()[:1] == b"<":
        raise Unreadable(
            "not_excel",
            "Tệp mang đuôi .xls nhưng thực chất là trang HTML/XML, không phải tệp Excel.",
            "Mở tệp bằng Excel, chọn Lưu thành > Sổ làm việc Excel (.xlsx) rồi gửi lại.",
        )
    raise _corrupt()


def _corrupt() -> Unreadable:
    return Unreadable(
        "corrupt_file",
        "Tệp bị hỏng hoặc không phải tệp Excel/CSV hợp lệ, không đọc được.",
        "Mở tệp trên máy của anh/chị để kiểm tra, lưu lại rồi gửi lại.",
    )


def _clean_rows(raw: list[list[Any]]) -> list[list[Any]] | LazyRows:
    """`_clean` of every cell; a large sheet's body is cleaned column by column."""
    if len(raw) <= HEAD_ROWS or len(raw) < HEAD_ROWS + COLUMNAR_MIN_ROWS:
        return [[_clean(v) for v in row] for row in raw]
    head = [[_clean(v) for v in row] for row in raw[:HEAD_ROWS]]
    body = raw[HEAD_ROWS:]
    lengths = np.fromiter(map(len, body), dtype=np.int64, count=len(body))
    width = int(lengths.max())
    if int(lengths.min()) != width:
        body = [list(r) + [""] * (width - len(r)) for r in body]
    columns = [_clean_column(col) for col in zip(*body, strict=True)]
    return LazyRows(head, Body(HEAD_ROWS, columns, lengths))


def _clean_column(values: tuple[Any, ...]) -> Column:
    """`_clean` of one column's cells, vectorised for text and numbers (calamine gives ""
    for an empty cell)."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return Column.of_strings(clean_python_strings(values))
    if kinds == {float}:
        floats = np.array(values, dtype=np.float64)
        return Column.of_floats(floats, ~np.isnan(floats))
    if kinds <= {float, str} and all(_clean(v) is None for v in {v for v in values
                                                                   if type(v) is str}):
        floats = np.array([v if type(v) is float else np.nan for v in values], dtype=np.float64)
        return Column.of_floats(floats, ~np.isnan(floats))
    return column_from_values([_clean(v) for v in values])


def clean_python_strings(values: Any) -> pa.Array:
    """`_clean` of text cells: vectorised where a cell holds only printable ASCII and
    Vietnamese letters (already NFC, nothing to replace: a strip of spaces), `_clean`
    itself for every other cell."""
    arr = pa.array(values, pa.string())
    safe = safe_mask(arr)
    out = clean_strings(arr)
    todo = ~safe & np.asarray(pc.is_valid(arr).to_numpy(zero_copy_only=False), dtype=bool)
    positions = np.flatnonzero(todo)
    if len(positions):
        done = pa.array([_clean(v) for v in arr.take(pa.array(positions)).to_pylist()],
                        pa.string())
        out = pc.replace_with_mask(out, pa.array(todo), done)
    return out


# --- xlsx / xlsm -----------------------------------------------------------------------------

def _read_xlsx(data: bytes) -> Book:
    import python_calamine as pc

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if sum(i.file_size for i in zf.infolist()) > MAX_UNCOMPRESSED:
                raise Unreadable("too_large", "Tệp quá lớn khi giải nén, không xử lý được.")
            marks = zipguard.check_workbook(data, zf, MAX_UNCOMPRESSED)  # bombs, huge ranges
            hidden = _hidden_rows_by_sheet(zf, marks)
    except Unreadable:
        raise
    except Exception as exc:  # zipfile/zlib raise many types on damaged archives
        raise _corrupt() from exc
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except pc.PasswordError as exc:  # pragma: no cover - encrypted xlsx are OLE, caught above
        raise Unreadable("password_protected",
                         "Tệp Excel được đặt mật khẩu nên không mở được.") from exc
    except Exception as exc:  # calamine raises several types for broken zips/XML
        raise _corrupt() from exc
    sheets: list[Sheet] = []
    try:
        for meta in wb.sheets_metadata:
            if str(meta.typ) not in ("SheetTypeEnum.WorkSheet",):
                continue
            sheet = wb.get_sheet_by_name(meta.name)
            rows = _clean_rows(sheet.to_python(skip_empty_area=False))
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
            sheets.append(
                Sheet(
                    name=clean_text(meta.name),
                    rows=rows,
                    visible=str(meta.visible) == "SheetVisibleEnum.Visible",
                    hidden_rows=frozenset(hidden.get(meta.name, ())),
                    merged=merged,
                )
            )
    except Exception as exc:
        raise _corrupt() from exc
    finally:
        wb.close()
    return Book("xlsx", sheets)


_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_ATTR_R = re.compile(rb'\br="(\d+)"')
_ATTR_HIDDEN = re.compile(rb'\bhidden="(?:1|true)"')


def _hidden_rows_by_sheet(zf: zipfile.ZipFile, marks: dict[str, bool] | None = None
                          ) -> dict[str, set[int]]:
    """Hidden Excel row numbers per sheet name, from the workbook's XML (best effort).
    `marks`: sheet parts already inflated, and whether they hold a hidden mark at all."""
    try:
        return _scan_hidden_rows(zf, marks or {})
    except Exception:  # damaged parts: calamine decides whether the workbook is readable
        return {}


def _scan_hidden_rows(zf: zipfile.ZipFile, marks: dict[str, bool]) -> dict[str, set[int]]:
    from defusedxml import ElementTree as ET

    names = set(zf.namelist())
    if "xl/workbook.xml" not in names:
        return {}
    try:
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    except Exception:
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    out: dict[str, set[int]] = {}
    for el in wb.iter():
        if not el.tag.endswith("}sheet"):
            continue
        rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
        target = targets.get(rid, "")
        path = target.lstrip("/") if target.startswith("/") else "xl/" + target
        if path not in names or marks.get(path) is False:
            continue  # (no hidden mark anywhere in that sheet's XML)
        xml = zf.read(path)
        if b'hidden="1"' not in xml and b'hidden="true"' not in xml:
            continue
        rows: set[int] = set()
        for attrs in _ROW_TAG.findall(xml):
            if _ATTR_HIDDEN.search(attrs):
                m = _ATTR_R.search(attrs)
                if m:
                    rows.add(int(m.group(1)))
        if rows:
            out[el.get("name", "")] = rows
    return out


# --- xls ---------------------------------------------------------------------------------------

def _read_xls(data: bytes) -> Book:
    import xlrd

    try:
        try:
            wb = xlrd.open_workbook(file_contents=data, formatting_info=True, on_demand=False)
        except NotImplementedError:
            wb = xlrd.open_workbook(file_contents=data, formatting_info=False, on_demand=False)
    except xlrd.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise Unreadable(
                "password_protected", "Tệp Excel được đặt mật khẩu nên không mở được.",
                "Gỡ mật khẩu của tệp, lưu rồi gửi lại.",
            ) from exc
        raise _corrupt() from exc
    except Exception as exc:
        raise _corrupt() from exc
    sheets = []
    for sh in wb.sheets():
        if sh.nrows * sh.ncols > zipguard.MAX_SHEET_CELLS:  # xlrd pads rows to the width
            raise zipguard.sheet_too_large(sh.nrows, sh.ncols)
        rows = []
        for r in range(sh.nrows):
            rows.append([_xls_value(wb, cell) for cell in sh.row(r)])
        hidden = frozenset(
            r + 1 for r, info in getattr(sh, "rowinfo_map", {}).items() if info.hidden
        )
        merged = [(rlo, clo, rhi - 1, chi - 1) for rlo, rhi, clo, chi in sh.merged_cells]
        if len(rows) > HEAD_ROWS and len(rows) >= HEAD_ROWS + COLUMNAR_MIN_ROWS:
            rows = LazyRows(rows[:HEAD_ROWS], body_from_rows(rows[HEAD_ROWS:], HEAD_ROWS))
        sheets.append(
            Sheet(clean_text(sh.name), rows, visible=sh.visibility == 0,
                  hidden_rows=hidden, merged=merged)
        )
    return Book("xls", sheets)


def _xls_value(wb: Any, cell: Any) -> Any:
    import xlrd

    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return None
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return xlrd.xldate.xldate_as_datetime(cell.value, wb.datemode)
        except Exception:
            return datetime(1899, 12, 30) + timedelta(days=cell.value)
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERR")
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    return _clean(cell.value)


# --- csv ---------------------------------------------------------------------------------------

def decode_text(data: bytes) -> str:
    """UTF-8 (BOM or not) when it decodes, else Windows-1258 (Excel's CSV on Vietnamese Windows)."""
    return _decode(data)[0]


def _decode(data: bytes) -> tuple[str, int | None]:
    """`decode_text`, and where in `data` the text's exact UTF-8 bytes begin (None when
    `data` does not hold them: another encoding, or bytes replaced by U+FFFD)."""
    if data.startswith(b"\xef\xbb\xbf"):
        text = data[3:].decode("utf-8", errors="replace")
        return text, (3 if "\ufffd" not in text else None)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), None
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        return data.decode("cp1258", errors="replace"), None


def _sniff_delimiter(lines: list[str]) -> str:
    """The delimiter giving the most columns, consistently, over the first lines."""
    best, best_score = ",", (-1, -1)
    for delim in (";", ",", "\t"):
        counts = [len(r) for r in csv.reader(lines, delimiter=delim) if any(c.strip() for c in r)]
        if not counts:
            continue
        mode, freq = Counter(counts).most_common(1)[0]
        score = (freq if mode > 1 else 0, mode)
        if score > best_score:
            best, best_score = delim, score
    return best


def _first_lines(text: str, n: int) -> list[str]:
    """`text.splitlines()[:n]` without splitting a large file."""
    end = 8192
    while True:
        lines = text[:end].splitlines()
        if len(lines) > n or end >= len(text):
            return lines[:n]
        end *= 4


def _read_csv(data: bytes) -> Book:
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _corrupt()
    # every cell ends in a delimiter or a line break: an upper bound, counted before decoding
    # (one pass: the bytes left after deleting the four are the ones not counted)
    if len(data) - len(data.translate(None, b",;\t\n")) > zipguard.MAX_SHEET_CELLS:
        raise zipguard.too_large("Tệp CSV có quá nhiều ô, không xử lý được.")
    text, utf8_start = _decode(data)
    delim = _sniff_delimiter(_first_lines(text, 30))
    book = _read_csv_columnar(text, delim, None if utf8_start is None else (data, utf8_start))
    if book is not None:
        return book
    try:
        rows = [[_clean(c) for c in row] for row in csv.reader(io.StringIO(text, newline=""),
                                                                delimiter=delim)]
    except csv.Error as exc:
        raise _corrupt() from exc
    return Book("csv", [Sheet("CSV", rows)])


_EOL = re.compile(r"\r\n|\r|\n")
MAX_HEAD_LINES = 5000  # quotes further down: the whole file goes through the csv module
# NFC turns U+037E (Greek question mark) into ";": such text is split cell by cell instead.
_NFC_MAKES_DELIMITER = "\u037e"


def _read_csv_columnar(text: str, delim: str, utf8: tuple[bytes, int] | None = None
                       ) -> Book | None:
    """A large CSV with its body parsed by Arrow; None when the csv module must read it.

    Cells equal what `csv.reader` + `_clean` give: the text is normalised as a whole (NFC,
    no-break spaces, NUL — each commutes with splitting at the delimiters and line breaks),
    the first rows and any row up to the last quote character go through `csv.reader`, and
    the rest, free of quotes, is split by Arrow's CSV parser (or by line and delimiter when
    its rows have unequal lengths). `utf8`: the file's bytes and where `text`'s exact UTF-8
    encoding starts in them, when it does: Arrow then reads the body from those bytes
    (unless the normalising changed the text), without encoding it again.
    """
    if len(text) < 32 * COLUMNAR_MIN_ROWS or _NFC_MAKES_DELIMITER in text:
        return None
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
        utf8 = None
    if "\xa0" in text:
        text = text.replace("\xa0", " ")
        utf8 = None
    if "\x00" in text:
        return None  # NUL counts in csv's field-size limit: keep the exact reader
    last_quote = text.rfind('"')
    consumed = 0

    def lines() -> Iterator[str]:
        nonlocal consumed
        pos = 0
        while pos < len(text):
            m = _EOL.search(text, pos)
            end = m.end() if m else len(text)
            consumed = end
            yield text[pos:end]
            pos = end

    head: list[list[str]] = []
    reader = csv.reader(lines(), delimiter=delim)
    try:
        for row in reader:
            head.append(row)
            if len(head) >= HEAD_ROWS and consumed > last_quote:
                break
            if len(head) > MAX_HEAD_LINES:
                return None
    except csv.Error as exc:
        raise _corrupt() from exc
    if len(head) < HEAD_ROWS or consumed >= len(text):
        return None
    if utf8 is not None:  # the body's bytes as they are in the file (the head is short)
        data, start = utf8
        encoded = pa.py_buffer(data).slice(start + len(text[:consumed].encode("utf-8")))
        parsed = _arrow_csv(text[consumed:consumed + _FIRST_LINE_CHARS], delim, encoded)
    else:
        parsed = _arrow_csv(text[consumed:], delim)
    parsed = parsed or _arrow_split(text[consumed:], delim)
    if parsed is None:
        return None
    columns, lengths = parsed
    if len(lengths) < COLUMNAR_MIN_ROWS:
        return None
    limit = csv.field_size_limit()  # (bytes bound characters: count them only if needed)
    if any((pc.max(pc.binary_length(c)).as_py() or 0) > limit and
           (pc.max(pc.utf8_length(c)).as_py() or 0) > limit for c in columns):
        return None  # csv.reader refuses such a field: let it say so
    body = Body(len(head), [Column.of_strings(clean_strings(c)) for c in columns], lengths)
    rows = LazyRows([[_clean(c) for c in row] for row in head], body)
    return Book("csv", [Sheet("CSV", rows)])


_FIRST_LINE_CHARS = 65536  # (of the body, to count the cells of its first row)


def _arrow_csv(body: str, delim: str, encoded: pa.Buffer | None = None
               ) -> tuple[list[pa.Array], np.ndarray] | None:
    """Arrow's CSV parser, when every non-empty row has as many cells as the first one.
    `encoded`: the UTF-8 bytes of the body when at hand (`body` may then be only its first
    `_FIRST_LINE_CHARS` characters)."""
    import pyarrow.csv as pa_csv

    first = next((ln for ln in _EOL.split(body[:_FIRST_LINE_CHARS]) if ln), None)
    if first is None:
        return None
    width = first.count(delim) + 1
    names = [f"c{i}" for i in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.BufferReader(encoded) if encoded is not None else io.BytesIO(body.encode("utf-8")),
            read_options=pa_csv.ReadOptions(column_names=names, block_size=1 << 22),
            parse_options=pa_csv.ParseOptions(delimiter=delim, quote_char=False,
                                              escape_char=False, newlines_in_values=False,
                                              ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False,
                null_values=[], quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, ValueError):
        return None
    columns = [c.combine_chunks() for c in table.columns]
    return columns, np.full(table.num_rows, width, dtype=np.int64)


def _arrow_split(body: str, delim: str) -> tuple[list[pa.Array], np.ndarray] | None:
    """Split by line breaks and delimiter (rows of any length; no quotes in `body`)."""
    if len(body) > 1_500_000_000:
        return None
    whole = pa.array([body], pa.string())
    pieces = (pc.split_pattern_regex(whole, r"\r\n|\r|\n") if "\r" in body
              else pc.split_pattern(whole, "\n")).flatten()
    if _EOL.match(body[-1]):
        pieces = pieces.slice(0, len(pieces) - 1)
    fields = pc.split_pattern(pieces, delim)
    lengths = np.asarray(pc.list_value_length(fields).to_numpy(zero_copy_only=False),
                         dtype=np.int64)
    lengths[np.asarray(pc.equal(pc.utf8_length(pieces), 0).to_numpy(
        zero_copy_only=False), dtype=bool)] = 0
    width = int(lengths.max()) if len(lengths) else 0
    if not width:
        return None
    flat = pc.list_slice(fields, 0, width, return_fixed_size_list=True).flatten()
    n = len(pieces)
    columns = [flat.take(pa.array(np.arange(i, n * width, width))) for i in range(width)]
    # cells beyond a row's length are empty (None), like the padding of a short row
    return [pc.if_else(pa.array(lengths > i), c, pa.scalar(None, pa.string()))
            for i, c in enumerate(columns)], lengths
