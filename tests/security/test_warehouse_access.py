"""The roles Superset reads with read the marts and nothing else: not raw data
(`raw_intake`, `raw_agency`), not personal data (`restricted`), not dbt's working schemas
(`staging`, `intermediate`, `seeds`) — logged in as the data team's role (the widest) on a
warehouse dbt really built, every relation is tried; `ioc_bi`, the identity Superset's
connection stores, reads nothing at all. None of them can write, escape the read-only
default, read files of the server or see other sessions' queries; and no mart view or
function hands them what they may not read (a view runs with its owner's rights).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from ioc import warehouse
from tests.security.conftest import PERSON, connect_as

DATA_TEAM = "ioc_bi_du_lieu"
COMMUNE = warehouse.BI_UNIT_ROLE_PREFIX + "xa-hiep-thuan"


@pytest.fixture(scope="module")
def built(built_warehouse) -> str:
    return built_warehouse


def _as_bi(url: str, settings) -> psycopg.Connection:
    """`url`'s database as `ioc_bi`, the identity stored in Superset's connection."""
    bi = urlsplit(warehouse.bi_url(settings))
    return psycopg.connect(urlunsplit(bi._replace(path=urlsplit(url).path)), autocommit=True)


def _as(url: str, login: str, settings) -> psycopg.Connection:
    return connect_as(url, login, settings, autocommit=True)


def _relations(url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(url) as conn:
        return conn.execute("""
            select n.nspname, c.relname, c.relkind from pg_class c
            join pg_namespace n on n.oid = c.relnamespace
            where c.relkind in ('r', 'v', 'm', 'p', 'f')
              and n.nspname not in ('pg_catalog', 'information_schema')
              and n.nspname not like 'pg\\_%'
            order by 1, 2""").fetchall()


def test_bi_role_reads_every_mart_and_no_other_relation(built: str, warehouse_settings) -> None:
    relations = _relations(built)
    schemas = {s for s, _, _ in relations}
    assert {"raw_intake", "raw_agency", "restricted", "staging", "intermediate",
            "seeds"} <= schemas
    marts = [(s, r) for s, r, _ in relations if s.startswith("mart_")]
    others = [(s, r) for s, r, _ in relations
              if not s.startswith("mart_") and s != "access"]
    assert len(marts) > 20 and len(others) > 30
    refused, readable = [], []
    with _as(built, DATA_TEAM, warehouse_settings) as conn:
        for s, r in others:
            try:
                conn.execute(sql.SQL("select * from {} limit 1").format(sql.Identifier(s, r)))
                readable.append(f"{s}.{r}")
            except psycopg.errors.InsufficientPrivilege:
                refused.append(f"{s}.{r}")
        for s, r in marts:
            conn.execute(sql.SQL("select * from {} limit 1").format(sql.Identifier(s, r)))
    assert readable == []
    assert len(refused) == len(others)
    with _as_bi(built, warehouse_settings) as conn:  # Superset's stored identity: nothing
        for s, r in marts + others:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(sql.SQL("select * from {} limit 1").format(sql.Identifier(s, r)))


def test_no_mart_view_or_function_reads_for_the_bi_role(built: str) -> None:
    """Views run with their owner's rights: a mart view over raw or restricted tables would
    hand them to ioc_bi. Same for SECURITY DEFINER functions."""
    with psycopg.connect(built) as conn:
        leaks = conn.execute("""
            select distinct v.relnamespace::regnamespace::text || '.' || v.relname,
                   t.relnamespace::regnamespace::text || '.' || t.relname
            from pg_rewrite w
            join pg_class v on v.oid = w.ev_class
            join pg_depend d on d.objid = w.oid and d.classid = 'pg_rewrite'::regclass
            join pg_class t on t.oid = d.refobjid and t.oid <> v.oid
            where v.relnamespace::regnamespace::text like 'mart\\_%'
              and t.relnamespace::regnamespace::text not like 'mart\\_%'""").fetchall()
        definers = conn.execute("""
            select p.oid::regprocedure::text from pg_proc p
            where p.prosecdef and p.pronamespace::regnamespace::text not in
                  ('pg_catalog', 'information_schema')""").fetchall()
        personal = conn.execute("""
            select table_schema || '.' || table_name || '.' || column_name
            from information_schema.columns where table_schema like 'mart\\_%'
              and column_name in ('ho_ten', 'so_dien_thoai', 'so_cccd', 'noi_dung',
                                  'tieu_de')""").fetchall()
    assert leaks == [] and definers == [] and personal == []


@pytest.mark.parametrize("login", [warehouse.BI_ROLE, COMMUNE, DATA_TEAM])
def test_bi_role_cannot_write_escape_or_look_around(built: str, warehouse_settings,
                                                    login: str) -> None:
    connect = _as_bi if login == warehouse.BI_ROLE else (
        lambda url, settings: _as(url, login, settings))
    with connect(built, warehouse_settings) as conn:
        assert conn.execute("show default_transaction_read_only").fetchone()[0] == "on"
        attempts = {
            "create in public": "create table public.x (a int)",
            "create schema": "create schema bi_own",
            "write a mart": "delete from mart_dung_chung.dim_don_vi",
            "read a server file": "select pg_read_file('/etc/passwd')",
            "list server files": "select pg_ls_dir('.')",
            "copy to a program": "copy (select 1) to program 'true'",
            "grant itself": "grant select on all tables in schema restricted to ioc_bi",
            "become the owner": "set role ioc",
            "become the owner by a setting": "select set_config('role', 'ioc', false)",
            "another session identity": "set session authorization ioc",
            "lift row security":
                "alter table mart_dung_chung.dim_don_vi disable row level security",
            "drop a row policy": "drop policy ioc_row_scope on mart_dung_chung.dim_don_vi",
        }
        allowed = []
        for what, statement in attempts.items():
            try:
                with conn.transaction():
                    conn.execute("set transaction read write")  # even out of read-only
                    conn.execute(statement)
                allowed.append(what)
            except (psycopg.errors.InsufficientPrivilege, psycopg.errors.UndefinedObject):
                pass
        assert allowed == []
        # other sessions' queries (which may hold personal values) stay hidden
        with psycopg.connect(built) as owner:
            owner.execute(f"select '{PERSON}' as probe, pg_sleep(0)")
            texts = [q for (q,) in conn.execute(
                "select query from pg_stat_activity where usename = 'ioc'")]
        assert texts and PERSON not in " ".join(texts)
