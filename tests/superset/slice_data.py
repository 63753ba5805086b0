"""A few known rows in `mart_kinh_te_xa_hoi.fct_chi_tieu_thang`, as dbt would build them.

The Superset tests create the mart table themselves (they do not run dbt) and grant
`ioc_bi` what dbt's `grant_bi_reader` macro grants: usage on the schema, select on its
tables. A raw table (`raw_intake.superset_probe`) is created too, so a test can show that
`ioc_bi` cannot read it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import psycopg

SCHEMA = "mart_kinh_te_xa_hoi"
TABLE = "fct_chi_tieu_thang"

# (org_unit_id, org_unit_name, month, indicator_code, indicator_name, group, unit, kind,
#  value, ytd_value, plan_year)
_ROWS = [
    (
        "xa-hiep-thuan",
        "Xã Hiệp Thuận",
        1,
        "KT01",
        "Thu ngân sách nhà nước trên địa bàn",
        "Kinh tế",
        "triệu đồng",
        "flow",
        "120.5",
        "120.5",
        "1500",
    ),
    (
        "xa-hiep-thuan",
        "Xã Hiệp Thuận",
        2,
        "KT01",
        "Thu ngân sách nhà nước trên địa bàn",
        "Kinh tế",
        "triệu đồng",
        "flow",
        "80",
        "200.5",
        "1500",
    ),
    (
        "xa-hiep-thuan",
        "Xã Hiệp Thuận",
        1,
        "XH03",
        "Số hộ nghèo",
        "Xã hội",
        "hộ",
        "stock",
        "210",
        "210",
        None,
    ),
    (
        "xa-hiep-thuan",
        "Xã Hiệp Thuận",
        2,
        "XH03",
        "Số hộ nghèo",
        "Xã hội",
        "hộ",
        "stock",
        "205",
        "205",
        None,
    ),
    (
        "xa-que-tho",
        "Xã Quế Thọ",
        1,
        "KT01",
        "Thu ngân sách nhà nước trên địa bàn",
        "Kinh tế",
        "triệu đồng",
        "flow",
        "300",
        "300",
        "4000",
    ),
    (
        "xa-que-tho",
        "Xã Quế Thọ",
        2,
        "KT01",
        "Thu ngân sách nhà nước trên địa bàn",
        "Kinh tế",
        "triệu đồng",
        "flow",
        "1234.5",
        "1534.5",
        "4000",
    ),
    (
        "xa-que-tho",
        "Xã Quế Thọ",
        1,
        "XH03",
        "Số hộ nghèo",
        "Xã hội",
        "hộ",
        "stock",
        "150",
        "150",
        None,
    ),
    (
        "xa-que-tho",
        "Xã Quế Thọ",
        2,
        "XH03",
        "Số hộ nghèo",
        "Xã hội",
        "hộ",
        "stock",
        "148",
        "148",
        None,
    ),
    (
        "xa-binh-lam",
        "Xã Bình Lâm",
        2,
        "KT01",
        "Thu ngân sách nhà nước trên địa bàn",
        "Kinh tế",
        "triệu đồng",
        "flow",
        "55",
        "55",
        "900",
    ),
]
YEAR = 2025


def rows() -> list[dict]:
    """The rows as dicts with the mart's column names and types."""
    out = []
    for i, r in enumerate(_ROWS, start=1):
        unit_id, name, month, code, ind_name, group, unit, kind, value, ytd, plan = r
        ytd_d = Decimal(ytd)
        plan_d = Decimal(plan) if plan else None
        out.append(
            {
                "org_unit_id": unit_id,
                "org_unit_name": name,
                "period_month": date(YEAR, month, 1),
                "year": YEAR,
                "month": month,
                "indicator_code": code,
                "indicator_name": ind_name,
                "indicator_group": group,
                "unit": unit,
                "kind": kind,
                "value": Decimal(value),
                "ytd_value": ytd_d,
                "plan_year": plan_d,
                "pct_of_plan": round(100 * ytd_d / plan_d, 1) if plan_d else None,
                "file_id": 1000 + i,
            }
        )
    return out


DDL = f"""
create schema if not exists {SCHEMA};
create table if not exists {SCHEMA}.{TABLE} (
    org_unit_id text not null,
    org_unit_name text,
    period_month date not null,
    year int,
    month int,
    indicator_code text not null,
    indicator_name text,
    indicator_group text,
    unit text,
    kind text,
    value numeric,
    ytd_value numeric,
    plan_year numeric,
    pct_of_plan numeric,
    file_id bigint,
    primary key (org_unit_id, period_month, indicator_code)
);
"""
RAW_PROBE = "raw_intake.superset_probe"


def create(conn: psycopg.Connection, bi_role: str = "ioc_bi") -> bool:
    """Make sure the mart table exists with rows; grant the BI role as dbt does.

    The session warehouse is shared with other suites (an end-to-end test may have built
    the real mart with dbt): an existing, non-empty table is kept as it is. Returns True
    when this function put the known `rows()` in, so tests can also check exact values.
    """
    with conn.transaction():
        conn.execute(DDL)
        empty = conn.execute(f"select not exists (select 1 from {SCHEMA}.{TABLE})").fetchone()[0]
        if empty:
            data = rows()
            cols = list(data[0])
            with conn.cursor().copy(
                f"copy {SCHEMA}.{TABLE} ({', '.join(cols)}) from stdin"
            ) as copy:
                for row in data:
                    copy.write_row([row[c] for c in cols])
        conn.execute(f"grant usage on schema {SCHEMA} to {bi_role}")
        conn.execute(f"grant select on all tables in schema {SCHEMA} to {bi_role}")
        # a raw table the BI role must not be able to read
        conn.execute("create schema if not exists raw_intake")
        conn.execute(f"create table if not exists {RAW_PROBE} (note text)")
    return empty
