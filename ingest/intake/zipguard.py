"""Bounds on a workbook, checked before any parser materialises it.

A workbook is a zip of XML parts, and both layers can be made to explode:
- a member whose deflate stream inflates far beyond what its header declares (a zip bomb
  that lies: readers trusting the header allocate little, then inflate without bound);
- members adding up to gigabytes (an honest zip bomb);
- a sheet of a few kilobytes whose cells span a million rows × hundreds of columns: calamine
  allocates the whole used range (rows × columns cells) at once and aborts the process when
  that fails — a 6 KB file killed the intake run before these checks.

`check_workbook` inflates every member once, in 1 MiB steps, counting what comes out, and
measures each sheet's used range the way calamine computes it. It raises `Unreadable`
(`too_large` / `corrupt_file`) with a reason for the staff; it never holds more than a chunk.
`readers` applies the same cell limit to .xls sheets (xlrd pads every row to the sheet's
width: one cell at IV65536 is 16.7M cells) and, counted on the bytes, to CSV files.
Cost: proportional to the inflated size (~5 ms per MB of sheet XML: ~0.25 s for a
100,000-row sheet, well under a millisecond for a real report).
"""

from __future__ import annotations

import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.intake.readers import Unreadable

MAX_SHEET_CELLS = 3_000_000  # rows × columns of a sheet's used range (a report has < 10,000)
_CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
# digits -> "0", capital letters -> "A": cell references become shapes like ' r="AA000"'
_SMALL = 256 << 10  # sheets below this are measured with regexes (numpy pays off above)
_CELL_OPEN = re.compile(rb"[<:]c[ >]")
_CELL_REF = re.compile(rb' r="([A-Z]{1,3})(\d{1,8})"[^>]*?(/?)>')
_TAG = re.compile(rb"<(?:\w{1,16}:)?(row|c)\b([^>]*)>")
_ATTR_R = re.compile(rb'\sr="([A-Z]{0,3})(\d{0,7})"')


def _errors():
    from ingest.intake import readers

    return readers


def too_large(reason: str) -> Unreadable:
    return _errors().Unreadable(
        "too_large", reason,
        "Biểu mẫu chỉ cần phần bảng số liệu: xóa các dòng, cột và trang tính thừa (kể cả ô "
        "có dữ liệu nằm xa bảng), lưu lại rồi gửi lại.")


