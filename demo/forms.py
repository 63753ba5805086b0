"""Writers of the four report forms, in the layouts of docs/forms-contract.md and the examples.

A `Style` captures one clerk's habits: where the header row sits, header spelling (upper case,
no diacritics, line breaks, two-level merged), column order and extra columns, NFD text,
numbers typed as text (`1.234,5`), formulas with cached values, blank and hidden rows, a notes
sheet or a hidden lookup sheet in front. Writers return the file's bytes and where each line
went (sheet, row, column letters), so defects planted in a file can be reported by cell.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from demo.calendar import Month, Semester
from demo.text import cp1258_bytes, nfd, strip_diacritics, vn_number

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")
HEADERS = {
    "stt": "STT", "code": "Mã chỉ tiêu", "name": "Chỉ tiêu", "unit": "Đơn vị tính",
    "plan": "Kế hoạch năm", "value": "Thực hiện tháng", "ytd": "Lũy kế từ đầu năm",
    "note": "Ghi chú", "prev": "Cùng kỳ năm trước",
}
LINEBREAK = {
    "code": "Mã\nchỉ tiêu", "unit": "Đơn vị\ntính", "plan": "Kế hoạch\nnăm",
    "value": "Thực hiện\ntháng", "ytd": "Lũy kế\ntừ đầu năm", "prev": "Cùng kỳ\nnăm trước",
}
SPACING = {
    "code": "Mã  chỉ tiêu ", "unit": "đơn vị tính", "plan": " Kế hoạch  năm",
    "value": "thực hiện tháng", "ytd": "Lũy kế từ  đầu năm", "note": "Ghi chú ",
}
HCC_TOP = ("Số hồ sơ nhận giải quyết", "Kết quả giải quyết")
HCC_SUB = (
    "Tổng số", "Kỳ trước chuyển qua", "Mới tiếp nhận trực tuyến",
    "Mới tiếp nhận trực tiếp, bưu chính", "Đã giải quyết: Tổng số", "Trước hạn", "Đúng hạn",
    "Quá hạn", "Đang giải quyết: Tổng số", "Trong hạn", "Quá hạn",
)
GD_HEADERS = (
    "Mã trường", "Tên trường", "Cấp học", "Xã, thị trấn", "Số lớp", "Số học sinh", "Trong đó nữ",
    "Học sinh dân tộc thiểu số", "Học sinh bỏ học trong kỳ", "Số giáo viên",
    "Số phòng học kiên cố", "Đạt chuẩn quốc gia",
)
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII"]


@dataclass
class Style:
    top_blank: int = 0
    header_gap: int = 0
    form_code_line: bool = True
    title_variant: int = 0
    unit_variant: int = 0
    columns: tuple[str, ...] = ()
    header_variant: str = "standard"  # standard|upper|nodiac|linebreak|spacing|twolevel
    nfd: bool = False
    numbers: str = "num"  # num|vn_text|spaces|mixed
    formulas: bool = False
    blank_between_groups: bool = False
    hide_row_code: str | None = None
    notes_sheet: str = "none"  # none|after|hidden_first
    sheet_name: str = "Sheet1"
    number_format: bool = False
    notes_text: bool = False
    # CSV only
    csv_encoding: str = ""
    csv_delimiter: str = ";"
    csv_ytd: bool = False


@dataclass
class Line:
    """One indicator row as it will be written (values may be planted defects)."""

    code: str | None
    name: str
    unit: str
    group: str
    plan: object = None
    value: object = None
    ytd: object = None
    prev: object = None
    note: str = ""
    ytd_base: float | None = None  # this year's total before this month, for a formula


@dataclass
class Signature:
    place: str
    signed: date
    preparer: str
    head_title: str
    head: str


@dataclass
class Layout:
    """Where things went: the report sheet, the Excel row of each line, column letters."""

    sheet: str
    header_row: int
    rows: dict = field(default_factory=dict)
    cols: dict = field(default_factory=dict)


def _t(style: Style, text: str) -> str:
    return nfd(text) if style.nfd else text


def month_title(kind: str, m: Month, variant: int) -> str:
    base = {
        "KTXH-01": "Tình hình thực hiện chỉ tiêu kinh tế - xã hội",
        "YT-01": "Báo cáo hoạt động trạm y tế",
        "HCC-06": "Tình hình, kết quả giải quyết thủ tục hành chính",
    }[kind]
    v = variant % 5
    if v == 0:
        return f"{base} tháng {m.month} năm {m.year}"
    if v == 1:
        return f"{base} tháng {m.month:02d}/{m.year}"
    if v == 2:
        return f"{base} T{m.month}/{m.year}"
    if v == 3:
        return f"{base} tháng {m.month} năm {m.year}".upper()
    return f"Báo cáo {base[0].lower()}{base[1:]} tháng {m.month:02d} năm {m.year}" \
        if kind != "YT-01" else f"{base} tháng {m.month} năm {m.year}"


def unit_header(kind: str, unit_name: str, kind_word: str, short: str, variant: int) -> str:
    if kind == "YT-01":
        return [f"TRẠM Y TẾ {kind_word.upper()} {short.upper()}",
                f"Trạm Y tế {kind_word} {short}",
                f"TRẠM Y TẾ {kind_word.upper()} {short.upper()}"][variant % 3]
    return [f"UBND {kind_word.upper()} {short.upper()}",
            f"ỦY BAN NHÂN DÂN {kind_word.upper()} {short.upper()}",
            f"UBND {kind_word} {short}"][variant % 3]


def _header_text(style: Style, key: str) -> str:
    text = HEADERS[key]
    hv = style.header_variant
    if hv == "upper":
        text = text.upper()
    elif hv == "nodiac":
        text = strip_diacritics(text)
    elif hv == "linebreak":
        text = LINEBREAK.get(key, text)
    elif hv == "spacing":
        text = SPACING.get(key, text)
    return _t(style, text)


class _Book:
    """An xlsxwriter workbook in memory with the few formats the forms use."""

    def __init__(self, signed: date) -> None:
        self.buf = io.BytesIO()
        self.wb = xlsxwriter.Workbook(self.buf, {"in_memory": True, "strings_to_numbers": False,
                                                 "strings_to_formulas": False,
                                                 "strings_to_urls": False})
        created = datetime.combine(signed, time(9, 0))
        self.wb.set_properties({"created": created, "author": "", "company": ""})
        self.bold = self.wb.add_format({"bold": True})
        self.head = self.wb.add_format({"bold": True, "text_wrap": True, "align": "center",
                                        "valign": "vcenter", "border": 1})
        self.cell = self.wb.add_format({"border": 1})
        self.int_fmt = self.wb.add_format({"border": 1, "num_format": "#,##0"})
        self.dec_fmt = self.wb.add_format({"border": 1, "num_format": "#,##0.0"})
        self.center_bold = self.wb.add_format({"bold": True, "align": "center"})
        self.italic = self.wb.add_format({"italic": True, "align": "center"})

    def close(self) -> bytes:
        self.wb.close()
        return self.buf.getvalue()


def _write_number(book: _Book, ws, r: int, c: int, value, style: Style, rng: random.Random,
                  formula: str | None = None) -> None:
    if value is None:
        ws.write_blank(r, c, None, book.cell)
        return
    if isinstance(value, str):
        ws.write_string(r, c, _t(style, value), book.cell)
        return
    as_text = style.numbers in ("vn_text", "spaces") or (
        style.numbers == "mixed" and rng.random() < 0.15)
    if formula and not as_text:
        ws.write_formula(r, c, formula, book.int_fmt if style.number_format else book.cell, value)
        return
    if as_text:
        ws.write_string(r, c, vn_number(value, spaces=style.numbers == "spaces" and value >= 1000),
                        book.cell)
        return
    fmt = book.cell
    if style.number_format:
        fmt = book.int_fmt if float(value).is_integer() else book.dec_fmt
    ws.write_number(r, c, int(value) if float(value).is_integer() else value, fmt)


def _front_sheets(book: _Book, style: Style, lookup_rows: list[tuple[str, str]]):
    if style.notes_sheet == "hidden_first":
        dm = book.wb.add_worksheet("DM")
        for i, (code, name) in enumerate(lookup_rows):
            dm.write_string(i, 0, code)
            dm.write_string(i, 1, _t(style, name))
        dm.hide()
        return dm
    return None


def _notes_sheet(book: _Book, style: Style, lines: list[str]) -> None:
    if style.notes_sheet != "after":
        return
    ws = book.wb.add_worksheet(_t(style, "Thuyết minh"))
    ws.write_string(0, 0, _t(style, "THUYẾT MINH SỐ LIỆU"), book.bold)
    for i, text in enumerate(lines, start=2):
        ws.write_string(i, 0, _t(style, text))


def _header_block(book: _Book, ws, style: Style, unit_line: str, title: str, form_code: str,
                  right_col: int) -> int:
    """Unit and motto, 'BÁO CÁO', title, form code; returns the 0-based header row."""
    r = style.top_blank
    ws.write_string(r, 0, _t(style, unit_line), book.bold)
    ws.write_string(r, right_col, _t(style, MOTTO[0]), book.bold)
    ws.write_string(r + 1, right_col, _t(style, MOTTO[1]), book.bold)
    ws.write_string(r + 3, 0, _t(style, "BÁO CÁO"), book.bold)
    ws.write_string(r + 4, 0, _t(style, title), book.bold)
    nxt = r + 5
    if style.form_code_line:
        ws.write_string(nxt, 0, _t(style, f"Biểu số: {form_code}"))
        nxt += 1
    return nxt + 1 + style.header_gap


def _footer(book: _Book, ws, style: Style, r: int, sig: Signature, right_col: int) -> None:
    r += 1
    d = sig.signed
    ws.write_string(r, right_col, _t(style, f"{sig.place}, ngày {d.day:02d} tháng {d.month:02d} "
                                            f"năm {d.year}"), book.italic)
    ws.write_string(r + 1, 0, _t(style, "NGƯỜI LẬP BIỂU"), book.center_bold)
    ws.write_string(r + 1, right_col, _t(style, sig.head_title), book.center_bold)
    ws.write_string(r + 4, 0, _t(style, sig.preparer))
    ws.write_string(r + 4, right_col, _t(style, sig.head))


# ----------------------------------------------------------------------- KTXH-01 and YT-01
def render_indicator_xlsx(form: str, unit_line: str, title: str, lines: list[Line],
                          sig: Signature, style: Style, rng: random.Random) -> tuple[bytes, Layout]:
    book = _Book(sig.signed)
    _front_sheets(book, style, [(ln.code or "", ln.name) for ln in lines])
    ws = book.wb.add_worksheet(_t(style, style.sheet_name))
    ws.activate()
    ws.set_first_sheet()
    cols = list(style.columns)
    ci = {k: i for i, k in enumerate(cols)}
    ws.set_column(ci.get("name", 1), ci.get("name", 1), 42)
    right = min(4, len(cols) - 1)
    hr = _header_block(book, ws, style, unit_line, title, form, right)
    layout = Layout(ws.get_name(), hr + 1, cols={k: xl_col_to_name(i) for k, i in ci.items()})
    if style.header_variant == "twolevel":
        for k, i in ci.items():
            if k in ("value", "ytd"):
                continue
            ws.merge_range(hr, i, hr + 1, i, _t(style, HEADERS[k]), book.head)
        ws.merge_range(hr, ci["value"], hr, ci["ytd"], _t(style, "Thực hiện"), book.head)
        ws.write_string(hr + 1, ci["value"], _t(style, "Tháng"), book.head)
        ws.write_string(hr + 1, ci["ytd"], _t(style, "Lũy kế từ đầu năm"), book.head)
        r = hr + 2
    else:
        for k, i in ci.items():
            ws.write_string(hr, i, _header_text(style, k), book.head)
        r = hr + 1
    group = None
    g = 0
    for idx, ln in enumerate(lines):
        if ln.group != group:
            if group is not None and style.blank_between_groups:
                r += 1
            group = ln.group
            if "stt" in ci:
                ws.write_string(r, ci["stt"], ROMAN[g % len(ROMAN)], book.bold)
            ws.write_string(r, ci["name"], _t(style, ln.group.upper()), book.bold)
            g += 1
            r += 1
        if "stt" in ci:
            ws.write_number(r, ci["stt"], idx + 1, book.cell)
        if "code" in ci and ln.code is not None:
            ws.write_string(r, ci["code"], ln.code, book.cell)
        ws.write_string(r, ci["name"], _t(style, ln.name), book.cell)
        ws.write_string(r, ci["unit"], _t(style, ln.unit), book.cell)
        for key in ("plan", "value", "prev"):
            if key in ci:
                _write_number(book, ws, r, ci[key], getattr(ln, key), style, rng)
        if "ytd" in ci:
            formula = None
            if style.formulas and ln.ytd_base is not None and isinstance(ln.ytd, float) and \
                    isinstance(ln.value, float) and "value" in ci:
                base = ln.ytd_base
                ref = f"{xl_col_to_name(ci['value'])}{r + 1}"
                base_txt = str(int(base)) if float(base).is_integer() else f"{base:.1f}"
                formula = f"={base_txt}+{ref}" if base else f"={ref}"
            _write_number(book, ws, r, ci["ytd"], ln.ytd, style, rng, formula)
        if "note" in ci and ln.note:
            ws.write_string(r, ci["note"], _t(style, ln.note), book.cell)
        if style.hide_row_code and ln.code == style.hide_row_code:
            ws.set_row(r, None, None, {"hidden": True})
        layout.rows[idx] = r + 1
        r += 1
    _footer(book, ws, style, r, sig, right)
    _notes_sheet(book, style, [
        "Số liệu tháng được tổng hợp từ báo cáo của các thôn.",
        "Một số chỉ tiêu là số ước thực hiện, sẽ cập nhật ở kỳ báo cáo sau.",
    ])
    return book.close(), layout


def render_indicator_csv(lines: list[Line], style: Style, form: str) -> tuple[bytes, Layout]:
    """The CSV variant: the header row and indicator rows only (unit, period from the name)."""
    keys = ["code", "name", "unit", "plan", "value", "ytd", "note"] if form == "KTXH-01" \
        else ["code", "name", "unit", "value", "note"]
    delim = style.csv_delimiter
    out = io.StringIO()
    w = csv.writer(out, delimiter=delim, lineterminator="\r\n")
    w.writerow([HEADERS[k] for k in keys])
    layout = Layout("", 1, cols={k: str(i + 1) for i, k in enumerate(keys)})

    def num(v) -> str:
        if v is None:
            return ""
        if isinstance(v, str):
            return v
        if delim == ",":
            return vn_number(v).replace(".", "") if float(v).is_integer() else vn_number(v)
        return vn_number(v)

    for idx, ln in enumerate(lines):
        row = []
        for k in keys:
            v = getattr(ln, k)
            if k == "ytd" and not style.csv_ytd:
                v = None
            row.append(num(v) if k in ("plan", "value", "ytd") else (v or ""))
        w.writerow(row)
        layout.rows[idx] = idx + 2
    text = out.getvalue()
    if style.csv_encoding == "cp1258":
        data = cp1258_bytes(text)
    else:
        data = text.encode(style.csv_encoding or "utf-8")
    return data, layout


# ------------------------------------------------------------------------------------ HCC-06
def render_hcc_xlsx(unit_line: str, title: str, rows: list[tuple[str, list]], total: list,
                    sig: Signature, style: Style, rng: random.Random) -> tuple[bytes, Layout]:
    """Two-level merged header; `rows` are (field, 11 values); `total` the `Tổng cộng` values."""
    book = _Book(sig.signed)
    _front_sheets(book, style, [(str(i + 1), f) for i, (f, _) in enumerate(rows)])
    ws = book.wb.add_worksheet(_t(style, style.sheet_name))
    ws.activate()
    ws.set_first_sheet()
    ws.set_column(1, 1, 34)
    hr = _header_block(book, ws, style, unit_line, title, "HCC-06", 4)

    def h(text: str) -> str:
        if style.header_variant == "upper":
            text = text.upper()
        elif style.header_variant == "nodiac":
            text = strip_diacritics(text)
        elif style.header_variant == "linebreak":
            text = text.replace(": ", ":\n").replace("tiếp nhận ", "tiếp nhận\n")
        return _t(style, text)

    ws.merge_range(hr, 0, hr + 1, 0, h("STT"), book.head)
    ws.merge_range(hr, 1, hr + 1, 1, h("Lĩnh vực"), book.head)
    ws.merge_range(hr, 2, hr, 5, h(HCC_TOP[0]), book.head)
    ws.merge_range(hr, 6, hr, 12, h(HCC_TOP[1]), book.head)
    for i, text in enumerate(HCC_SUB):
        ws.write_string(hr + 1, 2 + i, h(text), book.head)
    layout = Layout(ws.get_name(), hr + 1, cols={"field": "B"} | {
        f"c{i}": xl_col_to_name(2 + i) for i in range(11)})
    r = hr + 2
    first = r
    for idx, (fld, vals) in enumerate(rows):
        ws.write_number(r, 0, idx + 1, book.cell)
        ws.write_string(r, 1, _t(style, fld), book.cell)
        for i, v in enumerate(vals):
            _write_number(book, ws, r, 2 + i, v, style, rng)
        layout.rows[idx] = r + 1
        r += 1
    total_label = "TỔNG CỘNG" if style.title_variant % 2 else "Tổng cộng"
    ws.write_string(r, 1, _t(style, total_label), book.bold)
    for i, v in enumerate(total):
        formula = None
        if style.formulas and rows:
            col = xl_col_to_name(2 + i)
            formula = f"=SUM({col}{first + 1}:{col}{r})"
        _write_number(book, ws, r, 2 + i, v, style, rng, formula)
    layout.rows["total"] = r + 1
    _footer(book, ws, style, r + 1, sig, 4)
    _notes_sheet(book, style, ["Số liệu trích từ Hệ thống thông tin giải quyết TTHC."])
    return book.close(), layout


# ------------------------------------------------------------------------------------- GD-01
@dataclass
class GdLine:
    code: str
    name: str
    level: str
    commune_text: str
    values: list  # classes, pupils, girls, minority, dropouts, teachers, solid rooms
    standard: str


EDUCATION_OFFICE = "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"


def render_gd_xlsx(title: str, lines: list[GdLine], sig: Signature, style: Style,
                   per_level: bool, rng: random.Random,
                   unit_line: str = EDUCATION_OFFICE) -> tuple[bytes, Layout]:
    """GD-01: from the district's education office, or (after the 2025 reform) from a commune
    for the schools in its area (`unit_line` `UBND XÃ ...`)."""
    book = _Book(sig.signed)
    _front_sheets(book, style, [(ln.code, ln.name) for ln in lines])
    groups: list[tuple[str, list[tuple[int, GdLine]]]] = []
    if per_level:
        for lvl in ("Mầm non", "Tiểu học", "THCS"):
            groups.append((lvl, [(i, ln) for i, ln in enumerate(lines) if ln.level == lvl]))
    else:
        groups.append((style.sheet_name, list(enumerate(lines))))
    layout = Layout("", 0, cols={k: xl_col_to_name(i) for i, k in enumerate(
        ["code", "name", "level", "commune", "classes", "pupils", "girls", "minority", "dropouts",
         "teachers", "solid", "standard"])})
    first = True
    for sheet_name, items in groups:
        ws = book.wb.add_worksheet(_t(style, sheet_name))
        if first:
            ws.activate()
            ws.set_first_sheet()
            layout.sheet = ws.get_name()
            first = False
        ws.set_column(1, 1, 36)
        hr = _header_block(book, ws, style, unit_line, title, "GD-01", 4)
        layout.header_row = hr + 1
        for i, text in enumerate(GD_HEADERS):
            t = text.upper() if style.header_variant == "upper" else text
            if style.header_variant == "linebreak":
                t = t.replace(" học sinh", "\nhọc sinh").replace("Học sinh ", "Học sinh\n")
            ws.write_string(hr, i, _t(style, t), book.head)
        r = hr + 1
        for idx, ln in items:
            ws.write_string(r, 0, ln.code, book.cell)
            ws.write_string(r, 1, _t(style, ln.name), book.cell)
            ws.write_string(r, 2, _t(style, ln.level), book.cell)
            ws.write_string(r, 3, _t(style, ln.commune_text), book.cell)
            for i, v in enumerate(ln.values):
                _write_number(book, ws, r, 4 + i, v, style, rng)
            if ln.standard:
                ws.write_string(r, 11, _t(style, ln.standard), book.cell)
            else:
                ws.write_blank(r, 11, None, book.cell)
            layout.rows[idx] = (ws.get_name(), r + 1)
            r += 1
        _footer(book, ws, style, r, sig, 4)
    _notes_sheet(book, style, ["Số liệu tính đến ngày kết thúc học kỳ."])
    return book.close(), layout


# ------------------------------------------------------------------------------------ strays
def render_unrelated_xlsx(unit_line: str, names: list[str], signed: date) -> bytes:
    """A workbook that is no report form (a duty roster dropped into the intake folder)."""
    book = _Book(signed)
    ws = book.wb.add_worksheet("Sheet1")
    ws.write_string(0, 0, unit_line, book.bold)
    ws.write_string(2, 0, "DANH SÁCH CÁN BỘ TRỰC CƠ QUAN DỊP NGHỈ LỄ", book.bold)
    for i, h in enumerate(("STT", "Họ và tên", "Chức vụ", "Ngày trực", "Ghi chú")):
        ws.write_string(4, i, h, book.head)
    for i, name in enumerate(names):
        ws.write_number(5 + i, 0, i + 1)
        ws.write_string(5 + i, 1, name)
        ws.write_string(5 + i, 2, "Công chức" if i else "Phó Chủ tịch")
        ws.write_string(5 + i, 3, f"{signed.day + i % 3:02d}/{signed.month:02d}/{signed.year}")
    return book.close()


def pdf_bytes(title: str) -> bytes:
    """A small, valid one-page PDF: the scan staff sometimes send instead of the workbook."""
    text = title.encode("latin-1", "replace")
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    stream = b"BT /F1 12 Tf 50 780 Td (" + text + b") Tj ET"
    objs[3] = b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + \
        b"\nendstream"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
              .encode())
    return out.getvalue()


def semester_title(sem: Semester) -> str:
    return f"Báo cáo thống kê trường học {sem.title}"
