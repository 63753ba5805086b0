"""Large sheets are read and checked as columns (columnar.py, fastrows.py): the outcome must be
the row-by-row outcome, record for record and problem for problem.

Every case is judged twice — once with the row reader, once with the columnar one forced on
(a head of a few rows, no minimum size) — and the two outcomes compared. The string helpers
are compared with the Python functions on every character where they are vectorised.
"""

from __future__ import annotations

import random
import sys
import unicodedata
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.intake import readers
from ingest.intake.columnar import (
    PY_WHITESPACE,
    SAFE_ALPHABET,
    fold_strings,
    strip_accents_strings,
    unsplit_mask,
)
from ingest.intake.records import ColumnBlock, Records
from ingest.intake.store import _copy_dicts, _string_buffer
from ingest.intake.text import fold, strip_accents
from ingest.intake.validate import FileContext, check_bytes
from tests.intake.builders import FOOTER, GD_HEADER, csv_bytes, gd_sheet, hcc_sheet, write_xlsx
from tests.intake.conftest import NOW

GD_CTX = FileContext("GD-01_phong-gddt_2024-HK1.csv", "phong-gddt")


def _judge(data: bytes, ctx: FileContext, monkeypatch: pytest.MonkeyPatch, head: int | None):
    """check_bytes with the row reader (head None) or the columnar one (head rows kept)."""
    if head is None:
        monkeypatch.setattr(readers, "COLUMNAR_MIN_ROWS", 10**9)
    else:
        monkeypatch.setattr(readers, "HEAD_ROWS", head)
        monkeypatch.setattr(readers, "COLUMNAR_MIN_ROWS", 0)
    return check_bytes(data, ctx, now=NOW)


def _same(data: bytes, ctx: FileContext, monkeypatch: pytest.MonkeyPatch, head: int) -> Any:
    rows = _judge(data, ctx, monkeypatch, None)
    cols = _judge(data, ctx, monkeypatch, head)
    assert (cols.form, cols.org_unit_id, cols.period) == (rows.form, rows.org_unit_id,
                                                          rows.period)
    assert cols.problems.items == rows.problems.items
    assert list(cols.records) == list(rows.records)
    for a, b in zip(cols.records, rows.records, strict=True):  # same Python types too
        assert [type(v) for v in a.values()] == [type(v) for v in b.values()]
    return cols


# --- the string helpers ------------------------------------------------------------------------

def test_whitespace_is_pythons() -> None:
    assert "".join(c for c in map(chr, range(sys.maxunicode + 1))
                                    if c.isspace()) == PY_WHITESPACE


def test_fold_and_strip_accents_on_every_character() -> None:
    every = [chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000]  # the BMP
    every += [chr(c) for c in range(0x10000, sys.maxunicode + 1, 97)]  # and a sample beyond
    assert fold_strings(pa.array(every)).to_pylist() == [fold(c) for c in every]
    assert strip_accents_strings(pa.array(every)).to_pylist() == [strip_accents(c)
                                                                  for c in every]
    ascii_chars = [chr(c) for c in range(128)] + ["A-b_C 1.2", " x\ty "]  # the ASCII shortcut
    assert fold_strings(pa.array(ascii_chars)).to_pylist() == [fold(c) for c in ascii_chars]
    # a character of the safe alphabet folds to at most one letter or digit (totals prefilter)
    assert all(len(fold(c)) <= 1 for c in SAFE_ALPHABET)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(SAFE_ALPHABET + "\u0301\u00a0\t\n\u2009ß"),
                        max_size=15), max_size=40))
def test_fold_and_split_of_texts(texts: list[str]) -> None:
    assert fold_strings(pa.array(texts)).to_pylist() == [fold(t) for t in texts]
    stripped = [t.strip() for t in texts]  # cells are stripped when read
    assert unsplit_mask(pa.array(stripped)).tolist() == [" ".join(t.split()) != t
                                                         for t in stripped]


# --- the readers ---------------------------------------------------------------------------------

CELL = st.one_of(
    st.sampled_from(["", " ", "Có", "Hiệp Thuận", "1.234,5", "12", "  x  ", "Tổng cộng",
                     unicodedata.normalize("NFD", "Trường Mẫu giáo"), "a\u00a0b", "\u037e"]),
    st.text(alphabet=st.sampled_from("ab ;,\t\"\r\n\u0301é\x00"), max_size=6),
)


def _rows_equal(a: list[list[Any]], b: list[list[Any]]) -> bool:
    """Equal up to trailing empty cells (an empty CSV line is [] or [None]*width)."""
    def norm(row: list[Any]) -> list[Any]:
        row = list(row)
        while row and row[-1] is None:
            row.pop()
        return row
    return len(a) == len(b) and all(norm(x) == norm(y) for x, y in zip(a, b, strict=True))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, max_size=6), min_size=1, max_size=30),
       delimiter=st.sampled_from([";", ",", "\t"]), ending=st.sampled_from(["\r\n", "\n", "\r"]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "cp1258"]), head=st.integers(0, 5),
       ragged=st.booleans())
