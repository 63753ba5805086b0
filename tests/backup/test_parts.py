"""The pieces of backup and rebuild on small hand-made cases: retention, settings, the
archive's arrival log, agency pages split from their personal values, encrypted backups."""

from __future__ import annotations

import gzip
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backup import backup, crypto, restore, retention
from backup.config import BackupConfig, BackupConfigError, Retention
from backup.config import load as load_config
from ingest.agency import page_archive
from ingest.agency.mapping import load_mapping
from ingest.intake import arrivals
from ioc import warehouse

# --- retention -----------------------------------------------------------------------------------


def _fake(target: Path, created: datetime, listing: str = "") -> str:
    name = created.strftime(backup.NAME_FORMAT)
    (target / name).mkdir(parents=True)
    (target / name / "manifest.json").write_text(json.dumps(
        {"format": 1, "name": name, "created_at": created.isoformat(), "parts": {}}))
    (target / name / "archive.tsv").write_text(listing)
    return name


def test_retention_keeps_the_newest_of_each_day_week_and_month(tmp_path) -> None:
    start = datetime(2026, 1, 1, 18, 30, tzinfo=UTC)  # 01:30 the next day in Vietnam
    names = [_fake(tmp_path, start + timedelta(days=d)) for d in range(0, 120)]
    extra = _fake(tmp_path, start + timedelta(days=119, hours=2))  # a second one that day
    config = BackupConfig(tmp_path, retention=Retention(last=2, daily=7, weekly=4, monthly=3))
    keep = retention.to_keep(retention.backups(tmp_path), config.retention)
    assert extra in keep and names[-1] in keep  # the newest two
    assert set(names[-7:]) <= keep  # seven days
    days = sorted(datetime.strptime(n, backup.NAME_FORMAT).replace(tzinfo=UTC)
                  .astimezone(retention.LOCAL).date() for n in keep)
    assert len(keep) == len(set(keep)) and len(keep) <= 2 + 7 + 4 + 3
    months = {(d.year, d.month) for d in days}
    assert len(months) == 3  # the newest backup of each of the last three months
    removed = retention.prune(config)
    assert set(removed) == set([*names, extra]) - keep
    assert {b.name for b in retention.backups(tmp_path)} == keep


def test_prune_deletes_archive_files_no_kept_backup_lists(tmp_path) -> None:
    store = tmp_path / "archive" / "ab"
    store.mkdir(parents=True)
    (store / "ab1.xlsx").write_bytes(b"1")
    (store / "ab2.xlsx").write_bytes(b"2")
    old = _fake(tmp_path, datetime(2026, 1, 1, tzinfo=UTC), "ab/ab1.xlsx\t1\tcontent\tab/ab1.xlsx\n"
                "ab/ab2.xlsx\t1\tcontent\tab/ab2.xlsx\n")
    _fake(tmp_path, datetime(2026, 3, 1, tzinfo=UTC), "ab/ab1.xlsx\t1\tcontent\tab/ab1.xlsx\n")
    (tmp_path / "2026-03-02T000000Z.partial").mkdir()  # a killed run
    rule = Retention(last=1, daily=1, weekly=0, monthly=0)
    assert retention.prune(BackupConfig(tmp_path, retention=rule)) == [old]
    assert (store / "ab1.xlsx").exists() and not (store / "ab2.xlsx").exists()
    assert not (tmp_path / "2026-03-02T000000Z.partial").exists()


def test_settings(warehouse_settings) -> None:
    with pytest.raises(BackupConfigError, match="age"):
        load_config(warehouse_settings, env={"IOC_BACKUP_PERSONAL": "encrypt"})
    with pytest.raises(BackupConfigError):
        load_config(warehouse_settings, env={"IOC_BACKUP_PERSONAL": "zip"})
    plain = load_config(warehouse_settings, env={})
    assert not plain.encrypted and not plain.secrets
    assert plain.retention == Retention(last=3, daily=7, weekly=5, monthly=12)
    assert plain.max_age_hours == 26.0
    kept = load_config(warehouse_settings, env={"IOC_BACKUP_KEEP_LAST": "0",
                                                "IOC_BACKUP_KEEP_WEEKLY": "2",
                                                "IOC_BACKUP_MAX_AGE_HOURS": "30"})
    assert kept.retention == Retention(last=1, daily=7, weekly=2, monthly=12)  # at least one
    assert kept.max_age_hours == 30.0
    with pytest.raises(BackupConfigError, match="IOC_BACKUP_KEEP_DAILY"):
        load_config(warehouse_settings, env={"IOC_BACKUP_KEEP_DAILY": "-1"})
    home = warehouse_settings.home
    assert plain.target == home.parent / f"{home.name}-backups"
    _, public = crypto.generate()
    sealed = load_config(warehouse_settings, env={"IOC_BACKUP_PERSONAL": "encrypt",
                                                  "IOC_BACKUP_AGE_RECIPIENTS": public})
    assert sealed.encrypted and sealed.secrets and sealed.recipients == (public,)
    assert not load_config(warehouse_settings, env={
        "IOC_BACKUP_PERSONAL": "encrypt", "IOC_BACKUP_AGE_RECIPIENTS": public,
        "IOC_BACKUP_SECRETS": "exclude"}).secrets


# --- the archive's arrival log -------------------------------------------------------------------

