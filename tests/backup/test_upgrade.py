"""Upgrades keep data: a warehouse saved by an earlier release (f023d87, November 2026:
value tables with a per-row foreign key and b-tree indexes, no archive log) is opened by
this release: its raw tables migrate in place, a new report version is taken on top of the
old ones, and the old history is re-derived from its archive with the same outcomes.

The saved warehouse and how it was made: tests/fixtures/upgrade/ (make_previous_release.py).
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from backup import pg
from ingest.agency import schema as agency_schema
from ingest.intake import archive, arrivals, engine
from ingest.intake import rebuild as intake_rebuild

SAVED = Path(__file__).parents[1] / "fixtures" / "upgrade"
DUMP = SAVED / "warehouse-f023d87.sql"
FOREIGN_KEYS = ("select count(*) from pg_constraint where contype = 'f' and confrelid = "
                "'raw_intake.file_manifest'::regclass and conrelid <> confrelid")


def _load_saved(url: str) -> None:
    pg.run("psql", ["--quiet", "--no-psqlrc", "-v", "ON_ERROR_STOP=1", f"--file={DUMP}"], url)


@pytest.fixture
def old_warehouse(fresh_db_url, tmp_path):
    _load_saved(fresh_db_url)
    store = tmp_path / "archive"  # the archive the earlier release wrote: the same bytes
    for path in sorted((SAVED / "intake").rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            archive.archive_bytes(data, archive.sha256(data), path.suffix, store)
    return fresh_db_url, store


def _state(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select original_name, status, version, is_current, row_count "
            "from raw_intake.file_manifest order by file_id").fetchall()


def test_an_earlier_release_warehouse_migrates_in_place_and_keeps_its_history(
        old_warehouse, tmp_path, databases_for_upgrade) -> None:
    url, store = old_warehouse
    before = _state(url)
    assert len(before) == 8 and ("KTXH-01_xa-que-luu_2024-10_sua.csv", "accepted", 2, True,
                                 17) in before
    with psycopg.connect(url) as conn:
        fks = conn.execute(FOREIGN_KEYS).fetchone()[0]
        assert fks == 4  # the earlier release's per-row foreign keys, one per value table
        rows_before = conn.execute("select count(*) from raw_intake.ktxh01_value").fetchone()[0]

    # a correction arrives after the upgrade: this release writes on top of the old tables
    intake = tmp_path / "intake"
    third = intake / "xa-que-luu" / "KTXH-01_xa-que-luu_2024-10_sua-lan-2.csv"
    third.parent.mkdir(parents=True)
    original = (SAVED / "intake" / "xa-que-luu" / "KTXH-01_xa-que-luu_2024-10.csv").read_bytes()
    third.write_bytes(original.replace(b"412,5", b"420,0"))
    [result] = engine.ingest_paths([third], conninfo=url, archive_dir=store, intake_root=intake,
                                   arrived_at=datetime(2024, 11, 8, 1, tzinfo=UTC),
                                   now=datetime(2025, 3, 1, tzinfo=UTC), feedback=False)
    assert (result.status, result.version, result.is_current) == ("accepted", 3, True)
    agency_schema.ensure_tables(url)
    after = _state(url)
    assert after[:8] == [(*row[:3], False if row[0].startswith("KTXH-01_xa-que-luu") else
                          row[3], row[4]) for row in before]
    with psycopg.connect(url) as conn:
        assert conn.execute(FOREIGN_KEYS).fetchone()[0] == 0  # now statement-level triggers
        assert conn.execute("select count(*) from pg_trigger where tgname like "
                            "'%%_file_id_insert'").fetchone()[0] == 4
        assert conn.execute("select count(*) from raw_intake.ktxh01_value").fetchone()[0] \
            == rows_before + 17
        # the value tables gained the cells as written (issue 18): the old rows have none,
        # the new version's rows keep the text the commune typed ("420,0")
        assert conn.execute(
            "select count(*) filter (where as_written is null), "
            "count(*) filter (where as_written is not null) "
            "from raw_intake.ktxh01_value").fetchone() == (rows_before, 17)
        assert conn.execute(
            "select v.value, v.as_written ->> 'value' from raw_intake.ktxh01_value v "
            "join raw_intake.file_manifest m using (file_id) where m.version = 3 "
            "and v.indicator_code = 'KT01'").fetchone() == (420, "420,0")
        assert conn.execute("select count(*) from raw_agency.ho_so_history").fetchone()[0] == 2
        cols = {c for (c,) in conn.execute(
            "select column_name from information_schema.columns where table_schema = "
            "'raw_agency' and table_name = 'sync_state'")}
        assert {"last_error", "last_stats"} <= cols

    # the old history is in the archive alone too: its log is written from the manifest
    with psycopg.connect(url, autocommit=True) as conn:
        assert arrivals.backfill(conn, store) == 8
        assert arrivals.backfill(conn, store) == 0
    assert len(arrivals.read(store)) == 9
    rebuilt = databases_for_upgrade()
    replayed = intake_rebuild.replay(rebuilt, store, now=datetime(2025, 3, 1, tzinfo=UTC))
    assert not replayed.missing and not replayed.corrupt
    compared = intake_rebuild.compare(url, rebuilt)
    # today's contracts give every file the outcome it had: status, version, current flag
    # and rows; only the wording of an answer may have changed since that release
    assert {f for d in compared.differences for f in d.fields} <= {"errors", "warnings"}
    assert not any(compared.rows_only_live.values())
    assert not any(compared.rows_only_rebuilt.values())


def test_the_saved_arrival_times_match_the_fixture() -> None:
    with open(SAVED / "arrivals.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    text = DUMP.read_text(encoding="utf-8")
    for row in rows:
        assert Path(row["file"]).name in text
    assert "\\restrict" in text  # written by pg_dump 18: the psql of this release reads it


@pytest.fixture
def databases_for_upgrade(warehouse_settings):
    from tests.faults.conftest import Databases

    dbs = Databases(warehouse_settings)
    yield lambda: dbs.new("t_upgrade")
    dbs.drop_all()
