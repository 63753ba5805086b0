"""Hostile spreadsheet files, built byte by byte in the tests (no large fixtures).

Every builder starts from the project's example KTXH-01 workbook (a valid report of
Hiệp Thuận for 2024-10) and changes one thing, so a refusal can only come from that thing:

- `zip_bomb_xlsx`: the sheet XML expands to gigabytes (deflate of one row repeated); the
  zip headers tell the truth, or lie (declare a few hundred bytes);
- `sparse_huge_xlsx`: a few kilobytes whose cells span rows × columns (1M × 200), so a
  reader that allocates the used range allocates hundreds of millions of cells;
- `dense_huge_xlsx`: a sheet with a given number of real rows, streamed;
- `entity_xlsx`: XML entity tricks (billion laughs, an external entity to /etc/passwd)
  in any part of the workbook;
- `macro_xlsm`: a macro-enabled workbook with a VBA project and an auto-run macro;
- `with_cells`: the example with some cells replaced (formula-like text).
"""

from __future__ import annotations

import io
import re
import struct
import time
import zipfile
import zlib
from pathlib import Path

from ingest.intake.text import column_letter
from tests.conftest import FIXTURES

EXAMPLE = FIXTURES / "examples" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx"
SHEET = "xl/worksheets/sheet1.xml"
GIB = 1024**3


def example_parts() -> dict[str, bytes]:
    with zipfile.ZipFile(EXAMPLE) as zf:
        return {i.filename: zf.read(i.filename) for i in zf.infolist()}


# --- a minimal zip writer (so sizes and CRCs can be whatever a test wants) ---------------------

class RawEntry:
    """One zip member: raw deflate bytes plus what the headers declare about them."""

    def __init__(self, name: str, deflated: bytes, crc: int, size: int,
                 declared_size: int | None = None):
        self.name = name.encode()
        self.deflated = deflated
        self.crc = crc
        self.size = size
        self.declared = size if declared_size is None else declared_size


def deflate(data: bytes) -> RawEntry:
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    return RawEntry("", co.compress(data) + co.flush(), zlib.crc32(data), len(data))


def write_zip(entries: list[RawEntry]) -> bytes:
    """A plain (non-zip64) archive of deflated members with the declared sizes and CRCs."""
    out = io.BytesIO()
    central = []
    for e in entries:
        offset = out.tell()
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, e.crc & 0xFFFFFFFF,
                              len(e.deflated), e.declared, len(e.name), 0))
        out.write(e.name)
        out.write(e.deflated)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21,
                                   e.crc & 0xFFFFFFFF, len(e.deflated), e.declared, len(e.name),
                                   0, 0, 0, 0, 0, offset) + e.name)
    start = out.tell()
    for c in central:
        out.write(c)
    size = out.tell() - start
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), size,
                          start, 0))
    return out.getvalue()


def build_xlsx(parts: dict[str, bytes], raw: dict[str, RawEntry] | None = None) -> bytes:
    """A workbook from its parts; `raw` members are written as given (pre-deflated)."""
    entries = []
    for name, data in parts.items():
        if raw and name in raw:
            continue
        e = deflate(data)
        e.name = name.encode()
        entries.append(e)
    for name, e in (raw or {}).items():
        e.name = name.encode()
        entries.append(e)
    return write_zip(entries)


# --- zip bomb -----------------------------------------------------------------------------------

def _repeated_deflate(head: bytes, unit: bytes, count: int, tail: bytes) -> RawEntry:
    """Deflate of head + unit*count + tail in time proportional to the *compressed* size.

    Full flushes reset the compressor, so the deflate blocks of one chunk of repeated units
    are the same bytes every time: they are computed once and repeated.
    """
    per_chunk = max(1, (1 << 20) // len(unit))
    chunk = unit * per_chunk
    full, rest = divmod(count, per_chunk)

    def blocks(data: bytes, final: bool = False) -> bytes:
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        return co.compress(data) + co.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)

    chunk_blocks = blocks(chunk)
    deflated = blocks(head) + chunk_blocks * full + blocks(unit * rest) + blocks(tail, True)
    crc = zlib.crc32(head)
    for _ in range(full):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, zlib.crc32(unit * rest, crc))
    size = len(head) + len(unit) * count + len(tail)
    return RawEntry(SHEET, deflated, crc, size)


def repeated_rows_xlsx(unit: bytes, count: int, lie: bool = False) -> bytes:
    """The example workbook whose sheet ends with `unit` (some XML) `count` times."""
    parts = example_parts()
    head, tail = parts[SHEET].split(b"</sheetData>")
    entry = _repeated_deflate(head, unit, count, b"</sheetData>" + tail)
    entry.size = min(entry.size, 0xFFFFFFFF)  # no zip64: a 4 GiB sheet declares 4 GiB - 1
    entry.declared = 600 if lie else entry.size
    return build_xlsx(parts, {SHEET: entry})


def million_rows_xlsx(rows: int = 1_000_000, cols: int = 200, lie: bool = False) -> bytes:
    """`rows` real rows of `cols` numeric cells (positions implied, no references): 3.2 GB
    of sheet XML in ~3 MB of file."""
    return repeated_rows_xlsx(b"<row>" + b"<c><v>7</v></c>" * cols + b"</row>", rows, lie)


