"""The running stack the access tests attack, in two set-ups (`make test` runs both):

- `embedded`: the session's warehouse (the embedded PostgreSQL `make up` starts, or
  `IOC_TEST_WAREHOUSE_URL`) holding the demo world built by the real pipeline, and the
  session's Superset bootstrapped as `make up` does;
- `external`: a PostgreSQL server with every optional feature (Debian's `postgresql`: libxml,
  contrib), given as `IOC_WAREHOUSE_URL` to a stack started the same way in its own
  `IOC_HOME` — warehouse roles, the example reports ingested, `dbt seed` + `dbt run`, Superset
  bootstrapped (SQLite metadata, as with any external warehouse without
  `IOC_SUPERSET_METADATA_URL`) — then torn down.

`Stack.world` says what the data holds, computed from the warehouse as its owner: the
commune the attacker belongs to, the units it may see (its own and those merged into it,
read back from `access.unit_scope`), and canaries: ids and names of other units whose rows
the marts hold, which must never appear in anything that commune gets back (the units the
commune later became are named in its own rows, so they are no canaries).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ioc import settings as settings_mod
from ioc import warehouse
from ioc.settings import Settings
from ioc_superset import bootstrap, server
from tests.conftest import FIXTURES
from tests.support import external_pg
from tests.support.net import free_port
from tests.support.superset_server import SupersetServer

OWN = "xa-hiep-thuan"
OWN_ROLE = "Xã Hiệp Thuận"
# a commune formed by a merger: it reads OWN's history
MERGED, MERGED_ROLE = "xa-que-tan", "Xã Quế Tân"
# commune-only marts (the forms communes send, the agency data by commune), whose unit ids
# are the canaries; district rows and shared reference tables are not
FACTS = ("mart_kinh_te_xa_hoi.fct_chi_tieu_thang", "mart_y_te.fct_y_te_thang",
         "mart_hanh_chinh_cong.fct_so_sanh_hcc06", "mart_bao_cao.fct_nop_bao_cao",
         "mart_hanh_chinh_cong.fct_ho_so", "mart_phan_anh_kien_nghi.fct_phan_anh")


@dataclass
class World:
    scope: set[str]  # units OWN's role may read
    merged_scope: set[str]  # units MERGED's role may read
    canary_ids: set[str]  # other units with rows in the marts
    canary_names: set[str]
    own_rows: dict[str, int] = field(default_factory=dict)  # table -> OWN's row count

    def leaks(self, text: str) -> list[str]:
        return sorted(c for c in self.canary_ids | self.canary_names if c in text)


@dataclass
class Stack:
    name: str
    settings: Settings
    superset: SupersetServer
    owner_url: str  # the warehouse as its owner (dbt, loaders)
    superuser_url: str  # a superuser on the warehouse database (test set-up only)
    world: World
    xml: bool  # the server has libxml: XML functions really run


def read_world(owner_url: str) -> World:
    with psycopg.connect(owner_url) as conn:
        def scope(unit: str) -> set[str]:
            return {u for (u,) in conn.execute(
                "select visible_unit_id from access.unit_scope where org_unit_id = %s", (unit,))}

        units: set[str] = set()
        own_rows = {}
        for table in FACTS:
            units |= {u for (u,) in conn.execute(
                f"select distinct org_unit_id from {table} where org_unit_id is not null")}
            own_rows[table] = conn.execute(
                f"select count(*) from {table} where org_unit_id = %s", (OWN,)).fetchone()[0]
        districts = {u for (u,) in conn.execute(
            "select distinct district_id from mart_bao_cao.fct_nop_bao_cao "
            "where district_id is not null")}
        shared = " ".join(str(r) for (r,) in conn.execute(
            "select string_agg(t::text, ' ') from (select * from mart_dung_chung.dim_bieu_mau) t"))
        own_scope, merged_scope = scope(OWN), scope(MERGED)
        # the units OWN became (its rows name them: latest_org_unit_id) are no canaries
        successors = {u for (u,) in conn.execute(
            "with recursive chain as (select successor_id as u from seeds.org_units "
            "where org_unit_id = %s union select o.successor_id from seeds.org_units o "
            "join chain on o.org_unit_id = chain.u) select u from chain where u is not null",
            (OWN,))}
        # nor the units that sent OWN's reports (a district office sends GD-01 for its schools):
        # OWN's report rows name them (mart_bao_cao.fct_dong_bao_cao, reporting_org_unit_*)
        reporters = {u for (u,) in conn.execute(
            "select distinct reporting_org_unit_id from mart_bao_cao.fct_dong_bao_cao "
            "where org_unit_id = any(%s)", (list(own_scope),))}
        canaries = {u for u in units - own_scope - districts - successors - reporters
                    if u not in shared}
        names = {n for (n,) in conn.execute(
            "select name from seeds.org_units where org_unit_id = any(%s)", (list(canaries),))}
    return World(scope=own_scope, merged_scope=merged_scope, canary_ids=canaries,
                 canary_names=names, own_rows=own_rows)


@contextlib.contextmanager
def _environment(**values: str | None) -> Iterator[None]:
    """os.environ with `values` set (None: removed), restored exactly afterwards."""
    saved = dict(os.environ)
    try:
        for key, value in values.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def load_examples(settings: Settings, work: Path) -> None:
    """The staff's example reports ingested, agency tables created, `dbt seed` + `dbt run`."""
    from ingest.agency import schema
    from ingest.intake.engine import ingest_paths
    from ioc.dbt_runner import run_dbt

    url = warehouse.url(settings)
    intake = work / "intake"
    for example in (FIXTURES / "examples").iterdir():
        unit = example.stem.split("_")[1]
        (intake / unit).mkdir(parents=True, exist_ok=True)
        shutil.copy2(example, intake / unit / example.name)
    ingest_paths([intake], conninfo=url, archive_dir=work / "archive",
                 now=datetime(2025, 3, 1, tzinfo=UTC), feedback=False)
    schema.ensure_tables(url)
    for args in (["seed", "--quiet"], ["run", "--quiet"]):
        if run_dbt(args, settings, check=False) != 0:
            raise RuntimeError(f"dbt {args[0]} failed on the external warehouse")


