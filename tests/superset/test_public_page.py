"""The public page "Công khai" (issue 19): readable without logging in, through its own
connection (stored user `ioc_public`, schema `cong_khai` only) and the Superset role
"Công khai" (AUTH_ROLE_PUBLIC); nothing else is readable anonymously.

Checked on the session's Superset over the demo world: the REST API without a session
(lists, chart data, ad-hoc queries, SQL Lab) and headless Chromium without logging in.
"""

from __future__ import annotations

import httpx
import pytest
from support import committed, month, wait_for_charts
from test_browser import CHART_OUTPUT, TIMEOUT_MS

from ioc import warehouse
from ioc.settings import PROJECT_ROOT
from ioc_superset.assets_format import PUBLIC_DATABASE_NAME, PUBLIC_DATABASE_UUID
from ioc_superset.client import SupersetClient, rison
from tests.support.superset_server import SupersetServer

pytestmark = pytest.mark.superset

SLUG = "cong-khai"
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "superset"
PUBLIC_TABLES = {"ck_chi_so_thang", "ck_phan_anh_thang"}


def _public_assets() -> tuple[set[str], set[str]]:
    """(dataset uuids, chart uuids) of the public connection, from the committed files."""
    docs = committed()
    datasets = {d["uuid"] for r, d in docs.items()
                if r.startswith("datasets/") and d["database_uuid"] == PUBLIC_DATABASE_UUID}
    chart_uuids = {d["uuid"] for r, d in docs.items()
                   if r.startswith("charts/") and d["dataset_uuid"] in datasets}
    return datasets, chart_uuids


def test_public_assets_read_the_public_schema_through_ioc_public():
    docs = committed()
    (db,) = [d for r, d in docs.items()
             if r.startswith("databases/") and d["uuid"] == PUBLIC_DATABASE_UUID]
    assert db["sqlalchemy_uri"].startswith("postgresql+psycopg2://ioc_public:XXXXXXXXXX@")
    assert db["expose_in_sqllab"] is False and db["allow_dml"] is False
    public = [d for r, d in docs.items()
              if r.startswith("datasets/") and d["database_uuid"] == PUBLIC_DATABASE_UUID]
    assert {d["table_name"] for d in public} == PUBLIC_TABLES
    assert all(d["schema"] == "cong_khai" and d["sql"] is None for d in public)
    others = [d for r, d in docs.items()
              if r.startswith("datasets/") and d["database_uuid"] != PUBLIC_DATABASE_UUID]
    assert all(d["schema"] != "cong_khai" for d in others)
    (dash,) = [d for r, d in docs.items() if r.startswith("dashboards/") and d["slug"] == SLUG]
    _datasets, chart_uuids = _public_assets()
    on_dash = {n["meta"]["uuid"] for n in dash["position"].values()
               if isinstance(n, dict) and n.get("type") == "CHART"}
    assert on_dash and on_dash <= chart_uuids


@pytest.fixture(scope="module")
def anonymous(superset_server: SupersetServer) -> httpx.Client:
    with httpx.Client(base_url=superset_server.url, timeout=60) as client:
        yield client


def _ids(admin: SupersetClient, resource: str) -> dict[str, int]:
    return {str(r["uuid"]): r["id"] for r in admin.list_all(resource, ["id", "uuid"])}


def test_anonymous_reads_the_public_dashboard_and_its_data(
    anonymous: httpx.Client, admin: SupersetClient
):
    resp = anonymous.get(f"/api/v1/dashboard/{SLUG}")
    assert resp.status_code == 200, resp.text
    assert resp.json()["result"]["dashboard_title"] == "Công khai"
    _datasets, chart_uuids = _public_assets()
    chart_ids = {i for u, i in _ids(admin, "chart").items() if u in chart_uuids}
    assert len(chart_ids) == 4
    for chart_id in chart_ids:
        resp = anonymous.get(f"/api/v1/chart/{chart_id}/data/", params={"force": "true"})
        assert resp.status_code == 200, (chart_id, resp.text[:300])
        result = resp.json()["result"][0]  # a paginated list: its page, then its row count
        assert result["status"] == "success" and result["rowcount"] > 0, chart_id
        assert "ho_ten" not in (result.get("colnames") or [])