def zip_bomb_xlsx(expanded: int = 3 * GIB, lie: bool = False) -> bytes:
    """The example workbook whose sheet XML expands to `expanded` bytes: the same data row
    over and over. With `lie`, the headers declare 600 bytes instead (readers that trust
    them allocate nothing but then inflate without bound)."""
    parts = example_parts()
    head, tail = parts[SHEET].split(b"</sheetData>")
    unit = b'<row r="40"><c r="B40" t="inlineStr"><is><t>KT01</t></is></c></row>'
    count = max(0, (expanded - len(head) - len(tail) - 12) // len(unit))
    entry = _repeated_deflate(head, unit, count, b"</sheetData>" + tail)
    entry.size = min(entry.size, 0xFFFFFFFF)  # no zip64: a 4 GiB sheet declares 4 GiB - 1
    entry.declared = 600 if lie else entry.size
    return build_xlsx(parts, {SHEET: entry})


# --- enormous sheets ----------------------------------------------------------------------------


def sparse_huge_xlsx(rows: int = 1_000_000, cols: int = 200, declare: bool = True) -> bytes:
    """The example plus one cell at (rows, cols): a few KB spanning rows × cols cells."""
    parts = example_parts()
    last = f"{column_letter(cols - 1)}{rows}"
    sheet = parts[SHEET]
    if declare:
        sheet = re.sub(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:{last}"/>'.encode(),
                       sheet)
    sheet = sheet.replace(b"</sheetData>",
                          f'<row r="{rows}"><c r="{last}"><v>1</v></c></row></sheetData>'.encode())
    parts[SHEET] = sheet
    return build_xlsx(parts)


def far_cell_spelled_xlsx(tag: str, rows: int = 1_000_000, cols: int = 200,
                          sheet_at: str | None = None) -> bytes:
    """The example plus one far cell whose open tag is spelled `tag` (with `{ref}` for its
    reference): XML allows a tab or a line break before an attribute, single quotes, spaces
    around `=`. With `sheet_at`, the sheet is stored under that name instead of
    `xl/worksheets/sheet1.xml` and the workbook's relationship points there."""
    parts = example_parts()
    ref = f"{column_letter(cols - 1)}{rows}"
    cell = tag.format(ref=ref) + "<v>1</v></c>"
    parts[SHEET] = parts[SHEET].replace(
        b"</sheetData>", f'<row r="{rows}">{cell}</row></sheetData>'.encode())
    if sheet_at:
        parts[sheet_at] = parts.pop(SHEET)
        rels = "xl/_rels/workbook.xml.rels"
        target = sheet_at.removeprefix("xl/")
        parts[rels] = parts[rels].replace(b'Target="worksheets/sheet1.xml"',
                                          f'Target="{target}"'.encode())
        parts[rels] = parts[rels].replace(b'Target="/xl/worksheets/sheet1.xml"',
                                          f'Target="/{sheet_at}"'.encode())
        assert target.encode() in parts[rels], parts[rels]
    return build_xlsx(parts)


def dimension_only_xlsx(rows: int = 1_000_000, cols: int = 200) -> bytes:
    """The example whose `<dimension>` claims rows × cols while the cells are the real ones."""
    parts = example_parts()
    parts[SHEET] = re.sub(rb'<dimension ref="[^"]*"\s*/>',
                          f'<dimension ref="A1:{column_letter(cols - 1)}{rows}"/>'.encode(),
                          parts[SHEET])
    return build_xlsx(parts)


def dense_rows_xlsx(rows: int, cols: int, with_refs: bool = True) -> bytes:
    """The example with `rows` more rows of `cols` numeric cells each, streamed into the
    deflater (the file stays small; the sheet really has rows × cols cells)."""
    parts = example_parts()
    head, tail = parts[SHEET].split(b"</sheetData>")
    co = zlib.compressobj(6, zlib.DEFLATED, -15)
    out = [co.compress(head)]
    crc = zlib.crc32(head)
    size = len(head)
    cols_names = [column_letter(c) for c in range(cols)]
    batch: list[bytes] = []
    for r in range(100, 100 + rows):
        if with_refs:
            cells = "".join(f'<c r="{c}{r}"><v>{r % 97}</v></c>' for c in cols_names)
            batch.append(f'<row r="{r}">{cells}</row>'.encode())
        else:
            batch.append(b"<row>" + b"<c><v>7</v></c>" * cols + b"</row>")
        if len(batch) >= 2000:
            data = b"".join(batch)
            out.append(co.compress(data))
            crc, size = zlib.crc32(data, crc), size + len(data)
            batch.clear()
    data = b"".join(batch) + b"</sheetData>" + tail
    out.append(co.compress(data) + co.flush())
    crc, size = zlib.crc32(data, crc), size + len(data)
    return build_xlsx(parts, {SHEET: RawEntry(SHEET, b"".join(out), crc, size)})


# --- XML tricks ---------------------------------------------------------------------------------

LAUGHS = (b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE lolz [\n'
          b' <!ENTITY lol "lol">\n'
          + b"".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
                     .encode() for i in range(1, 10))
          + b"]>\n")
XXE = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
       b'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n')


