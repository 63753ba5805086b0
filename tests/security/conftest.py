"""Hostile inputs, access and secrets. Registers the `faults` marker too (slow variants here
run with `make faults`) and prints the session's tally of hostile inputs tried."""

from __future__ import annotations

import pytest

from ioc import warehouse
from ioc.settings import PROJECT_ROOT
from tests.faults.ledger import LEDGER

MARKER = "faults: slow fault-injection and fuzz suites (make faults; excluded from make test)"


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", MARKER)


def pytest_terminal_summary(terminalreporter) -> None:
    LEDGER.report(terminalreporter, PROJECT_ROOT)


OWN = "xa-hiep-thuan"
OTHER, OTHER_NAME = "xa-que-luu", "Xã Quế Lưu"


@pytest.fixture(scope="session")
def slice_rows(warehouse_settings):
    """The KTXH mart table Superset's first dataset reads, with rows of Hiệp Thuận and of
    another commune: created as tests/superset does when missing; when it holds one
    commune only (tests/e2e built it from one file), Hiệp Thuận's rows are copied once as
    Quế Lưu's for the session. Yields the row count per unit."""
    from psycopg import sql

    from tests.superset import slice_data

    table = sql.Identifier(slice_data.SCHEMA, slice_data.TABLE)
    copied = False
    with warehouse.connect(warehouse_settings) as conn:
        slice_data.create(conn)
        units = {u for (u,) in conn.execute(sql.SQL("select distinct org_unit_id from {}")
                                            .format(table))}
        if units == {OWN}:
            cols = [c for (c,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s "
                "and table_name = %s order by ordinal_position",
                (slice_data.SCHEMA, slice_data.TABLE))]
            values = [sql.Literal(OTHER) if c == "org_unit_id" else
                      sql.Literal(OTHER_NAME) if c == "org_unit_name" else sql.Identifier(c)
                      for c in cols]
            conn.execute(sql.SQL("insert into {} ({}) select {} from {} where org_unit_id = {}")
                         .format(table, sql.SQL(", ").join(map(sql.Identifier, cols)),
                                 sql.SQL(", ").join(values), table, sql.Literal(OWN)))
            copied = True
        counts = dict(conn.execute(sql.SQL("select org_unit_id, count(*) from {} group by 1")
                                   .format(table)).fetchall())
    assert counts.get(OWN) and len(counts) > 1, counts
    yield counts
    if copied:
        with warehouse.connect(warehouse_settings) as conn:
            conn.execute(sql.SQL("delete from {} where org_unit_id = %s").format(table),
                         (OTHER,))
