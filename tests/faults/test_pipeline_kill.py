"""`ioc pipeline` (the nightly Dagster job, in its own process) SIGKILLed while it loads the
intake, then run again: every file loaded once, agency tables exact, the same marts as a run
without faults."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from ioc.settings import PROJECT_ROOT
from tests.agency.helpers import assert_exact
from tests.faults import world
from tests.faults.ledger import LEDGER


def _pipeline(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(Path(sys.executable).parent / "ioc"), "pipeline"],
                            env=env, cwd=PROJECT_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _manifest_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        if conn.execute("select to_regclass('raw_intake.file_manifest')").fetchone()[0] is None:
            return 0
        return conn.execute("select count(*) from raw_intake.file_manifest").fetchone()[0]


@pytest.mark.faults
def test_pipeline_killed_mid_intake_then_rerun(faults_world, agency_api, intake_reference,
                                               mart_reference, databases, tmp_path) -> None:
    intake = world.copy_intake(faults_world, tmp_path / "intake")
    url = databases.new()
    env = {**os.environ, "IOC_HOME": str(tmp_path / "home"), "IOC_WAREHOUSE_URL": url,
           "IOC_INTAKE_DIR": str(intake), "IOC_ARCHIVE_DIR": str(tmp_path / "archive"),
           "IOC_AGENCY_API_URL": agency_api.url, "IOC_AGENCY_API_TOKEN": world.API_TOKEN,
           "DAGSTER_HOME": str(tmp_path / "dagster")}
    (tmp_path / "dagster").mkdir()
    total = len(world.submissions(intake))
    proc = _pipeline(env)
    deadline = time.monotonic() + 600
    while _manifest_rows(url) < total // 3:
        assert proc.poll() is None, proc.stdout.read()[-3000:]
        assert time.monotonic() < deadline, "the pipeline never reached the intake"
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    LEDGER.fault("`ioc pipeline` SIGKILLed mid-intake")
    done = _manifest_rows(url)
    assert done < total, "the intake finished before the kill"
    assert world.intake_violations(url, intake, processed=False) == []

    rerun = _pipeline(env)
    out, _ = rerun.communicate(timeout=1800)
    assert rerun.returncode == 0, out[-4000:]
    assert world.intake_violations(url, intake) == []
    got = world.compare(intake_reference, world.intake_snapshot(url, relative_to=intake))
    LEDGER.checked(got, sum(intake_reference.rows.values()))
    assert got.ok, got
    with httpx.Client(base_url=agency_api.url, timeout=30,
                      headers={"Authorization": f"Bearer {world.API_TOKEN}"}) as admin:
        assert_exact(admin, url)
    assert world.mart_differences(mart_reference, world.mart_fingerprints(url)) == []
