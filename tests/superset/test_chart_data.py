"""Every chart's saved query answers through the API with rows, and the numbers are the
warehouse's: rates are ratios of sums (never averages), stocks are the latest month's, and
the headline KPIs equal the district figures dbt computes on its own."""

from __future__ import annotations

from decimal import Decimal

import psycopg
import pytest
from support import (
    all_pages,
    by_code,
    chart,
    chart_data,
    chart_data_in_view,
    charts,
    month,
    saved_filter,
)

from ioc import warehouse
from ioc.kpi.catalogue import load as load_catalogue
from ioc_superset.client import SupersetClient

pytestmark = pytest.mark.superset

KTXH = "mart_kinh_te_xa_hoi.fct_chi_tieu_thang"


@pytest.fixture(scope="module")
def db(warehouse_settings, mart_world) -> psycopg.Connection:
    with warehouse.connect(warehouse_settings) as conn:
        yield conn


def test_every_chart_returns_rows(admin: SupersetClient):
    found = charts(admin)
    assert len(found) >= 80
    empty = []
    for c in found:
        results = chart_data(admin, c.id)
        assert results and all(r["status"] == "success" for r in results), c.title
        # a server-paginated table answers with a page of rows and then its row count
        if results[0]["rowcount"] == 0:
            empty.append(c.title)
    assert empty == [], f"charts without rows: {empty}"


def _series(result: dict, axis: str = "period_month") -> dict:
    out = {}
    for row in result["data"]:
        for name, value in row.items():
            if name != axis and value is not None:
                out[(month(row[axis]), name)] = float(value)
    return out


def test_ktxh_timeseries_match_the_warehouse(admin: SupersetClient, db):
    checked = 0
    for c in charts(admin):
        if (c.schema, c.table) != ("mart_kinh_te_xa_hoi", "fct_chi_tieu_thang") or \
                not c.viz.startswith("echarts_timeseries"):
            continue
        code = saved_filter(c, "indicator_code")
        (result,) = chart_data(admin, c.id)
        rows = db.execute(
            f"""select to_char(period_month, 'YYYY-MM'), org_unit_name, sum(value)
                from {KTXH} where indicator_code = %s group by 1, 2""",
            (code,),
        ).fetchall()
        assert _series(result) == {(m, n): float(v) for m, n, v in rows}, c.title
        checked += 1
    assert checked >= 2


def test_ktxh_table_matches_the_warehouse_row_for_row(admin: SupersetClient, db):
    (result,) = chart_data(admin, chart(admin, "Chỉ tiêu theo xã và tháng").id)
    expected = db.execute(
        f"""select to_char(period_month, 'YYYY-MM'), org_unit_name, indicator_name, value,
                   ytd_value, plan_year, pct_of_plan
            from {KTXH} order by period_month desc, org_unit_name, indicator_code"""
    ).fetchall()

    def num(v):
        return None if v is None else float(v)

    got = [
        (
            month(r["period_month"]),
            r["org_unit_name"],
            r["indicator_name"],
            *(num(r[k]) for k in ("value", "ytd_value", "plan_year", "pct_of_plan")),
        )
        for r in result["data"]
    ]
    assert got == [(m, n, i, *map(num, rest)) for m, n, i, *rest in expected]


def _last(result: dict, metric: str) -> tuple[str, float]:
    row = max(result["data"], key=lambda r: r["period_month"])
    return month(row["period_month"]), row[metric]


def test_headline_kpis_equal_the_district_rows_dbt_computes(admin: SupersetClient, db):
    """The overview's tiles are sum(numerator) / sum(denominator) over the units' rows in
    Superset; dbt writes the area's own row (unit_level = dia_ban) in SQL. The latest month a
    tile shows (ended, displayed) must agree (dbt rounds to 2 decimals), in each view of
    history — the chart asked with the filter the dashboard's view selector adds (a
    year-to-date figure across a mid-year merger differs between the two views, and a count
    would be doubled, so they are never added together)."""
    checked = 0
    for c in charts(admin):
        if c.table != "fct_kpi_thang" or c.viz != "big_number":
            continue
        code = saved_filter(c, "kpi_code")
        for view in ("as_reported", "current_structure"):
            (result,) = chart_data_in_view(admin, c, view)
            got_month, got = _last(result, c.params["metric"])
            want_month, want = db.execute(
                """select to_char(period_month, 'YYYY-MM'), value
                   from mart_tong_quan.fct_kpi_thang
                   where unit_level = 'dia_ban' and structure_view = %s
                     and kpi_code = %s and value is not null
                     and is_displayed and is_month_complete
                   order by period_month desc limit 1""",
                (view, code),
            ).fetchone()
            assert got_month == want_month, (c.title, view)
            assert got == pytest.approx(float(want), abs=0.006), (c.title, view)
        checked += 1
    assert checked == len([k for k in load_catalogue().kpis if k.tile])


