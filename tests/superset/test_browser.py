"""Headless Chromium: log in, open every dashboard, every chart renders without error.

Uses Debian's Chromium (`/usr/bin/chromium`, `make browser`); Playwright's own browser
download does not work here and is never attempted. Screenshots go to `test-artifacts/`.
Waiting follows Superset's own Playwright suite (dashboard-load.spec.ts): the dashboard
header, then at least one chart component, then no visible loader; then each chart must show
its output (a canvas for ECharts, table rows for tables) and no error.
"""

from __future__ import annotations

import json
import re
from urllib.parse import quote, unquote

import pytest
import yaml
from support import (
    charts,
    choose_filter_value,
    open_drill_by,
    settled_rows,
    vn_number,
    wait_for_charts,
)

from ioc import warehouse
from ioc.settings import PROJECT_ROOT
from ioc_superset import bundle
from ioc_superset.client import SupersetClient
from tests.support.superset_server import SupersetServer

pytestmark = pytest.mark.superset

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "superset"
TIMEOUT_MS = 90_000
# Superset's footer loads a telemetry pixel from a third-party origin; our CSP blocks it on
# purpose (no internet, no telemetry). That console error is expected, nothing else is.
EXPECTED_CONSOLE = re.compile(r"scarf\.sh.*violates the following Content Security Policy", re.S)
# What a rendered chart shows: an ECharts canvas, table rows, or a big number.
CHART_OUTPUT = "canvas, table tbody tr, .superset-legacy-chart-big-number"
CHART_ERROR = (
    '[data-test="chart-grid-component"] .alert-danger, '
    '[data-test="chart-grid-component"] [role="alert"], '
    '[data-test="chart-grid-component"] .ant-alert-error'
)


def _login(browser, url: str, username: str, password: str, then: str = "/health"):
    """A new page, logged in, on `then` (not the welcome page, which costs seconds)."""
    page = browser.new_page(viewport={"width": 1600, "height": 1300})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{url}/login/?next={quote(then)}")
    page.locator('[data-test="username-input"]').fill(username)
    page.locator('[data-test="password-input"]').fill(password)
    page.locator('[data-test="login-button"]').click()
    page.wait_for_url(lambda u: "/login" not in u)
    return page


def _dashboard_path(slug: str) -> str:
    return f"/superset/dashboard/{slug}/"


@pytest.fixture(scope="module")
def admin_session(browser, superset_server: SupersetServer) -> dict:
    """The admin's logged-in cookies, to open pages without logging in each time."""
    page = _login(browser, superset_server.url, superset_server.username, superset_server.password)
    state = page.context.storage_state()
    page.context.close()
    return state


def _admin_page(browser, admin_session: dict, url: str, path: str | None = None):
    """A page with the admin's cookies, on `path` (or blank: nothing loaded yet)."""
    context = browser.new_context(
        viewport={"width": 1600, "height": 1300}, storage_state=admin_session
    )
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    if path:
        page.goto(f"{url}{path}")
    return page


def _dashboards(client: SupersetClient) -> list[dict]:
    return client.list_all("dashboard", ["id", "slug", "dashboard_title"])


def _slice_id(request_url: str) -> int | None:
    match = re.search(r"form_data=([^&]+)", request_url)
    if not match:
        return None
    slice_id = json.loads(unquote(match.group(1))).get("slice_id")
    return slice_id if isinstance(slice_id, int) else None


def _open_dashboard(page, url: str, dash: dict, chart_ids: list[int]) -> dict[int, tuple]:
    """Open the dashboard; return {chart id: (status, request body) of its data request}."""
    seen: dict[int, tuple] = {}

    def on_response(response) -> None:
        if response.request.method != "POST" or "/api/v1/chart/data" not in response.url:
            return
        slice_id = _slice_id(response.url)
        if slice_id is not None:
            seen[slice_id] = (response.status, json.loads(response.request.post_data))

    page.on("response", on_response)
    page.goto(f"{url}/superset/dashboard/{dash['slug'] or dash['id']}/")
    wait_for_charts(page)
    for chart_id in chart_ids:
        chart = page.locator(f'[data-test="chart-grid-component"][data-test-chart-id="{chart_id}"]')
        chart.wait_for(state="visible")
        # the chart's own output, not just its frame
        chart.locator(CHART_OUTPUT).first.wait_for(state="visible")
    page.remove_listener("response", on_response)
    return seen


