"""End to end: a commune's KTXH-01 file → Dagster → raw → dbt → mart → Superset chart data.

Everything is real: the embedded PostgreSQL, the intake engine, the whole Dagster graph
materialised in process, dbt build, and Superset answering through its REST API.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from tests.conftest import FIXTURES

pytestmark = pytest.mark.e2e

EXAMPLE = FIXTURES / "examples" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx"
TYPED = FIXTURES / "examples" / "KTXH-01_xa-que-luu_2024-10.csv"
TODAY = "2024-11-10"  # the day the example arrives on, for everything that reads a clock


@pytest.fixture(scope="module")
def loaded_world(warehouse_settings, tmp_path_factory, monkeypatch_module):
    """Drop the example file into a fresh intake folder and run the nightly job once."""
    root = tmp_path_factory.mktemp("e2e")
    intake = root / "intake"
    (intake / "xa-hiep-thuan").mkdir(parents=True)
    shutil.copy2(EXAMPLE, intake / "xa-hiep-thuan" / EXAMPLE.name)
    # a hand-typed CSV of another commune: a value written "1.234,5", another with spaces
    (intake / "xa-que-luu").mkdir()
    typed = TYPED.read_bytes().replace(b";412,5;", b";1.234,5;").replace(b";388;", b"; 388 ;")
    (intake / "xa-que-luu" / TYPED.name).write_bytes(typed)
    monkeypatch_module.setenv("IOC_INTAKE_DIR", str(intake))
    monkeypatch_module.setenv("IOC_ARCHIVE_DIR", str(root / "archive"))
    monkeypatch_module.setenv("DAGSTER_HOME", str(root / "dagster"))
    monkeypatch_module.setenv("IOC_TODAY", TODAY)  # dbt's as_of_date and the checks: reproducible
    monkeypatch_module.delenv("IOC_AGENCY_API_URL", raising=False)
    (root / "dagster").mkdir()

    from dagster import DagsterInstance

    from orchestration.definitions import defs

    with DagsterInstance.get() as instance:
        result = defs.resolve_job_def("nightly_job").execute_in_process(
            instance=instance, raise_on_error=False
        )
        failures = [
            e.step_key
            + ": "
            + (e.event_specific_data.error.message if e.event_specific_data else "")
            for e in result.all_events
            if e.is_step_failure
        ]
    assert result.success, "nightly job failed:\n" + "\n".join(failures)
    return intake


def _mart_value(url: str, indicator: str) -> tuple:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select org_unit_name, value, ytd_value, plan_year, pct_of_plan "
            "from mart_kinh_te_xa_hoi.fct_chi_tieu_thang "
            "where org_unit_id = 'xa-hiep-thuan' and period_month = date '2024-10-01' "
            "and indicator_code = %s and structure_view = 'as_reported'",
            (indicator,),
        ).fetchone()


def test_mart_holds_the_example_values(loaded_world: Path, warehouse_url: str) -> None:
    name, value, ytd, plan, pct = _mart_value(warehouse_url, "KT01")
    assert name == "Xã Hiệp Thuận"
    assert value == Decimal("412.5")
    assert plan == Decimal("5200")
    # Only October is loaded, so the year-to-date of a flow is October's own value.
    assert ytd == Decimal("412.5")
    assert pct == Decimal("7.9")
    # A stock: the year to date is the month's value, never a sum.
    _, herd, herd_ytd, _, _ = _mart_value(warehouse_url, "KT07")
    assert herd == herd_ytd == Decimal("1320")
    with psycopg.connect(warehouse_url) as conn:
        count = conn.execute(
            "select count(*) from mart_kinh_te_xa_hoi.fct_chi_tieu_thang "
            "where org_unit_id = 'xa-hiep-thuan' and structure_view = 'as_reported'"
        ).fetchone()[0]
    assert count == 17


def test_receipt_written_for_the_commune(loaded_world: Path) -> None:
    receipts = list((loaded_world / "xa-hiep-thuan" / "_phan_hoi").glob("*"))
    assert receipts, "the commune gets a receipt for its accepted file"
    assert (loaded_world / "xa-hiep-thuan" / EXAMPLE.name).read_bytes() == EXAMPLE.read_bytes()


def test_superset_chart_shows_the_example_values(loaded_world: Path, superset_server) -> None:
    """The dashboard's chart, through Superset's REST API, reads the mart dbt just built
    (asked in one view of history, as the dashboard's view selector does)."""
    from tests.superset.support import chart_data_in_view, charts

    with superset_server.client() as client:
        chart = next(c for c in charts(client) if c.title.startswith("Thu ngân sách nhà nước"))
        (result,) = chart_data_in_view(client, chart, "as_reported")
    rows = result["data"]
    october = [r for r in rows if str(r["period_month"]).startswith(("2024-10", "1727"))]
    assert october, rows
    assert october[0]["Xã Hiệp Thuận"] == 412.5
    dashboards = {d["dashboard_title"] for d in client_dashboards(superset_server)}
    assert "Kinh tế - Xã hội" in dashboards


def test_report_rows_keep_the_cell_as_written(loaded_world: Path, warehouse_url: str,
                                              superset_server) -> None:
    """Issue 18: the report row behind a figure shows the cell as the commune wrote it,
    beside the number read from it, in the mart and on the dashboard's report-row table."""
    with psycopg.connect(warehouse_url) as conn:
        rows = conn.execute(
            "select reporting_org_unit_id, indicator_code, value, value_as_written "
            "from mart_bao_cao.fct_dong_bao_cao where structure_view = 'as_reported' "
            "and indicator_code in ('KT01', 'KT02') order by 1, 2").fetchall()
    assert rows == [
        # a workbook's number cell: the number in full, with the decimal comma
        ("xa-hiep-thuan", "KT01", Decimal("412.5"), "412,5"),
        ("xa-hiep-thuan", "KT02", Decimal(388), "388"),
        # typed text, as typed
        ("xa-que-luu", "KT01", Decimal("1234.5"), "1.234,5"),
        ("xa-que-luu", "KT02", Decimal(388), " 388 "),
    ]
    import json

    from tests.superset.support import by_code, charts

    with superset_server.client() as client:
        chart = next(c for c in charts(client)
                     if c.title == "Nguồn số liệu — từng dòng biểu KTXH-01")
        context = json.loads(json.dumps(chart.query_context))
        context["datasource"] = {**context["datasource"], "id": client.list_all(
            "dataset", ["id", "table_name"], table_name=chart.table,
            schema=chart.schema)[0]["id"]}
        context["force"] = True
        for query in context["queries"]:
            query.setdefault("filters", []).extend([
                {"col": "structure_view", "op": "==", "val": "as_reported"},
                {"col": "reporting_org_unit_id", "op": "==", "val": "xa-que-luu"},
                {"col": "indicator_code", "op": "IN", "val": ["KT01", "KT02"]}])
        result = client.query(context)["result"][0]
    # (a server-paginated list: its rows come keyed by the columns' Vietnamese labels)
    rows = [by_code(chart, r) for r in result["data"]]
    shown = sorted((r["value"], r["o_nhu_da_ghi"]) for r in rows)
    assert shown == [(388, "“ 388 ”"), (1234.5, "“1.234,5”")], result["data"]


def client_dashboards(superset_server) -> list[dict]:
    with superset_server.client() as client:
        return client.list_all("dashboard", columns=["id", "dashboard_title"])
