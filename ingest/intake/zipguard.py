"""Bounds on a workbook, checked before any parser materialises it.

A workbook is a zip of XML parts, and both layers can be made to explode:
- a member whose deflate stream inflates far beyond what its header declares (a zip bomb
  that lies: readers trusting the header allocate little, then inflate without bound);
- members adding up to gigabytes (an honest zip bomb);
- a sheet of a few kilobytes whose cells span a million rows × hundreds of columns: calamine
  allocates the whole used range (rows × columns cells) at once and aborts the process when
  that fails — a 6 KB file killed the intake run before these checks.

`check_workbook` inflates every member once, in 1 MiB steps, counting what comes out, and
measures the used range of every part the way calamine computes it — every part, not only
those named `xl/worksheets/*.xml`: a workbook's relationships may send the reader to a sheet
stored under any name. Cells are recognised whatever the spelling XML allows (a tab or a
line break before an attribute, single quotes, spaces around `=`, a namespace prefix): a part
that does not use Excel's own spelling is measured by the exact parser. It raises `Unreadable`
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
from xml.parsers.expat import XML_PARAM_ENTITY_PARSING_NEVER, ExpatError, ParserCreate

from ingest.intake.unreadable import Unreadable, corrupt

MAX_SHEET_CELLS = 3_000_000  # rows × columns of a sheet's used range (a report has < 10,000)
_CHUNK = 1 << 20
_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")
# any cell element: `<c>`, `<c/>`, `<c r=…>`, `<x:c\tr=…>`
_CELL_OPEN = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,31}:)?c[\s/>]")
# a cell as Excel writes it: `<c r="B12" s="3" t="s">` or `<c r="B12" s="3"/>`
_PLAIN_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?: (?!r=)[a-zA-Z]{1,16}="[^"<>]*")*[ ]?(/>|>)')
_REF_VALUE = re.compile(r"\s*([A-Za-z]{0,3})(\d{0,7})\s*")


def too_large(reason: str) -> Unreadable:
    return Unreadable(
        "too_large", reason,
        "Biểu mẫu chỉ cần phần bảng số liệu: xóa các dòng, cột và trang tính thừa (kể cả ô "
        "có dữ liệu nằm xa bảng), lưu lại rồi gửi lại.")


def _member_stream(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The inflated bytes of one member, chunk by chunk, from its raw deflate data."""
    offset = info.header_offset
    head = data[offset:offset + _LOCAL_HEADER.size]
    if len(head) < _LOCAL_HEADER.size or head[:4] != b"PK\x03\x04":
        raise corrupt()
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
        raise corrupt() from exc


class _Extent:
    """The used range of one part's XML, as calamine computes it: a cell's position is its
    reference, else the next column of the current row; a row's number is its `r`, else
    the previous row's + 1; cells without content (`<c r="Z9"/>`) do not count.

    One streaming pass (`feed`) counts every cell element (any spelling XML allows) and the
    cells written exactly as Excel writes them (`<c r="B12" s="1">`, double quotes, single
    spaces, no `<` or `>` in a value), and takes the extent of the latter with C-speed
    regexes. When the two counts agree every cell is of that shape and the extent is exact;
    otherwise `measure_exactly` reads the part with expat, so tabs, line breaks, single
    quotes, `>` inside a value or prefixes are understood as a parser understands them. A
    part expat cannot read, a document type declaration (entities) or a reference that is
    not letters and digits makes the file unreadable: no report needs any of them."""

    def __init__(self) -> None:
        self.cells = 0  # every cell element
        self.plain = 0  # cells in Excel's own spelling
        self.max_row = self.max_col = 0
        self._carry = b""
        self._letters: set[bytes] = set()

    def feed(self, chunk: bytes, final: bool = False) -> None:
        buf = self._carry + chunk
        cut = len(buf) if final else buf.rfind(b"<")  # no cell tag spans a "<"
        if cut <= 0:
            cut = 0 if len(buf) < _CHUNK else len(buf)  # (no tag at all in a whole chunk)
        self.cells += len(_CELL_OPEN.findall(buf, 0, cut))
        plain = _PLAIN_CELL.findall(buf, 0, cut)
        self.plain += len(plain)
        rows = [digits for letters, digits, end in plain if end == b">"]
        if rows:
            self.max_row = max(self.max_row, max(map(int, rows)))
            self._letters.update(letters for letters, _, end in plain if end == b">")
        self._carry = buf[cut:]

    def finish(self) -> None:
        self.feed(b"", final=True)
        for letters in self._letters:
            self.max_col = max(self.max_col, _column_number(letters.decode()))

    def measure_exactly(self, chunks: Iterator[bytes]) -> None:
        """The extent by expat (see the class doc); replaces the regexes' figures."""
        walk = _ExactWalk()
        parser = ParserCreate()
        parser.SetParamEntityParsing(XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = _refuse_doctype
        parser.EntityDeclHandler = _refuse_doctype
        parser.ExternalEntityRefHandler = _refuse_doctype
        parser.StartElementHandler = walk.start
        parser.EndElementHandler = walk.end
        try:
            for chunk in chunks:
                parser.Parse(chunk, False)
            parser.Parse(b"", True)
        except ExpatError as exc:
            raise corrupt() from exc
        self.max_row, self.max_col = walk.max_row, walk.max_col


def _column_number(letters: str) -> int:
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return col


class _ExactWalk:
    """Element callbacks of `_Extent.measure_exactly`."""

    def __init__(self) -> None:
        self.row = self.col = self.cells = 0
        self.max_row = self.max_col = 0
        self.pending: tuple[int, int] | None = None  # the open cell's position

    @staticmethod
    def _ref(attrs: dict[str, str]) -> tuple[str, str]:
        value = attrs.get("r")
        if value is None:
            return "", ""
        parsed = _REF_VALUE.fullmatch(value)
        if parsed is None:
            raise corrupt()
        return parsed.group(1), parsed.group(2)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(":")[2]
        if local == "row":
            _, digits = self._ref(attrs)
            self.row = int(digits) if digits else self.row + 1
            self.col = 0
        elif local == "c":
            self.cells += 1
            if self.cells > MAX_SHEET_CELLS:
                raise too_large(f"Trang tính có quá nhiều ô (hơn {_vn(MAX_SHEET_CELLS)} ô), "
                                "không xử lý được.")
            letters, digits = self._ref(attrs)
            if letters and digits:
                self.col, cell_row = _column_number(letters), int(digits)
            else:
                self.col, cell_row = self.col + 1, self.row
            self.pending = (cell_row, self.col)
        elif self.pending is not None:  # the cell holds something (<v>, <is>, <f>)
            row, col = self.pending
            self.pending = None
            self.max_row, self.max_col = max(self.max_row, row), max(self.max_col, col)

    def end(self, name: str) -> None:
        if name.rpartition(":")[2] == "c":
            self.pending = None  # <c r="Z99" s="3"/>: formatting only, no value


def _refuse_doctype(*_args) -> None:
    raise corrupt()


_BINARY_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".emf", ".wmf",
                    ".bin", ".wdp", ".svg")


