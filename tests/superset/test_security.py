"""Roles, row-level security, SQL Lab access, CSRF/Talisman, and the read-only BI role."""

from __future__ import annotations

import httpx
import psycopg
import pytest
import slice_data

from ioc import warehouse
from ioc.bi import policies
from ioc.bi.client import SupersetClient, SupersetError
from ioc.bi.testing import SupersetServer

pytestmark = pytest.mark.superset


def _login(ss: SupersetServer, user: tuple[str, str]) -> SupersetClient:
    return ss.client(*user)


def _warehouse_db_id(client: SupersetClient) -> int:
    (db,) = client.list_all("database", ["id", "database_name"], database_name="Kho dữ liệu IOC")
    return db["id"]


def _table_rows(client: SupersetClient) -> list[dict]:
    (table,) = [c for c in client.list_all("chart", ["id", "viz_type"]) if c["viz_type"] == "table"]
    return client.chart_data(table["id"])["result"][0]["data"]


def test_roles_and_rls_rules_exist(admin: SupersetClient):
    roles = {
        r["name"]
        for r in admin.get("/api/v1/security/roles/search/", q="(page_size:500)")["result"]
    }
    rules = policies.commune_rules()
    assert {"Lãnh đạo huyện", "Nhóm dữ liệu"} <= roles
    assert {r["role"] for r in rules} <= roles
    rls = {r["name"]: r for r in admin.list_all("rowlevelsecurity")}
    for rule in rules:
        name = f"{policies.RLS_PREFIX}{rule['org_unit_id']}"
        assert rls[name]["clause"] == rule["clause"]
        assert rls[name]["filter_type"] == "Regular"
        assert slice_data.TABLE in [t["table_name"] for t in rls[name]["tables"]]


def test_commune_user_sees_only_its_rows(
    superset_server: SupersetServer, commune_user, warehouse_settings
):
    with warehouse.connect(warehouse_settings) as conn:
        own = conn.execute(
            f"select count(*) from {slice_data.SCHEMA}.{slice_data.TABLE} "
            "where org_unit_id = 'xa-hiep-thuan'"
        ).fetchone()[0]
        total = conn.execute(
            f"select count(*) from {slice_data.SCHEMA}.{slice_data.TABLE}"
        ).fetchone()[0]
    assert 0 < own < total, "the test data needs rows of Hiệp Thuận and of other communes"
    with _login(superset_server, commune_user) as client:
        rows = _table_rows(client)
        assert len(rows) == own
        assert {r["org_unit_name"] for r in rows} == {"Xã Hiệp Thuận"}
        for chart in client.list_all("chart", ["id", "viz_type"]):
            (result,) = client.chart_data(chart["id"])["result"]
            if chart["viz_type"].startswith("echarts_timeseries"):
                communes = set(result["colnames"]) - {"period_month"}
                assert communes <= {"Xã Hiệp Thuận"}
            sql = client.chart_data(chart["id"], result_type="query")["result"][0]["query"]
            assert "org_unit_id = 'xa-hiep-thuan'" in sql


def test_commune_user_cannot_bypass_rls_with_an_ad_hoc_query(
    superset_server: SupersetServer, commune_user
):
    with _login(superset_server, commune_user) as client:
        (ds,) = client.list_all("dataset", ["id", "table_name"], table_name=slice_data.TABLE)
        body = client.query(
            {
                "datasource": {"id": ds["id"], "type": "table"},
                "queries": [{"columns": ["org_unit_id"], "metrics": ["thuc_hien"]}],
            }
        )
        assert {r["org_unit_id"] for r in body["result"][0]["data"]} == {"xa-hiep-thuan"}


def test_leader_sees_everything_but_cannot_edit_or_use_sql_lab(
    superset_server: SupersetServer, leader_user, admin: SupersetClient
):
    db_id = _warehouse_db_id(admin)
    everything = len(_table_rows(admin))
    with _login(superset_server, leader_user) as client:
        assert len(_table_rows(client)) == everything
        (dash,) = client.list_all("dashboard", ["id", "slug"], slug="kinh-te-xa-hoi")
        with pytest.raises(SupersetError) as exc:
            client.put(f"/api/v1/dashboard/{dash['id']}", {"dashboard_title": "Đổi tên"})
        assert exc.value.status in (401, 403)
        with pytest.raises(SupersetError) as exc:
            client.post("/api/v1/sqllab/execute/", {"database_id": db_id, "sql": "select 1"})
        assert exc.value.status in (401, 403)


def test_commune_user_has_no_sql_lab(superset_server: SupersetServer, commune_user, admin):
    db_id = _warehouse_db_id(admin)
    with _login(superset_server, commune_user) as client:
        with pytest.raises(SupersetError) as exc:
            client.post(
                "/api/v1/sqllab/execute/",
                {
                    "database_id": db_id,
                    "sql": f"select * from {slice_data.SCHEMA}.{slice_data.TABLE}",
                },
            )
        assert exc.value.status in (401, 403)


def test_data_team_uses_sql_lab_on_marts_only(
    superset_server: SupersetServer, data_team_user, admin
):
    db_id = _warehouse_db_id(admin)
    with _login(superset_server, data_team_user) as client:
        body = client.post(
            "/api/v1/sqllab/execute/",
            {
                "database_id": db_id,
                "sql": f"select count(*) as n from {slice_data.SCHEMA}.{slice_data.TABLE}",
                "runAsync": False,
            },
        )
        assert body["data"][0]["n"] > 0
        with pytest.raises(SupersetError) as exc:
            client.post(
                "/api/v1/sqllab/execute/",
                {
                    "database_id": db_id,
                    "sql": f"select * from {slice_data.RAW_PROBE}",
                    "runAsync": False,
                },
            )
        assert "permission denied" in str(exc.value.body).lower()


def test_bi_role_cannot_read_raw_tables(warehouse_settings, slice_mart):
    with psycopg.connect(warehouse.bi_url(warehouse_settings)) as conn:
        assert (
            conn.execute(f"select count(*) from {slice_data.SCHEMA}.{slice_data.TABLE}").fetchone()[
                0
            ]
            > 0
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"select * from {slice_data.RAW_PROBE}")
        conn.rollback()
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute(f"delete from {slice_data.SCHEMA}.{slice_data.TABLE}")


def test_csrf_and_talisman_are_on(superset_server: SupersetServer, admin: SupersetClient):
    # a write with the JWT but without the CSRF token is refused
    token = admin.http.headers["Authorization"]
    resp = httpx.post(
        f"{superset_server.url}/api/v1/dashboard/",
        headers={"Authorization": token},
        json={"dashboard_title": "không có CSRF"},
    )
    assert resp.status_code == 400 and "CSRF" in resp.text
    page = httpx.get(f"{superset_server.url}/login/")
    csp = page.headers.get("content-security-policy", "")
    assert "default-src 'self'" in csp and "script-src 'self' 'strict-dynamic'" in csp
    assert page.headers.get("x-frame-options") == "SAMEORIGIN"


def test_wrong_password_is_refused(superset_server: SupersetServer):
    with pytest.raises(SupersetError) as exc:
        superset_server.client("admin", "không-đúng")
    assert exc.value.status == 401