def test_arrival_log_keeps_order_once_per_arrival_and_survives_a_torn_line(tmp_path) -> None:
    when = datetime(2024, 11, 4, 8, tzinfo=UTC)
    for sha in ("b" * 64, "a" * 64, "b" * 64):  # the third: the same arrival taken twice
        arrivals.record(tmp_path, sha256=sha, extension=".XLSX", original_path=f"/i/x/{sha[0]}",
                        intake_root="/i", arrived_at=when, size=3)
    [log] = arrivals.log_files(tmp_path)
    with open(log, "a", encoding="utf-8") as fh:
        fh.write('{"sha256": "c')  # the machine stopped in the middle of a write
    got = arrivals.read(tmp_path)
    assert [a.sha256[0] for a in got] == ["b", "a"] and got[0].ext == ".xlsx"
    # the same moment written in another zone is the same arrival
    vn = when.astimezone(datetime.now().astimezone().tzinfo)
    assert arrivals.Arrival("a", "", "/p", None, vn, 0).key == \
        arrivals.Arrival("a", "", "/p", None, when, 0).key


# --- agency pages: plain fields kept, personal values apart ---------------------------------

def test_agency_pages_keep_listed_fields_and_personal_values_apart(tmp_path) -> None:
    mapping = load_mapping().resource("ho-so")
    record = {"maHoSo": "HS-1", "capNhatLuc": "2024-10-02T08:00:00+07:00", "trangThai": "X",
              "chuHoSo": {"hoTen": "Nguyễn Văn A", "soDienThoai": "0905123456"},
              "truongMoi": "a field the mapping does not list"}
    plain, personal = page_archive.split_record(record, mapping)
    assert "chuHoSo" not in plain and "truongMoi" not in plain and plain["maHoSo"] == "HS-1"
    assert personal == {"chuHoSo.hoTen": "Nguyễn Văn A", "chuHoSo.soDienThoai": "0905123456"}
    assert page_archive.join_record(plain, personal)["chuHoSo"]["hoTen"] == "Nguyễn Văn A"
    assert page_archive.split_record("not an object", mapping) == (None, None)

    class Req:
        since, since_text, page = None, None, 1

    class Page:
        records, page, pages, total = [record], 1, 1, 1

    for mode, sidecar in (("store", True), ("hash", False), ("drop", False)):
        folder = tmp_path / mode
        path = page_archive.PageArchive(folder, "ho-so", mapping, mode).keep(Req, Page)
        with gzip.open(path) as fh:
            text = fh.read().decode()
        assert "0905123456" not in text and "truongMoi" not in text
        sides = list(folder.rglob("*.personal.json.gz"))
        assert bool(sides) == sidecar
        [got] = list(page_archive.pages(folder, "ho-so"))
        assert got.personal_kept == sidecar
        assert ("chuHoSo" in got.records[0]) == sidecar
        assert path.stat().st_mode & 0o777 == 0o444


# --- an encrypted backup --------------------------------------------------------------------------

def test_an_encrypted_backup_needs_its_key_and_shows_tampering(warehouse_settings, tmp_path,
                                                             monkeypatch) -> None:
    secret, public = crypto.generate()
    key = tmp_path / "key.txt"
    crypto.write_identity(key, secret, public)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    config = BackupConfig(tmp_path / "backups", personal="encrypt", recipients=(public,),
                          secrets=True)
    made = backup.run(warehouse_settings, config)
    assert made.encrypted and all(n.endswith(".age") for n in made.parts if n != "archive.tsv")
    assert "secrets.tar.gz.age" in made.parts
    for name in made.parts:
        head = (made.path / name).read_bytes()[:40]
        assert name == "archive.tsv" or head.startswith(b"age-encryption.org/v1")
    assert restore.verify(made.path) == []
    with pytest.raises(restore.RestoreError, match="khoá"):
        restore.restore(made.path, warehouse_settings, superset=False)
    other_secret, other_public = crypto.generate()
    wrong = tmp_path / "wrong.txt"
    crypto.write_identity(wrong, other_secret, other_public)
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_file(made.path / "warehouse.dump.age", tmp_path / "x",
                            crypto.identities(wrong))
    crypto.decrypt_file(made.path / "warehouse.dump.age", tmp_path / "plain.dump",
                        crypto.identities(key))
    toc = subprocess.run([str(warehouse.bin_dir() / "pg_restore"), "--list",
                          str(tmp_path / "plain.dump")], capture_output=True, text=True)
    assert toc.returncode == 0 and "dbname: ioc" in toc.stdout
    dump = made.path / "warehouse.dump.age"
    data = bytearray(dump.read_bytes())
    data[-10] ^= 0xFF
    dump.write_bytes(bytes(data))
    assert restore.verify(made.path) == ["warehouse.dump.age không khớp mã kiểm tra (hỏng)"]


def test_superset_metadata_is_found_or_the_backup_says_it_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("IOC_HOME", str(tmp_path))
    monkeypatch.setenv("IOC_WAREHOUSE_URL", "postgresql://ioc:XXXX@127.0.0.1:1/ioc")
    monkeypatch.delenv("IOC_SUPERSET_METADATA_URL", raising=False)
    from ioc import settings as settings_mod

    cfg = settings_mod.load()
    assert backup._superset_metadata(cfg) is None  # no Superset on this install
    (tmp_path / "superset").mkdir()
    (tmp_path / "superset" / "bootstrap-state.json").write_text("{}")
    with pytest.raises(backup.BackupError, match="IOC_SUPERSET_METADATA_URL"):
        backup._superset_metadata(cfg)  # Superset runs, its metadata elsewhere, not told
    (tmp_path / "superset.db").write_bytes(b"")
    assert backup._superset_metadata(cfg) == ("sqlite", tmp_path / "superset.db")
    monkeypatch.setenv("IOC_SUPERSET_METADATA_URL", "postgresql+psycopg2://s:XXXX@db/superset")
    assert backup._superset_metadata(cfg) == ("postgres", "postgresql://s:XXXX@db/superset")
