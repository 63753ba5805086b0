"""Two runs started at once on the same files: two `ioc ingest` processes, two materialisations
of the Dagster intake asset. Advisory locks (per content hash, per unit × form × period)
serialise them: every report loaded once, one current version each, the same rows as one run.
A file both saw is recorded a second time as a `duplicate` of itself (nothing loaded); in
production Dagster's queue (one run at a time) keeps even that from happening. And two dbt
builds on one warehouse (`ioc pipeline` beside `ioc dbt build`): one dbt at a time
(ioc.dbt_runner.one_at_a_time).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from ioc.settings import PROJECT_ROOT
from tests.faults import world
from tests.faults.ledger import LEDGER


def _extra_rows_are_self_duplicates(url: str) -> int:
    """Manifest rows beyond one per (path, bytes): each must be a `duplicate` (or a second
    refusal) of the same path and bytes, loading nothing."""
    with psycopg.connect(url) as conn:
        extra = conn.execute("""
            select m.status, m.row_count, first.status
            from raw_intake.file_manifest m
            join lateral (select f.status from raw_intake.file_manifest f
                          where f.original_path = m.original_path and f.sha256 = m.sha256
                          order by f.file_id limit 1) first on true
            where m.file_id <> (select min(f.file_id) from raw_intake.file_manifest f
                                where f.original_path = m.original_path
                                  and f.sha256 = m.sha256)""").fetchall()
    for status, _rows, first in extra:
        assert (status, first) in {("duplicate", "accepted"), ("duplicate", "duplicate"),
                                   ("rejected", "rejected")}, extra
    return len(extra)


def test_two_ingest_processes_on_the_same_files(faults_world, intake_reference, databases,
                                                tmp_path: Path) -> None:
    intake = world.copy_intake(faults_world, tmp_path / "intake")
    url = databases.new()
    env = {**os.environ, "IOC_WAREHOUSE_URL": url, "IOC_ARCHIVE_DIR": str(tmp_path / "archive")}
    files = world.in_arrival_order([Path(p) for p in world.submissions(intake)], intake)
    argv = [str(Path(sys.executable).parent / "ioc"), "ingest", *map(str, files),
            "--intake-root", str(intake), "--arrivals", str(intake / "_arrivals.csv"),
            "--now", world.NOW.isoformat(), "--no-feedback"]
    procs = [subprocess.Popen(argv, env=env, cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode in (0, 1), err[-2000:]  # 1: some files are refused, as planted
    LEDGER.fault("two `ioc ingest` processes on the same folder at once")
    assert world.intake_violations(url, intake) == []
    got = world.compare(intake_reference, world.intake_snapshot(url, relative_to=intake))
    LEDGER.checked(got, sum(intake_reference.rows.values()))
    assert got.ok, got
    assert _extra_rows_are_self_duplicates(url) > 0  # they really raced


@pytest.mark.faults
def test_two_intake_materialisations_at_once(faults_world, databases, tmp_path: Path) -> None:
    """Two processes materialising `intake_files` together (what two Dagster runs would do
    without the queue). The reference is the asset run alone: it judges with the real clock."""
    def materialize(url: str, root: Path, archive: Path) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "tests.faults.materialize_intake", url,
                                 str(root), str(archive)], cwd=PROJECT_ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def done(proc: subprocess.Popen) -> None:
        _, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, err[-3000:]

    ref_intake = world.copy_intake(faults_world, tmp_path / "ref")
    ref_url = databases.new("t_ref_asset")
    done(materialize(ref_url, ref_intake, tmp_path / "ref-archive"))
    reference = world.intake_snapshot(ref_url, relative_to=ref_intake)

    intake = world.copy_intake(faults_world, tmp_path / "intake")
    url = databases.new()
    both = [materialize(url, intake, tmp_path / "archive") for _ in range(2)]
    for proc in both:
        done(proc)
    LEDGER.fault("two intake_files materialisations at once")
    assert world.intake_violations(url, intake) == []
    got = world.compare(reference, world.intake_snapshot(url, relative_to=intake))
    LEDGER.checked(got, sum(reference.rows.values()))
    assert got.ok, got
    _extra_rows_are_self_duplicates(url)


@pytest.mark.faults
@pytest.mark.timeout(2400)  # a reference build and three builds of the faults world
def test_ioc_pipeline_and_ioc_dbt_build_at_once_wait_for_each_other(
        faults_world, agency_api, databases, tmp_path: Path) -> None:
    """`make up` then `make pipeline` ran two `dbt build`s at once — a run the intake sensor
    started and the nightly job in its own process — and each failed the other ("relation
    "fct_y_te_thang" already exists"). Here, after a first load, `ioc pipeline` and `ioc dbt
    build` start together on one warehouse: both succeed, one waits for the other and says
    so, and the marts are what one more build alone makes of the same data (one "today" for
    both: IOC_TODAY)."""
    from ioc import dbt_runner

    intake = world.copy_intake(faults_world, tmp_path / "intake")
    url = databases.new()
    home = tmp_path / "home"
    env = {**os.environ, "IOC_HOME": str(home), "IOC_WAREHOUSE_URL": url,
           "IOC_INTAKE_DIR": str(intake), "IOC_ARCHIVE_DIR": str(tmp_path / "archive"),
           "IOC_AGENCY_API_URL": agency_api.url, "IOC_AGENCY_API_TOKEN": world.API_TOKEN,
           "DAGSTER_HOME": str(tmp_path / "dagster"),
           "IOC_TODAY": world.NOW.date().isoformat()}
    (tmp_path / "dagster").mkdir()
    ioc = str(Path(sys.executable).parent / "ioc")

    def run(*commands: tuple[str, ...]) -> list[str]:
        """Start the commands together and wait for all; their output, through files: a
        pipe nobody reads while waiting for the other would stop a writer that holds the
        lock (a deadlock of the test, not of the platform)."""
        logs = [tmp_path / f"{'-'.join(c)}-{len(list(tmp_path.glob('*.out')))}.out"
                for c in commands]
        procs = []
        for command, log in zip(commands, logs, strict=True):
            with open(log, "w") as out:
                procs.append(subprocess.Popen([ioc, *command], env=env, cwd=PROJECT_ROOT,
                                              stdout=out, stderr=subprocess.STDOUT))
        for proc in procs:
            proc.wait(timeout=1800)
        texts = [log.read_text(encoding="utf-8") for log in logs]
        for proc, text in zip(procs, texts, strict=True):
            assert proc.returncode == 0, text[-4000:]
        return texts

    run(("pipeline",))  # the first load: the sources dbt reads exist afterwards
    texts = run(("pipeline",), ("dbt", "build"))
    LEDGER.fault("`ioc pipeline` and `ioc dbt build` at once on one warehouse")
    log = (home / "logs" / "pipeline.log").read_text(encoding="utf-8")
    assert dbt_runner.WAITING in texts[1] + log  # they really met: one of them waited
    after_both = world.mart_fingerprints(url)
    run(("dbt", "build"))  # alone, on the same data: nothing left half-built to change
    assert world.mart_differences(after_both, world.mart_fingerprints(url)) == []


def test_dagster_runs_one_at_a_time(tmp_path: Path, monkeypatch) -> None:
    """The instance `ioc up` and `ioc pipeline` use queues runs: at most one runs at once."""
    from dagster import DagsterInstance
    from dagster._core.run_coordinator import QueuedRunCoordinator

    from ioc import processes
    from ioc.settings import load

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("IOC_HOME", str(tmp_path))
    home = processes.dagster_home(load())
    with DagsterInstance.from_config(str(home)) as instance:
        coordinator = instance.run_coordinator
        assert isinstance(coordinator, QueuedRunCoordinator)
        assert coordinator.get_run_queue_config().max_concurrent_runs == 1
