"""Headless Chromium: log in, open every dashboard, every chart renders without error.

Uses Debian's Chromium (`/usr/bin/chromium`, `make browser`); Playwright's own browser
download does not work here and is never attempted. Screenshots go to `test-artifacts/`.
Waiting follows Superset's own Playwright suite (dashboard-load.spec.ts): the dashboard
header, then at least one chart component, then no visible loader; then each chart must show
its output (a canvas for ECharts, table rows for tables) and no error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ioc.bi import bundle
from ioc.bi.client import SupersetClient
from ioc.bi.testing import SupersetServer
from ioc.settings import PROJECT_ROOT

pytestmark = pytest.mark.superset

CHROMIUM = os.environ.get("IOC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "superset"
TIMEOUT_MS = 90_000
# Superset's footer loads a telemetry pixel from a third-party origin; our CSP blocks it on
# purpose (no internet, no telemetry). That console error is expected, nothing else is.
EXPECTED_CONSOLE = re.compile(r"scarf\.sh.*violates the following Content Security Policy", re.S)
CHART_ERROR = (
    '[data-test="chart-grid-component"] .alert-danger, '
    '[data-test="chart-grid-component"] [role="alert"], '
    '[data-test="chart-grid-component"] .ant-alert-error'
)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def _login(browser, url: str, username: str, password: str):
    page = browser.new_page(viewport={"width": 1600, "height": 1300})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{url}/login/")
    page.locator('[data-test="username-input"]').fill(username)
    page.locator('[data-test="password-input"]').fill(password)
    page.locator('[data-test="login-button"]').click()
    page.wait_for_url(lambda u: "/login" not in u)
    return page


def _wait_for_charts(page) -> None:
    page.locator('[data-test="dashboard-header-container"]').wait_for(state="visible")
    page.locator('[data-test="chart-grid-component"]').first.wait_for(state="attached")
    page.locator('[aria-label="Loading"]:visible').first.wait_for(state="detached")


def _dashboards(client: SupersetClient) -> list[dict]:
    return client.list_all("dashboard", ["id", "slug", "dashboard_title"])


def _open_dashboard(page, url: str, dash: dict, chart_ids: list[int]) -> dict[int, int]:
    """Open the dashboard; return {chart id: status of its /api/v1/chart/data POST}."""
    statuses: dict[int, int] = {}

    def on_response(response) -> None:
        if response.request.method != "POST" or "/api/v1/chart/data" not in response.url:
            return
        match = re.search(r"form_data=([^&]+)", response.url)
        if match:
            from urllib.parse import unquote

            slice_id = json.loads(unquote(match.group(1))).get("slice_id")
            if isinstance(slice_id, int):
                statuses[slice_id] = response.status

    page.on("response", on_response)
    page.goto(f"{url}/superset/dashboard/{dash['slug'] or dash['id']}/")
    _wait_for_charts(page)
    for chart_id in chart_ids:
        chart = page.locator(f'[data-test="chart-grid-component"][data-test-chart-id="{chart_id}"]')
        chart.wait_for(state="visible")
        # the chart's own output, not just its frame
        chart.locator("canvas, table tbody tr").first.wait_for(state="visible")
    page.remove_listener("response", on_response)
    return statuses


def test_every_dashboard_renders_every_chart(
    browser, superset_server: SupersetServer, admin: SupersetClient
):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    console: list[str] = []
    page = _login(browser, superset_server.url, superset_server.username, superset_server.password)
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(f"page error: {e}"))
    dashboards = _dashboards(admin)
    assert dashboards
    for dash in dashboards:
        charts = admin.get(f"/api/v1/dashboard/{dash['id']}/charts")["result"]
        chart_ids = [c["id"] for c in charts]
        assert chart_ids, f"{dash['dashboard_title']} has no charts"
        statuses = _open_dashboard(page, superset_server.url, dash, chart_ids)
        page.screenshot(path=str(ARTIFACTS / f"{dash['slug'] or dash['id']}.png"), full_page=True)
        assert page.locator(CHART_ERROR).count() == 0, page.locator(CHART_ERROR).first.inner_text()
        for chart_id in chart_ids:
            assert statuses.get(chart_id) in (200, 202), (dash["dashboard_title"], chart_id)
    unexpected = [m for m in console if not EXPECTED_CONSOLE.search(m)]
    assert not unexpected, unexpected
    page.close()


def test_numbers_use_vietnamese_format(browser, superset_server: SupersetServer, slice_mart):
    if not slice_mart:
        pytest.skip("the mart holds other data than slice_data.rows()")
    page = _login(browser, superset_server.url, superset_server.username, superset_server.password)
    page.goto(f"{superset_server.url}/superset/dashboard/kinh-te-xa-hoi/")
    _wait_for_charts(page)
    rows = page.locator('[data-test="chart-grid-component"] table tbody tr')
    rows.first.wait_for(state="visible")
    text = "\n".join(rows.all_inner_texts())
    assert "1.234,5" in text  # Quế Thọ, KT01, 02/2025: 1234.5 with . thousands and , decimals
    assert "4.000" in text
    assert "02/2025" in text  # month format %m/%Y
    page.close()


def _filter_id(slug: str, name: str) -> str:
    for rel, text in bundle.read_dir().items():
        doc = yaml.safe_load(text)
        if rel.startswith("dashboards/") and doc.get("slug") == slug:
            for flt in doc["metadata"]["native_filter_configuration"]:
                if flt["name"] == name:
                    return flt["id"]
    raise KeyError(name)


def test_unit_filter_applies_to_every_chart(browser, superset_server: SupersetServer, admin):
    (dash,) = [d for d in _dashboards(admin) if d["slug"] == "kinh-te-xa-hoi"]
    chart_count = len(admin.get(f"/api/v1/dashboard/{dash['id']}/charts")["result"])
    page = _login(browser, superset_server.url, superset_server.username, superset_server.password)
    page.goto(f"{superset_server.url}/superset/dashboard/kinh-te-xa-hoi/")
    _wait_for_charts(page)
    queries: list[dict] = []
    page.on(
        "request",
        lambda r: (
            queries.append(json.loads(r.post_data))
            if r.method == "POST" and "/api/v1/chart/data" in r.url
            else None
        ),
    )
    page.locator(f'[data-test="{_filter_id("kinh-te-xa-hoi", "Xã/thị trấn")}"]').click()
    page.get_by_title("Xã Quế Thọ").first.click()
    page.keyboard.press("Escape")
    page.locator('[data-test="filter-bar__apply-button"]').click()
    page.wait_for_timeout(1000)
    _wait_for_charts(page)
    filtered = [
        q
        for q in queries
        if {"col": "org_unit_name", "op": "IN", "val": ["Xã Quế Thọ"]} in q["queries"][0]["filters"]
    ]
    assert len(filtered) >= chart_count, queries
    page.screenshot(path=str(ARTIFACTS / "kinh-te-xa-hoi-que-tho.png"), full_page=True)
    page.close()


def test_commune_user_dashboard_shows_only_its_commune(
    browser, superset_server: SupersetServer, commune_user
):
    page = _login(browser, superset_server.url, *commune_user)
    page.goto(f"{superset_server.url}/superset/dashboard/kinh-te-xa-hoi/")
    _wait_for_charts(page)
    rows = page.locator('[data-test="chart-grid-component"] table tbody tr')
    rows.first.wait_for(state="visible")
    names = {cell.strip() for cell in rows.locator("td:nth-child(2)").all_inner_texts()}
    assert names == {"Xã Hiệp Thuận"}
    page.screenshot(path=str(ARTIFACTS / "kinh-te-xa-hoi-xa-hiep-thuan.png"), full_page=True)
    page.close()