@pytest.mark.faults
def test_every_dashboard_renders_every_chart(
    browser, superset_server: SupersetServer, admin: SupersetClient, admin_session
):
    """...and asks for exactly the query its saved query context holds, so what the API
    answers for a chart is what the dashboard shows.

    Behind `make faults` (about 3 minutes): in `make test`, every chart's saved query runs
    through the API (test_chart_data.py), and the browser walks open the overview and the
    domain dashboards as a leader and a commune (test_browser_paths.py, test_language.py)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    console: list[str] = []
    page = _admin_page(browser, admin_session, superset_server.url)
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(f"page error: {e}"))
    saved = {c.id: c for c in charts(admin)}
    dashboards = _dashboards(admin)
    assert len(dashboards) >= 8
    for dash in dashboards:
        on_dash = admin.get(f"/api/v1/dashboard/{dash['id']}/charts")["result"]
        chart_ids = [c["id"] for c in on_dash]
        assert chart_ids, f"{dash['dashboard_title']} has no charts"
        seen = _open_dashboard(page, superset_server.url, dash, chart_ids)
        page.screenshot(path=str(ARTIFACTS / f"{dash['slug'] or dash['id']}.png"), full_page=True)
        assert page.locator(CHART_ERROR).count() == 0, page.locator(CHART_ERROR).first.inner_text()
        for chart_id in chart_ids:
            status, body = seen.get(chart_id, (None, None))
            assert status in (200, 202), (dash["dashboard_title"], chart_id)
            assert _without_defaults(body["queries"]) == saved[chart_id].query_context[
                "queries"], (
                f"{saved[chart_id].title}: the saved query context is not what the "
                "dashboard asks for"
            )
    unexpected = [m for m in console if not EXPECTED_CONSOLE.search(m)]
    assert not unexpected, unexpected
    page.context.close()


def _default_filters() -> list[dict]:
    """The filters dashboards open with (the view of history), as charts receive them."""
    found = []
    for rel, text in bundle.read_dir().items():
        if rel.startswith("dashboards/"):
            for flt in yaml.safe_load(text)["metadata"]["native_filter_configuration"]:
                found += flt["defaultDataMask"].get("extraFormData", {}).get("filters", [])
    return found


def _without_defaults(queries: list[dict]) -> list[dict]:
    """A dashboard's chart request less the filters it opens with, which a saved chart does
    not hold (it is not opened on a dashboard)."""
    defaults = _default_filters()
    assert defaults, "no dashboard opens with a filter"
    return [{**q, "filters": [f for f in q.get("filters", []) if f not in defaults]}
            for q in queries]


def test_numbers_and_months_use_vietnamese_format(
    browser, superset_server: SupersetServer, warehouse_settings, mart_world, admin_session
):
    """1.234,5 and 12/2024 on the screen, for values computed from the warehouse."""
    with warehouse.connect(warehouse_settings) as conn:
        latest, poor_rate = conn.execute(
            """select period_month, value from mart_tong_quan.fct_kpi_thang
               where unit_level = 'dia_ban' and structure_view = 'current_structure'
                 and kpi_code = 'ktxh_ty_le_ho_ngheo'
               order by period_month desc limit 1"""
        ).fetchone()
        (visits,) = conn.execute(
            "select sum(visits) from mart_y_te.fct_y_te_thang "
            "where structure_view = 'current_structure'").fetchone()
    assert visits >= 1000  # so the thousands separator shows
    page = _admin_page(browser, admin_session, superset_server.url, _dashboard_path("tong-quan"))
    wait_for_charts(page)
    page.get_by_text(vn_number(float(poor_rate), 2), exact=True).first.wait_for(state="visible")
    page.get_by_text(latest.strftime("%m/%Y")).first.wait_for(state="visible")
    page.goto(f"{superset_server.url}/superset/dashboard/y-te/")
    wait_for_charts(page)
    page.get_by_text(vn_number(float(visits), 0), exact=True).first.wait_for(state="visible")
    page.context.close()


def _filter_id(slug: str, name: str) -> str:
    for rel, text in bundle.read_dir().items():
        doc = yaml.safe_load(text)
        if rel.startswith("dashboards/") and doc.get("slug") == slug:
            for flt in doc["metadata"]["native_filter_configuration"]:
                if flt["name"] == name:
                    return flt["id"]
    raise KeyError(name)


def test_unit_filter_applies_to_every_chart(
    browser, superset_server: SupersetServer, admin, admin_session
):
    (dash,) = [d for d in _dashboards(admin) if d["slug"] == "kinh-te-xa-hoi"]
    chart_count = len(admin.get(f"/api/v1/dashboard/{dash['id']}/charts")["result"])
    page = _admin_page(
        browser, admin_session, superset_server.url, _dashboard_path("kinh-te-xa-hoi")
    )
    wait_for_charts(page)
    queries: list[dict] = []
    page.on(
        "request",
        lambda r: (
            queries.append(json.loads(r.post_data))
            if r.method == "POST" and "/api/v1/chart/data" in r.url
            else None
        ),
    )
    choose_filter_value(page, _filter_id("kinh-te-xa-hoi", "Đơn vị"), "Xã Quế Thọ")
    filtered = [
        q
        for q in queries
        if {"col": "org_unit_name", "op": "IN", "val": ["Xã Quế Thọ"]} in q["queries"][0]["filters"]
    ]
    assert len(filtered) >= chart_count, queries
    page.screenshot(path=str(ARTIFACTS / "kinh-te-xa-hoi-que-tho.png"), full_page=True)
    page.context.close()


def _data_requests(page) -> list[dict]:
    bodies: list[dict] = []
    page.on(
        "request",
        lambda r: (
            bodies.append({"url": r.url, **json.loads(r.post_data)})
            if r.method == "POST" and "/api/v1/chart/data" in r.url
            else None
        ),
    )
    return bodies


def test_unit_filter_depends_on_the_district_filter(
    browser, superset_server: SupersetServer, admin_session
):
    """Choosing an area (a district before the 2025 reform) narrows the unit filter's choices
    (cascading native filters)."""
    page = _admin_page(
        browser, admin_session, superset_server.url, _dashboard_path("hanh-chinh-cong")
    )
    wait_for_charts(page)
    bodies = _data_requests(page)
    page.locator(f'[data-test="{_filter_id("hanh-chinh-cong", "Địa bàn")}"]').click()
    page.get_by_title("Huyện Hiệp Đức").first.click()
    page.keyboard.press("Escape")
    page.locator(f'[data-test="{_filter_id("hanh-chinh-cong", "Đơn vị")}"]').click()
    page.wait_for_timeout(1500)
    wanted = {"col": "district_name", "op": "IN", "val": ["Huyện Hiệp Đức"]}
    options = [
        b
        for b in bodies
        if b.get("form_data", {}).get("viz_type") == "filter_select"
        and b["queries"][0].get("columns") == ["org_unit_name"]
    ]
    assert options and any(wanted in b["queries"][0]["filters"] for b in options), options
    page.context.close()


def test_a_table_row_cross_filters_the_dashboard_and_drills_by_unit(
    browser, superset_server: SupersetServer, admin_session
):
    """A field in the HCC field table filters the other charts (cross-filtering), and its
    context menu drills by unit: the same measures for that field, per unit."""
    page = _admin_page(
        browser, admin_session, superset_server.url, _dashboard_path("hanh-chinh-cong")
    )
    wait_for_charts(page)
    page.locator("table tbody tr").first.wait_for(state="visible")
    bodies = _data_requests(page)
    table = page.locator('[data-test="chart-grid-component"]').filter(
        has_text="Tình hình giải quyết theo lĩnh vực"
    )
    table.locator("td", has_text="Đất đai").first.click()
    page.wait_for_timeout(2000)
    wait_for_charts(page)
    wanted = {"col": "linh_vuc", "op": "IN", "val": ["Đất đai"]}
    crossed = [b for b in bodies if wanted in b["queries"][0]["filters"]]
    assert len(crossed) >= 5, [b["queries"][0]["filters"] for b in bodies]
    page.screenshot(path=str(ARTIFACTS / "hanh-chinh-cong-dat-dai.png"), full_page=True)

    bodies.clear()
    table.locator("td", has_text="Đất đai").first.click(button="right")
    submenu = open_drill_by(page)  # "Xem theo" (superset/translations)
    if submenu.locator("input").count():  # a long list is virtual: search, then choose
        submenu.locator("input").fill("Đơn vị")
    choice = submenu.get_by_text("Đơn vị", exact=True).first
    try:
        choice.wait_for(state="visible", timeout=20_000)
    except Exception as err:
        page.screenshot(path=str(ARTIFACTS / "hanh-chinh-cong-drill-by-menu.png"))
        menus = page.locator(".ant-dropdown-menu, [role=menu]").all_inner_texts()
        raise AssertionError(
            f"no 'Đơn vị' in Xem theo: {submenu.all_inner_texts()!r} (menus: {menus!r})"
        ) from err
    # A click event on the item itself: the submenu opens beside a menu that sits at the
    # bottom of the viewport, and moving the pointer there crosses table cells that close it.
    choice.dispatch_event("click")
    page.wait_for_timeout(2000)
    drilled = [
        b
        for b in bodies
        if b["queries"][0].get("columns") == ["org_unit_name"]
        and {"col": "linh_vuc", "op": "==", "val": "Đất đai"} in b["queries"][0]["filters"]
    ]
    assert drilled, [b["queries"][0] for b in bodies]
    page.screenshot(path=str(ARTIFACTS / "hanh-chinh-cong-drill-by-don-vi.png"))
    page.context.close()


def test_commune_user_dashboard_shows_only_its_commune(
    browser, superset_server: SupersetServer, commune_user
):
    """The commune of this demo world (2024) ended with the merger of 2025-01-01: in today's
    structure its history is its successor's rows, which its role may not read; as reported,
    it sees its own rows and no other commune's."""
    page = _login(browser, superset_server.url, *commune_user, _dashboard_path("kinh-te-xa-hoi"))
    wait_for_charts(page)
    choose_filter_value(page, _filter_id("kinh-te-xa-hoi", "Góc nhìn lịch sử"), "Như đã báo cáo")
    rows = page.locator('[data-test="chart-grid-component"] table tbody tr')
    rows.first.wait_for(state="visible")
    names = {cell.strip() for cell in rows.locator("td:nth-child(2)").all_inner_texts()}
    assert names == {"Xã Hiệp Thuận"}
    page.screenshot(path=str(ARTIFACTS / "kinh-te-xa-hoi-xa-hiep-thuan.png"), full_page=True)
    page.context.close()


