"""Hooks for `ioc up` / `ioc down` (see `ioc.services.SERVICE_HOOKS`)."""

from __future__ import annotations

from ioc.settings import Settings


def service_up(settings: Settings) -> dict[str, str]:
    """Bootstrap (idempotent: quick when nothing changed) and leave Superset running."""
    from ioc.bi import bootstrap

    report = bootstrap.bootstrap(settings, keep_running=True)
    return {"superset": report.url}


def service_down(settings: Settings) -> list[str]:
    from ioc.bi import server

    return ["superset"] if server.stop(settings) else []
