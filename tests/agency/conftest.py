"""Fixtures of the agency connector tests: a small demo world, the demo agency API serving
it (`demo.api_server`, the real one), and fast retry settings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from demo.api_server import ServerHandle, serve_in_thread
from demo.calendar import Month
from demo.generate import generate
from ingest.agency import schema
from ingest.agency.client import RetryPolicy
from ingest.agency.config import AgencyConfig, load
from ioc import warehouse

TOKEN = "agency-test-token"
# Short waits so fault tests stay fast; Retry-After itself is honoured as sent.
FAST = RetryPolicy(timeout=1.0, max_attempts=6, backoff=0.01, backoff_max=0.05,
                   max_throttled=5, retry_after_max=3.0)


@pytest.fixture(scope="session")
def agency_world(tmp_path_factory) -> Path:
    """January 2025 of the demo district: ~1,900 dossiers, ~1,800 documents, ~280 feedback."""
    out = tmp_path_factory.mktemp("agency") / "world"
    generate(out, "district", seed=7, span=(Month(2025, 1), Month(2025, 1)), intake=False,
             jobs=1)
    return out


@pytest.fixture(scope="session")
def api(agency_world: Path) -> Iterator[ServerHandle]:
    handle = serve_in_thread(agency_world, token=TOKEN)
    yield handle
    handle.stop()


@pytest.fixture
def admin(api: ServerHandle) -> Iterator[httpx.Client]:
    """The demo API's admin endpoints; the server is reset before and after each test."""
    with httpx.Client(base_url=api.url, headers={"Authorization": f"Bearer {TOKEN}"},
                      timeout=30) as client:
        client.post("/_admin/reset")
        yield client
        client.post("/_admin/reset")


@pytest.fixture
def config(api: ServerHandle) -> AgencyConfig:
    """The connector pointed at the demo API, independent of the caller's environment."""
    return load(api.url, TOKEN, env={}, retry=FAST, page_size=250, commit_every=1000)


@pytest.fixture(scope="session")
def table_types(warehouse_settings) -> dict[tuple[str, str], dict[str, str]]:
    """Column types of every agency table, read from a database built by `ensure_tables`."""
    name = f"t_types_{uuid.uuid4().hex[:8]}"
    admin_url = warehouse.url(warehouse_settings, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        url = warehouse.url(warehouse_settings, name)
        schema.ensure_tables(url)
        with psycopg.connect(url) as conn:
            rows = conn.execute(
                "select table_schema, table_name, column_name, data_type "
                "from information_schema.columns "
                "where table_schema in ('raw_agency', 'restricted')").fetchall()
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {} with (force)")
                         .format(sql.Identifier(name)))
    out: dict[tuple[str, str], dict[str, str]] = {}
    for sch, table, column, typ in rows:
        out.setdefault((sch, table), {})[column] = typ
    return out