def test_a_long_list_asks_for_one_page_and_reads_in_vietnamese(
    browser, superset_server: SupersetServer, admin_session
):
    """Issue 21: a list of cases asks the server for one page and its row count (not 5,000
    rows), its page-size box shows the page size, and its search-by choices are the
    columns' Vietnamese labels; a search finds the rows on the server."""
    page = _admin_page(browser, admin_session, superset_server.url)
    bodies = _data_requests(page)
    page.goto(f"{superset_server.url}{_dashboard_path('tinh-hinh-nop-bao-cao')}")
    wait_for_charts(page)
    table = page.locator('[data-test="chart-grid-component"]').filter(
        has_text="Báo cáo trễ hạn, chưa nộp (xem từng báo cáo)")
    table.scroll_into_view_if_needed()
    table.locator("table tbody tr").first.wait_for(state="visible")
    asked = [b for b in bodies if b.get("form_data", {}).get("server_pagination")
             and "Đơn vị" in [c.get("label") for c in b["form_data"]["all_columns"]
                               if isinstance(c, dict)]
             and b["form_data"].get("viz_type") == "table"]
    assert asked, [b.get("form_data", {}).get("slice_id") for b in bodies]
    page_query, count_query = asked[0]["queries"][:2]
    assert page_query["row_limit"] == 20 and page_query.get("row_offset", 0) == 0
    assert count_query.get("is_rowcount") is True
    assert table.locator("table tbody tr").count() == 20  # the demo world has more late reports
    assert table.locator(".dt-select-page-size .ant-select-selection-item").inner_text() == "20"

    table.locator(".search-select-container .ant-select").first.click()
    options = page.locator(".ant-select-dropdown:visible .ant-select-item-option")
    options.first.wait_for(state="visible")
    choices = options.all_inner_texts()
    assert "Đơn vị" in choices and not [c for c in choices if re.fullmatch(r"[a-z_0-9]+", c)], \
        choices
    options.filter(has_text=re.compile("^Đơn vị$")).first.click()
    bodies.clear()
    table.locator(".dt-global-filter input").fill("Xã Hiệp")
    page.wait_for_timeout(2500)  # the search waits 800 ms for typing to stop
    wait_for_charts(page)
    searched = [b for b in bodies if {"col": "Đơn vị", "op": "ILIKE", "val": "Xã Hiệp%"}
                in b["queries"][0].get("filters", [])]
    assert searched, [b["queries"][0].get("filters") for b in bodies]
    table.locator("table tbody tr").first.wait_for(state="visible")
    # the list keeps its old rows until the server's answer is drawn: read what it settles on
    settled_rows(table, lambda rows: rows and all(r.startswith("Xã Hiệp") for r in rows))
    units = set(table.locator("table tbody tr:visible td:nth-child(1)").all_inner_texts())
    assert units and all(u.startswith("Xã Hiệp") for u in units), units
    page.screenshot(path=str(ARTIFACTS / "tinh-hinh-nop-bao-cao-tim-theo-don-vi.png"))
    page.context.close()
