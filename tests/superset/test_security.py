"""Roles, row-level security, SQL Lab access, CSRF/Talisman, and the read-only BI role."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import psycopg
import pytest
from support import by_code, chart, chart_data, charts, committed

from ioc import warehouse
from ioc_superset import policies
from ioc_superset.client import SupersetClient, SupersetError
from tests.support.superset_server import SupersetServer

pytestmark = pytest.mark.superset

KTXH_SCHEMA, KTXH_TABLE = "mart_kinh_te_xa_hoi", "fct_chi_tieu_thang"
KTXH = f"{KTXH_SCHEMA}.{KTXH_TABLE}"
# Tables the BI role must never read: raw intake, raw agency records, personal data.
FORBIDDEN = ["raw_intake.file_manifest", "raw_agency.ho_so", "restricted.ho_so_ca_nhan"]


def _login(ss: SupersetServer, user: tuple[str, str]) -> SupersetClient:
    return ss.client(*user)


def _warehouse_db_id(client: SupersetClient) -> int:
    (db,) = client.list_all("database", ["id", "database_name"], database_name="Kho dữ liệu IOC")
    return db["id"]


def _table_rows(client: SupersetClient) -> list[dict]:
    """Rows of the KTXH indicator table (one row per commune, month and indicator)."""
    table_id = chart(client, "Chỉ tiêu theo xã và tháng").id
    return chart_data(client, table_id)[0]["data"]


def _datasets_with_units() -> set[str]:
    return {
        d["table_name"]
        for rel, d in committed().items()
        if rel.startswith("datasets/")
        and any(c["column_name"] == "org_unit_id" for c in d["columns"])
    }


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
        # every dataset with a unit column, on every dashboard, carries every commune's rule
        assert _datasets_with_units() <= {t["table_name"] for t in rls[name]["tables"]}
    assert len(_datasets_with_units()) >= 17


def test_commune_user_sees_only_its_rows(
    superset_server: SupersetServer, commune_user, warehouse_settings
):
    with warehouse.connect(warehouse_settings) as conn:
        own = conn.execute(
            f"select count(*) from {KTXH} where org_unit_id = 'xa-hiep-thuan'"
        ).fetchone()[0]
        total = conn.execute(f"select count(*) from {KTXH}").fetchone()[0]
    assert 0 < own < total, "the test data needs rows of Hiệp Thuận and of other communes"
    with _login(superset_server, commune_user) as client:
        rows = _table_rows(client)
        assert len(rows) == own
        assert {r["org_unit_name"] for r in rows} == {"Xã Hiệp Thuận"}
        seen = 0
        for c in charts(client):
            for result in chart_data(client, c.id):
                for row in (by_code(c, r) for r in result["data"]):
                    assert row.get("org_unit_name", "Xã Hiệp Thuận") == "Xã Hiệp Thuận", c.title
                    assert row.get("org_unit_id", "xa-hiep-thuan") == "xa-hiep-thuan", c.title
                if c.viz.startswith("echarts_timeseries") and "org_unit_name" in (
                    c.params.get("groupby") or []
                ):
                    # a series is named by its groupby values joined by ", ": the unit's
                    # part, counted from the end (the columns after it hold no comma)
                    groupby = c.params["groupby"]
                    back = len(groupby) - groupby.index("org_unit_name")
                    units = {name.split(", ")[-back]
                             for name in set(result["colnames"]) - {"period_month"}}
                    assert units <= {"Xã Hiệp Thuận"}, (c.title, units)
            sql = chart_data(client, c.id, result_type="query")[0]["query"]
            assert "org_unit_id = 'xa-hiep-thuan'" in sql, c.title
            seen += 1
        assert seen >= 80


def test_merged_commune_sees_its_predecessors_in_every_chart(
    superset_server: SupersetServer, merged_commune_user
):
    """Quế Tân was formed from Hiệp Hòa and Hiệp Thuận: every chart shows their history (the
    demo world's months are before the merger) and nothing of any other unit. (The chart
    asked alone holds both views of history: as reported, under Hiệp Hòa and Hiệp Thuận;
    in today's structure, under the unit that replaced them — Quế Tân itself when the
    structure of the day ends with it, a later commune outside its scope otherwise.)"""
    scope = {"Xã Quế Tân", "Xã Hiệp Hòa", "Xã Hiệp Thuận"}
    with _login(superset_server, merged_commune_user) as client:
        names = {r["org_unit_name"] for r in _table_rows(client)}
        assert {"Xã Hiệp Hòa", "Xã Hiệp Thuận"} <= names <= scope
        seen = 0
        for c in charts(client):
            for result in chart_data(client, c.id):
                for row in (by_code(c, r) for r in result["data"]):
                    assert row.get("org_unit_name", "Xã Quế Tân") in scope, c.title
            seen += 1
        assert seen >= 80


def test_commune_user_cannot_bypass_rls_with_an_ad_hoc_query(
    superset_server: SupersetServer, commune_user
):
    with _login(superset_server, commune_user) as client:
        (ds,) = client.list_all("dataset", ["id", "table_name"], table_name=KTXH_TABLE,
                                schema=KTXH_SCHEMA)
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
                    "sql": f"select * from {KTXH}",
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
                "sql": f"select count(*) as n from {KTXH}",
                "runAsync": False,
            },
        )
        assert body["data"][0]["n"] > 0
        for table in FORBIDDEN:
            with pytest.raises(SupersetError) as exc:
                client.post(
                    "/api/v1/sqllab/execute/",
                    {"database_id": db_id, "sql": f"select * from {table}", "runAsync": False},
                )
            assert "permission denied" in str(exc.value.body).lower(), table


def test_bi_role_cannot_read_raw_tables(warehouse_settings, mart_world, superset_server):
    """The data team's role (the widest Superset uses) reads the marts and no raw table;
    `ioc_bi`, stored in Superset's connection, reads not even the marts."""
    with psycopg.connect(warehouse.bi_url(warehouse_settings)) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"select count(*) from {KTXH}")
    key = warehouse.role_key(warehouse_settings)
    data_team = warehouse.bi_url(warehouse_settings).replace(
        f"{warehouse.BI_ROLE}:{quote(warehouse.bi_password(warehouse_settings), safe='')}@",
        f"ioc_bi_du_lieu:{quote(warehouse.role_password('ioc_bi_du_lieu', key), safe='')}@")
    with psycopg.connect(data_team) as conn:
        assert conn.execute(f"select count(*) from {KTXH}").fetchone()[0] > 0
        for table in FORBIDDEN:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select * from {table} limit 1")
            conn.rollback()
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute(f"delete from {KTXH}")


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
