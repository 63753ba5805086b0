"""Hostile inputs, access and secrets. Registers the `faults` marker too (slow variants here
run with `make faults`) and prints the session's tally of hostile inputs tried."""

from __future__ import annotations

import shutil
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import sql

from ioc import warehouse
from ioc.settings import PROJECT_ROOT
from tests.conftest import FIXTURES
from tests.faults.ledger import LEDGER

MARKER = "faults: slow fault-injection and fuzz suites (make faults; excluded from make test)"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", MARKER)


def pytest_terminal_summary(terminalreporter) -> None:
    LEDGER.report(terminalreporter, PROJECT_ROOT)


OWN = "xa-hiep-thuan"


@pytest.fixture(scope="session")
def slice_rows(warehouse_settings, mart_world):
    """Rows per unit of the KTXH mart the first dataset reads, as dbt built it from the demo
    world (rows of Hiệp Thuận and of the other communes)."""
    with warehouse.connect(warehouse_settings) as conn:
        counts = dict(conn.execute(
            "select org_unit_id, count(*) from mart_kinh_te_xa_hoi.fct_chi_tieu_thang "
            "group by 1").fetchall())
    assert counts.get(OWN) and len(counts) > 1, counts
    return counts


PERSON = "Trần Thị Bảo Mật"
PHONE = "0912345678"


@pytest.fixture(scope="session")
def built_warehouse(warehouse_settings, tmp_path_factory):
    """A fresh database: the example reports ingested, agency tables with one dossier and its
    person in `restricted`, then `dbt seed` + `dbt run` (grants and row policies as in
    production); the BI login roles of every scope exist (`identities.apply`, as bootstrap
    runs it). Yields the owner's URL."""
    from ingest.agency import schema
    from ingest.intake.engine import ingest_paths
    from ioc_superset import identities
    from tests.faults import world

    name = f"t_access_{uuid.uuid4().hex[:8]}"
    admin = warehouse.url(warehouse_settings, "postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = warehouse.url(warehouse_settings, name)
    tmp = tmp_path_factory.mktemp("access")
    for example in (FIXTURES / "examples").iterdir():
        unit = example.stem.split("_")[1]
        (tmp / "intake" / unit).mkdir(parents=True, exist_ok=True)
        shutil.copy2(example, tmp / "intake" / unit / example.name)
    ingest_paths([tmp / "intake"], conninfo=url, archive_dir=tmp / "archive",
                 now=datetime(2025, 3, 1, tzinfo=UTC))
    schema.ensure_tables(url)
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into restricted.ho_so_ca_nhan (ma_ho_so, ho_ten, so_dien_thoai, so_cccd, "
            "cap_nhat_luc) values ('HS-BAO-MAT', %s, %s, '079123456789', now())",
            (PERSON, PHONE))
    identities.apply(warehouse_settings)
    world.dbt_run(url, "seed", "--quiet")
    world.dbt_run(url, "run", "--quiet")
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(name)))


def connect_as(url: str, login: str, settings, **kwargs) -> psycopg.Connection:
    """`url`'s database as BI login role `login` (its password from the install's key)."""
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(url)
    password = quote(warehouse.role_password(login, warehouse.role_key(settings)), safe="")
    netloc = f"{quote(login, safe='')}:{password}@{parts.hostname}:{parts.port}"
    return psycopg.connect(urlunsplit(parts._replace(netloc=netloc)), **kwargs)
