"""A bootstrapped Superset for tests (the suite's session fixture and end-to-end tests).

    with running_superset(settings) as ss:
        client = ss.client()          # logged in as admin
        ss.url, ss.username, ss.password

`settings` should point at the test warehouse (tests/conftest.py's `warehouse_settings`);
the server gets its own free port unless `port` is given, and is stopped on exit.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ioc import settings as settings_mod
from ioc.settings import Settings
from ioc_superset import bootstrap, server
from ioc_superset.client import SupersetClient
from tests.support.net import free_port


@dataclass
class SupersetServer:
    settings: Settings
    url: str
    username: str
    password: str
    report: bootstrap.BootstrapReport

    def client(self, username: str | None = None, password: str | None = None) -> SupersetClient:
        return SupersetClient(self.url, username or self.username, password or self.password)

    def bootstrap(self) -> bootstrap.BootstrapReport:
        """Run bootstrap again (it must change nothing the second time)."""
        return bootstrap.bootstrap(self.settings, keep_running=True)


@contextmanager
def running_superset(settings: Settings, port: int | None = None) -> Iterator[SupersetServer]:
    saved = os.environ.get("IOC_SUPERSET_PORT")
    os.environ["IOC_SUPERSET_PORT"] = str(port or free_port())
    cfg = dataclasses.replace(settings, superset_port=settings_mod.load().superset_port)
    try:
        report = bootstrap.bootstrap(cfg, keep_running=True)
        yield SupersetServer(
            settings=cfg,
            url=report.url,
            username=server.ADMIN_USER,
            password=server.admin_password(cfg),
            report=report,
        )
    finally:
        server.stop(cfg)
        if saved is None:
            os.environ.pop("IOC_SUPERSET_PORT", None)
        else:
            os.environ["IOC_SUPERSET_PORT"] = saved
