"""Superset's scheduled reports: its Celery worker (beat inside) and the outbox's SMTP sink.

`ioc up` / `make demo` start them after the web server, `ioc down` stops them, like
gunicorn (`ioc.processes.start_process`: one process group each, pid in
`$IOC_HOME/run/<name>.pid`, output in `$IOC_HOME/logs/<name>.log`):

- `superset-worker`: ONE Celery worker (`--concurrency 1`) with beat inside it (`--beat`),
  which sends `reports.scheduler` every minute; the worker runs the reports that are due.
  Broker and results are tables of Superset's own metadata database (superset_config.py,
  "Alerts & Reports"): no other server. Screenshots with /usr/bin/chromium through
  /usr/bin/chromedriver (`make browser`).
- `mail-sink` (only when no SMTP server is configured, or with `IOC_NOTIFY_DRY_RUN=1`): the
  local SMTP server Superset sends to, which writes each message under `$IOC_HOME/outbox/`
  (`superset/ioc_superset/mailsink.py`).

The worker gets exactly Superset's environment (`server.superset_env`) plus the SMTP
settings: never the warehouse owner's URL or the agency token.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from ioc import childenv, processes
from ioc.settings import Settings
from ioc_superset import server

WORKER = "superset-worker"
SINK = "mail-sink"
SMTP_NAMES = ("IOC_SMTP_HOST", "IOC_SMTP_PORT", "IOC_SMTP_USER", "IOC_SMTP_PASSWORD",
              "IOC_SMTP_FROM", "IOC_SMTP_STARTTLS", "IOC_NOTIFY_DRY_RUN", "IOC_DASHBOARD_BASE_URL")


def uses_sink() -> bool:
    """True when reports go to the outbox: no SMTP server, or a dry run asked for."""
    return not os.environ.get("IOC_SMTP_HOST") or os.environ.get("IOC_NOTIFY_DRY_RUN") == "1"


def outbox(settings: Settings) -> Path:
    return settings.home / "outbox"


def _port_file(settings: Settings) -> Path:
    return settings.home / "run" / f"{SINK}.port"


def sink_port(settings: Settings) -> int | None:
    if processes.running_pid(settings, SINK) is None:
        return None
    try:
        return int(_port_file(settings).read_text())
    except (OSError, ValueError):
        return None


def start_sink(settings: Settings, timeout_s: float = 15.0) -> int:
    """The SMTP sink (unless it runs); returns its port."""
    port = sink_port(settings)
    if port:
        return port
    portfile = _port_file(settings)
    portfile.parent.mkdir(parents=True, exist_ok=True)
    portfile.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "ioc_superset.mailsink", str(outbox(settings)), str(portfile),
            os.environ.get("IOC_MAIL_SINK_PORT", "0")]
    processes.start_process(settings, SINK, childenv.wrap(["IOC_HOME"], argv))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        port = sink_port(settings)
        if port:
            return port
        if processes.running_pid(settings, SINK) is None:
            break
        time.sleep(0.1)
    log = settings.home / "logs" / f"{SINK}.log"
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
    raise RuntimeError(f"the reports' SMTP sink did not start:\n{tail}")


def worker_env(settings: Settings, port: int | None) -> dict[str, str]:
    env = {**server.superset_env(settings),
           **{k: v for k, v in os.environ.items() if k in SMTP_NAMES}}
    if port:
        env["IOC_MAIL_SINK_PORT"] = str(port)
    return env


def start(settings: Settings) -> dict[str, str]:
    """The sink (when reports go to the outbox) and the worker, unless they run."""
    port = None
    if uses_sink():
        if sink_port(settings) is None and is_running(settings):
            processes.stop_process(settings, WORKER)  # it knows the old sink's port
        port = start_sink(settings)
    env = worker_env(settings, port)
    home = settings.home / "superset"
    home.mkdir(parents=True, exist_ok=True)
    argv = [
        str(server.superset_bin("celery")), "--app=superset.tasks.celery_app:app", "worker",
        "--beat", "--schedule", str(home / "celerybeat-schedule"),
        "--concurrency", "1", "--pool", "prefork", "--loglevel", "INFO",
        "--hostname", "ioc-reports@%h", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    processes.start_process(settings, WORKER, childenv.wrap(env, argv), env=env)
    where = (f"ghi vào hộp thư đi {outbox(settings)} (chưa cấu hình SMTP)" if port
             else f"gửi qua SMTP {os.environ.get('IOC_SMTP_HOST')}")
    return {"báo cáo định kỳ": where}


# Sends one task through the broker, without loading Superset (a bare Celery app).
_SEND = """
import os, sys
from datetime import datetime, timezone
from celery import Celery
app = Celery(broker=os.environ["IOC_CELERY_BROKER"])
app.send_task("reports.execute", args=[int(sys.argv[1])], eta=datetime.now(timezone.utc))
"""


def broker_url(settings: Settings) -> str:
    """The broker of superset_config.py's CeleryConfig (same rule: the metadata database,
    or a SQLite file beside Superset's SQLite metadata)."""
    url = server.metadata_url(settings)
    if url is None or url.startswith("sqlite"):
        url = f"sqlite:///{settings.home / 'superset' / 'celery.db'}"
    return "sqla+" + url.split("?", 1)[0]


def run_now(settings: Settings, report_id: int) -> None:
    """Queue one run of a report now; the worker runs it as if its schedule were due."""
    env = {"IOC_CELERY_BROKER": broker_url(settings), "PATH": os.defpath}
    proc = subprocess.run([str(server.superset_bin("python")), "-c", _SEND, str(report_id)],
                          env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise RuntimeError(f"cannot queue report {report_id}:\n{proc.stderr[-2000:]}")


def is_running(settings: Settings) -> bool:
    return processes.running_pid(settings, WORKER) is not None


# a short grace: Celery's warm shutdown waits on its broker's polling loop; a report cut
# short is run again at its next schedule
GRACES = {WORKER: 5.0, SINK: 5.0}


def stop(settings: Settings) -> list[str]:
    stopped = processes.stop_processes(settings, GRACES)
    forget(settings)
    return stopped


def forget(settings: Settings) -> None:
    """What a stopped worker leaves behind: its mail sink's port file."""
    _port_file(settings).unlink(missing_ok=True)
