"""Every chart's saved query answers through the API, with the warehouse's numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import psycopg
import pytest
import slice_data

from ioc import warehouse
from ioc.bi.client import SupersetClient

pytestmark = pytest.mark.superset


def _charts(client: SupersetClient) -> list[dict]:
    return client.list_all("chart", ["id", "uuid", "slice_name", "viz_type"])


def _month(ms: float) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m")


def _series_from_sql(conn: psycopg.Connection, indicator: str, where: str = "") -> dict:
    """{(month, commune name): SUM(value)} straight from the mart."""
    rows = conn.execute(
        f"""select to_char(period_month, 'YYYY-MM'), org_unit_name, sum(value)
            from {slice_data.SCHEMA}.{slice_data.TABLE}
            where indicator_code = %s {where}
            group by 1, 2""",
        (indicator,),
    ).fetchall()
    return {(m, n): float(v) for m, n, v in rows}


def _series_from_chart(result: dict) -> dict:
    out = {}
    for row in result["data"]:
        month = _month(row["period_month"])
        for name, value in row.items():
            if name != "period_month" and value is not None:
                out[(month, name)] = float(value)
    return out


def _saved_filter(client: SupersetClient, chart_id: int) -> str:
    """The indicator code a timeseries chart is saved with (its SIMPLE == filter)."""
    params = json.loads(client.get(f"/api/v1/chart/{chart_id}")["result"]["params"])
    (code,) = [
        f["comparator"]
        for f in params["adhoc_filters"]
        if f.get("subject") == "indicator_code" and f.get("operator") == "=="
    ]
    return code


def test_every_chart_returns_rows(admin: SupersetClient):
    charts = _charts(admin)
    assert charts
    for chart in charts:
        body = admin.chart_data(chart["id"])
        (result,) = body["result"]
        assert result["status"] == "success", chart["slice_name"]
        assert result["rowcount"] > 0, f"{chart['slice_name']} returned no rows"


def test_timeseries_charts_match_the_warehouse(admin: SupersetClient, warehouse_settings):
    checked = 0
    with warehouse.connect(warehouse_settings) as conn:
        for chart in _charts(admin):
            if not chart["viz_type"].startswith("echarts_timeseries"):
                continue
            code = _saved_filter(admin, chart["id"])
            (result,) = admin.chart_data(chart["id"])["result"]
            assert _series_from_chart(result) == _series_from_sql(conn, code)
            checked += 1
    assert checked >= 2


def test_table_chart_matches_the_warehouse_row_for_row(admin: SupersetClient, warehouse_settings):
    (table,) = [c for c in _charts(admin) if c["viz_type"] == "table"]
    (result,) = admin.chart_data(table["id"])["result"]
    with warehouse.connect(warehouse_settings) as conn:
        expected = conn.execute(
            f"""select to_char(period_month, 'YYYY-MM'), org_unit_name, indicator_name, value,
                       ytd_value, plan_year, pct_of_plan
                from {slice_data.SCHEMA}.{slice_data.TABLE}
                order by period_month desc, org_unit_name, indicator_code"""
        ).fetchall()

    def num(v):
        return None if v is None else float(v)

    got = [
        (
            _month(r["period_month"]),
            r["org_unit_name"],
            r["indicator_name"],
            num(r["value"]),
            num(r["ytd_value"]),
            num(r["plan_year"]),
            num(r["pct_of_plan"]),
        )
        for r in result["data"]
    ]
    assert got == [(m, n, i, *map(num, rest)) for m, n, i, *rest in expected]


def test_known_values_when_the_suite_owns_the_data(admin: SupersetClient, slice_mart: bool):
    if not slice_mart:
        pytest.skip("the mart was already built (e.g. by dbt); checked against SQL above")
    (bar,) = [c for c in _charts(admin) if c["viz_type"] == "echarts_timeseries_bar"]
    (result,) = admin.chart_data(bar["id"])["result"]
    series = _series_from_chart(result)
    assert series[("2025-02", "Xã Quế Thọ")] == 1234.5
    assert series[("2025-01", "Xã Hiệp Thuận")] == 120.5
    assert ("2025-01", "Xã Bình Lâm") not in series  # no report that month
    known = {
        (r["org_unit_id"], r["period_month"].month, r["indicator_code"]): r
        for r in slice_data.rows()
    }
    assert known[("xa-que-tho", 2, "KT01")]["pct_of_plan"] == Decimal("38.4")


def test_explicit_query_through_chart_data_endpoint(admin: SupersetClient):
    """POST /api/v1/chart/data works for any dataset (how the lead's e2e test can ask)."""
    (ds,) = admin.list_all("dataset", ["id", "table_name"], table_name=slice_data.TABLE)
    body = admin.query(
        {
            "datasource": {"id": ds["id"], "type": "table"},
            "queries": [
                {
                    "columns": ["org_unit_id"],
                    "metrics": ["so_xa_bao_cao", "thuc_hien"],
                    "filters": [{"col": "indicator_code", "op": "==", "val": "KT01"}],
                    "orderby": [["org_unit_id", True]],
                    "row_limit": 100,
                }
            ],
            "result_format": "json",
            "result_type": "full",
        }
    )
    rows = body["result"][0]["data"]
    assert rows and all(r["so_xa_bao_cao"] == 1 for r in rows)
