"""A small platform of its own for the backup drills: its IOC_HOME, its embedded PostgreSQL,
the demo district's October–November 2024 loaded (intake, agency API, dbt marts) and a run
in Dagster's history.

`Platform` switches the process environment to its IOC_HOME while in use; the drills lose its
data folder, restore a backup into it and compare what comes back with what was there.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from ioc import settings as settings_mod
from ioc import warehouse
from ioc_superset import identities
from tests.faults import world
from tests.support.net import free_port

ENV = ("IOC_HOME", "IOC_PG_PORT", "IOC_WAREHOUSE_URL", "IOC_BACKUP_DIR", "DAGSTER_HOME",
       "IOC_INTAKE_DIR", "IOC_ARCHIVE_DIR", "IOC_BACKUP_PERSONAL", "IOC_BACKUP_AGE_RECIPIENTS",
       "IOC_BACKUP_SECRETS", "IOC_BACKUP_AGE_IDENTITY", "IOC_SUPERSET_PORT",
       "IOC_SUPERSET_METADATA_URL", "IOC_DAGSTER_PG_URL", "IOC_AGENCY_API_URL")


@dataclass
class Platform:
    base: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.base / "home"

    @property
    def backups(self) -> Path:
        return self.base / "backups"

    def settings(self) -> settings_mod.Settings:
        return settings_mod.load()

    def url(self, database: str = warehouse.WAREHOUSE_DB) -> str:
        return warehouse.url(self.settings(), database)


@contextmanager
def platform_env(p: Platform, **extra: str) -> Iterator[settings_mod.Settings]:
    """The process environment pointed at the platform (restored afterwards)."""
    saved = {k: os.environ.get(k) for k in (*ENV, *extra)}
    for k in ENV:
        os.environ.pop(k, None)
    os.environ.update({"IOC_HOME": str(p.home), "IOC_PG_PORT": str(p.port),
                       "IOC_BACKUP_DIR": str(p.backups), **p.env, **extra})
    try:
        yield settings_mod.load()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def new_platform(prefix: str = "ioc-drill-") -> Platform:
    # outside pytest's basetemp (mode 0700 would lock out PostgreSQL's system user as root)
    base = Path(tempfile.mkdtemp(prefix=prefix))
    base.chmod(0o755)
    return Platform(base, free_port())


def load_world(p: Platform, world_dir: Path, api_url: str, *, dbt: bool = True) -> None:
    """Intake, agency pull and (optionally) dbt marts, as the nightly job does."""
    with platform_env(p) as cfg:
        warehouse.start(cfg)
        url = warehouse.url(cfg)
        intake = world.copy_intake(world_dir, cfg.intake_dir)
        world.load_everything(url, intake, cfg.archive_dir, api_url, world.API_TOKEN)
        if dbt:
            world.dbt_run(url, "seed", "--quiet")
            world.dbt_run(url, "run", "--quiet")
        # the login role of every scope, as `ioc superset bootstrap` makes them
        identities.apply(cfg)
        dagster_run(cfg)


def dagster_run(cfg: settings_mod.Settings) -> str:
    """One run in the platform's Dagster instance (history a restore must bring back)."""
    import dagster as dg

    from ioc import processes

    os.environ["DAGSTER_HOME"] = str(processes.dagster_home(cfg))

    @dg.op
    def drill_step() -> int:
        return 1

    @dg.job
    def drill_job():
        drill_step()

    with dg.DagsterInstance.get() as instance:
        return drill_job.execute_in_process(instance=instance).run_id


def dagster_run_ids(cfg: settings_mod.Settings) -> set[str]:
    import dagster as dg

    from ioc import processes

    os.environ["DAGSTER_HOME"] = str(processes.dagster_home(cfg))
    with dg.DagsterInstance.get() as instance:
        return {r.run_id for r in instance.get_runs()}


def archive_files(archive_dir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(archive_dir)): p.read_bytes()
            for p in archive_dir.rglob("*") if p.is_file() and not p.name.startswith(".")}


def roles(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r for (r,) in conn.execute(
            "select rolname from pg_roles where rolname not like 'pg\\_%'")}


def access_model(url: str) -> dict[str, list]:
    """Who may read what, by name (OIDs change in a restore): roles with their attributes and
    settings, memberships with their options, row security and policies of every table, the
    grants on tables, schemas, functions and databases (an ACL left at its default compared as
    that default: pg_dump writes only ACLs that differ from it)."""
    queries = {
        "roles": """select rolname, rolcanlogin, rolinherit, rolsuper, rolcreaterole,
                           rolconnlimit, coalesce(array_to_string(rolconfig, ','), '')
                    from pg_roles where rolname not like 'pg\\_%' order by 1""",
        "members": """select g.rolname, m.rolname, a.admin_option, a.inherit_option,
                             a.set_option
                      from pg_auth_members a join pg_roles g on g.oid = a.roleid
                      join pg_roles m on m.oid = a.member order by 1, 2""",
        "row_security": """select n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity,
                                  coalesce(c.relacl, acldefault('r', c.relowner))::text
                           from pg_class c join pg_namespace n on n.oid = c.relnamespace
                           where c.relkind in ('r', 'p', 'v', 'm')
                             and n.nspname not in ('pg_catalog', 'information_schema')
                             and n.nspname not like 'pg\\_%' order by 1, 2""",
        "policies": """select schemaname, tablename, policyname, permissive, roles::text, cmd,
                              qual, with_check from pg_policies order by 1, 2, 3""",
        "schemas": """select nspname, coalesce(nspacl, acldefault('n', nspowner))::text
                      from pg_namespace where nspname not like 'pg\\_%' order by 1""",
        "functions": """select p.oid::regprocedure::text, p.prosecdef,
                               coalesce(p.proacl, acldefault('f', p.proowner))::text
                        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
                        where n.nspname not in ('pg_catalog', 'information_schema')
                        order by 1""",
        "databases": """select datname, coalesce(datacl, acldefault('d', datdba))::text
                        from pg_database where datname in ('ioc', 'superset', 'postgres')
                        order by 1""",
    }
    with psycopg.connect(url) as conn:
        return {k: [tuple(r) for r in conn.execute(q)] for k, q in queries.items()}


def connect_as(url: str, login: str, cfg: settings_mod.Settings) -> psycopg.Connection:
    """`url`'s database as BI login role `login`, with the password Superset would derive
    from the install's role key (superset/ioc_identity.py)."""
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(url)
    password = quote(warehouse.role_password(login, warehouse.role_key(cfg)), safe="")
    netloc = f"{quote(login, safe='')}:{password}@{parts.hostname}:{parts.port}"
    return psycopg.connect(urlunsplit(parts._replace(netloc=netloc)))


def lose_data_folder(p: Platform) -> Path:
    """The disk is gone: stop the server, move IOC_HOME away (kept only to compare)."""
    with platform_env(p) as cfg:
        warehouse.stop(cfg)
    lost = p.base / "home.lost"
    shutil.move(str(p.home), lost)
    return lost


def destroy(p: Platform) -> None:
    with platform_env(p) as cfg:
        with suppress(Exception):
            warehouse.stop(cfg)
    lost = p.base / "home.lost" / "pgdata"
    if (lost / "PG_VERSION").exists():
        with suppress(Exception):
            warehouse._run_pg(["pg_ctl", "stop", "-m", "immediate", "-D", str(lost)],
                              cfg, check=False)
    shutil.rmtree(p.base, ignore_errors=True)