def test_csv_body_read_as_by_csv_module(rows, delimiter, ending, encoding, head, ragged,
                                        monkeypatch) -> None:
    lines = []
    for row in rows:
        cells = [c for c in row if c != "\u037e" or encoding != "cp1258"]
        if not ragged:
            cells = (cells + [""] * 6)[:6]
        lines.append(delimiter.join(cells))
    text = ending.join(lines) + ending
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    monkeypatch.setattr(readers, "COLUMNAR_MIN_ROWS", 10**9)
    try:
        expected = readers.read_book(data, ".csv").sheets[0].rows
    except readers.Unreadable as exc:
        expected = exc.code
    monkeypatch.setattr(readers, "HEAD_ROWS", head)
    monkeypatch.setattr(readers, "COLUMNAR_MIN_ROWS", 0)
    try:
        got = list(readers.read_book(data, ".csv").sheets[0].rows)
    except readers.Unreadable as exc:
        got = exc.code
    if isinstance(expected, str) or isinstance(got, str):
        assert got == expected
    else:
        assert _rows_equal(got, expected)


def test_decode_says_where_the_utf8_text_is() -> None:
    assert readers._decode("Trường;ạ\r\n".encode()) == ("Trường;ạ\r\n", 0)
    assert readers._decode(b"\xef\xbb\xbfa;\xc3\xa9") == ("a;é", 3)
    assert readers._decode(b"\xef\xbb\xbfa;\xff") == ("a;\ufffd", None)  # bytes replaced
    assert readers._decode("a;ư".encode("cp1258"))[1] is None
    assert readers._decode("a;b".encode("utf-16"))[1] is None


@pytest.mark.parametrize("variant", ["utf-8", "utf-8-sig", "bad-byte", "nfd", "nbsp", "cp1258"])
def test_csv_body_from_the_file_bytes(variant, monkeypatch) -> None:
    """The body goes to Arrow as the file's own bytes when they are the text's UTF-8; every
    other case (replaced bytes, text changed by the normalising, another encoding) encodes
    the normalised text: the rows are those of the csv module either way."""
    rows = [[f"S{i}", "Trường số " + str(i), "Mầm non", str(i)] for i in range(60)]
    if variant == "nfd":
        rows[50][1] = unicodedata.normalize("NFD", rows[50][1])
    if variant == "nbsp":
        rows[55][2] = "Mầm\u00a0non"
    text = "".join(";".join(r) + "\r\n" for r in rows)
    data = text.encode("cp1258", errors="replace") if variant == "cp1258" else text.encode()
    if variant != "utf-8":
        data = b"\xef\xbb\xbf" + data if variant != "cp1258" else data
    if variant == "bad-byte":
        data = data.replace(b"S57;", b"S5\xff;")
    seen = []
    arrow_csv = readers._arrow_csv
    monkeypatch.setattr(readers, "_arrow_csv", lambda body, delim, encoded=None: (
        seen.append(encoded is not None), arrow_csv(body, delim, encoded))[1])
    monkeypatch.setattr(readers, "COLUMNAR_MIN_ROWS", 10**9)
    expected = readers.read_book(data, ".csv").sheets[0].rows
    monkeypatch.setattr(readers, "HEAD_ROWS", 3)
    monkeypatch.setattr(readers, "COLUMNAR_MIN_ROWS", 0)
    sheet = readers.read_book(data, ".csv").sheets[0]
    assert sheet.body is not None
    assert seen == [variant in ("utf-8", "utf-8-sig")]
    assert _rows_equal(list(sheet.rows), expected)
    if variant == "bad-byte":
        assert sheet.rows[57][0] == "S5\ufffd"


# --- whole files, judged both ways -------------------------------------------------------------

COMMUNES = ["Hiệp Thuận", "xã Hiệp Hòa", "TT Tân Bình", "Quế Thọ", "Bình Lâm", "Sông Trà",
            "Thị trấn Tân Bình", "Không Có Xã", "Quế Tân", ""]
LEVELS = ["Mầm non", "Tiểu học", "THCS", "MN", "Cấp 2", "Đại học", ""]
BOOLS = ["Có", "Không", "x", "", "-", "có lẽ", "1"]


def _number(rng: random.Random, text: bool) -> Any:
    roll = rng.random()
    if roll < 0.8:
        value = rng.randint(0, 900)
        return str(value) if text else value
    return rng.choice(["1.234", "12a", "-5", 3.5, "", "-", "(7)", "9999999999999999", " 12 ",
                       "1 234", 1e16, -2, "0", 0.0, "12,0", True])


