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
TODAY = "2024-11-10"  # the day the example arrives on, for everything that reads a clock


@pytest.fixture(scope="module")
def loaded_world(warehouse_settings, tmp_path_factory, monkeypatch_module):
    """Drop the example file into a fresh intake folder and run the nightly job once."""
    root = tmp_path_factory.mktemp("e2e")
    intake = root / "intake"
    (intake / "xa-hiep-thuan").mkdir(parents=True)
    shutil.copy2(EXAMPLE, intake / "xa-hiep-thuan" / EXAMPLE.name)
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


def client_dashboards(superset_server) -> list[dict]:
    with superset_server.client() as client:
        return client.list_all("dashboard", columns=["id", "dashboard_title"])
