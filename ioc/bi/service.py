"""Hooks for `ioc up` / `ioc down` (see `ioc.services.SERVICE_HOOKS`)."""

from __future__ import annotations

from ioc.settings import Settings


def service_up(settings: Settings) -> dict[str, str]:
    """Bootstrap (idempotent: quick when nothing changed) and leave Superset running, with
    the worker of its scheduled reports (issue 19: ioc/bi/worker.py)."""
    from ioc.bi import bootstrap, worker

    report = bootstrap.bootstrap(settings, keep_running=True)
    return {"superset": report.url, **worker.start(settings)}


def service_down(settings: Settings) -> list[str]:
    from ioc.bi import server, worker

    stopped = worker.stop(settings)
    return stopped + (["superset"] if server.stop(settings) else [])
