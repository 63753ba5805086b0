"""One definition per KPI, everywhere it is shown: for every KPI of the catalogue, every unit
(and area), every month and both views of history of the demo world, the overview's tile,
every domain chart that shows the KPI, and the KPI mart (`mart_tong_quan.fct_kpi_thang`)
give the same number.

Both charts are asked through Superset's API (`POST /api/v1/chart/data`) with their own
dataset and saved metric, grouped by view, unit (or area) and month instead of by month
alone: the tile with its saved filters (the units' rows, displayed periods, ended months),
compared with the mart rows those filters keep; a domain chart over every row of its mart,
compared with every mart row. dbt rounds values to 2 decimals.
"""

from __future__ import annotations

from collections import defaultdict

import pytest
from support import chart_data_in_view, charts, month

from ioc import warehouse
from ioc.kpi.catalogue import Kpi, load
from ioc_superset.assets_builder import TILE_PREFIX, chart_uuid
from ioc_superset.client import SupersetClient
from tests.superset.demo_world import TODAY

pytestmark = pytest.mark.superset

KPIS = load().kpis
TOLERANCE = 0.006


@pytest.fixture(scope="module")
def mart(warehouse_settings, mart_world) -> dict[str, dict]:
    """kpi_code → {(view, level, unit, 'YYYY-MM'): (value, displayed and month ended)}."""
    out: dict[str, dict] = defaultdict(dict)
    with warehouse.connect(warehouse_settings) as conn:
        for code, view, level, unit, m, value, shown in conn.execute(
            """select kpi_code, structure_view, unit_level, org_unit_id,
                      to_char(period_month, 'YYYY-MM'), value,
                      is_displayed and is_month_complete
               from mart_tong_quan.fct_kpi_thang"""
        ):
            out[code][(view, level, unit, m)] = (None if value is None else float(value), shown)
    return out


@pytest.fixture(scope="module")
def dataset_ids(admin: SupersetClient) -> dict[str, int]:
    return {d["table_name"]: d["id"] for d in admin.list_all("dataset", ["id", "table_name"])}


@pytest.fixture(scope="module")
def all_charts(admin: SupersetClient):
    return charts(admin)


def _ask(admin: SupersetClient, dataset_id: int, metric: str, by: str, filters: list[dict]
         ) -> dict[tuple[str, str, str], float | None]:
    """The saved metric per view × unit (or area) × month, through the chart data API."""
    body = admin.query(
        {
            "datasource": {"id": dataset_id, "type": "table"},
            "queries": [
                {
                    "columns": ["structure_view", by, "period_month"],
                    "metrics": [metric],
                    "filters": filters,
                    "orderby": [],
                    "row_limit": 1_000_000,
                }
            ],
            "result_format": "json",
            "result_type": "full",
        }
    )
    (result,) = body["result"]
    return {
        (r["structure_view"], r[by], month(r["period_month"])): r[metric]
        for r in result["data"]
        if r[by] is not None
    }


def _saved_filters(chart) -> list[dict]:
    """The chart's own WHERE filters as its query sends them (the time range left out)."""
    (query, *_) = chart.query_context["queries"]
    return [f for f in query.get("filters", []) if f["op"] != "TEMPORAL_RANGE"]


def _same(got: float | None, want: float | None) -> bool:
    if got is None or want is None:
        return got is None and want is None
    return abs(float(got) - want) <= TOLERANCE


def _compare(kpi: Kpi, where: str, got: dict, want: dict) -> list[str]:
    problems = []
    for key in sorted(set(got) | set(want)):
        if not _same(got.get(key), want.get(key)):
            problems.append(
                f"{kpi.code} {where} {key}: chart {got.get(key)} ≠ mart {want.get(key)}")
    return problems


def _mart_values(rows: dict, level: str, only_shown: bool) -> dict:
    return {
        (view, unit, m): value
        for (view, lvl, unit, m), (value, shown) in rows.items()
        if lvl == level and (shown or not only_shown)
        # a chart has no row where the mart has no parts (a unit that owed a form and sent
        # nothing): both mean "no value"
        and value is not None
    }