def test_anonymous_reads_nothing_else(anonymous: httpx.Client, admin: SupersetClient):
    # lists: the public dashboard, its charts and datasets, its connection; nothing more
    def listed(resource: str) -> set[str] | None:
        resp = anonymous.get(f"/api/v1/{resource}/",
                             params={"q": rison({"page_size": 100, "columns": ["uuid"]})})
        if resp.status_code in (401, 403, 404):
            return None
        assert resp.status_code == 200, (resource, resp.text[:300])
        return {str(r["uuid"]) for r in resp.json()["result"]}

    datasets, chart_uuids = _public_assets()
    dashboards = listed("dashboard")
    assert dashboards is not None and len(dashboards) == 1
    assert listed("chart") in (None, chart_uuids)
    assert listed("dataset") in (None, datasets)
    dbs = anonymous.get("/api/v1/database/")
    if dbs.status_code == 200:
        assert {r["database_name"] for r in dbs.json()["result"]} <= {PUBLIC_DATABASE_NAME}

    # every other dashboard, chart and dataset is refused
    public_dash = anonymous.get(f"/api/v1/dashboard/{SLUG}").json()["result"]["id"]
    for dash in admin.list_all("dashboard", ["id", "slug"]):
        if dash["id"] != public_dash:
            assert anonymous.get(f"/api/v1/dashboard/{dash['id']}").status_code in (403, 404)
            assert anonymous.get(f"/api/v1/dashboard/{dash['id']}/charts").status_code in (
                403, 404)
    refused = 0
    all_charts = _ids(admin, "chart")
    assert len(all_charts) >= 84, (len(all_charts), sorted(all_charts)[:5], len(chart_uuids))
    for uuid, chart_id in all_charts.items():
        if uuid in chart_uuids:
            continue
        resp = anonymous.get(f"/api/v1/chart/{chart_id}/data/")
        assert resp.status_code in (401, 403, 404), (chart_id, resp.status_code)
        refused += 1
    assert refused >= 80
    for uuid, dataset_id in _ids(admin, "dataset").items():
        if uuid in datasets:
            continue
        assert anonymous.get(f"/api/v1/dataset/{dataset_id}").status_code in (401, 403, 404)
        # an ad-hoc query on a mart (a case list) is refused too
        resp = anonymous.post("/api/v1/chart/data", json={
            "datasource": {"id": dataset_id, "type": "table"},
            "queries": [{"columns": [], "metrics": ["count"], "row_limit": 1}],
            "result_format": "json", "result_type": "full"})
        assert resp.status_code in (400, 401, 403, 404), (dataset_id, resp.status_code)
    # no SQL Lab, no saved queries, no logs, no users
    assert anonymous.post("/api/v1/sqllab/execute/", json={
        "database_id": 1, "sql": "select 1"}).status_code in (400, 401, 403, 404)
    for path in ("/api/v1/saved_query/", "/api/v1/log/", "/api/v1/security/users/",
                 "/sqllab/", "/api/v1/rowlevelsecurity/"):
        resp = anonymous.get(path, follow_redirects=False)
        assert resp.status_code in (302, 401, 403, 404, 405), (path, resp.status_code)


def test_public_dashboard_opens_without_login_in_the_browser(
    browser,
    superset_server: SupersetServer, admin: SupersetClient,
):
    context = browser.new_context(viewport={"width": 1600, "height": 1300})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        page.goto(f"{superset_server.url}/superset/dashboard/{SLUG}/")
        assert "/login" not in page.url
        wait_for_charts(page)
        charts = page.locator('[data-test="chart-grid-component"]')
        assert charts.count() == 4
        for i in range(4):
            charts.nth(i).locator(CHART_OUTPUT).first.wait_for(state="visible")
        text = page.locator("body").inner_text()
        assert "Công khai" in text and "Tỷ lệ" in text
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "cong-khai-anonymous.png"), full_page=True)
        # other dashboards are refused to visitors: test_anonymous_reads_nothing_else
    finally:
        context.close()


def test_public_unit_table_lists_newest_months_first_and_no_rate_without_denominator(
    anonymous: httpx.Client, admin: SupersetClient, warehouse_settings
):
    """Issue 19's note: the per-unit table opens on the newest month, and a rate whose
    denominator is 0 (0/0, "N/A") is not a row; every other unit-month-indicator is, page
    by page (the row count the pager shows)."""
    (chart_id,) = [c["id"] for c in admin.list_all("chart", ["id", "slice_name"])
                   if c["slice_name"] == "Chỉ số 766 theo đơn vị và tháng"]
    resp = anonymous.get(f"/api/v1/chart/{chart_id}/data/", params={"force": "true"})
    assert resp.status_code == 200, resp.text[:300]
    page, count = resp.json()["result"]
    with warehouse.connect(warehouse_settings) as conn:
        newest, with_denominator, without = conn.execute(
            """select max(thang), count(*) filter (where mau_so > 0),
                      count(*) filter (where coalesce(mau_so, 0) = 0)
               from cong_khai.ck_chi_so_thang where cap = 'don_vi' and thang_da_ket_thuc"""
        ).fetchone()
    assert without > 0, "the demo world needs a 0/0 rate to leave out"
    assert count["data"][0]["rowcount"] == with_denominator
    months = [row["Tháng"] for row in page["data"]]
    assert months and months == sorted(months, reverse=True)
    assert {month(m) for m in months[:1]} == {newest.strftime("%Y-%m")}
    assert all(row["Giá trị (%)"] is not None and row["Mẫu số"] > 0 for row in page["data"])
