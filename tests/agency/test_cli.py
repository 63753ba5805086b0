"""`ioc pull` from the shell: exit codes, messages, JSON, and a run killed midway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import psycopg
import pytest

from cli.main import main
from ingest.agency.pull import pull
from ioc.settings import PROJECT_ROOT
from tests.agency.conftest import TOKEN
from tests.agency.helpers import (
    assert_exact,
    server_truth,
    warehouse_not_ahead,
    warehouse_truth,
)


@pytest.fixture
def env(api, fresh_db_url, monkeypatch) -> dict[str, str]:
    """The environment `ioc pull` reads: the demo API and a fresh warehouse database."""
    for name in [n for n in os.environ if n.startswith("IOC_AGENCY_")]:
        monkeypatch.delenv(name)
    values = {"IOC_WAREHOUSE_URL": fresh_db_url, "IOC_AGENCY_API_URL": api.url,
              "IOC_AGENCY_API_TOKEN": TOKEN, "IOC_AGENCY_BACKOFF": "0.01",
              "IOC_AGENCY_BACKOFF_MAX": "0.05", "IOC_AGENCY_TIMEOUT": "2"}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_pull_named_resources_json(env, admin, capsys) -> None:
    assert main(["pull", "van-ban", "phan-anh", "--json", "-q"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert list(stats) == ["van-ban", "phan-anh"]
    for resource in stats:
        assert stats[resource]["status"] == "ok"
        assert stats[resource]["inserted"] == len(server_truth(admin, resource))
    with psycopg.connect(env["IOC_WAREHOUSE_URL"]) as conn:
        assert conn.execute("select count(*) from raw_agency.ho_so").fetchone()[0] == 0


def test_pull_all_prints_a_line_per_resource(env, admin, capsys) -> None:
    assert main(["pull"]) == 0
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert [line.split()[:2] for line in lines] == [["OK", "ho-so"], ["OK", "van-ban"],
                                                     ["OK", "phan-anh"]]
    assert "xong" in captured.err  # progress on stderr
    assert_exact(admin, env["IOC_WAREHOUSE_URL"])


def test_bad_token_exits_1_with_the_message(env, monkeypatch, capsys) -> None:
    monkeypatch.setenv("IOC_AGENCY_API_TOKEN_PHAN_ANH", "wrong")
    assert main(["pull", "van-ban", "phan-anh"]) == 1
    captured = capsys.readouterr()
    assert "ioc pull: phan-anh: Token không hợp lệ hoặc đã hết hạn (401)" in captured.err
    assert "IOC_AGENCY_API_TOKEN" in captured.err and "wrong" not in captured.err
    assert captured.out.splitlines()[0].startswith("OK  van-ban")


def test_configuration_errors_exit_2(env, monkeypatch, capsys) -> None:
    monkeypatch.delenv("IOC_AGENCY_API_URL")
    assert main(["pull"]) == 2
    assert "IOC_AGENCY_API_URL" in capsys.readouterr().err
    assert main(["pull", "ho-so", "hoso"]) == 2
    assert "hoso" in capsys.readouterr().err


def test_a_run_killed_midway_leaves_a_consistent_warehouse(env, api, admin, config) -> None:
    """`ioc pull` is killed (SIGKILL) after its first batches committed; the warehouse holds
    those batches and a watermark that matches them; the next run makes it exact."""
    url = env["IOC_WAREHOUSE_URL"]
    # one request a second (429 + Retry-After), so the run is still paging when killed
    admin.post("/_admin/faults", json={"rate_limit": 3, "burst": 1})
    child_env = {**os.environ, "IOC_AGENCY_PAGE_SIZE": "100", "IOC_AGENCY_COMMIT_EVERY": "100"}
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "pull", "ho-so"], env=child_env,
                            cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        committed = 0
        while committed < 200 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
            try:
                with psycopg.connect(url) as conn:
                    committed = conn.execute("select count(*) from raw_agency.ho_so").fetchone()[0]
            except psycopg.errors.UndefinedTable:
                committed = 0
        assert proc.poll() is None, "the run ended before it could be killed"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    admin.post("/_admin/faults", json={"rate_limit": 0})
    with psycopg.connect(url) as conn:
        status = conn.execute("select last_status from raw_agency.sync_state "
                              "where resource = 'ho-so'").fetchone()[0]
    assert status == "running"  # it died; it did not finish
    held = warehouse_truth(url, "ho-so")
    assert 200 <= len(held) < len(server_truth(admin, "ho-so"))
    warehouse_not_ahead(url)
    stats = pull(["ho-so"], conninfo=url, config=config)["ho-so"]
    assert stats.inserted == len(server_truth(admin, "ho-so")) - len(held)
    assert_exact(admin, url, ["ho-so"])