def test_rates_are_ratios_of_sums_not_averages_of_rates(admin: SupersetClient, db):
    """The dossier on-time rate per month: Σ on time / Σ population over every unit and
    field, which differs from the mean of the units' own rates (the wrong way) in some month."""
    c = chart(admin, "Tỷ lệ đúng hạn, trực tuyến, thanh toán trực tuyến, số hóa theo tháng (%)")
    for view in ("as_reported", "current_structure"):
        (result,) = chart_data_in_view(admin, c, view)
        got = {month(r["period_month"]): r["hcc_dung_han"] for r in result["data"]}
        rows = db.execute(
            """with units as (
                   select period_month, org_unit_id,
                          sum(due_on_time) as num, sum(due_population) as den
                   from mart_hanh_chinh_cong.fct_ho_so_thang where structure_view = %s
                   group by 1, 2)
               select to_char(period_month, 'YYYY-MM'),
                      100.0 * sum(num) / nullif(sum(den), 0),
                      avg(100.0 * num / nullif(den, 0))
               from units group by 1""",
            (view,),
        ).fetchall()
        assert set(got) == {m for m, _, _ in rows}, view
        for m, ratio, _ in rows:
            assert got[m] == pytest.approx(float(ratio), rel=1e-9), (view, m)
        assert any(abs(float(r) - float(a)) > 0.1 for _, r, a in rows if r is not None), view


@pytest.mark.parametrize(
    ("title", "metric", "sql"),
    [
        (
            "Hồ sơ đang quá hạn (cuối tháng đã kết thúc gần nhất)",
            "hcc_qua_han_dang_xu_ly",
            "select period_month, sum(open_overdue) from mart_hanh_chinh_cong.fct_ho_so_thang "
            "where is_month_complete",
        ),
        (
            "Văn bản tồn quá hạn (cuối tháng đã kết thúc gần nhất)",
            "vb_ton_qua_han",
            "select period_month, sum(incoming_open_past_deadline) "
            "from mart_van_ban.fct_van_ban_thang where is_month_complete",
        ),
        (
            "Tỷ lệ hộ nghèo (tháng gần nhất)",
            "ktxh_ty_le_ho_ngheo",
            "select period_month, 100.0 * sum(poor_households) / nullif(sum(case when "
            "poor_households is not null then households end), 0) "
            "from mart_kinh_te_xa_hoi.fct_ty_le_xa_hoi_thang where true",
        ),
    ],
)
def test_stocks_show_the_latest_month_never_a_sum_over_months(
    admin: SupersetClient, db, title: str, metric: str, sql: str
):
    """Asked in each view of history, as the dashboard's view filter asks it (a stock of
    both views added together would count every case twice)."""
    c = chart(admin, title)
    for view in ("as_reported", "current_structure"):
        (result,) = chart_data_in_view(admin, c, view)
        got_month, got = _last(result, metric)
        by_month = dict(db.execute(
            sql + " and structure_view = %s group by 1 order by 1", (view,)).fetchall())
        latest = max(by_month)
        assert got_month == latest.strftime("%Y-%m"), view
        assert got == pytest.approx(float(by_month[latest]), rel=1e-9), view
        assert len(by_month) > 1 and got < float(sum(v for v in by_month.values() if v)), view


def test_flow_totals_add_up_over_the_period(admin: SupersetClient, db):
    (result,) = chart_data(admin, chart(admin, "Lượt khám chữa bệnh (cả kỳ)").id)
    (total,) = db.execute("select sum(visits) from mart_y_te.fct_y_te_thang").fetchone()
    assert result["data"][0]["luot_kham"] == float(total) and total > 0


