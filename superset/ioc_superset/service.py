"""Hooks for `ioc up` / `ioc down` (see `cli.services.SERVICE_HOOKS`)."""

from __future__ import annotations

import sys
from datetime import date

from ioc.settings import Settings


def service_up(settings: Settings) -> dict[str, str]:
    """Bootstrap (idempotent: quick when nothing changed) and leave Superset running, with
    the worker of its scheduled reports (issue 19: superset/ioc_superset/worker.py); with the
    outbox, the weekly overview is run once a day on the way up (`reports.run_on_up`)."""
    from ioc_superset import bootstrap, worker

    report = bootstrap.bootstrap(settings, keep_running=True)
    urls = {"superset": report.url, **worker.start(settings)}
    _first_look(settings)
    return urls


def service_refresh(settings: Settings) -> None:
    """After `make demo`'s first load: the weekly overview, now that the marts exist."""
    _first_look(settings)


def _first_look(settings: Settings) -> None:
    from ioc_superset import bootstrap, reports, server, worker

    if not (server.is_running(settings) and worker.is_running(settings)):
        return
    try:
        with bootstrap.admin_client(settings) as client:
            done = reports.run_on_up(client, settings, date.today().isoformat())
        if done:
            print(done, file=sys.stderr)
    except Exception as exc:  # a first look is no reason for `ioc up` to fail
        print(f"warning: the weekly overview was not queued on the way up: {exc}",
              file=sys.stderr)


def service_down(settings: Settings) -> list[str]:
    """The report worker (and its mail sink) and the web server, stopped side by side."""
    from ioc import processes
    from ioc_superset import server, worker

    stopped = processes.stop_processes(settings, {**worker.GRACES, server.SERVICE: server.GRACE})
    worker.forget(settings)
    return stopped
