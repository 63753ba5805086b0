"""Run Superset: its CLI as a subprocess, its web server (gunicorn) in the background.

Everything Superset needs comes from the environment built by `superset_env()`, and nothing
else does: the config file `superset/superset_config.py`, IOC_HOME (secret key file, SQLite
fallback, the identity map), the key its users' database roles' passwords derive from
(`IOC_BI_ROLE_KEY`), and the metadata database URL:

- embedded warehouse: database `superset` on the same PostgreSQL as role `ioc_superset`,
  which owns that database and nothing else (psycopg2 driver);
- `IOC_SUPERSET_METADATA_URL` when given (any SQLAlchemy URL);
- external warehouse without it: SQLite at `$IOC_HOME/superset.db` (the config's fallback).

The rest of the caller's environment (the warehouse owner's URL, the agency token, dbt's
password, ...) never reaches Superset: the CLI gets exactly `superset_env()`, the web server
is started through `ioc.childenv`, which keeps only those names.

The web server is a process group started by `ioc.processes.start_process`, its pid in
`$IOC_HOME/run/superset.pid` and its log in `$IOC_HOME/logs/superset.log`; `stop()` ends the
whole group, so no worker is left behind.
"""

from __future__ import annotations

import os
import subprocess
from datetime import date
from pathlib import Path

from ioc import childenv, processes, warehouse
from ioc.settings import PROJECT_ROOT, Settings, read_or_create_secret
from ioc_superset import policies
from ioc_superset.client import base_url, wait_healthy

SERVICE = "superset"
GRACE = 20.0  # seconds between SIGTERM and SIGKILL: gunicorn finishes its requests
SUPERSET_VENV = Path(os.environ.get("IOC_SUPERSET_VENV") or PROJECT_ROOT / ".venv-superset")
CONFIG_PATH = PROJECT_ROOT / "superset" / "superset_config.py"
ADMIN_USER = "admin"


class SupersetCommandError(RuntimeError):
    """A `superset ...` command failed; the message holds the end of its output."""


def superset_bin(name: str = "superset") -> Path:
    path = SUPERSET_VENV / "bin" / name
    if not path.exists():
        raise SupersetCommandError(
            f"{path} not found: create Superset's environment with `make install`"
        )
    return path


def secret_key(settings: Settings) -> str:
    """Superset's SECRET_KEY, generated per install (it encrypts stored DB passwords)."""
    return read_or_create_secret(
        settings.secret_file("superset-secret-key"), "SUPERSET_SECRET_KEY", nbytes=42
    )


def admin_password(settings: Settings) -> str:
    return read_or_create_secret(
        settings.secret_file("superset-admin-password"), "IOC_SUPERSET_ADMIN_PASSWORD"
    )


def metadata_url(settings: Settings) -> str | None:
    """SQLAlchemy URL of Superset's own database, or None for the SQLite fallback."""
    if os.environ.get("IOC_SUPERSET_METADATA_URL"):
        return os.environ["IOC_SUPERSET_METADATA_URL"]
    if settings.embedded:
        return warehouse.sqlalchemy_url(warehouse.metadata_url(settings), driver="psycopg2")
    return None


# Variables of the caller's environment Superset may see, besides `childenv.BASE_NAMES`
# and those `superset_env` sets. Anything else (IOC_WAREHOUSE_URL, IOC_AGENCY_API_TOKEN,
# IOC_DBT_PASSWORD, ...) is left behind.
PASSED_ON = ("SUPERSET_SECRET_KEY", "IOC_SUPERSET_WORKERS", "SSL_CERT_FILE", "IOC_APP_NAME",
             # the upload page's address, for links to archived originals (superset/ioc_links.py)
             "IOC_UPLOAD_URL", "IOC_UPLOAD_PORT")