def entity_xlsx(kind: str, part: str = SHEET) -> bytes:
    """The example with a DOCTYPE declaring entities in `part`, and the entity used in a
    cell (sheet), a shared string, or the sheet name (workbook.xml).

    `kind`: "laughs" (billion laughs: 10^9 "lol"s) or "xxe" (external entity /etc/passwd).
    """
    parts = example_parts()
    prolog, ref = (LAUGHS, b"&lol9;") if kind == "laughs" else (XXE, b"&xxe;")
    xml = parts[part]
    if xml.startswith(b"<?xml"):
        xml = xml.split(b"?>", 1)[1].lstrip()
    if part == SHEET:  # the note (Ghi chú) of KT01: row 10, column H
        xml = _set_cell(xml, "H10", b'<c r="H10" t="inlineStr"><is><t>' + ref + b"</t></is></c>")
    elif part == "xl/workbook.xml":
        xml = re.sub(rb'(<sheet\b[^>]*\bname=")[^"]*"', rb"\1" + ref + b'"', xml, count=1)
    parts[part] = prolog + xml
    return build_xlsx(parts)


# --- macros and formula-like text -----------------------------------------------------------------

MACRO_MARKER = "ioc-macro-ran"


def macro_xlsm(marker_path: Path) -> bytes:
    """A macro-enabled workbook: content type of an .xlsm, a vbaProject.bin whose source
    (as plain text inside it) would create `marker_path` on open, and the relationship."""
    parts = example_parts()
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
        b"application/vnd.ms-excel.sheet.macroEnabled.main+xml").replace(
        b"</Types>", b'<Default Extension="bin" '
        b'ContentType="application/vnd.ms-office.vbaProject"/></Types>')
    parts["xl/_rels/workbook.xml.rels"] = parts["xl/_rels/workbook.xml.rels"].replace(
        b"</Relationships>",
        b'<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/'
        b'vbaProject" Target="vbaProject.bin"/></Relationships>')
    source = (f'Attribute VB_Name = "ThisWorkbook"\r\nPrivate Sub Workbook_Open()\r\n'
              f'  Open "{marker_path}" For Output As #1\r\n  Print #1, "{MACRO_MARKER}"\r\n'
              f'  Close #1\r\n  Shell "sh -c \'touch {marker_path}\'"\r\nEnd Sub\r\n')
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + source.encode()
    return build_xlsx(parts)


def with_cells(cells: dict[str, str | tuple[str, str]]) -> bytes:
    """The example with cells (by reference, e.g. "H9") set to inline text, or to a formula
    with a cached value: ("SUM(1,1)", "2")."""
    parts = example_parts()
    sheet = parts[SHEET]
    for ref, value in cells.items():
        if isinstance(value, tuple):
            formula, cached = value
            new = (f'<c r="{ref}" t="str"><f>{_esc(formula)}</f><v>{_esc(cached)}</v></c>')
        else:
            new = f'<c r="{ref}" t="inlineStr"><is><t>{_esc(value)}</t></is></c>'
        sheet = _set_cell(sheet, ref, new.encode())
    parts[SHEET] = sheet
    return build_xlsx(parts)


def _set_cell(sheet: bytes, ref: str, cell: bytes) -> bytes:
    """Replace cell `ref` of a sheet XML, or append it to the end of its row."""
    pattern = re.compile(rf'<c r="{ref}"[^>]*?(?:/>|>.*?</c>)'.encode(), re.S)
    if pattern.search(sheet):
        return pattern.sub(lambda _m: cell, sheet, count=1)
    row = re.sub(r"[A-Z]+", "", ref)
    rowpat = re.compile(rf'(<row r="{row}"[^>]*>.*?)(</row>)'.encode(), re.S)
    return rowpat.sub(lambda m: m.group(1) + cell + m.group(2), sheet, count=1)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    value = fn(*args, **kwargs)
    return value, time.perf_counter() - t0


# --- .xls and CSV -------------------------------------------------------------------------------

LEGACY_XLS = Path(__file__).parents[1] / "intake" / "data" / "ktxh-01-legacy.xls"


def far_cell_xls() -> bytes:
    """The legacy .xls example with one text cell moved to IV65536 (the format's last cell):
    the same size, but xlrd pads every row of that sheet to 256 columns (16.7M cells)."""
    data = bytearray(LEGACY_XLS.read_bytes())
    at = data.rfind(b"\xfd\x00\x0a\x00")  # the last LABELSST record: row, col, xf, sst index
    assert at > 0
    data[at + 4:at + 8] = struct.pack("<HH", 65535, 255)
    return bytes(data)


def huge_csv(rows: int = 16_000, cols: int = 200) -> bytes:
    """A CSV of rows × cols one-digit cells (3.2M cells in ~6 MB)."""
    line = ";".join(["1"] * cols).encode() + b"\r\n"
    return "Mã chỉ tiêu;Thực hiện tháng\r\n".encode() + line * rows
