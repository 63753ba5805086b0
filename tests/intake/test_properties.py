"""Property-based: arbitrary bytes and arbitrary cell contents never crash the engine, never
hang, and a refused file never loads anything."""

from __future__ import annotations

import io
import random
import string
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.intake.engine import ingest_paths
from ingest.intake.readers import OLE_MAGIC, ZIP_MAGIC
from ingest.intake.validate import FileContext, check_bytes
from tests.intake.builders import KTXH_VALUES, csv_bytes, ktxh_sheet, ktxh_table, write_xlsx
from tests.intake.conftest import NOW

EXTENSIONS = [".xlsx", ".xlsm", ".xls", ".csv", ".pdf", ""]
CTX = {ext: FileContext(f"KTXH-01_xa-hiep-thuan_2024-10{ext}", "xa-hiep-thuan")
       for ext in EXTENSIONS}


def _valid_xlsx() -> bytes:
    buf = io.BytesIO()
    path = Path("/tmp") / f"prop-{random.random()}.xlsx"
    write_xlsx(path, ktxh_sheet())
    buf.write(path.read_bytes())
    path.unlink()
    return buf.getvalue()


VALID_XLSX = _valid_xlsx()


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    out = bytearray(data)
    for pos, byte in edits:
        out[pos % len(out)] = byte
    return bytes(out)


raw_bytes = st.one_of(
    st.binary(max_size=4096),
    st.binary(max_size=2048).map(lambda b: ZIP_MAGIC + b),
    st.binary(max_size=2048).map(lambda b: OLE_MAGIC + b),
    st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=20)
    .map(lambda edits: _mutate(VALID_XLSX, edits)),
    st.binary(max_size=2048).map(lambda b: VALID_XLSX[: len(b) * 3 + 30]),
)


@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
@given(data=raw_bytes, ext=st.sampled_from(EXTENSIONS))
def test_arbitrary_bytes_never_crash(data: bytes, ext: str) -> None:
    out = check_bytes(data, CTX[ext], now=NOW)
    if not out.accepted:
        assert out.problems.errors and all(p.message for p in out.problems.errors)
        return
    assert out.records  # accepted only with records (e.g. a mutation that kept the file valid)


cell_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=30)
cell = st.one_of(st.none(), cell_text, st.integers(-10**12, 10**12),
                 st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                 st.sampled_from(["1.234,5", "98,5", "-", "1 234", "(5)", "12.5.6", "KT01",
                                  "Tổng cộng", "ngày 03 tháng 11 năm 2024", "CHỦ TỊCH"]))


@settings(max_examples=150, deadline=5000)
@given(cells=st.lists(st.lists(cell, min_size=1, max_size=8), max_size=25),
       delimiter=st.sampled_from([",", ";"]), keep_rows=st.integers(0, 17))
def test_arbitrary_csv_cells_never_crash(cells, delimiter: str, keep_rows: int) -> None:
    header = ["Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Kế hoạch năm", "Thực hiện tháng",
              "Lũy kế từ đầu năm", "Ghi chú"]
    good = [[c, n, u, p, m, y, None] for c, n, u, p, m, y in KTXH_VALUES[:keep_rows]]
    data = csv_bytes([header, *good, *cells], delimiter=delimiter)
    out = check_bytes(data, CTX[".csv"], now=NOW)
    assert out.accepted == (not out.problems.errors)
    if not out.accepted:
        assert all(p.message for p in out.problems.errors)