def test_case_tables_list_the_cases_with_their_deadline_status(admin: SupersetClient, db):
    """Drill-through tables hold the marts' own cases: every late dossier, no other."""
    late = chart(admin, "Hồ sơ trễ hạn (xem từng hồ sơ)")
    rows, total = all_pages(admin, late)  # a long list: page by page, every row reachable
    want = [
        r[0]
        for r in db.execute(
            "select ma_ho_so from mart_hanh_chinh_cong.fct_ho_so "
            "where deadline_status in ('qua_han', 'dang_qua_han') order by due_date, ma_ho_so"
        )
    ]
    assert [r["ma_ho_so"] for r in rows] == want and total == len(want) > 20  # most urgent first
    assert {r["tinh_trang_han"] for r in rows} == {"Xong quá hạn", "Đang quá hạn"}
    page, count = chart_data(admin, chart(admin, "Danh sách hồ sơ").id)
    (n,) = db.execute("select count(*) from mart_hanh_chinh_cong.fct_ho_so").fetchone()
    assert page["rowcount"] == 20 and count["data"][0]["rowcount"] == n


def test_long_lists_answer_one_page_and_the_row_count(admin: SupersetClient):
    """A list of cases asks for one page and counts its rows (issue 21), its columns named
    by their Vietnamese labels; the aggregated tables still answer whole."""
    lists = 0
    for c in charts(admin):
        if c.viz != "table":
            continue
        results = chart_data(admin, c.id)
        if not c.params.get("server_pagination"):
            assert len(results) == 1, c.title
            continue
        lists += 1
        page, count = results
        size, total = c.params["server_page_length"], count["data"][0]["rowcount"]
        assert page["rowcount"] == min(size, total) and total > 0, (c.title, total)
        labels = [col["label"] for col in c.params["all_columns"]]
        assert page["colnames"] == labels, c.title
        assert all(set(by_code(c, r)) == {col["sqlExpression"] for col in
                                           c.params["all_columns"]} for r in page["data"])
    assert lists >= 16


def test_the_indicator_list_shows_values_newest_month_first(admin: SupersetClient, db):
    """`Chỉ tiêu` (the generic dashboard, and the monthly PDF leaders get) lists values one
    page at a time, newest month first; a value the current structure cannot put together
    (a rate or a count of criteria of several former units) is no row. Sorted by value, as an
    aggregate table does, those came first: a first page of "N/A"."""
    c = chart(admin, "Chỉ tiêu theo đơn vị và tháng")
    assert c.params["server_pagination"] and c.params["query_mode"] == "raw"
    page, count = chart_data_in_view(admin, c, "current_structure")
    rows = [by_code(c, r) for r in page["data"]]
    assert rows and all(r["value"] is not None for r in rows)
    months = [r["period_month"] for r in rows]
    assert months == sorted(months, reverse=True)
    newest, with_value, without = db.execute(
        "select max(period_month), count(value), count(*) - count(value) "
        "from mart_chi_tieu.fct_chi_tieu_thang where structure_view = 'current_structure'"
    ).fetchone()
    assert month(months[0]) == newest.strftime("%Y-%m")
    assert count["data"][0]["rowcount"] == with_value
    assert without > 0  # the world has such rows: the filter is what keeps them out


def test_every_chart_is_on_a_dashboard_and_every_dashboard_has_charts(admin: SupersetClient):
    on_dashboards: set[int] = set()
    for dash in admin.list_all("dashboard", ["id", "slug"]):
        ids = {c["id"] for c in admin.get(f"/api/v1/dashboard/{dash['id']}/charts")["result"]}
        assert ids, dash["slug"]
        on_dashboards |= ids
    assert {c.id for c in charts(admin)} <= on_dashboards


def test_explicit_query_through_chart_data_endpoint(admin: SupersetClient, db):
    """POST /api/v1/chart/data works for any dataset with its saved metrics."""
    (ds,) = admin.list_all("dataset", ["id", "table_name"], table_name="fct_chi_tieu_thang",
                           schema="mart_kinh_te_xa_hoi")
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
    want = dict(
        db.execute(
            f"select org_unit_id, sum(value) from {KTXH} where indicator_code = 'KT01' group by 1"
        ).fetchall()
    )
    assert rows and all(r["so_xa_bao_cao"] == 1 for r in rows)
    assert {r["org_unit_id"]: Decimal(str(r["thuc_hien"])) for r in rows} == want
