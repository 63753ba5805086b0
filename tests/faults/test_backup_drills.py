"""The full restore drills (`make faults`).

1. A platform with the demo district's two months, its marts and a running Superset in which
   a user, a role and a row rule were made by hand is backed up (encrypted, personal data and
   secrets included), loses its data folder, and is restored with the age key: Superset's
   assets, users, roles and row rules, the marts and the personal rows come back, the user
   logs in with the password it had and sees only its unit. Lost again and restored with new
   secrets, it works again (every password new, the user's own password kept).
2. A backup taken while an intake run is loading restores to a consistent state: no file
   half loaded, every archived file the restored manifest names present.
"""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from backup import backup, crypto, restore
from ingest.intake import engine
from ioc import warehouse
from ioc_superset import bundle, policies
from ioc_superset.client import SupersetClient, rison
from ioc_superset.users import ensure_user, role_ids
from tests.backup import platform as plat
from tests.faults import world
from tests.support.superset_server import running_superset

pytestmark = pytest.mark.faults

USER, PASSWORD = "can-bo-dien-tap", "Mat-khau-dien-tap-2026"
ROLE = "Vai trò diễn tập"
RULE = "Quy tắc diễn tập"
KTXH = "fct_chi_tieu_thang"


def _superset_state(client: SupersetClient) -> dict:
    roles = client.get("/api/v1/security/roles/search/", q=rison({"page": 0, "page_size": 500}))
    users = client.get("/api/v1/security/users/", q=rison({"page": 0, "page_size": 100}))
    rules = client.list_all("rowlevelsecurity")
    return {
        "assets": bundle.canonical_export(client.export_assets()),
        "roles": sorted(r["name"] for r in roles["result"]),
        "users": sorted((u["username"], u.get("active"), sorted(r["name"] for r in
                        u.get("roles", []))) for u in users["result"]),
        "rls": sorted((r["name"], r["clause"], r["filter_type"],
                       sorted(t["table_name"] for t in r["tables"]),
                       sorted(x["name"] for x in r["roles"])) for r in rules),
    }


def _dataset_id(client: SupersetClient, table: str) -> int:
    [row] = client.list_all("dataset", columns=["id", "table_name"], table_name=table,
                            schema="mart_kinh_te_xa_hoi")  # mart_chi_tieu has one too
    return row["id"]


def _unit_rows(client: SupersetClient, dataset_id: int) -> set[str]:
    body = client.query({
        "datasource": {"id": dataset_id, "type": "table"},
        "queries": [{"columns": ["org_unit_id"], "metrics": [], "row_limit": 50000}],
        "result_format": "json", "result_type": "full"})
    return {row["org_unit_id"] for row in body["result"][0]["data"]}


def _made_by_hand(client: SupersetClient) -> str:
    """A user, a role and a row rule made in Superset's UI (not in the repository)."""
    commune = next(r for r in policies.commune_rules() if r["org_unit_id"] == "xa-hiep-thuan")
    client.post("/api/v1/security/roles/", {"name": ROLE})
    ensure_user(client, USER, [commune["role"], ROLE], password=PASSWORD)
    client.post("/api/v1/rowlevelsecurity/", {
        "name": RULE, "filter_type": "Regular", "clause": "1 = 1", "group_key": "",
        "tables": [_dataset_id(client, KTXH)], "roles": role_ids(client, [ROLE])})
    return commune["org_unit_id"]


@pytest.fixture(scope="module")
def drill(faults_world, agency_api, tmp_path_factory):
    p = plat.new_platform()
    secret, public = crypto.generate()
    key = tmp_path_factory.mktemp("key") / "ioc-backup-key.txt"
    crypto.write_identity(key, secret, public)
    p.env = {"IOC_BACKUP_PERSONAL": "encrypt", "IOC_BACKUP_AGE_RECIPIENTS": public}
    try:
        plat.load_world(p, faults_world, agency_api.url)
        yield p, key
    finally:
        plat.destroy(p)


