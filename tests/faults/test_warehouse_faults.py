"""The warehouse goes away in the middle of a file's load, and in the middle of a dbt run.

Fast: the connection is cut (RST) while a 40,000-row file is being COPYed, after earlier
files of the batch committed. Slow (`faults`): a PostgreSQL server of our own is SIGKILLed —
postmaster and backends — mid-COPY and mid-`dbt run`, then started again (crash recovery).
After the rerun: every file loaded exactly once, nothing partial, the same rows and marts as
a load without faults.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from ingest.intake import engine
from tests.faults import world
from tests.faults.ledger import LEDGER
from tests.support.flaky_proxy import FlakyProxy

BIG_ROWS = 40_000


def _waiting_with_big_in_the_middle(url: str, intake: Path, big: Path) -> list[Path]:
    waiting = engine.scan_intake(intake, conninfo=url, settle_seconds=0)
    others = [p for p in world.in_arrival_order(waiting, intake) if p != big]
    return [*others[:40], big, *others[40:]]


def _when_copy_runs(url: str, table: str, action, timeout: float = 120.0) -> threading.Thread:
    """Call `action()` as soon as the server reports a COPY into raw_intake.`table`."""
    def watch() -> None:
        deadline = time.monotonic() + timeout
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                while time.monotonic() < deadline:
                    row = conn.execute(
                        "select bytes_processed from pg_stat_progress_copy "
                        "where relid = to_regclass(%s)", (f"raw_intake.{table}",)).fetchone()
                    if row and row[0] and row[0] > 200_000:
                        action()
                        return
                    time.sleep(0.005)
        except psycopg.Error:  # the server itself went away (or the test is over)
            return

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    return t


@pytest.fixture
def big_world(faults_world, databases, tmp_path):
    """The world plus a 40,000-school GD-01 file, and its fault-free load (the reference)."""
    ref_intake = world.copy_intake(faults_world, tmp_path / "ref" / "intake")
    world.big_school_file(ref_intake, BIG_ROWS)
    ref_url = databases.new("t_ref_big")
    world.ingest(ref_url, ref_intake, tmp_path / "ref" / "archive")
    reference = world.intake_snapshot(ref_url, relative_to=ref_intake)
    intake = world.copy_intake(faults_world, tmp_path / "intake")
    big = world.big_school_file(intake, BIG_ROWS)
    return intake, big, reference


def _rerun_and_compare(url: str, intake: Path, archive: Path, reference) -> None:
    world.ingest(url, intake, archive)
    assert world.intake_violations(url, intake) == []
    result = world.compare(reference, world.intake_snapshot(url, relative_to=intake))
    LEDGER.checked(result, sum(reference.rows.values()))
    assert result.ok, result
    assert engine.scan_intake(intake, conninfo=url, settle_seconds=0) == []  # nothing left


def test_connection_cut_mid_copy_then_rerun_loads_every_file_once(big_world, databases,
                                                                  tmp_path) -> None:
    intake, big, reference = big_world
    url = databases.new()
    engine.ensure_tables(url)
    archive = tmp_path / "archive"
    parts = urlsplit(url)
    with FlakyProxy(parts.hostname, parts.port) as proxy:
        files = _waiting_with_big_in_the_middle(url, intake, big)
        watcher = _when_copy_runs(url, "gd01_school", proxy.cut_all)
        with pytest.raises(psycopg.Error):
            world.ingest(proxy.url_for(url), intake, archive, files=files)
        watcher.join(5)
        assert proxy.cuts >= 1, "the connection was not cut during the COPY"
    LEDGER.fault("warehouse connection cut mid-COPY of a 40,000-row file")
    # what committed before the cut stays; the file being loaded left nothing behind
    assert world.intake_violations(url, intake, processed=False) == []
    with psycopg.connect(url) as conn:
        done = conn.execute("select count(*) from raw_intake.file_manifest").fetchone()[0]
        assert conn.execute("select count(*) from raw_intake.file_manifest "
                            "where original_path = %s", (str(big),)).fetchone()[0] == 0
        assert conn.execute("select count(*) from raw_intake.gd01_school").fetchone()[0] == 0
        # the server noticed the dead connection and rolled its transaction back
        assert conn.execute("select count(*) from pg_stat_activity where datname = "
                            "current_database() and pid <> pg_backend_pid() "
                            "and state like 'idle in transaction%'").fetchone()[0] == 0
    assert 0 < done < len(files)
    assert not list(archive.rglob(".incoming-*"))  # no half-written archive file
    _rerun_and_compare(url, intake, archive, reference)


# --- a server of our own, killed ------------------------------------------------------------------

@pytest.fixture
def killable():
    from tests.faults.server import KillableServer

    server = KillableServer()
    server.start()
    yield server
    server.close()


@pytest.mark.faults
def test_warehouse_killed_mid_load_then_restarted(big_world, killable, tmp_path) -> None:
    intake, big, reference = big_world
    url = killable.url()
    engine.ensure_tables(url)
    archive = tmp_path / "archive"
    files = _waiting_with_big_in_the_middle(url, intake, big)
    killed: list[int] = []
    watcher = _when_copy_runs(url, "gd01_school", lambda: killed.append(killable.kill()))
    with pytest.raises(psycopg.Error):
        world.ingest(url, intake, archive, files=files)
    watcher.join(10)
    assert killed and killed[0] >= 3, "the server was not killed during the COPY"
    LEDGER.fault("warehouse server SIGKILLed mid-COPY (postmaster and backends)")
    killable.wait_down()
    killable.start()  # crash recovery replays the WAL
    assert world.intake_violations(url, intake, processed=False) == []
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) from raw_intake.gd01_school").fetchone()[0] == 0
        assert conn.execute("select count(*) from raw_intake.file_manifest").fetchone()[0] > 0
    _rerun_and_compare(url, intake, archive, reference)


def _unreadable_by_bi(url: str) -> list[str]:
    """Mart tables the BI readers cannot read, or can read without their row policy."""
    with psycopg.connect(url) as conn:
        return [t for (t,) in conn.execute(
            "select c.oid::regclass::text from pg_class c "
            "where c.relnamespace::regnamespace::text like 'mart\\_%' and c.relkind = 'r' "
            "and not (has_table_privilege('ioc_bi_reader', c.oid, 'select') "
            "and c.relrowsecurity and exists (select 1 from pg_policy p "
            "where p.polrelid = c.oid and p.polname = 'ioc_row_scope'))")]


def _kill_when_models_done(proc: subprocess.Popen, models: int, kill,
                           marker: str = " OK created ") -> list[str]:
    """Read dbt's log until `models` lines hold `marker`, then `kill()`; returns the lines."""
    lines: list[str] = []
    done = 0
    for line in proc.stdout:
        lines.append(line)
        if " OK created " in line and marker in line:
            done += 1
            if done >= models:
                kill()
                break
    return lines


