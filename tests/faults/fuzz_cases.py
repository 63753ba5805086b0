"""Fuzz cases for the readers, run by `test_fuzz_readers.py` in a child process with a memory
ceiling (a reader that explodes kills the child, not the test run). Not collected on its own.

- sheets of random structure (rows and cells with and without references, far references up
  to XFD1048576, value-less cells): the guard refuses exactly the sheets whose used range is
  over the limit, and calamine never allocates more than the guard measured;
- zip headers that lie (random declared sizes, CRCs, methods): never a crash, never a hang;
- .xls cell records moved anywhere in the format's grid: never a crash, bounded;
- entity declarations in random parts of a workbook: refused or read, /etc/passwd never read.
"""

from __future__ import annotations

import io
import os
import struct
import time
import zipfile
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.intake import zipguard
from ingest.intake.readers import MAX_UNCOMPRESSED, Unreadable
from ingest.intake.validate import FileContext, check_bytes
from tests.security import hostile as h

NOW = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)
EXAMPLES = int(os.environ.get("IOC_FUZZ_EXAMPLES", "150"))
CTX = {ext: FileContext(f"KTXH-01_xa-hiep-thuan_2024-10{ext}", "xa-hiep-thuan")
       for ext in (".xlsx", ".xls")}
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=False,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
COUNTS: dict[str, int] = {}


def _count(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


coordinate = st.one_of(st.integers(1, 40), st.integers(1, 1_048_576))
column = st.one_of(st.integers(1, 12), st.integers(1, 16_384))
cell = st.tuples(
    st.one_of(st.none(), st.tuples(coordinate, column)),  # explicit reference or implied
    st.sampled_from(["value", "value", "empty", "open-close"]))
row = st.tuples(st.one_of(st.none(), coordinate), st.lists(cell, max_size=6))
sheet = st.lists(row, max_size=10)


def _model(rows) -> tuple[int, int]:
    """Largest row and column holding a value, placed as calamine places cells."""
    r = c = max_r = max_c = 0
    for row_ref, cells in rows:
        r = row_ref if row_ref else r + 1
        c = 0
        for ref, kind in cells:
            if ref:
                cr, c = ref
            else:
                cr, c = r, c + 1
            if kind != "empty":
                max_r, max_c = max(max_r, cr), max(max_c, c)
    return max_r, max_c


def _xml(rows) -> bytes:
    parts = []
    for row_ref, cells in rows:
        out = [f'<row r="{row_ref}">' if row_ref else "<row>"]
        for ref, kind in cells:
            attr = f' r="{h.col_name(ref[1] - 1)}{ref[0]}"' if ref else ""
            out.append({"value": f"<c{attr}><v>1</v></c>", "empty": f'<c{attr} s="1"/>',
                        "open-close": f"<c{attr}><v>2</v></c>"}[kind])
        parts.append("".join(out) + "</row>")
    return "".join(parts).encode()


@FUZZ
@given(rows=sheet)
def test_guard_measures_the_range_calamine_allocates(rows) -> None:
    import python_calamine as pc

    _count("random sheet structures")
    parts = h.example_parts()
    head, rest = parts[h.SHEET].split(b"<sheetData>")
    parts[h.SHEET] = head + b"<sheetData>" + _xml(rows) + b"</sheetData>" + \
        rest.split(b"</sheetData>", 1)[1]
    data = h.build_xlsx(parts)
    max_r, max_c = _model(rows)
    try:
        zipguard.check_workbook(data, zipfile.ZipFile(io.BytesIO(data)), MAX_UNCOMPRESSED)
    except Unreadable as exc:
        assert exc.code == "too_large" and max_r * max_c > zipguard.MAX_SHEET_CELLS, (
            max_r, max_c, exc.reason)
        return
    assert max_r * max_c <= zipguard.MAX_SHEET_CELLS
    wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(data))
    s = wb.get_sheet_by_name(wb.sheet_names[0])
    if s.end is not None:  # what calamine allocated is within what the guard measured
        assert (s.end[0] + 1) * (s.end[1] + 1) <= max_r * max_c


@FUZZ
@given(declared=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=9),
       crcs=st.lists(st.integers(0, 2**32 - 1), max_size=9),
       method=st.sampled_from([0, 8, 8, 8, 9, 12, 14, 93, 99]))
def test_lying_zip_headers_never_crash(declared, crcs, method) -> None:
    _count("zip headers with random sizes, CRCs, methods")
    entries = []
    for i, (name, data) in enumerate(h.example_parts().items()):
        e = h.deflate(data)
        e.name = name.encode()
        if i < len(declared):
            e.declared = declared[i]
        if i < len(crcs):
            e.crc = crcs[i]
        entries.append(e)
    data = bytearray(h.write_zip(entries))
    if method != 8:  # the first member's method, in its local header and the directory
        data[8:10] = struct.pack("<H", method)
    t0 = time.monotonic()
    out = check_bytes(bytes(data), CTX[".xlsx"], now=NOW)
    assert time.monotonic() - t0 < 30
    assert out.accepted == (not out.problems.errors)
    assert all(p.message for p in out.problems.errors)


@settings(FUZZ, max_examples=max(10, EXAMPLES // 5))  # xlrd pads a far cell's sheet: ~1 s each
@given(moves=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 65535),
                                st.integers(0, 255)), min_size=1, max_size=6))
def test_xls_cells_moved_anywhere_never_crash(moves) -> None:
    _count(".xls cell records moved in the grid")
    data = bytearray(h.LEGACY_XLS.read_bytes())
    records = [i for i in range(len(data) - 8) if data[i:i + 4] in (
        b"\xfd\x00\x0a\x00", b"\x7e\x02\x0a\x00", b"\x03\x02\x0e\x00")]
    for pick, r, c in moves:
        at = records[pick % len(records)]
        data[at + 4:at + 8] = struct.pack("<HH", r, c)
    t0 = time.monotonic()
    out = check_bytes(bytes(data), CTX[".xls"], now=NOW)
    assert time.monotonic() - t0 < 30
    assert out.accepted == (not out.problems.errors)


PARTS = ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml",
         "xl/_rels/workbook.xml.rels", "xl/styles.xml", "docProps/core.xml"]
DECLS = [b'<!ENTITY x SYSTEM "file:///etc/passwd">', b'<!ENTITY % p SYSTEM "file:///etc/passwd">',
         b'<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">',
         b'<!ENTITY x SYSTEM "http://127.0.0.1:9/x">', b"<!ELEMENT r ANY>"]


@FUZZ
@given(part=st.sampled_from(PARTS), decls=st.lists(st.sampled_from(DECLS), min_size=1,
                                                     max_size=3),
       use=st.sampled_from([b"&x;", b"&b;", b"%p;", b""]))
def test_entity_declarations_anywhere_never_read_files(part, decls, use) -> None:
    _count("entity declarations in random workbook parts")
    parts = h.example_parts()
    xml = parts[part]
    if xml.startswith(b"<?xml"):
        xml = xml.split(b"?>", 1)[1]
    root = xml.lstrip()[1:].split(maxsplit=1)[0].split(b">")[0]
    xml = b"<!DOCTYPE " + root + b" [" + b"".join(decls) + b"]>" + xml
    if use and part == h.SHEET:
        xml = xml.replace(b"<t>KT01</t>", b"<t>KT01" + use + b"</t>", 1)
    parts[part] = xml
    out = check_bytes(h.build_xlsx(parts), CTX[".xlsx"], now=NOW)
    text = repr(out.records) + repr([p.message for p in out.problems.items])
    assert "root:x:0:0" not in text
