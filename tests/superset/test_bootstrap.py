"""Bootstrap against a real Superset: every committed asset exists, a second run changes
nothing, and Superset's own export gives the committed files back."""

from __future__ import annotations

import tempfile
from pathlib import Path
from uuid import NAMESPACE_URL, uuid5

import pytest
import yaml

from ioc_superset import bootstrap, bundle, export
from ioc_superset.client import SupersetClient
from tests.support.superset_server import SupersetServer

pytestmark = pytest.mark.superset


def _committed(kind: str) -> dict[str, dict]:
    docs = {rel: yaml.safe_load(t) for rel, t in bundle.read_dir().items()}
    return {d["uuid"]: d for rel, d in docs.items() if rel.startswith(kind + "/")}


def _inventory(client: SupersetClient) -> dict[str, list[tuple]]:
    return {
        "dashboard": sorted(
            (d["uuid"], d["id"], d["dashboard_title"], d["slug"], d["changed_on_utc"])
            for d in client.list_all(
                "dashboard", ["id", "uuid", "dashboard_title", "slug", "changed_on_utc"]
            )
        ),
        "chart": sorted(
            (c["uuid"], c["id"], c["slice_name"], c["changed_on_utc"])
            for c in client.list_all("chart", ["id", "uuid", "slice_name", "changed_on_utc"])
        ),
        "dataset": sorted(
            (d["uuid"], d["id"], d["schema"], d["table_name"], d["changed_on_utc"])
            for d in client.list_all(
                "dataset", ["id", "uuid", "schema", "table_name", "changed_on_utc"]
            )
        ),
        "database": sorted(
            (d["uuid"], d["id"], d["database_name"])
            for d in client.list_all("database", ["id", "uuid", "database_name"])
        ),
    }


def test_every_committed_asset_exists(admin: SupersetClient):
    have = _inventory(admin)
    dashboards = {row[0]: row for row in have["dashboard"]}
    for uuid, doc in _committed("dashboards").items():
        assert uuid in dashboards, doc["dashboard_title"]
        assert dashboards[uuid][2:4] == (doc["dashboard_title"], doc["slug"])
    charts = {row[0]: row for row in have["chart"]}
    for uuid, doc in _committed("charts").items():
        assert charts[uuid][2] == doc["slice_name"]
    datasets = {row[0]: row for row in have["dataset"]}
    for uuid, doc in _committed("datasets").items():
        assert datasets[uuid][2:4] == (doc["schema"], doc["table_name"])
    (db,) = [row for row in have["database"] if row[2] == "Kho dữ liệu IOC"]
    detail = admin.get(f"/api/v1/database/{db[1]}/connection")["result"]
    assert detail["sqlalchemy_uri"].startswith("postgresql+psycopg2://ioc_bi:")
    assert detail["allow_dml"] is False


DASHBOARDS = {
    "tong-quan": "Tổng quan IOC",
    "hanh-chinh-cong": "Hành chính công",
    "quan-ly-van-ban": "Quản lý văn bản",
    "kinh-te-xa-hoi": "Kinh tế - Xã hội",
    "y-te": "Y tế",
    "giao-duc": "Giáo dục",
    "phan-anh-kien-nghi": "Phản ánh kiến nghị",
    "tinh-hinh-nop-bao-cao": "Tình hình nộp báo cáo",
    "chi-tieu": "Chỉ tiêu",
}


def test_every_dashboard_has_the_charts_of_its_layout(admin: SupersetClient):
    committed = _committed("dashboards")
    charts = _committed("charts")
    by_slug = {d["slug"]: d for d in committed.values()}
    assert set(DASHBOARDS) <= set(by_slug)
    for dash in admin.list_all("dashboard", ["id", "slug"]):
        doc = by_slug[dash["slug"]]
        in_layout = {
            charts[n["meta"]["uuid"]]["slice_name"]
            for n in doc["position"].values()
            if isinstance(n, dict) and n.get("type") == "CHART"
        }
        names = {
            c["slice_name"] for c in admin.get(f"/api/v1/dashboard/{dash['id']}/charts")["result"]
        }
        assert names == in_layout, dash["slug"]
        detail = admin.get(f"/api/v1/dashboard/{dash['id']}")["result"]
        assert detail["dashboard_title"] == doc["dashboard_title"]
        assert detail["dashboard_title"] == DASHBOARDS.get(dash["slug"], detail["dashboard_title"])
        assert detail["published"] is True


def test_export_after_bootstrap_gives_the_committed_files_back(admin: SupersetClient):
    """The committed YAML is exactly Superset's export format (in canonical form)."""
    exported = bundle.canonical_export(admin.export_assets())
    committed = bundle.read_dir()
    for rel, text in committed.items():
        assert exported.get(rel) == text, f"{rel} differs after a round trip through Superset"


def test_export_command_writes_the_same_files(admin: SupersetClient):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        report = export.export(admin, assets_dir=out)
        assert not report.differs_from_spec
        written = bundle.read_dir(out)
    assert {k: v for k, v in written.items() if k in bundle.read_dir()} == bundle.read_dir()


