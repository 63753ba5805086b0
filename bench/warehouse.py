"""A throwaway PostgreSQL for the benchmarks, never the platform's own warehouse.

With `IOC_WAREHOUSE_URL` set, that server is used (the benchmarks create and drop their own
databases on it, so the role needs CREATEDB); otherwise an embedded server is started under a
temporary IOC_HOME on a free port, as the tests do, and removed afterwards.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from bench.common import free_port


@dataclass
class BenchServer:
    admin_url: str  # a database to connect to for CREATE/DROP DATABASE
    home: Path  # IOC_HOME of the benchmark (secrets of the embedded server)
    embedded: bool

    def url(self, database: str) -> str:
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{database}"

    def create(self, prefix: str = "bench") -> str:
        """A new empty database; returns its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        return self.url(name)

    def kept(self, prefix: str) -> str:
        """The newest database named `<prefix>_…` on the server (one an earlier run kept with
        `--keep`; newest: the highest oid); its URL."""
        with psycopg.connect(self.admin_url) as conn:
            row = conn.execute("select datname from pg_database where datname like %s"
                               " order by oid desc limit 1", (prefix + "\\_%",)).fetchone()
        if row is None:
            raise LookupError(f"no database {prefix}_… kept on the server (run with --keep first)")
        return self.url(row[0])

    def drop(self, url: str) -> None:
        name = url.rpartition("/")[2].split("?")[0]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                sql.Identifier(name)))

    def version(self) -> str:
        with psycopg.connect(self.admin_url) as conn:
            return conn.execute("select version()").fetchone()[0]

    def env(self) -> dict[str, str]:
        """What a child process needs to reach the server (and to stay off the real one)."""
        return {"BENCH_ADMIN_URL": self.admin_url, "IOC_HOME": str(self.home)}


@contextmanager
def bench_server() -> Iterator[BenchServer]:
    home = Path(tempfile.mkdtemp(prefix="ioc-bench-home-"))
    saved = dict(os.environ)
    external = os.environ.get("IOC_WAREHOUSE_URL")
    os.environ["IOC_HOME"] = str(home)
    try:
        from ioc import settings as settings_mod
        from ioc import warehouse

        if external:
            yield BenchServer(external, home, embedded=False)
            return
        os.environ["IOC_PG_PORT"] = str(free_port())
        cfg = settings_mod.load()
        warehouse.start(cfg)
        try:
            yield BenchServer(warehouse.url(cfg, "postgres"), home, embedded=True)
        finally:
            warehouse.stop(cfg)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(home, ignore_errors=True)


def from_env() -> BenchServer:
    """The server a child process was given by `BenchServer.env()`."""
    return BenchServer(os.environ["BENCH_ADMIN_URL"], Path(os.environ["IOC_HOME"]),
                       embedded=False)
