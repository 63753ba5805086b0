"""The intake pass shared by `ioc watch` and Dagster (`ingest.intake.watch.process_waiting`):
files complete on two looks, arrival kept per file, hashes computed once per version, one
bad file never stopping the others, and a warehouse outage not making reports late."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from ingest.intake import paths as intake_paths
from ingest.intake.watch import IntakeState, bulk_arrivals, look, process_waiting
from tests.intake.builders import KTXH_VALUES, ktxh_sheet, ktxh_table, write_xlsx

NOW = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)
UNIT = "xa-hiep-thuan"


@pytest.fixture
def state(tmp_path: Path):
    s = IntakeState(tmp_path / "state" / "intake.sqlite")
    yield s
    s.close()


def _report(path: Path, kt01: float = 412.5) -> Path:
    values = [(c, n, u, p, kt01 if c == "KT01" else m, y) for c, n, u, p, m, y in KTXH_VALUES]
    return write_xlsx(path, ktxh_sheet(table=ktxh_table(values)))


def _pass(root: Path, url: str, archive: Path, state: IntakeState, **kw):
    return process_waiting(root, conninfo=url, archive_dir=archive, state=state, now=NOW,
                           settle_s=kw.pop("settle_s", 0.0), looks=kw.pop("looks", 2), **kw)


def _manifest(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select original_name, status, version, is_current, arrived_at "
            "from raw_intake.file_manifest order by file_id").fetchall()


def test_a_file_is_complete_when_two_looks_agree_and_arrives_then(tmp_path, state) -> None:
    root = tmp_path / "intake"
    f = _report(root / UNIT / "a.xlsx")
    t0 = time.time()
    assert state.observe(root, look(root), now=t0, settle_s=2) == []  # first look
    assert state.observe(root, look(root), now=t0 + 1, settle_s=2) == []  # too soon
    with f.open("ab") as fh:  # still being copied: the clock starts again
        fh.write(b"\0")
    assert state.observe(root, look(root), now=t0 + 5, settle_s=2) == []
    [seen] = state.observe(root, look(root), now=t0 + 8, settle_s=2)
    assert seen.path == str(f) and seen.complete_at == datetime.fromtimestamp(t0 + 8, UTC)
    # later looks keep the first complete time (the arrival), until the file is processed
    [again] = state.observe(root, look(root), now=t0 + 60, settle_s=2)
    assert again.complete_at == seen.complete_at
    state.mark_done([again])
    assert state.observe(root, look(root), now=t0 + 61, settle_s=2) == []


def test_versions_follow_arrival_not_path_order(tmp_path, fresh_db_url, state) -> None:
    """Two versions taken by one pass: the one that arrived later is current, whatever
    their names (before, a pass gave all its files one arrival time, so path order won)."""
    root, archive = tmp_path / "intake", tmp_path / "archive"
    _report(root / UNIT / "z-ban-dau.xlsx", kt01=100)
    state.observe(root, look(root), settle_s=0)
    time.sleep(0.05)
    _report(root / UNIT / "a-ban-sua.xlsx", kt01=200)
    results = _pass(root, fresh_db_url, archive, state)
    assert [Path(r.file).name for r in results] == ["z-ban-dau.xlsx", "a-ban-sua.xlsx"]
    rows = {name: (status, version, current) for name, status, version, current, _ in
            _manifest(fresh_db_url)}
    assert rows == {"z-ban-dau.xlsx": ("accepted", 1, False),
                    "a-ban-sua.xlsx": ("accepted", 2, True)}


def test_an_outage_does_not_make_a_report_late(tmp_path, fresh_db_url, state) -> None:
    """The warehouse is down when the file arrives: the pass fails, the file keeps the time
    it was first seen complete, and is loaded with that arrival once the warehouse is back."""
    root, archive = tmp_path / "intake", tmp_path / "archive"
    _report(root / UNIT / "bao-cao.xlsx")
    state.observe(root, look(root), settle_s=0)
    [seen] = state.observe(root, look(root), settle_s=0)
    down = "host=127.0.0.1 port=9 dbname=none connect_timeout=2"  # nothing listens on 9
    with pytest.raises(psycopg.OperationalError):
        _pass(root, down, archive, state)
    time.sleep(1.1)
    [result] = _pass(root, fresh_db_url, archive, state)
    assert result.status == "accepted"
    [(_, _, _, _, arrived)] = _manifest(fresh_db_url)
    assert arrived == seen.complete_at


def test_hashes_are_computed_once_per_version(tmp_path, fresh_db_url, state,
                                              monkeypatch) -> None:
    root, archive = tmp_path / "intake", tmp_path / "archive"
    for i in range(3):
        _report(root / UNIT / f"r{i}.xlsx", kt01=100 + i)
    calls: list[str] = []
    real = intake_paths.fingerprint
    monkeypatch.setattr(intake_paths, "fingerprint", lambda p: calls.append(str(p)) or real(p))
    assert len(_pass(root, fresh_db_url, archive, state)) == 3
    assert len(calls) == 3
    for _ in range(3):  # nothing new: no file is read again
        assert _pass(root, fresh_db_url, archive, state) == []
    assert len(calls) == 3
    # a fresh state (the watcher's disk lost) hashes each file once more, and finds them known
    fresh = IntakeState(tmp_path / "other-state.sqlite")
    try:
        assert _pass(root, fresh_db_url, archive, fresh) == []
        assert _pass(root, fresh_db_url, archive, fresh) == []
    finally:
        fresh.close()
    assert len(calls) == 6


def test_one_failing_file_never_stops_the_others(tmp_path, fresh_db_url, state) -> None:
    """A value the warehouse refuses with an error the intake did not foresee (here a
    trigger raising for one commune's KT01) refuses that file, kept and answered; the files
    after it are loaded. A malformed `_arrivals.csv` line is skipped, not fatal."""
    root, archive = tmp_path / "intake", tmp_path / "archive"
    bad = _report(root / UNIT / "a-bi-tu-choi.xlsx", kt01=999.25)
    good_path = write_xlsx(root / "xa-que-luu" / "KTXH-01_xa-que-luu_2024-10.xlsx",
                           ktxh_sheet(unit_line="UBND XÃ QUẾ LƯU"))
    (root / "_arrivals.csv").write_text(
        "file,arrived_at\nxa-hiep-thuan/a-bi-tu-choi.xlsx,hôm qua\nthiếu cột\n",
        encoding="utf-8")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        from ingest.intake import engine

        engine.ensure_tables(fresh_db_url)
        conn.execute("""
            create function raw_intake.refuse_odd() returns trigger language plpgsql as $$
            begin
                if exists (select 1 from new_rows where value = 999.25) then
                    raise exception 'odd value' using errcode = 'P0001';
                end if;
                return null;
            end $$;
            create trigger refuse_odd after insert on raw_intake.ktxh01_value
                referencing new table as new_rows for each statement
                execute function raw_intake.refuse_odd();""")
    results = {Path(r.file).name: r for r in _pass(root, fresh_db_url, archive, state)}
    assert results["a-bi-tu-choi.xlsx"].status == "rejected"
    assert [e["code"] for e in results["a-bi-tu-choi.xlsx"].errors] == ["internal_error"]
    assert results[good_path.name].status == "accepted"
    assert (root / UNIT / "_phan_hoi" / "a-bi-tu-choi.xlsx.loi.txt").exists()
    assert Path(results["a-bi-tu-choi.xlsx"].archive_path).read_bytes() == bad.read_bytes()
    assert _pass(root, fresh_db_url, archive, state) == []  # not taken again


def test_bulk_arrivals_skip_malformed_lines(tmp_path) -> None:
    (tmp_path / "_arrivals.csv").write_text(
        "file,arrived_at\nx/a.xlsx,2024-11-03T08:00:00+07:00\nx/b.xlsx,không phải ngày\n\n"
        "x/c.xlsx\n", encoding="utf-8")
    got = bulk_arrivals(tmp_path)
    assert got == {str(tmp_path / "x" / "a.xlsx"): datetime.fromisoformat(
        "2024-11-03T08:00:00+07:00")}


def test_an_earlier_version_sent_again_becomes_current(tmp_path, fresh_db_url, state) -> None:
    root, archive = tmp_path / "intake", tmp_path / "archive"
    first = _report(root / UNIT / "lan-1.xlsx", kt01=100)
    _pass(root, fresh_db_url, archive, state)
    time.sleep(0.05)
    _report(root / UNIT / "lan-2.xlsx", kt01=200)
    _pass(root, fresh_db_url, archive, state)
    time.sleep(0.05)
    shutil.copy(first, root / UNIT / "lan-3-quay-lai-ban-1.xlsx")
    [back] = _pass(root, fresh_db_url, archive, state)
    assert back.status == "accepted" and back.version == 3 and back.resent_version == 1
    rows = [(n, s, v, c) for n, s, v, c, _ in _manifest(fresh_db_url)]
    assert rows == [("lan-1.xlsx", "accepted", 1, False), ("lan-2.xlsx", "accepted", 2, False),
                    ("lan-3-quay-lai-ban-1.xlsx", "accepted", 3, True)]
    answer = (root / UNIT / "_phan_hoi" / "lan-3-quay-lai-ban-1.xlsx.da-nhan.txt").read_text(
        encoding="utf-8-sig")
    assert "giống hệt bản nộp lần thứ 1" in answer
    # the same bytes as the version in force: a duplicate, nothing loaded again
    shutil.copy(first, root / UNIT / "lan-4-gui-lai.xlsx")
    [dup] = _pass(root, fresh_db_url, archive, state)
    assert dup.status == "duplicate"
    with psycopg.connect(fresh_db_url) as conn:
        value = conn.execute(
            "select v.value from raw_intake.ktxh01_value v join raw_intake.file_manifest m "
            "using (file_id) where m.is_current and v.indicator_code = 'KT01'").fetchone()[0]
    assert value == 100
