"""Run dbt against the configured warehouse.

dbt's profile (`dbt_project/profiles.yml`) reads `IOC_DBT_*` variables; this module derives
them from the one warehouse URL so dbt, Dagster and the CLI can never disagree about where
the warehouse is.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ioc import warehouse
from ioc.settings import PROJECT_ROOT, Settings, load, tool

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
TARGET_DIR = DBT_PROJECT_DIR / "target"
# What Dagster loads (dagster-dbt reads manifest.json when a code location or a run's worker
# starts) is the parse's: `make install` (`ioc dbt parse`) writes it here. Every other dbt
# run — builds by Dagster, `ioc dbt …`, `ioc rebuild` — writes its manifest, compiled SQL,
# run results and partial-parse state into BUILD_TARGET: a process starting while a build
# runs read a manifest.json dbt was halfway through writing ("unexpected end of data").
BUILD_TARGET = TARGET_DIR / "builds"
# Held while dbt runs: one dbt at a time on this project (see one_at_a_time)
LOCK_FILE = TARGET_DIR / ".ioc-dbt.lock"
WAITING = "Một lần chạy dbt khác đang dựng kho dữ liệu; chờ nó xong rồi chạy tiếp…"


def dbt_env(settings: Settings | None = None) -> dict[str, str]:
    """The `IOC_DBT_*` variables for the warehouse `settings` points at."""
    parts = urlsplit(warehouse.url(settings or load()))
    return {
        "IOC_DBT_HOST": parts.hostname or "127.0.0.1",
        "IOC_DBT_PORT": str(parts.port or 5432),
        "IOC_DBT_USER": unquote(parts.username or ""),
        "IOC_DBT_PASSWORD": unquote(parts.password or ""),
        "IOC_DBT_DBNAME": parts.path.lstrip("/") or warehouse.WAREHOUSE_DB,
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
    }


def export_dbt_env(settings: Settings | None = None) -> None:
    """Put the dbt variables into this process's environment (for dagster-dbt's subprocesses)."""
    os.environ.update(dbt_env(settings))


def dbt_executable() -> str:
    """dbt of this environment by its full path: a PATH without the virtualenv must not
    leave Dagster's code location unloadable ("The dbt executable 'dbt' was not found")."""
    return str(tool("dbt"))


@contextlib.contextmanager
def one_at_a_time(say: Callable[[str], object] | None = None) -> Iterator[None]:
    """Run dbt one at a time on this project: wait while another process runs it.

    Two builds at once on one warehouse fail each other ("relation … already exists": both
    create the same table) and share the project's target folder (manifest, partial parsing).
    Dagster runs one run at a time, but `ioc pipeline` runs its job in its own process beside
    the runs Dagster's sensors start (`make up`, then `make pipeline`), and `ioc dbt` beside
    both. An advisory lock on a file of the target folder (released by the kernel if the
    process dies); `say` is told once when it has to wait."""
    LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK_FILE, "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            (say or (lambda line: print(line, file=sys.stderr, flush=True)))(WAITING)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def build_target() -> Path:
    """BUILD_TARGET, made; a new one starts from the parse's partial-parse state (dbt then
    re-reads only the files that changed since, not the whole project)."""
    BUILD_TARGET.mkdir(parents=True, exist_ok=True)
    state, seed = BUILD_TARGET / "partial_parse.msgpack", TARGET_DIR / "partial_parse.msgpack"
    if not state.exists() and seed.exists():
        shutil.copyfile(seed, state)
    return BUILD_TARGET


def dbt_process(args: list[str], settings: Settings | None = None, *, capture: bool = False,
                timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run `dbt <args>` in the project directory against the warehouse `settings` points at,
    when no other dbt runs on this project (one_at_a_time); `parse` writes the manifest
    Dagster loads, anything else writes into BUILD_TARGET. `capture` keeps dbt's output (as
    text) instead of passing it to this process's."""
    env = {**os.environ, **dbt_env(settings)}
    with one_at_a_time():
        command = next((a for a in args if not a.startswith("-")), "")
        if command != "parse":
            env["DBT_TARGET_PATH"] = str(build_target())
        return subprocess.run([dbt_executable(), *args], cwd=DBT_PROJECT_DIR, env=env,
                              capture_output=capture, text=capture, timeout=timeout)


def run_dbt(args: list[str], settings: Settings | None = None, check: bool = True) -> int:
    """dbt_process with dbt's output on this process's; `check` exits with dbt's failure."""
    proc = dbt_process(args, settings)
    if check and proc.returncode != 0:
        raise SystemExit(proc.returncode)
    return proc.returncode


def register(sub) -> None:
    parser = sub.add_parser(
        "dbt", help="run dbt against the configured warehouse (e.g. `ioc dbt build`)"
    )
    parser.add_argument("dbt_args", nargs=argparse.REMAINDER, help="arguments passed to dbt")
    # passthrough: options argparse cannot place (`ioc dbt --version`) go to dbt_args
    parser.set_defaults(func=lambda a: run_dbt(a.dbt_args or ["build"], check=False),
                        passthrough="dbt_args")
