"""A PostgreSQL server of our own (the project's embedded one, `ioc.warehouse`) that a test may
kill with SIGKILL — the postmaster and every backend at once, as a power cut or the OOM
killer would — and start again (crash recovery runs on start)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import psutil

from ioc import warehouse
from ioc.settings import Settings
from tests.support.net import free_port


class KillableServer:
    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="ioc-fault-pg-"))
        port = free_port()
        self.settings = Settings(
            home=self.home, warehouse_url=None, pg_port=port, intake_dir=self.home / "intake",
            archive_dir=self.home / "archive", superset_port=0, dagster_port=0,
            agency_api_url=None, agency_api_token=None)
        self.kills = 0

    def start(self) -> str:
        warehouse.start(self.settings)
        return self.url()

    def url(self, database: str = warehouse.WAREHOUSE_DB) -> str:
        return warehouse.url(self.settings, database)

    def processes(self) -> list[psutil.Process]:
        pidfile = self.settings.pgdata / "postmaster.pid"
        if not pidfile.exists():
            return []
        try:
            main = psutil.Process(int(pidfile.read_text().split()[0]))
            return [main, *main.children(recursive=True)]
        except (psutil.Error, ValueError):
            return []

    def kill(self) -> int:
        """SIGKILL the postmaster and all its children; returns how many processes died."""
        procs = self.processes()
        for p in procs:
            with contextlib.suppress(psutil.Error):
                os.kill(p.pid, signal.SIGKILL)
        psutil.wait_procs(procs, timeout=10)
        self.kills += 1
        return len(procs)

    def wait_down(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE
                  for p in self.processes()):
            if time.monotonic() > deadline:
                raise TimeoutError("the killed server is still running")
            time.sleep(0.1)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            warehouse.stop(self.settings)
        if self.processes():
            self.kill()
        shutil.rmtree(self.home, ignore_errors=True)