_XML_SAFE = st.text(alphabet=st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"), max_size=25)
xlsx_cell = st.one_of(st.none(), _XML_SAFE, st.integers(-10**9, 10**9),
                      st.floats(allow_nan=False, allow_infinity=False), st.booleans())


@settings(max_examples=60, deadline=10000, suppress_health_check=[HealthCheck.too_slow])
@given(values=st.lists(xlsx_cell, min_size=17, max_size=17),
       extra=st.lists(st.lists(xlsx_cell, max_size=8), max_size=5), tmp=st.just(None))
def test_arbitrary_xlsx_values_never_crash(values, extra, tmp, tmp_path_factory) -> None:
    rows = [(c, n, u, p, v, y) for (c, n, u, p, _m, y), v in zip(KTXH_VALUES, values, strict=True)]
    sheet = ktxh_sheet(table=ktxh_table(rows) + extra)
    path = tmp_path_factory.mktemp("prop") / "k.xlsx"
    write_xlsx(path, sheet)
    out = check_bytes(path.read_bytes(), CTX[".xlsx"], now=NOW)
    assert out.accepted == (not out.problems.errors)
    if out.accepted:
        assert len(out.records) >= 9  # every required indicator was read


@pytest.fixture(scope="module")
def property_db(warehouse_settings, tmp_path_factory):
    """One database for the whole property run (a fresh one per example would be too slow)."""
    import uuid

    from psycopg import sql

    from ioc import warehouse

    name = f"t_prop_{uuid.uuid4().hex[:8]}"
    admin = warehouse.url(warehouse_settings, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield warehouse.url(warehouse_settings, name), tmp_path_factory.mktemp("prop-ingest")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))


@settings(max_examples=40, deadline=10000,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=raw_bytes, ext=st.sampled_from(EXTENSIONS),
       name=st.text(alphabet=string.ascii_letters + string.digits + "-_ ", min_size=1,
                    max_size=20))
def test_refused_files_load_nothing(data: bytes, ext: str, name: str, property_db) -> None:
    url, tmp = property_db
    path = tmp / "intake" / "xa-hiep-thuan" / f"{name.strip() or 'x'}{ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    [result] = ingest_paths([path], conninfo=url, archive_dir=tmp / "archive",
                            intake_root=tmp / "intake", now=NOW, feedback=False)
    with psycopg.connect(url) as conn:
        loaded = conn.execute("select count(*) from raw_intake.ktxh01_value where file_id = %s",
                              (result.file_id,)).fetchone()[0]
        status = conn.execute("select status from raw_intake.file_manifest where file_id = %s",
                              (result.file_id,)).fetchone()[0]
    assert status == result.status
    if result.status == "rejected":
        assert loaded == 0
    elif result.status == "accepted":
        assert loaded == len(result.records) > 0


gd_cell = st.one_of(st.none(), cell_text, st.integers(-10**20, 10**20),
                    st.sampled_from(["Hiệp Thuận", "TT Tân Bình", "Có", "x", "THCS", "Mầm non",
                                     "1.234", "99999999999999999999", "-1", "\\N", "a\tb",
                                     "\\", "Tổng cộng"]))


@settings(max_examples=40, deadline=10000,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(gd_cell, min_size=12, max_size=12), min_size=1, max_size=8))
def test_arbitrary_school_rows_load_or_are_refused(rows, property_db) -> None:
    """GD-01 rows of arbitrary content: either refused with nothing loaded, or loaded whole
    (the warehouse accepts every value the checks let through)."""
    url, tmp = property_db
    header = ["Mã trường", "Tên trường", "Cấp học", "Xã, thị trấn", "Số lớp", "Số học sinh",
              "Trong đó nữ", "Học sinh dân tộc thiểu số", "Học sinh bỏ học trong kỳ",
              "Số giáo viên", "Số phòng học kiên cố", "Đạt chuẩn quốc gia"]
    path = tmp / "intake" / "phong-gddt" / f"GD-01_2024-HK1_{random.random()}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(csv_bytes([header, *rows], delimiter=";"))
    [result] = ingest_paths([path], conninfo=url, archive_dir=tmp / "archive",
                            intake_root=tmp / "intake", now=NOW, feedback=False)
    assert not any(e["code"] == "internal_error" for e in result.errors), result.errors
    with psycopg.connect(url) as conn:
        loaded = conn.execute("select count(*) from raw_intake.gd01_school where file_id = %s",
                              (result.file_id,)).fetchone()[0]
    assert loaded == (len(result.records) if result.status == "accepted" else 0)
