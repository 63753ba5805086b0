"""The nightly backup in Dagster: runs after the nightly job, makes a backup of the test
warehouse, and the age sensor alerts (once a day, not every hour) when backups are stale."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import psycopg

from backup import restore, retention
from ioc import warehouse
from orchestration.backup.jobs import age_problem, backup_age_sensor, backup_job
from orchestration.definitions import defs


def test_backup_runs_after_the_nightly_job_whatever_its_outcome() -> None:
    nightly_ops = {n.name for n in defs.resolve_job_def("nightly_job").graph.node_defs}
    assert "backup_op" not in nightly_ops  # never part of the nightly asset selection
    for name, status in (("backup_after_nightly", dg.DagsterRunStatus.SUCCESS),
                         ("backup_after_failed_nightly", dg.DagsterRunStatus.FAILURE)):
        sensor = defs.resolve_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
        # no public accessor for what a run-status sensor watches
        assert sensor._run_status == status
        assert [j.name for j in sensor._monitored_jobs] == ["nightly_job"]
        assert sensor.job_name == "backup_job"
    assert defs.resolve_sensor_def("backup_age_sensor").default_status == \
        dg.DefaultSensorStatus.RUNNING


def test_backup_job_backs_up_the_warehouse(warehouse_settings, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("IOC_BACKUP_DIR", str(tmp_path / "backups"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster"))
    (tmp_path / "dagster").mkdir()
    url = warehouse.url(warehouse_settings)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table if not exists public.backup_probe (x int)")
    try:
        result = backup_job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("drop table public.backup_probe")
    assert result.success
    name = result.output_for_node("backup_op")
    folder = tmp_path / "backups" / name
    assert restore.verify(folder) == []
    toc = subprocess.run([str(warehouse.bin_dir() / "pg_restore"), "--list",
                          str(folder / "warehouse.dump")], capture_output=True, text=True,
                         check=True).stdout
    assert "TABLE public backup_probe" in toc
    assert [b.name for b in retention.backups(tmp_path / "backups")] == [name]


def _fake_backup(target, created: datetime) -> None:
    name = created.strftime("%Y-%m-%dT%H%M%SZ")
    (target / name).mkdir(parents=True)
    (target / name / "manifest.json").write_text(json.dumps(
        {"format": 1, "name": name, "created_at": created.isoformat(), "parts": {}}))


def test_age_problem_when_stale_or_missing(tmp_path) -> None:
    now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
    home = tmp_path / "home"
    home.mkdir()
    (home / "warehouse-password").write_text("x")
    old = (now - timedelta(days=3)).timestamp()
    os.utime(home / "warehouse-password", (old, old))
    target = tmp_path / "backups"
    assert age_problem(target, 26, home, now)[0] == "none"  # installed 3 days ago, no backup
    os.utime(home / "warehouse-password", (now.timestamp(), now.timestamp()))
    assert age_problem(target, 26, home, now) is None  # a new install: not yet
    _fake_backup(target, now - timedelta(hours=30))
    about, text = age_problem(target, 26, home, now)
    assert about == "2026-12-05T030000Z" and "30 giờ" in text
    _fake_backup(target, now - timedelta(hours=2))
    assert age_problem(target, 26, home, now) is None


def test_age_sensor_alerts_once_while_backups_stay_stale(tmp_path, monkeypatch) -> None:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("IOC_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/")
        monkeypatch.setenv("IOC_BACKUP_DIR", str(tmp_path / "backups"))
        _fake_backup(tmp_path / "backups", datetime.now(UTC) - timedelta(hours=40))
        context = dg.build_sensor_context(cursor=None)
        first = backup_age_sensor(context)
        cursor = context.cursor
        second_context = dg.build_sensor_context(cursor=cursor)
        second = backup_age_sensor(second_context)
        assert isinstance(first, dg.SkipReason) and isinstance(second, dg.SkipReason)
        assert len(received) == 1 and "40 giờ" in received[0]["text"]
        _fake_backup(tmp_path / "backups", datetime.now(UTC))
        fresh_context = dg.build_sensor_context(cursor=cursor)
        backup_age_sensor(fresh_context)
        assert fresh_context.cursor is None and len(received) == 1
    finally:
        server.shutdown()
        server.server_close()