def _schools(rng: random.Random, n: int, text: bool, defects: float) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for i in range(n):
        pupils = rng.randint(50, 900)
        row: list[Any] = [f"S{i:04d}", f"Trường số {i}", rng.choice(LEVELS[:3]),
                          rng.choice(COMMUNES[:6]), rng.randint(3, 30), pupils, pupils // 2,
                          rng.randint(0, pupils // 3), rng.randint(0, 5), rng.randint(5, 60),
                          rng.randint(0, 30), rng.choice(["Có", "Không"])]
        if rng.random() < defects:
            col = rng.randrange(12)
            if col == 0:
                row[0] = rng.choice([f"S{rng.randrange(max(i, 1)):04d}", "", "S 01", "S  01",
                                     "Tổng cộng", 1234, "s0001"])
            elif col == 1:
                row[1] = rng.choice(["", "Tổng số", unicodedata.normalize("NFD", "Trường Ánh"),
                                     "Trường\nA", "I. MẦM NON"])
            elif col == 2:
                row[2] = rng.choice(LEVELS)
            elif col == 3:
                row[3] = rng.choice(COMMUNES)
            elif col == 11:
                row[11] = rng.choice(BOOLS)
            else:
                row[col] = _number(rng, text)
        if rng.random() < defects / 3:
            row[6] = pupils + 1  # girls > pupils
        if rng.random() < defects / 4:
            row = [None] * 12 if rng.random() < 0.5 else ["I. TIỂU HỌC"] + [None] * 11
        if text:
            row = ["" if v is None else str(v) for v in row]
        rows.append(row)
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), n=st.integers(1, 60), head=st.integers(1, 12),
       defects=st.sampled_from([0.0, 0.05, 0.3]), footer=st.booleans(),
       delimiter=st.sampled_from([";", ","]))
def test_gd01_csv_same_both_ways(seed, n, head, defects, footer, delimiter, monkeypatch) -> None:
    rng = random.Random(seed)
    rows = gd_sheet(_schools(rng, n, True, defects)) + (FOOTER if footer else [])
    if rng.random() < 0.3:
        rows.insert(rng.randrange(8, len(rows) + 1), ["Tổng cộng"] + [""] * 11)
    _same(csv_bytes(rows, delimiter=delimiter), GD_CTX, monkeypatch, head)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), n=st.integers(1, 40), head=st.integers(1, 12),
       defects=st.sampled_from([0.0, 0.1, 0.4]), sheets=st.integers(1, 3))
def test_gd01_xlsx_same_both_ways(seed, n, head, defects, sheets, tmp_path, monkeypatch) -> None:
    rng = random.Random(seed)
    books = []
    hidden: dict[str, list[int]] = {}
    for name in ["Mầm non", "Tiểu học", "THCS"][:sheets]:
        rows = gd_sheet(_schools(rng, n, False, defects))
        if rng.random() < 0.5:
            rows = [r[:2] + r[3:] if len(r) > 3 else r for r in rows]  # level from sheet name
        books.append((name, rows + (FOOTER if rng.random() < 0.5 else [])))
        if rng.random() < 0.4:
            hidden[name] = [9 + rng.randrange(n) for _ in range(2)]
    path = write_xlsx(tmp_path / "GD-01_phong-gddt_2024-HK1.xlsx", books, hidden_rows=hidden)
    ctx = FileContext(path.name, "phong-gddt")
    _same(path.read_bytes(), ctx, monkeypatch, head)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), head=st.integers(1, 14), total=st.booleans())
def test_hcc06_same_both_ways(seed, head, total, tmp_path, monkeypatch) -> None:
    rng = random.Random(seed)
    rows = [[i + 1, f"Lĩnh vực {i}", *[rng.randint(0, 50) for _ in range(11)]]
            for i in range(rng.randint(1, 25))]
    for r in rows:
        if rng.random() < 0.7:  # mostly consistent rows
            r[2] = r[3] + r[4] + r[5]
            r[6] = r[7] + r[8] + r[9]
            r[10] = r[11] + r[12]
    sheet = hcc_sheet(rows, total=total)
    first = sheet.index(rows[0]) if rows[0] in sheet else 9
    for r in sheet[first:first + len(rows)]:
        if rng.random() < 0.1:
            r[rng.randrange(2, 13)] = rng.choice(["", "x", -1, 2.5, "1.000"])
    if total and rng.random() < 0.5:
        sheet[-len(FOOTER) - 1][2] = 999  # total row that does not add up
    path = write_xlsx(tmp_path / "HCC-06_xa-binh-lam_2024-10.xlsx", sheet)
    ctx = FileContext(path.name, "xa-binh-lam")
    _same(path.read_bytes(), ctx, monkeypatch, head)


