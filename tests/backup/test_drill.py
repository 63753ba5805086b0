"""The short restore drill (`make test`): a platform with the demo district's two months in
it is backed up, loses its data folder, is restored from the backup alone, and must come
back the same — marts, raw tables, roles, Dagster's history, the archive. The same platform
is rebuilt from its archive alone and compared row for row with the live tables; a change
on either side must show in the comparison.

The full set (Superset's users, roles and row rules, encrypted backups, a backup taken while
an intake run is loading) is tests/faults/test_backup_drills.py (`make faults`).
"""

from __future__ import annotations

import json

import psycopg
import pytest

from backup import backup, rebuild, restore, retention
from backup.config import load as load_config
from ioc import warehouse
from tests.backup import platform as plat
from tests.faults import world


@pytest.fixture(scope="module")
def drill_world(tmp_path_factory):
    return world.generate_world(tmp_path_factory.mktemp("drill") / "world")


@pytest.fixture(scope="module")
def live(drill_world):
    from demo.api_server import serve_in_thread

    p = plat.new_platform()
    api = serve_in_thread(drill_world, token=world.API_TOKEN)
    try:
        plat.load_world(p, drill_world, api.url)
        yield p
    finally:
        api.stop()
        plat.destroy(p)


def _personal_values(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [v for (v,) in conn.execute(
            "select so_dien_thoai from restricted.ho_so_ca_nhan where so_dien_thoai is not null "
            "limit 20")]


MART = "mart_kinh_te_xa_hoi.fct_chi_tieu_thang"
COMMUNE = "ioc_bi__xa-hiep-thuan"
LEADER = "ioc_bi_lanh_dao"


def _rows_by_login(cfg, url: str) -> dict[str, set[str]]:
    """The units each scope's login role reads in a mart, logged in with its password."""
    out = {}
    for login in (COMMUNE, LEADER):
        with plat.connect_as(url, login, cfg) as conn:
            out[login] = {u for (u,) in conn.execute(
                f"select distinct org_unit_id from {MART}")}
    with psycopg.connect(url) as conn:
        every = {u for (u,) in conn.execute(f"select distinct org_unit_id from {MART}")}
    assert out[COMMUNE] == {"xa-hiep-thuan"} and out[LEADER] == every and len(every) > 5
    return out


def test_rebuild_from_the_archive_matches_the_live_tables_row_for_row(live):
    with plat.platform_env(live) as cfg:
        report = rebuild.rebuild(cfg, keep=True)
        target = warehouse.url(cfg, report.target)
        try:
            assert report.same, "\n".join(report.lines())
            assert report.files["accepted"] > 50 and report.files["rejected"] > 5
            assert report.intake.files_live == report.intake.files_rebuilt == report.arrivals
            assert report.marts_compared > 20
            assert {s["pages"] > 0 for s in report.agency.values()} == {True}
            assert report.agency["ho-so"]["records"] > 1000
            # the scratch copy of raw and personal tables is closed to every BI login role
            with pytest.raises(psycopg.OperationalError, match="permission denied"):
                plat.connect_as(target, LEADER, cfg).close()

            # the comparison sees a change on the live side, file by file and row by row
            from ingest.intake import rebuild as intake_rebuild

            live_url = warehouse.url(cfg)
            with psycopg.connect(live_url) as conn:
                file_id, path = conn.execute(
                    "select file_id, original_path from raw_intake.file_manifest where "
                    "status = 'accepted' and is_current and form_code = 'KTXH-01' "
                    "order by file_id limit 1").fetchone()
                conn.execute("update raw_intake.file_manifest set warnings = "
                             "'[{\"code\": \"tampered\"}]' where file_id = %s", (file_id,))
                conn.execute("update raw_intake.ktxh01_value set value = value + 1 where ctid = "
                             "(select ctid from raw_intake.ktxh01_value where file_id = %s "
                             "and value is not null limit 1)", (file_id,))
                conn.execute("update raw_agency.ho_so set trang_thai = 'tampered' where "
                             "ma_ho_so = (select min(ma_ho_so) from raw_agency.ho_so)")
            try:
                seen = intake_rebuild.compare(live_url, target)
                assert [d.original_path for d in seen.differences] == [path]
                assert seen.differences[0].fields == ["warnings"]
                assert seen.rows_only_live["ktxh01_value"] == 1
                assert seen.rows_only_rebuilt["ktxh01_value"] == 1
                assert rebuild._agency_differences(live_url, target)
            finally:
                with psycopg.connect(live_url) as conn:
                    conn.execute("update raw_intake.file_manifest set warnings = '[]' "
                                 "where file_id = %s", (file_id,))
                    conn.execute("update raw_intake.ktxh01_value set value = value - 1 where "
                                 "file_id = %s and value is not null and ctid = (select max(ctid)"
                                 " from raw_intake.ktxh01_value where file_id = %s and value "
                                 "is not null)", (file_id, file_id))
                    conn.execute("delete from raw_agency.ho_so where trang_thai = 'tampered'")
                    conn.execute(
                        "insert into raw_agency.ho_so select distinct on (ma_ho_so) * from "
                        "raw_agency.ho_so_history h where not exists (select 1 from "
                        "raw_agency.ho_so c where c.ma_ho_so = h.ma_ho_so) "
                        "order by ma_ho_so, cap_nhat_luc desc")
        finally:
            rebuild.drop_scratch(cfg, target)
        assert intake_rebuild.compare(live_url, live_url).same


def test_backups_copy_only_new_archive_files_and_leave_personal_data_out(live, drill_world):
    with plat.platform_env(live) as cfg:
        first = backup.run(cfg)
        assert first.archive_new_files == first.archive_files > 90
        assert not first.encrypted and first.personal == "excluded" and not first.secrets
        assert set(first.parts) >= {"warehouse.dump", "superset.dump", "roles.sql",
                                     "dagster.tar.gz", "home.tar.gz", "archive.tsv"}
        assert "secrets.tar.gz" not in first.parts
        listing = (first.path / "archive.tsv").read_text()
        assert ".personal.json.gz" not in listing  # sidecars exist in the archive itself
        assert list(cfg.archive_dir.glob("agency/*/*/*.personal.json.gz"))
        phones = _personal_values(warehouse.url(cfg))
        assert phones
        dump = (first.path / "warehouse.dump").read_bytes()
        assert not any(p.encode() in dump for p in phones)

        second = backup.run(cfg)
        assert second.archive_new_files == 0 and second.archive_files == first.archive_files
        from ingest.intake import engine

        extra = cfg.intake_dir / "xa-hiep-thuan" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx"
        extra.parent.mkdir(parents=True, exist_ok=True)
        extra.write_bytes((plat.Path(__file__).parents[1] / "fixtures" / "examples"
                           / extra.name).read_bytes())
        engine.ingest_paths([extra], conninfo=warehouse.url(cfg), archive_dir=cfg.archive_dir,
                            intake_root=cfg.intake_dir, now=world.NOW, feedback=False)
        third = backup.run(cfg)
        kinds = [line.split("\t")[2] for line in
                 (third.path / "archive.tsv").read_text().splitlines()]
        assert third.archive_files == first.archive_files + 1
        assert third.archive_new_files == 2  # the new report and the grown arrival log
        assert kinds.count("log") >= 1
        assert [b.name for b in retention.backups(load_config(cfg).target)] == [
            first.name, second.name, third.name]
        assert restore.verify(third.path) == []


def test_lose_the_data_folder_restore_and_compare(live):
    with plat.platform_env(live) as cfg:
        url = warehouse.url(cfg)
        marts = world.mart_fingerprints(url)
        intake = world.intake_snapshot(url)
        agency = rebuild.table_fingerprints(url, "raw\\_agency")
        roles = plat.roles(url)
        access = plat.access_model(url)
        unit_rows = _rows_by_login(cfg, url)
        runs = plat.dagster_run_ids(cfg)
        files = plat.archive_files(cfg.archive_dir)
        old_password = cfg.secret_file("warehouse-password").read_text()
        taken = backup.run(cfg)
    lost = plat.lose_data_folder(live)
    assert not live.home.exists()
    with plat.platform_env(live) as cfg:
        result = restore.restore(taken.name, cfg, superset=False)
        assert result.secrets == "regenerated" and not result.warnings, result.warnings
        warehouse.start(cfg)
        url = warehouse.url(cfg)
        assert cfg.secret_file("warehouse-password").read_text() != old_password
        assert world.mart_fingerprints(url) == marts
        back = world.intake_snapshot(url)
        assert world.compare(intake, back).ok and back.manifest_rows == intake.manifest_rows
        assert rebuild.table_fingerprints(url, "raw\\_agency") == agency
        assert plat.roles(url) >= roles
        assert plat.dagster_run_ids(cfg) >= runs
        restored = plat.archive_files(cfg.archive_dir)
        personal = {k for k in files if k.endswith(".personal.json.gz")}
        assert {k: v for k, v in files.items() if k not in personal} == restored
        with psycopg.connect(url) as conn:
            paths = [p for (p,) in conn.execute(
                "select archive_path from raw_intake.file_manifest where archive_path <> ''")]
            assert all(plat.Path(p).exists() and str(cfg.archive_dir) in p for p in paths)
            assert conn.execute("select count(*) from restricted.ho_so_ca_nhan"
                                ).fetchone()[0] == 0  # personal data was left out
        # the access model comes back as it was: roles, memberships, row security, policies,
        # grants; each scope's login role logs in with the password of the new role key and
        # reads what it read before; `ioc_bi` (Superset's stored identity) still reads nothing
        back_access = plat.access_model(url)
        for kind, rows in access.items():
            got = back_access[kind]
            assert got == rows, (kind, sorted(set(rows) - set(got)), sorted(set(got) - set(rows)))
        assert _rows_by_login(cfg, url) == unit_rows
        with psycopg.connect(warehouse.bi_url(cfg)) as conn, \
                pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"select count(*) from {MART}")
        # a second restore onto the now busy home is refused, nothing touched
        with pytest.raises(restore.RestoreError, match="trống"):
            restore.restore(taken.name, cfg, superset=False)
        assert json.loads((taken.path / "manifest.json").read_text())["counts"]["files"] > 90
    assert lost.exists()