def test_encrypted_backup_restores_superset_users_roles_rules_and_personal_data(drill):
    p, key = drill
    with plat.platform_env(p) as cfg, running_superset(cfg) as ss:
        with ss.client() as admin:
            unit = _made_by_hand(admin)
            before = _superset_state(admin)
            dataset = _dataset_id(admin, KTXH)
        with ss.client(USER, PASSWORD) as user:
            seen_before = _unit_rows(user, dataset)
        url = warehouse.url(cfg)
        marts = world.mart_fingerprints(url)
        with psycopg.connect(url) as conn:
            personal = conn.execute("select count(*) from restricted.ho_so_ca_nhan").fetchone()[0]
        sidecars = len(list(cfg.archive_dir.glob("agency/*/*/*.personal.json.gz")))
        taken = backup.run(cfg)
    assert taken.encrypted and taken.secrets and personal > 0 and sidecars > 0
    assert seen_before == {unit}
    assert ROLE in before["roles"] and any(r[0] == RULE for r in before["rls"])

    plat.lose_data_folder(p)
    with plat.platform_env(p, IOC_SUPERSET_PORT=str(plat.free_port())) as cfg:
        with pytest.raises(restore.RestoreError):
            restore.restore(taken.name, cfg, superset=False)  # no key, nothing touched
        assert not (cfg.pgdata / "PG_VERSION").exists()
        result = restore.restore(taken.name, cfg, identity=key)
        assert result.secrets == "restored" and not result.warnings, result.warnings
        with running_superset(cfg) as ss:
            with ss.client() as admin:
                assert _superset_state(admin) == before
            with ss.client(USER, PASSWORD) as user:
                assert _unit_rows(user, dataset) == {unit}
        url = warehouse.url(cfg)
        warehouse.start(cfg)
        assert world.mart_fingerprints(url) == marts
        with psycopg.connect(url) as conn:
            assert conn.execute("select count(*) from restricted.ho_so_ca_nhan"
                                ).fetchone()[0] == personal
        assert len(list(cfg.archive_dir.glob("agency/*/*/*.personal.json.gz"))) == sidecars

    # the same backup once more, this time with every secret made anew
    lost = plat.lose_data_folder(p)
    old_admin = (lost / "superset-admin-password").read_text()
    import shutil

    shutil.rmtree(lost)
    with plat.platform_env(p, IOC_SUPERSET_PORT=str(plat.free_port())) as cfg:
        result = restore.restore(taken.name, cfg, identity=key, secrets="regenerate")
        assert result.secrets == "regenerated"
        assert cfg.secret_file("superset-admin-password").read_text() != old_admin
        with running_superset(cfg) as ss:
            with ss.client() as admin:
                assert _superset_state(admin)["assets"] == before["assets"]
            with ss.client(USER, PASSWORD) as user:  # people keep their own passwords
                assert _unit_rows(user, dataset) == {unit}  # the warehouse connection works


def test_a_backup_taken_while_an_intake_run_loads_restores_consistently(faults_world):
    p = plat.new_platform()
    q = plat.new_platform()
    try:
        with plat.platform_env(p) as cfg:
            warehouse.start(cfg)
            url = warehouse.url(cfg)
            intake = world.copy_intake(faults_world, cfg.intake_dir)
            big = world.big_school_file(intake, 150_000)
            others = world.in_arrival_order(
                [f for f, _ in engine.expand_paths([intake]) if f != big], intake)
            done = threading.Event()
            errors: list[BaseException] = []

            def load() -> None:
                try:
                    world.ingest(url, intake, cfg.archive_dir, files=others[:40])
                    world.ingest(url, intake, cfg.archive_dir, files=[big])
                    world.ingest(url, intake, cfg.archive_dir, files=others[40:])
                except BaseException as exc:
                    errors.append(exc)
                finally:
                    done.set()

            thread = threading.Thread(target=load)
            thread.start()
            deadline = time.monotonic() + 300
            with psycopg.connect(url, autocommit=True) as conn:
                while time.monotonic() < deadline and not done.is_set():
                    busy = conn.execute(  # the big file's transaction is open (its hash lock)
                        "select count(*) from pg_locks l join pg_stat_activity a using (pid) "
                        "where l.locktype = 'advisory' and a.state like '%%transaction%%' "
                        "and a.pid <> pg_backend_pid()").fetchone()[0]
                    files = conn.execute("select count(*) from raw_intake.file_manifest"
                                         ).fetchone()[0] if conn.execute(
                        "select to_regclass('raw_intake.file_manifest')").fetchone()[0] else 0
                    if busy and files >= 40:
                        break
                    time.sleep(0.05)
            assert not done.is_set(), "the intake run ended before the backup could start"
            taken = backup.run(cfg)
            thread.join(600)
            assert not errors, errors
            final = world.intake_snapshot(url)
        with plat.platform_env(q) as qcfg:
            restore.restore(taken.path, qcfg, superset=False)
            warehouse.start(qcfg)
            qurl = warehouse.url(qcfg)
            assert world.intake_violations(qurl) == []
            got = world.intake_snapshot(qurl)
            assert 40 <= got.manifest_rows < final.manifest_rows
            with psycopg.connect(qurl) as conn:
                assert conn.execute("select count(*) from raw_intake.file_manifest where "
                                    "original_path = %s", (str(big),)).fetchone()[0] == 0
                assert conn.execute("select count(*) from raw_intake.gd01_school"
                                    ).fetchone()[0] < 150_000
                paths = [a for (a,) in conn.execute(
                    "select archive_path from raw_intake.file_manifest where archive_path <> ''")]
            assert paths and all(plat.Path(a).exists() for a in paths)
            for key, outcome in got.files.items():  # what it holds, it holds as loaded
                assert final.files[key][:4] == outcome[:4]
    finally:
        plat.destroy(p)
        plat.destroy(q)
