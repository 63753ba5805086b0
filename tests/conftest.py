"""Shared fixtures: a throwaway warehouse for the whole test session.

`make test` starts an embedded PostgreSQL under a temporary IOC_HOME on a free port, or
uses `IOC_TEST_WAREHOUSE_URL` when given. The session's environment points every `ioc`
component (and every subprocess: dbt, Dagster, Superset) at it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from ioc import settings as settings_mod
from ioc import warehouse
from tests.support.net import free_port

FIXTURES = Path(__file__).parent / "fixtures"
_SUPERSET_MODULES = pytest.StashKey[set]()  # modules whose tests use the session's Superset


@pytest.fixture(scope="session")
def ioc_home() -> Iterator[Path]:
    """IOC_HOME for the session, outside pytest's basetemp: pytest resets
    `/tmp/pytest-of-<user>` to mode 0700 whenever a session starts, which would lock the
    unprivileged PostgreSQL user (used when running as root) out of its data directory."""
    home = Path(tempfile.mkdtemp(prefix="ioc-test-home-"))
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def warehouse_settings(ioc_home: Path) -> Iterator[settings_mod.Settings]:
    """Start (or reach) the test warehouse and point the environment at it."""
    saved = dict(os.environ)
    os.environ["IOC_HOME"] = str(ioc_home)
    external = os.environ.get("IOC_TEST_WAREHOUSE_URL")
    if external:
        os.environ["IOC_WAREHOUSE_URL"] = external
    else:
        os.environ.pop("IOC_WAREHOUSE_URL", None)
        os.environ["IOC_PG_PORT"] = str(free_port())
    cfg = settings_mod.load()
    warehouse.start(cfg)
    try:
        yield cfg
    finally:
        if cfg.embedded:
            warehouse.stop(cfg)
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def warehouse_url(warehouse_settings: settings_mod.Settings) -> str:
    return warehouse.url(warehouse_settings)


@pytest.fixture
def fresh_db_url(warehouse_settings: settings_mod.Settings) -> Iterator[str]:
    """A new, empty database on the test server for one test (dropped afterwards).

    On an external server where CREATE DATABASE is not allowed, the test database itself
    is returned.
    """
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = warehouse.url(warehouse_settings, "postgres")
    try:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    except psycopg.Error:
        yield warehouse.url(warehouse_settings)
        return
    try:
        yield warehouse.url(warehouse_settings, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


@pytest.fixture
def fresh_db(fresh_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(fresh_db_url) as conn:
        yield conn


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    """A MonkeyPatch that lives as long as a test module (for module-scoped worlds)."""
    mp = pytest.MonkeyPatch()
    try:
        yield mp
    finally:
        mp.undo()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One headless Chromium per module (tests/support/chromium.py)."""
    from tests.support.chromium import launched

    with launched() as chromium:
        yield chromium


@pytest.fixture(scope="session")
def mart_world(warehouse_settings, tmp_path_factory):
    """Every mart the dashboards read, built for real from a short demo world into the
    session warehouse (tests/superset/demo_world.py); shared by tests/superset and the
    access tests of tests/security, built once. Timings go to
    `test-artifacts/superset/demo-world-timings.json`."""
    import json

    from ioc.settings import PROJECT_ROOT
    from tests.superset import demo_world

    loaded = demo_world.load(warehouse_settings, tmp_path_factory.mktemp("superset-world"))
    out = PROJECT_ROOT / "test-artifacts" / "superset"
    out.mkdir(parents=True, exist_ok=True)
    (out / "demo-world-timings.json").write_text(
        json.dumps(
            {"seconds": loaded.timings, "files": loaded.files, "records": loaded.pulled},
            indent=1,
        )
    )
    return loaded


# Superset's migrations and roles (`bootstrap.prepare_metadata_ahead`, ~45 s), started when
# the first module that uses the session's Superset begins: they run while that module's own
# fixtures load its world, and `superset_server` then waits for them.
_METADATA_AHEAD: dict[str, object] = {}


@pytest.fixture(scope="module", autouse=True)
def _superset_metadata_ahead(request) -> None:
    users = request.config.stash.get(_SUPERSET_MODULES, set())
    if request.module not in users or _METADATA_AHEAD:
        return
    from ioc_superset import bootstrap

    _METADATA_AHEAD["future"] = bootstrap.prepare_metadata_ahead(
        request.getfixturevalue("warehouse_settings"))


@pytest.fixture(scope="session")
def superset_server(warehouse_settings):
    """One real Superset for the whole session, bootstrapped from `superset/assets/`
    against the session warehouse (tests/superset adds its known mart rows first)."""
    import concurrent.futures
    import json
    import warnings

    from ioc.settings import PROJECT_ROOT
    from tests.support.superset_server import running_superset

    ahead = _METADATA_AHEAD.get("future")
    if ahead is not None:
        concurrent.futures.wait([ahead])
        if ahead.exception() is not None:  # bootstrap runs the steps again, and says why
            warnings.warn(f"Superset's metadata steps failed ahead: {ahead.exception()!r}",
                          stacklevel=1)
    with running_superset(warehouse_settings) as ss:
        out = PROJECT_ROOT / "test-artifacts" / "superset"
        out.mkdir(parents=True, exist_ok=True)
        (out / "bootstrap-timings.json").write_text(json.dumps(ss.report.timings, indent=1))
        yield ss


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    from tests.support import chromium

    chromium.WATCHES.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that opened pages in Chromium reports what they were waiting for
    (tests/support/chromium.py) and the last lines of Superset's log, if one runs."""
    outcome = yield
    report = outcome.get_result()
    if not report.failed:
        return
    from tests.support import chromium

    if not chromium.WATCHES:
        return
    text = "\n".join(watch.report() for watch in chromium.WATCHES[-6:])
    log = Path(os.environ.get("IOC_HOME", "/nonexistent")) / "logs" / "superset.log"
    if log.exists():
        tail = log.read_text(errors="replace").splitlines()[-30:]
        text += "\nsuperset log (last lines):\n" + "\n".join(f"  {t[:300]}" for t in tail)
    report.sections.append(("pages", text))


def pytest_collection_modifyitems(session, config, items) -> None:
    """Modules that read the demo world (`mart_world`) run after every module that does not.

    The session warehouse is shared: modules before the world load their own small worlds
    into it (tests/e2e/test_slice.py: one example report, then `dbt build` with its own day),
    and the world, once loaded, is read as dbt built it. Without this order a module that
    happens to sort before tests/e2e (tests/alerts) loads the world first, and the slice then
    rebuilds the marts under it. Whole modules move, so module fixtures are set up once."""
    readers = {item.module for item in items if "mart_world" in item.fixturenames}
    items.sort(key=lambda item: item.module in readers)  # stable: otherwise in file order
    config.stash[_SUPERSET_MODULES] = {item.module for item in items
                                       if "superset_server" in item.fixturenames}