@pytest.mark.faults
def test_warehouse_killed_mid_dbt_run(faults_world, agency_api, killable, mart_reference,
                                      tmp_path) -> None:
    url = killable.url()
    world.load_everything(url, world.copy_intake(faults_world, tmp_path / "intake"),
                          tmp_path / "archive", agency_api.url, world.API_TOKEN)
    world.dbt_run(url, "seed", "--quiet")
    proc = world.dbt_process(url, "run", "--threads", "1")
    lines = _kill_when_models_done(proc, 12, killable.kill)
    proc.communicate(timeout=300)
    assert proc.returncode != 0, "dbt finished before the server was killed"
    assert any(" OK created " in line for line in lines)
    LEDGER.fault("warehouse server SIGKILLed mid dbt run")
    killable.wait_down()
    killable.start()
    world.dbt_run(url, "run", "--quiet")
    assert world.mart_differences(mart_reference, world.mart_fingerprints(url)) == []


@pytest.mark.faults
def test_dbt_killed_mid_run_then_rerun(faults_world, agency_api, databases, mart_reference,
                                       tmp_path) -> None:
    """dbt itself SIGKILLed after some models were rebuilt: the marts stay readable tables
    (each model is swapped in by rename, in one transaction), and a rerun gives the same marts
    as a run without faults."""
    import os
    import signal

    url = databases.new()
    world.load_everything(url, world.copy_intake(faults_world, tmp_path / "intake"),
                          tmp_path / "archive", agency_api.url, world.API_TOKEN)
    world.dbt_run(url, "seed", "--quiet")
    world.dbt_run(url, "run", "--quiet")  # yesterday's marts
    before = world.mart_fingerprints(url)
    proc = world.dbt_process(url, "run", "--threads", "1")
    lines = _kill_when_models_done(proc, 5, lambda: os.kill(proc.pid, signal.SIGKILL),
                                   marker="table model mart_")
    rebuilt = [line for line in lines if " OK created " in line and "table model mart_" in line]
    assert len(rebuilt) == 5  # marts were rebuilt before the kill
    proc.wait(60)
    LEDGER.fault("dbt process SIGKILLed mid run")
    # every mart is still there as a whole table (yesterday's or today's), none half-built,
    # and Superset's role can read each one (the rebuilt ones too: default privileges)
    assert set(world.mart_fingerprints(url)) == set(before)
    assert _unreadable_by_bi(url) == []
    world.dbt_run(url, "run", "--quiet")
    assert world.mart_differences(mart_reference, world.mart_fingerprints(url)) == []
    with psycopg.connect(url) as conn:
        leftovers = conn.execute(  # dbt's half-swapped tables (its indexes keep such names)
            "select relname from pg_class where relkind in ('r', 'v', 'm') and "
            "(relname like '%\\_\\_dbt\\_tmp' or relname like '%\\_\\_dbt\\_backup')").fetchall()
    assert leftovers == []