def superset_env(settings: Settings) -> dict[str, str]:
    """The whole environment of a Superset process."""
    secret_key(settings)  # make sure the file exists before any Superset process reads it
    home = settings.home / "superset"
    home.mkdir(parents=True, exist_ok=True)
    env = {
        **childenv.keep(os.environ, PASSED_ON),
        "IOC_HOME": str(settings.home),
        "IOC_BI_ROLE_KEY": warehouse.role_key(settings),
        "SUPERSET_CONFIG_PATH": str(CONFIG_PATH),
        "SUPERSET_HOME": str(home),
        "FLASK_APP": "superset.app:create_app()",
        "PYTHONUNBUFFERED": "1",
        "PYTHONWARNINGS": "ignore",
    }
    # the title names the area the unit list says the IOC watches (no place in code)
    if not env.get("IOC_APP_NAME"):
        area = policies.area_name(date.today().isoformat())
        env["IOC_APP_NAME"] = f"IOC {area}" if area else "IOC"
    url = metadata_url(settings)
    if url:
        env["IOC_SUPERSET_METADATA_URL"] = url
    # issue 19: where the reports' browser opens Superset (WEBDRIVER_BASEURL)
    env["IOC_SUPERSET_URL"] = base_url(settings)
    return env


def run_cli(
    settings: Settings,
    args: list[str],
    *,
    extra_env: dict[str, str] | None = None,
    timeout_s: float = 600,
) -> str:
    """Run `superset <args>` in Superset's environment; return its output, raise on failure.

    The full output goes to `$IOC_HOME/logs/superset-cli.log`.
    """
    env = {**superset_env(settings), **(extra_env or {})}
    env["PATH"] = env.get("PATH") or os.defpath
    proc = subprocess.run(
        [str(superset_bin()), *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        stdin=subprocess.DEVNULL,
    )
    output = proc.stdout + proc.stderr
    logs = settings.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "superset-cli.log", "a", encoding="utf-8") as log:
        log.write(f"$ superset {' '.join(args)}  (exit {proc.returncode})\n{output}\n")
    if proc.returncode != 0:
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise SupersetCommandError(f"superset {' '.join(args)} failed:\n{tail}")
    return output


def url(settings: Settings) -> str:
    return base_url(settings)


def is_running(settings: Settings) -> bool:
    return processes.running_pid(settings, SERVICE) is not None


def _server_argv(settings: Settings) -> list[str]:
    bind = f"127.0.0.1:{settings.superset_port}"
    workers = os.environ.get("IOC_SUPERSET_WORKERS", "2")
    try:
        gunicorn = superset_bin("gunicorn")
    except SupersetCommandError:
        return [
            str(superset_bin()),
            "run",
            "-h",
            "127.0.0.1",
            "-p",
            str(settings.superset_port),
            "--with-threads",
        ]
    return [
        str(gunicorn),
        "--workers",
        workers,
        "--worker-class",
        "gthread",
        "--threads",
        "4",
        "--timeout",
        "120",
        "--graceful-timeout",
        "3",
        "--bind",
        bind,
        "--limit-request-line",
        "0",
        "--limit-request-field_size",
        "0",
        "superset.app:create_app()",
    ]


def start(settings: Settings, timeout_s: float = 180.0) -> str:
    """Start the web server in the background unless it runs; wait for `/health`."""
    if settings.embedded:
        warehouse.start(settings)
    env = superset_env(settings)
    # start_process passes on the caller's environment: childenv keeps only `env`'s names
    argv = childenv.wrap(env, _server_argv(settings))
    processes.start_process(settings, SERVICE, argv, env=env)
    try:
        wait_healthy(url(settings), timeout_s)
    except TimeoutError as exc:
        log = settings.home / "logs" / f"{SERVICE}.log"
        tail = log.read_text(errors="replace").splitlines()[-20:] if log.exists() else []
        stop(settings)
        raise TimeoutError(f"{exc}\n" + "\n".join(tail)) from exc
    return url(settings)


def stop(settings: Settings) -> bool:
    """Stop the web server and all its workers; True when it was running."""
    return processes.stop_process(settings, SERVICE, GRACE)


def status(settings: Settings) -> dict[str, object]:
    import httpx

    pid = processes.running_pid(settings, SERVICE)
    healthy = False
    if pid:
        try:
            healthy = httpx.get(url(settings) + "/health", timeout=3).status_code == 200
        except httpx.HTTPError:
            healthy = False
    return {"pid": pid, "url": url(settings), "healthy": healthy}