def _binary(name: str) -> bool:
    return name.lower().endswith(_BINARY_SUFFIXES)


def _relationship_targets(zf: zipfile.ZipFile) -> set[str]:
    """Every part any relationship of the package points at (a sheet may be stored under
    any name, a picture's among them): these are measured whatever their name."""
    from defusedxml import ElementTree as ET

    out: set[str] = set()
    for name in zf.namelist():
        if not name.endswith(".rels"):
            continue
        info = zf.getinfo(name)
        if info.file_size > 4 << 20:  # a relationship list is a few kilobytes
            raise corrupt()
        folder = name.rsplit("_rels/", 1)[0]
        try:
            root = ET.fromstring(zf.read(name))
        except Exception as exc:
            raise corrupt() from exc
        for rel in root:
            target = rel.get("Target") or ""
            if rel.get("TargetMode") == "External":
                continue
            path = target.lstrip("/") if target.startswith("/") else folder + target
            parts: list[str] = []
            for part in path.split("/"):
                if part == "..":
                    if parts:
                        parts.pop()
                elif part and part != ".":
                    parts.append(part)
            out.add("/".join(parts))
    return out


_HIDDEN_MARKS = (b'hidden="1"', b'hidden="true"')


def check_workbook(data: bytes, zf: zipfile.ZipFile, max_total: int
                   ) -> dict[str, bool]:
    """Refuse a workbook whose parts inflate beyond their headers or `max_total` bytes, or
    a part spanning more than `MAX_SHEET_CELLS` cells.

    Returns, for every part inflated here, whether its XML holds a `hidden="1"` (or
    `"true"`) mark, so the hidden-row scan need not inflate the sheets that have none."""
    marks: dict[str, bool] = {}
    infos = zf.infolist()
    if sum(i.file_size for i in infos) > max_total:
        raise too_large("Tệp quá lớn khi giải nén, không xử lý được.")
    targets = _relationship_targets(zf)
    total = 0
    for info in infos:
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise corrupt()  # Excel writes deflate; other methods are no workbook
        extent = _Extent()
        produced = 0
        marked, tail = False, b""
        for chunk in _member_stream(data, info):
            produced += len(chunk)
            total += len(chunk)
            if produced > info.file_size or total > max_total:
                raise too_large("Tệp bị làm sai để phình to khi giải nén (zip bomb), "
                                 "không xử lý được.")
            extent.feed(chunk)
            if not marked:
                window = tail + chunk
                marked = any(m in window for m in _HIDDEN_MARKS)
                tail = window[-16:]
        marks[info.filename] = marked
        extent.finish()
        if extent.cells > MAX_SHEET_CELLS:
            raise too_large(f"Trang tính có quá nhiều ô ({_vn(extent.cells)} ô), "
                             "không xử lý được.")
        if not extent.cells or (info.filename not in targets and _binary(info.filename)):
            continue  # no cell element, or a picture the workbook does not read as a sheet
        if extent.plain != extent.cells:  # some cell is not written as Excel writes it
            extent.measure_exactly(_member_stream(data, info))
        if extent.max_row * extent.max_col > MAX_SHEET_CELLS:
            raise sheet_too_large(extent.max_row, extent.max_col)
    return marks


def sheet_too_large(rows: int, cols: int) -> Unreadable:
    return too_large(f"Trang tính có vùng dữ liệu quá lớn ({_vn(rows)} dòng × {_vn(cols)} cột), "
                     "không xử lý được.")


def _vn(n: int) -> str:
    """1000000 → 1.000.000 (Vietnamese digit grouping)."""
    return f"{n:,}".replace(",", ".")
