"""The embedded warehouse: starts, answers, survives stop/start, keeps Superset out of raw data."""

from __future__ import annotations

import psycopg
import pytest

from ioc import settings as settings_mod
from ioc import warehouse


def test_url_is_libpq_and_reaches_the_warehouse(warehouse_url: str) -> None:
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_superset_metadata_database_exists(warehouse_settings: settings_mod.Settings) -> None:
    if not warehouse_settings.embedded:
        pytest.skip("metadata database is only created on the embedded server")
    with psycopg.connect(warehouse.url(warehouse_settings, "postgres")) as conn:
        names = {r[0] for r in conn.execute("select datname from pg_database")}
    assert {"ioc", "superset"} <= names


def test_data_survives_stop_and_start(warehouse_settings: settings_mod.Settings) -> None:
    if not warehouse_settings.embedded:
        pytest.skip("stop/start applies to the embedded server")
    with psycopg.connect(warehouse.url(warehouse_settings), autocommit=True) as conn:
        conn.execute("create table if not exists public.survives (x int)")
        conn.execute("insert into public.survives values (42)")
    assert warehouse.stop(warehouse_settings)
    assert not warehouse.is_running(warehouse_settings)
    warehouse.start(warehouse_settings)
    with psycopg.connect(warehouse.url(warehouse_settings), autocommit=True) as conn:
        assert conn.execute("select x from public.survives").fetchone() == (42,)
        conn.execute("drop table public.survives")


def test_bi_role_is_read_only_and_cannot_read_raw(
    warehouse_settings: settings_mod.Settings,
) -> None:
    with psycopg.connect(warehouse.url(warehouse_settings), autocommit=True) as conn:
        conn.execute("create schema if not exists raw_probe")
        conn.execute("create table if not exists raw_probe.secret (x int)")
    with psycopg.connect(warehouse.bi_url(warehouse_settings)) as bi:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bi.execute("select * from raw_probe.secret")
    with psycopg.connect(warehouse.bi_url(warehouse_settings)) as bi:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            bi.execute("create table public.nope (x int)")