@contextlib.contextmanager
def external_stack() -> Iterator[Stack]:
    """A stack on a fully featured external PostgreSQL (see the module docstring)."""
    home = Path(tempfile.mkdtemp(prefix="ioc-external-home-"))
    try:
        with external_pg.external_server() as srv, _environment(
            IOC_HOME=str(home), IOC_WAREHOUSE_URL=srv.owner_url, IOC_PG_PORT=None,
            IOC_SUPERSET_PORT=str(free_port()), IOC_SUPERSET_METADATA_URL=None,
            IOC_BI_WAREHOUSE_URL=None, IOC_BI_ROLE_KEY=None,
            # the stack must not need (nor pass on) what the caller's shell holds
            IOC_AGENCY_API_TOKEN="kiem-thu-khong-duoc-lo-ra",
        ):
            cfg = settings_mod.load()
            warehouse.start(cfg)
            # Superset's migrations and roles (~45 s, no warehouse data needed) run while the
            # warehouse is loaded (~35 s of dbt); bootstrap then does the rest as usual
            metadata = bootstrap.prepare_metadata_ahead(cfg)
            try:
                load_examples(cfg, home / "work")
            finally:  # never leave the steps running against a home about to be removed
                concurrent.futures.wait([metadata])
            metadata.result()
            report = bootstrap.bootstrap(cfg, keep_running=True)
            try:
                with psycopg.connect(srv.superuser_url) as conn:
                    xml = _has_xml(conn)
                ss = SupersetServer(settings=cfg, url=report.url, username=server.ADMIN_USER,
                                    password=server.admin_password(cfg), report=report)
                yield Stack("external", cfg, ss, srv.owner_url, srv.superuser_url,
                            read_world(srv.owner_url), xml)
            finally:
                server.stop(cfg)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def session_stack(settings: Settings, superset: SupersetServer) -> Stack:
    owner = warehouse.url(settings)
    superuser = owner if settings.embedded else (
        os.environ.get("IOC_TEST_SUPERUSER_URL") or owner)
    with psycopg.connect(owner) as conn:
        xml = _has_xml(conn)
    return Stack("embedded" if settings.embedded else "session", settings,
                 superset, owner, superuser, read_world(owner), xml)


def _has_xml(conn: psycopg.Connection) -> bool:
    try:
        with conn.transaction():
            conn.execute("select xmlparse(content '<a/>')")
        return True
    except psycopg.errors.FeatureNotSupported:
        return False