def test_second_bootstrap_changes_nothing(superset_server: SupersetServer, admin: SupersetClient):
    before = _inventory(admin)
    export_before = bundle.canonical_export(admin.export_assets())
    roles_before = admin.get("/api/v1/security/roles/search/", q="(page_size:500)")["result"]
    report = superset_server.bootstrap()
    assert report.changes == []
    assert not report.imported
    assert _inventory(admin) == before  # same ids, uuids, names and change times
    assert bundle.canonical_export(admin.export_assets()) == export_before
    roles_after = admin.get("/api/v1/security/roles/search/", q="(page_size:500)")["result"]
    assert _roles(roles_after) == _roles(roles_before)


def _roles(found: list[dict]) -> dict[str, dict]:
    """Roles by name with their ids as sets: the API lists a role's permission ids in
    whatever order the database returns them, which is not part of the role."""
    return {
        r["name"]: {k: sorted(v) if k.endswith("_ids") else v for k, v in r.items()}
        for r in found
    }


def test_forced_reimport_keeps_identities(superset_server: SupersetServer, admin: SupersetClient):
    """Importing the bundle again (overwrite) updates in place: no duplicates, same ids."""
    before = {k: [row[:2] for row in v] for k, v in _inventory(admin).items()}
    data, passwords = bundle.install_bundle(superset_server.settings)
    admin.import_assets(data, passwords)
    after = {k: [row[:2] for row in v] for k, v in _inventory(admin).items()}
    assert after == before
    exported = bundle.canonical_export(admin.export_assets())
    assert all(exported.get(rel) == text for rel, text in bundle.read_dir().items())


def test_a_chart_the_assets_dropped_is_deleted_after_the_import(
    superset_server: SupersetServer, admin: SupersetClient, leader_user
):
    """Superset's import creates and overwrites, never deletes: the charts an older version
    of the assets put on a dashboard (e.g. the overview's former per-tile links `tq_lk_*`)
    would stay behind, listed under no dashboard. The import deletes them afterwards, unless
    a person owns the chart too."""
    files = bundle.read_dir()
    (link_rel,) = [r for r in files if r.startswith("charts/Mo_linh_vuc_hang_o_so_1")]
    (dash_rel,) = [r for r in files if r.startswith("dashboards/Tong_quan_IOC")]
    old = dict(files)
    overview = yaml.safe_load(files[dash_rel])
    extra = {}
    for n in (1, 2):  # an "older" assets' charts, on the overview
        doc = yaml.safe_load(files[link_rel])
        doc["uuid"] = str(uuid5(NAMESPACE_URL, f"ioc-test-dropped-chart-{n}"))
        doc["slice_name"] = f"Mở lĩnh vực: biểu đồ cũ {n}"
        old[f"charts/bieu_do_cu_{n}.yaml"] = bundle.dump_yaml(doc)
        extra[doc["uuid"]] = doc["slice_name"]
        position = overview["position"]
        row, node = f"ROW-OLD-{n}", f"CHART-old-{n}"
        position["GRID_ID"]["children"].append(row)
        position[row] = {"children": [node], "id": row, "meta": {"background":
                         "BACKGROUND_TRANSPARENT"}, "parents": ["ROOT_ID", "GRID_ID"],
                         "type": "ROW"}
        position[node] = {"children": [], "id": node, "parents": ["ROOT_ID", "GRID_ID", row],
                          "type": "CHART", "meta": {"chartId": 990000 + n,
                                                    "uuid": doc["uuid"], "width": 12,
                                                    "height": 10,
                                                    "sliceName": doc["slice_name"]}}
    old[dash_rel] = bundle.dump_yaml(overview)
    data, passwords = bundle.install_files(superset_server.settings, old)
    admin.import_assets(bundle.zip_files(data), passwords)
    charts = {c["uuid"]: c for c in admin.list_all("chart", ["id", "uuid", "dashboards.id"])}
    assert set(extra) <= set(charts) and all(charts[u]["dashboards"] for u in extra)
    # a person made the second one theirs: it stays
    (leader_id,) = [u["id"] for u in admin.list_all("security/users", ["id", "username"],
                                                     username=leader_user[0])]
    kept, dropped = sorted(extra, key=extra.get)[1], sorted(extra, key=extra.get)[0]
    (me,) = [u["id"] for u in admin.list_all("security/users", ["id", "username"],
                                             username=admin.get("/api/v1/me/")["result"]["username"])]
    admin.put(f"/api/v1/chart/{charts[kept]['id']}", {"owners": [me, leader_id]})
    try:
        changes = bootstrap.import_assets(admin, superset_server.settings, bundle.ASSETS_DIR)
        have = {c["uuid"] for c in admin.list_all("chart", ["id", "uuid"])}
        assert dropped not in have and kept in have
        assert changes == [f"deleted chart {extra[dropped]!r} (no longer in superset/assets)"]
        exported = bundle.canonical_export(admin.export_assets())
        assert all(exported.get(rel) == text for rel, text in files.items())
    finally:
        admin.delete(f"/api/v1/chart/{charts[kept]['id']}")
