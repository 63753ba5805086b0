"""The public page's schema `cong_khai` (issue 19): built by dbt from the demo world's marts,
aggregates only, read by the role `ioc_public` — which reads nothing else.

No personal data: no column of the schema is a personal or record-identifying field, and no
text value in it is any of the names, phone numbers, ID numbers, addresses or titles kept in
`restricted` (the personal data the agency connectors keep apart).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import psycopg
import pytest
from psycopg import sql

from ioc import warehouse
from tests.security.conftest import connect_as

SCHEMA = warehouse.PUBLIC_SCHEMA
TABLES = {"ck_chi_so_thang", "ck_phan_anh_thang"}
RECORD_FIELDS = {"ma_ho_so", "ma_van_ban", "ma_phan_anh", "tieu_de", "ho_ten", "so_dien_thoai",
                 "so_cccd", "dia_chi", "email", "noi_dung", "trich_yeu", "file_id"}


@pytest.fixture(scope="module")
def public_world(mart_world, warehouse_url):
    """The demo world's warehouse: `ioc_public` is made with the warehouse (ioc/warehouse.py),
    so dbt's access sweep has granted it the schema when the marts were built."""
    return warehouse_url


def _columns(url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where table_schema = %s order by 1, ordinal_position", (SCHEMA,)).fetchall()


def test_the_public_schema_holds_aggregates_only(public_world):
    columns = _columns(public_world)
    assert {t for t, _, _ in columns} == TABLES
    assert not {c for _, c, _ in columns} & RECORD_FIELDS
    with psycopg.connect(public_world) as conn:
        personal = set()
        for table in conn.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'restricted'").fetchall():
            for (column,) in conn.execute(
                    "select column_name from information_schema.columns where table_schema = "
                    "'restricted' and table_name = %s and data_type = 'text'", table).fetchall():
                personal |= {v for (v,) in conn.execute(
                    sql.SQL("select distinct {} from {} where {} is not null").format(
                        sql.Identifier(column), sql.Identifier("restricted", table[0]),
                        sql.Identifier(column)))}
        assert personal, "the demo world keeps personal data in restricted"
        for table, column, kind in columns:
            if kind != "text":
                continue
            values = {v for (v,) in conn.execute(sql.SQL("select distinct {} from {}").format(
                sql.Identifier(column), sql.Identifier(SCHEMA, table)))}
            assert not values & personal, f"{table}.{column}"


def test_public_rates_are_the_overview_rates_recomputed_from_their_parts(public_world):
    with psycopg.connect(public_world) as conn:
        rows = conn.execute(
            f"select p.tu_so, p.mau_so, p.gia_tri, k.value, k.scale "
            f"from {SCHEMA}.ck_chi_so_thang p join mart_tong_quan.fct_kpi_thang k "
            "on k.structure_view = 'current_structure' and k.org_unit_id = p.ma_don_vi "
            "and k.unit_level = p.cap and k.period_month = p.thang "
            "and k.kpi_code = p.ma_chi_so").fetchall()
        total = conn.execute(f"select count(*) from {SCHEMA}.ck_chi_so_thang").fetchone()[0]
        codes = {c for (c,) in conn.execute(
            f"select distinct ma_chi_so from {SCHEMA}.ck_chi_so_thang")}
        answered = conn.execute(
            f"select sum(tiep_nhan), sum(da_tra_loi) from {SCHEMA}.ck_phan_anh_thang").fetchone()
        # counted again from the case mart: each item received once, answered once
        cases = conn.execute(
            "select count(*), count(*) filter (where is_resolved and closed_month is not null) "
            "from mart_phan_anh_kien_nghi.fct_phan_anh where org_unit_id is not null").fetchone()
    assert total == len(rows) > 0
    assert {"hcc_dung_han", "pakn_dung_han"} <= codes and "hcc_qua_han_dang_xu_ly" not in codes
    for tu_so, mau_so, gia_tri, value, scale in rows:
        if mau_so:
            exact = tu_so * scale / mau_so
            # PostgreSQL rounds half away from zero, as people do (81.25 → 81.3)
            assert gia_tri == exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            assert abs(value - exact) < Decimal("0.01")  # the overview's value, same parts
        else:
            assert gia_tri is None
    assert answered == cases and cases[1] > 0


def test_the_public_role_reads_the_public_schema_and_nothing_else(public_world,
                                                                   warehouse_settings):
    with connect_as(public_world, warehouse.PUBLIC_ROLE, warehouse_settings,
                    autocommit=True) as conn:
        for table in TABLES:
            assert conn.execute(f"select count(*) from {SCHEMA}.{table}").fetchone()[0] > 0
        for forbidden in ("mart_tong_quan.fct_kpi_thang", "mart_phan_anh_kien_nghi.fct_phan_anh",
                          "restricted.phan_anh_ca_nhan", "raw_agency.phan_anh",
                          "access.unit_scope"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {forbidden} limit 1")
