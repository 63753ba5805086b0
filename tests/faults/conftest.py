"""Fault tests: a demo world, a fault-free reference load of it, and the `faults` marker.

Tests marked `faults` are the slow ones (a warehouse server killed and restarted, dbt and the
whole pipeline killed mid-run, fuzzing): `make faults` runs them, `make test` leaves them out
(`pytest -m "not faults"`). The fast fault tests run in both.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ioc import warehouse
from ioc.settings import PROJECT_ROOT
from tests.faults import world
from tests.faults.ledger import LEDGER

MARKER = "faults: slow fault-injection and fuzz suites (make faults; excluded from make test)"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", MARKER)


def pytest_terminal_summary(terminalreporter) -> None:
    LEDGER.report(terminalreporter, PROJECT_ROOT)


@pytest.fixture(scope="session")
def faults_world(tmp_path_factory) -> Path:
    """The demo district, October–November 2024: intake files and agency records."""
    return world.generate_world(tmp_path_factory.mktemp("faults") / "world")


class Databases:
    """Fresh databases on the test server, dropped at the end (for tests that need two)."""

    def __init__(self, settings) -> None:
        self.settings = settings
        self.names: list[str] = []

    def new(self, prefix: str = "t_fault") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(warehouse.url(self.settings, "postgres"), autocommit=True) as c:
            c.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        self.names.append(name)
        return warehouse.url(self.settings, name)

    def drop_all(self) -> None:
        with psycopg.connect(warehouse.url(self.settings, "postgres"), autocommit=True) as c:
            for name in self.names:
                c.execute(sql.SQL("drop database if exists {} with (force)")
                          .format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def databases(warehouse_settings) -> Iterator[Databases]:
    dbs = Databases(warehouse_settings)
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def intake_reference(faults_world, databases, tmp_path_factory) -> world.IntakeSnapshot:
    """The world's intake loaded without any fault: what every faulted run must end with."""
    tmp = tmp_path_factory.mktemp("reference")
    intake = world.copy_intake(faults_world, tmp / "intake")
    url = databases.new("t_ref")
    world.ingest(url, intake, tmp / "archive")
    assert world.intake_violations(url, intake) == []
    snap = world.intake_snapshot(url, relative_to=intake)
    assert sum(snap.rows.values()) > 500 and len(snap.files) > 80
    return snap





@pytest.fixture(scope="session")
def agency_api(faults_world):
    """The demo agency API serving the world's records (in a thread of this process)."""
    from demo.api_server import serve_in_thread

    handle = serve_in_thread(faults_world, token=world.API_TOKEN)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def mart_reference(faults_world, agency_api, databases, tmp_path_factory) -> dict:
    """Marts of the world built without faults (`dbt seed` + `dbt run`)."""
    tmp = tmp_path_factory.mktemp("mart-ref")
    url = databases.new("t_ref_marts")
    world.load_everything(url, world.copy_intake(faults_world, tmp / "intake"), tmp / "archive",
                          agency_api.url, world.API_TOKEN)
    world.dbt_run(url, "seed", "--quiet")
    world.dbt_run(url, "run", "--quiet")
    marts = world.mart_fingerprints(url)
    assert len(marts) > 20 and sum(n for n, _ in marts.values()) > 1000
    return marts
