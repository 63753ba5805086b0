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
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from ingest.intake import zipguard
from ingest.intake.text import clean_text, is_blank, nfc
from ingest.intake.unreadable import Unreadable
from ingest.intake.unreadable import corrupt as _corrupt

ACCEPTED_EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".csv")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
MAX_UNCOMPRESSED = 512 * 1024 * 1024  # a zip bomb is refused, not expanded
_ENCRYPTED_MARK = "EncryptedPackage".encode("utf-16-le")


@dataclass
class Sheet:
    """Cell values of one sheet; `rows[i]` is Excel row i+1, `None` for an empty cell."""

    name: str
    rows: list[list[Any]]
    visible: bool = True
    hidden_rows: frozenset[int] = frozenset()  # Excel row numbers
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # 0-based, inclusive
    # the cells as the container held them, before `_clean` (spaces kept), when they differ
    raw_rows: list[list[Any]] | None = field(default=None, repr=False)

    def cell(self, row: int, col: int) -> Any:
        """0-based access that tolerates ragged rows."""
        if row < len(self.rows) and col < len(self.rows[row]):
            return self.rows[row][col]
        return None

    def as_written(self, row: int, col: int) -> str | None:
        """The cell's text as written in the file (0-based), None for an empty cell.

        Text (every CSV cell, text cells of a workbook) is kept as typed, surrounding spaces
        included, only composed to NFC. A workbook's number cell holds a number, not text:
        its display format is not read, so it is written out in full (`written_number`).
        """
        raw = self.raw_rows if self.raw_rows is not None else self.rows
        value = raw[row][col] if row < len(raw) and col < len(raw[row]) else None
        if value is None:
            return None
        if isinstance(value, str):
            if not (value.isascii() and "\x00" not in value):  # (the common case as it is)
                value = nfc(value).replace("\x00", "")
            return value if value.strip() else None
        return written_number(value)

    @cached_property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


@dataclass
class Book:
    kind: str  # "xlsx", "xls" or "csv"
    sheets: list[Sheet]


def written_number(value: Any) -> str | None:
    """A workbook cell that is not text, as text: numbers in full precision with the
    Vietnamese decimal comma and no grouping (`1234,5`, `4125,000000000001` for a formula's
    binary noise), dates `05/01/2025`, booleans as Excel shows them (TRUE/FALSE)."""
    if value is None or is_blank(value):
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f").replace(".", ",")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f").replace(".", ",")
    if isinstance(value, datetime):
        return (value.strftime("%d/%m/%Y") if value.time() == time(0)
                else value.strftime("%d/%m/%Y %H:%M:%S"))
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


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


def _clean_rows(raw: list[list[Any]]) -> list[list[Any]]:
    """`_clean` of every cell."""
    return [[_clean(v) for v in row] for row in raw]


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
            raw = sheet.to_python(skip_empty_area=False)
            rows = _clean_rows(raw)
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
            sheets.append(
                Sheet(
                    name=clean_text(meta.name),
                    rows=rows,
                    visible=str(meta.visible) == "SheetVisibleEnum.Visible",
                    hidden_rows=frozenset(hidden.get(meta.name, ())),
                    merged=merged,
                    raw_rows=raw,
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
        rows, raw = [], []
        for r in range(sh.nrows):
            cells = sh.row(r)
            rows.append([_xls_value(wb, cell) for cell in cells])
            raw.append([cell.value if cell.ctype == xlrd.XL_CELL_TEXT else value
                        for cell, value in zip(cells, rows[-1], strict=True)])
        hidden = frozenset(
            r + 1 for r, info in getattr(sh, "rowinfo_map", {}).items() if info.hidden
        )
        merged = [(rlo, clo, rhi - 1, chi - 1) for rlo, rhi, clo, chi in sh.merged_cells]
        sheets.append(
            Sheet(clean_text(sh.name), rows, visible=sh.visibility == 0,
                  hidden_rows=hidden, merged=merged, raw_rows=raw)
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
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1258", errors="replace")


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
    text = decode_text(data)
    delim = _sniff_delimiter(_first_lines(text, 30))
    try:
        raw = list(csv.reader(io.StringIO(text, newline=""), delimiter=delim))
    except csv.Error as exc:
        raise _corrupt() from exc
    rows = [[_clean(c) for c in row] for row in raw]
    return Book("csv", [Sheet("CSV", rows, raw_rows=raw)])
