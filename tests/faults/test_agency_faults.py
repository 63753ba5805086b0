"""The agency API fails midway through paging: its process SIGKILLed while a pull is paging,
or the connection cut in the middle of a page and the API staying down. The failed pull
leaves a warehouse whose watermarks match what committed; the next run, with the API back,
holds exactly the API's keys, each at its newest version.

(HTTP 5xx, 429 and a killed `ioc pull` are covered in tests/agency; these are the API's
process and the network going away.)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pytest

from ingest.agency import schema
from ingest.agency.client import RetryPolicy
from ingest.agency.config import load
from ingest.agency.errors import PullFailed
from ingest.agency.pull import pull
from ioc.processes import wait_http
from ioc.settings import PROJECT_ROOT
from tests.agency.helpers import assert_exact, warehouse_not_ahead
from tests.faults.ledger import LEDGER
from tests.support.flaky_proxy import FlakyProxy
from tests.support.net import free_port

TOKEN = "faults-agency-token"
BRITTLE = RetryPolicy(timeout=2.0, max_attempts=3, backoff=0.01, backoff_max=0.05,
                      max_throttled=3, retry_after_max=1.0)


def _config(url: str):
    return load(url, TOKEN, env={}, retry=BRITTLE, page_size=200, commit_every=400)


class ApiProcess:
    """`ioc demo-api` as a process of its own, so it can be killed like a real server."""

    def __init__(self, world: Path) -> None:
        self.world, self.port = world, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "ioc"), "demo-api", "--data", str(self.world),
             "--port", str(self.port), "--token", TOKEN], cwd=PROJECT_ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        wait_http(self.url + "/health", timeout_s=60)

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {TOKEN}"},
                            timeout=30)


@pytest.fixture
def api_process(faults_world):
    api = ApiProcess(faults_world)
    api.start()
    yield api
    if api.proc and api.proc.poll() is None:
        api.kill()


def _pull_in_background(url: str, api_url: str) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(pull(None, conninfo=url, config=_config(api_url)))
        except PullFailed as exc:
            outcome.append(exc)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, outcome


def _wait_for_rows(url: str, table: str, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            n = conn.execute(f"select count(*) from raw_agency.{table}").fetchone()[0]
            if n:
                return n
            time.sleep(0.01)
    raise TimeoutError(f"no row reached raw_agency.{table}")


def test_api_process_killed_midway_through_paging(api_process, databases) -> None:
    url = databases.new()
    schema.ensure_tables(url)
    thread, outcome = _pull_in_background(url, api_process.url)
    _wait_for_rows(url, "ho_so")  # a batch committed: the pull is paging
    api_process.kill()
    LEDGER.fault("agency API process SIGKILLed mid-paging")
    thread.join(120)
    assert outcome and isinstance(outcome[0], PullFailed), outcome
    warehouse_not_ahead(url)  # the watermark is what committed, not what was asked
    api_process.start()
    with api_process.admin() as admin:
        total = admin.get("/api/v1/ho-so", params={"soBanGhi": 1}).json()["tongSoBanGhi"]
        with psycopg.connect(url) as conn:
            partial = conn.execute("select count(*) from raw_agency.ho_so").fetchone()[0]
        assert 0 < partial < total  # it really died midway
        pull(None, conninfo=url, config=_config(api_process.url))
        assert_exact(admin, url)


def test_connection_cut_mid_page_and_the_api_stays_down(api_process, databases) -> None:
    url = databases.new()
    schema.ensure_tables(url)
    with FlakyProxy("127.0.0.1", api_process.port) as proxy:
        proxy.cut_after(400_000, "down", then_refuse=True)
        with pytest.raises(PullFailed) as exc:
            pull(None, conninfo=url, config=_config(proxy.url_for(api_process.url)))
        assert proxy.cuts == 1, "the pull ended before the cut"
        LEDGER.fault("agency API connection cut mid-page, API down afterwards")
        assert exc.value.errors  # every resource still to do failed, with a reason
        warehouse_not_ahead(url)
        proxy.refuse = False  # the API is back
        pull(None, conninfo=url, config=_config(proxy.url_for(api_process.url)))
    with api_process.admin() as admin:
        assert_exact(admin, url)