def test_large_csv_is_columnar_by_default_and_loads_the_same_text(monkeypatch) -> None:
    rng = random.Random(5)
    rows = gd_sheet(_schools(rng, 3000, True, 0.0)) + FOOTER
    data = csv_bytes(rows, delimiter=";", bom=True)
    out = check_bytes(data, GD_CTX, now=NOW)
    assert isinstance(out.records, Records) and len(out.records) == 3000 and out.accepted
    assert any(isinstance(b, ColumnBlock) for b in out.records.blocks)
    block = next(b for b in out.records.blocks if isinstance(b, ColumnBlock))
    from ingest.intake.contracts import load_contracts

    load = list(load_contracts()["GD-01"].load)
    expected = _CopyBuffer()
    _copy_dicts(expected, block.dicts(), 42, load, 1000)
    got = bytes(_string_buffer(block.copy_text(42, load)))
    assert got == b"".join(expected.parts)
    rows_mode = _judge(data, GD_CTX, monkeypatch, None)
    assert list(out.records) == list(rows_mode.records)


class _CopyBuffer:
    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.parts.append(bytes(data))


def test_copy_text_of_every_type() -> None:
    block = ColumnBlock(
        ("a", "b", "c", "d", "e"),
        {"a": pa.array(["x\ty", None, "back\\slash\r\n"]), "b": pa.array([1, None, -3]),
         "c": pa.array([True, False, None]), "d": [Decimal("1.50"), None, Decimal(0)],
         "e": pa.nulls(3)},
        "Trang 1", __import__("numpy").array([7, 8, 9]))
    expected = _CopyBuffer()
    _copy_dicts(expected, block.dicts(), 3, ["a", "b", "c", "d", "e"], 2)
    assert bytes(_string_buffer(block.copy_text(3, ["a", "b", "c", "d", "e"]))) == \
        b"".join(expected.parts)
    assert Records([block]) == block.dicts() and Records([block])[2]["d"] == Decimal(0)


def test_copy_text_of_slices() -> None:
    """The store writes a column block's COPY text slice by slice: each slice's text is that
    of its own rows (escapes found in the slice, not elsewhere in the column), and the
    slices end to end are the whole block's text."""
    texts = ["plain", "x\ty", None, "back\\slash", "", "ok", "line\nbreak", "z"] * 5
    sheet_name = "Trang\t1"
    block = ColumnBlock(("a", "n"), {"a": pa.array(texts), "n": pa.array(range(len(texts)))},
                        sheet_name, __import__("numpy").arange(10, 10 + len(texts)))
    expected = _CopyBuffer()
    _copy_dicts(expected, block.dicts(), 5, ["a", "n"], 1)
    for step in (1, 2, 3, 7, len(texts)):
        parts = [bytes(_string_buffer(block.slice(i, min(i + step, len(block)))
                                      .copy_text(5, ["a", "n"])))
                 for i in range(0, len(block), step)]
        assert b"".join(parts) == b"".join(expected.parts)
        if step == 1:
            assert parts == expected.parts


def test_records_sequence() -> None:
    block = ColumnBlock(("a",), {"a": pa.array([1, 2])}, "S", __import__("numpy").array([3, 4]))
    recs = Records([[{"a": 0, "source_sheet": "S", "source_row": 2}], block])
    assert len(recs) == 3 and recs[-1] == {"a": 2, "source_sheet": "S", "source_row": 4}
    assert recs[1:] == [recs[1], recs[2]] and recs.source_rows("S") == {2, 3, 4}
    assert recs == list(recs) and recs != [] and Records() == []


def test_gd01_header_row_in_the_body(monkeypatch) -> None:
    """The header found below the head rows (header search reads the body's rows)."""
    rows = [["x"]] * 3 + gd_sheet(_schools(random.Random(1), 20, True, 0.2))
    _same(csv_bytes(rows, delimiter=";"), GD_CTX, monkeypatch, 1)


def test_gd_header_constant() -> None:  # the generator above follows the builders' header
    assert len(GD_HEADER) == 12


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.from_regex(r"[-+]?[0-9]{0,20}", fullmatch=True),
                          st.text(alphabet="0123456789-+ .,()٣", max_size=8)), max_size=30))
def test_plain_integers_read_as_parse_number(texts: list[str | None]) -> None:
    from ingest.intake.columnar import Column
    from ingest.intake.fastrows import _digits
    from ingest.intake.text import NotANumber, parse_number

    cells = [t.strip() or None if t is not None else None for t in texts]
    ok, values = _digits(Column.of_strings(pa.array(cells, pa.string())))
    for cell, good, value in zip(cells, ok.tolist(), values.tolist(), strict=True):
        if good:
            try:
                assert parse_number(cell) == value
            except NotANumber:
                raise AssertionError(cell) from None