@pytest.mark.parametrize("kpi", KPIS, ids=lambda k: k.code)
def test_tile_domain_charts_and_mart_agree(
    kpi: Kpi, admin: SupersetClient, mart, dataset_ids, all_charts
):
    rows = mart[kpi.code]
    assert rows, f"{kpi.code}: no rows in fct_kpi_thang for the demo world"
    by_uuid = {c.uuid: c for c in all_charts}
    tile = by_uuid[chart_uuid(f"{TILE_PREFIX}{kpi.code}")] if kpi.tile else None
    domain = [
        c for c in all_charts
        if c.table == kpi.model
        and kpi.code in {c.params.get("metric"), *(c.params.get("metrics") or [])}
    ]
    assert domain, f"{kpi.code}: no chart of {kpi.model} shows the KPI"
    problems = []
    for level, by in (("don_vi", "org_unit_id"), ("dia_ban", "district_id")):
        if tile is not None:
            # the tile: its own filters keep the units' rows of displayed, ended months
            got = _ask(admin, dataset_ids[tile.table], kpi.code, by, _saved_filters(tile))
            problems += _compare(kpi, f"tile {level}",
                                 {k: v for k, v in got.items() if v is not None},
                                 _mart_values(rows, level, only_shown=True))
        # every domain chart: the same metric over all of its mart's rows
        for c in domain:
            got = _ask(admin, dataset_ids[c.table], kpi.code, by, [])
            problems += _compare(kpi, f"{c.title!r} {level}",
                                 {k: v for k, v in got.items() if v is not None},
                                 _mart_values(rows, level, only_shown=False))
    assert problems == [], "\n".join(problems[:20])


def test_every_kpi_is_asked_of_some_rows(mart):
    """The comparison is not vacuous: every KPI has values as reported and in today's
    structure, for units and areas."""
    for kpi in KPIS:
        keys = {(view, level) for (view, level, _, _), (value, _) in mart[kpi.code].items()
                if value is not None}
        assert keys == {(v, lvl) for v in ("as_reported", "current_structure")
                        for lvl in ("don_vi", "dia_ban")}, kpi.code


def test_the_month_still_running_is_shown_as_running(admin: SupersetClient, warehouse_settings,
                                                     mart_world, all_charts):
    """The demo world ends the day before TODAY, so TODAY's month is still running. The mart
    evaluates it at A (T = A, never the month's end), says so, and has no later month; the
    KPI board (asked in each view, as the dashboard's view filter asks it) shows the agency
    KPIs' running month as "MM/YYYY (đến <A>)"; the tiles stay on the last ended month
    (test_chart_data.py::test_headline_kpis_equal_the_district_rows_dbt_computes)."""
    running = TODAY.replace(day=1)
    agency = {k.code for k in KPIS if k.data != "bieu_mau"}
    with warehouse.connect(warehouse_settings) as conn:
        rows = conn.execute(
            """select kpi_code, period_month, is_month_complete, evaluated_at = as_of,
                      (as_of at time zone 'Asia/Ho_Chi_Minh')::date, period_label
               from mart_tong_quan.fct_kpi_thang
               where unit_level = 'dia_ban' and structure_view = 'current_structure'
                 and period_month >= %s""",
            (running,),
        ).fetchall()
    months = {(code, m) for code, m, *_ in rows}
    assert {code for code, m in months if m == running} >= agency
    assert all(m == running for _, m in months), "a month after TODAY's"
    labels = {}
    for code, _, complete, t_is_a, a_day, label in rows:
        if code in agency:
            assert (complete, t_is_a, a_day) == (False, True, TODAY), code
            assert label.startswith(f"{running:%m/%Y} (đến ") and label.endswith(
                f"{TODAY:%d/%m/%Y})"), (code, label)
            labels[code] = label
    names = {k.name: k.code for k in KPIS}
    (board,) = [c for c in all_charts if c.title == "Bảng chỉ số chính (kỳ gần nhất)"]
    for view in ("as_reported", "current_structure"):
        (result,) = chart_data_in_view(admin, board, view)
        shown = {names[r["kpi_name"]]: r["period_label"] for r in result["data"]
                 if r["kpi_name"] in names and names[r["kpi_name"]] in labels}
        assert shown == labels, view