def _member_stream(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The inflated bytes of one member, chunk by chunk, from its raw deflate data."""
    offset = info.header_offset
    head = data[offset:offset + _LOCAL_HEADER.size]
    if len(head) < _LOCAL_HEADER.size or head[:4] != b"PK\x03\x04":
        raise _errors()._corrupt()
    name_len, extra_len = _LOCAL_HEADER.unpack(head)[9:11]
    start = offset + _LOCAL_HEADER.size + name_len + extra_len
    raw = memoryview(data)[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        for pos in range(0, len(raw), _CHUNK):
            yield bytes(raw[pos:pos + _CHUNK])
        return
    inflater = zlib.decompressobj(-15)
    pos = 0
    try:
        while True:
            if inflater.unconsumed_tail:
                out = inflater.decompress(inflater.unconsumed_tail, _CHUNK)
            elif pos < len(raw) and not inflater.eof:
                out = inflater.decompress(raw[pos:pos + (64 << 10)], _CHUNK)
                pos += 64 << 10
            else:
                return
            if out:
                yield out
    except zlib.error as exc:
        raise _errors()._corrupt() from exc


class _SheetExtent:
    """The used range of a sheet's XML, fed chunk by chunk. Small sheets (every real report)
    go through two regexes; large ones through numpy over the bytes (a Python loop over the
    cells of a 100,000-row sheet costs seconds, numpy ~0.2 s).

    Counts `<c>` tags and cell references (` r="B12"`), and the largest row and column
    among the references of cells that hold something (`<c r="Z9" s="1"/>` does not).
    """

    _OVERLAP = 16  # a reference (' r="XFD1048576"') and its tag fit in this

    def __init__(self) -> None:
        self.cells = 0
        self.refs = 0
        self.max_row = 0
        self.max_col = 0
        self._carry = b""
        self._big = False

    def feed(self, chunk: bytes, final: bool = False) -> None:
        buf = self._carry + chunk
        if not self._big and len(buf) < _SMALL:
            if final:  # a real report's sheet: a regex over a few kilobytes, no numpy
                self._carry = b""
                self._feed_small(buf)
            else:
                self._carry = buf
            return
        self._big = True
        cut = len(buf) if final else max(0, len(buf) - self._OVERLAP)
        self._carry = buf[cut:]
        if cut:
            self._feed_big(buf, cut)

    def _feed_small(self, part: bytes) -> None:
        self.cells += len(_CELL_OPEN.findall(part))
        for letters, digits, slash in _CELL_REF.findall(part):
            self.refs += 1
            if slash:
                continue
            col = 0
            for ch in letters:
                col = col * 26 + ch - 64
            self.max_row, self.max_col = max(self.max_row, int(digits)), max(self.max_col, col)

    def _feed_big(self, buf: bytes, n: int) -> None:
        import numpy as np

        a = np.frombuffer(buf + b" " * self._OVERLAP, np.uint8)  # padding: windows stay inside
        nxt, nxt2 = a[1:n + 1], a[2:n + 2]
        opens = (a[:n] == 60) | (a[:n] == 58)  # "<c " or a prefixed ":c "
        self.cells += int(np.count_nonzero(opens & (nxt == 99) & ((nxt2 == 32) | (nxt2 == 62))))
        hit = (a[:n] == 32) & (nxt == 114) & (nxt2 == 61) & (a[3:n + 3] == 34)
        p = np.flatnonzero(hit) + 4
        first = a[p]
        p = p[(first >= 65) & (first <= 90)]  # a column letter: a cell, not a row number
        if not len(p):
            return
        self.refs += len(p)
        c0, c1, c2 = (a[p + k].astype(np.int64) - 64 for k in range(3))
        l2 = (c1 >= 1) & (c1 <= 26)
        l3 = l2 & (c2 >= 1) & (c2 <= 26)
        col = np.where(l3, (c0 * 26 + c1) * 26 + c2, np.where(l2, c0 * 26 + c1, c0))
        start = p + 1 + l2 + l3
        row = np.zeros(len(p), np.int64)
        valid = np.ones(len(p), bool)
        for k in range(8):
            d = a[start + k].astype(np.int64) - 48
            valid &= (d >= 0) & (d <= 9)
            row = np.where(valid, row * 10 + d, row)
        ends = np.flatnonzero(a == 62)
        idx = np.searchsorted(ends, p)
        inside = idx < len(ends)
        closing = ends[np.minimum(idx, len(ends) - 1)]
        keep = ~inside | (a[closing - 1] != 47)
        if keep.any():
            self.max_row = max(self.max_row, int(row[keep].max()))
            self.max_col = max(self.max_col, int(col[keep].max()))


def _exact_extent(stream: Iterator[bytes]) -> tuple[int, int, int]:
    """(rows, columns, cells with content) of the used range, as calamine computes it:
    a cell's position is its reference, else the next column of the current row; a row's
    number is its `r`, else the previous row's + 1; cells without content do not count."""
    row = col = 0
    max_row = max_col = cells = 0
    carry = b""
    for chunk in (*stream, b""):
        buf = carry + chunk
        cut = len(buf) if not chunk else buf.rfind(b">") + 1
        part, carry = buf[:cut], buf[cut:]
        for m in _TAG.finditer(part):
            attrs = m.group(2)
            ref = _ATTR_R.search(attrs)
            if m.group(1) == b"row":
                row = int(ref.group(2)) if ref and ref.group(2) else row + 1
                col = 0
                continue
            if ref and ref.group(1) and ref.group(2):
                letters = 0
                for ch in ref.group(1):
                    letters = letters * 26 + ch - 64
                col, cell_row = letters, int(ref.group(2))
            else:
                col, cell_row = col + 1, row
            if attrs.endswith(b"/"):
                continue  # <c r="Z99" s="3"/>: formatting only, no value
            cells += 1
            max_row, max_col = max(max_row, cell_row), max(max_col, col)
    return max_row, max_col, cells


_HIDDEN_MARKS = (b'hidden="1"', b'hidden="true"')


def check_workbook(data: bytes, zf: zipfile.ZipFile, max_total: int
                   ) -> dict[str, bool]:
    """Refuse a workbook whose parts inflate beyond their headers or `max_total` bytes, or
    a sheet spanning more than `MAX_SHEET_CELLS` cells.

    Returns, for every sheet part inflated here, whether its XML holds a `hidden="1"` (or
    `"true"`) mark, so the hidden-row scan need not inflate the sheets that have none."""
    marks: dict[str, bool] = {}
    infos = zf.infolist()
    if sum(i.file_size for i in infos) > max_total:
        raise too_large("Tệp quá lớn khi giải nén, không xử lý được.")
    total = 0
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _errors()._corrupt()  # Excel writes deflate; other methods are no workbook
        name = info.filename
        sheet = name.startswith("xl/worksheets/") and name.endswith(".xml")
        extent = _SheetExtent() if sheet else None
        produced = 0
        marked, tail = False, b""
        for chunk in _member_stream(data, info):
            produced += len(chunk)
            total += len(chunk)
            if produced > info.file_size or total > max_total:
                raise too_large("Tệp bị làm sai để phình to khi giải nén (zip bomb), "
                                 "không xử lý được.")
            if extent:
                extent.feed(chunk)
                if not marked:
                    window = tail + chunk
                    marked = any(m in window for m in _HIDDEN_MARKS)
                    tail = window[-16:]
        if extent is None:
            continue
        marks[name] = marked
        extent.feed(b"", final=True)
        rows, cols, cells = extent.max_row, extent.max_col, extent.cells
        if cells > MAX_SHEET_CELLS:
            raise too_large(f"Trang tính có quá nhiều ô ({_vn(cells)} ô), không xử lý được.")
        if cells > extent.refs:  # some positions are implied by order: follow them exactly
            rows, cols, _ = _exact_extent(_member_stream(data, info))
        if rows * cols > MAX_SHEET_CELLS:
            raise sheet_too_large(rows, cols)
    return marks


def sheet_too_large(rows: int, cols: int) -> Unreadable:
    return too_large(f"Trang tính có vùng dữ liệu quá lớn ({_vn(rows)} dòng × {_vn(cols)} cột), "
                     "không xử lý được.")


def _vn(n: int) -> str:
    """1000000 → 1.000.000 (Vietnamese digit grouping)."""
    return f"{n:,}".replace(",", ".")
