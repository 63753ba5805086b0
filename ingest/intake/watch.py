"""The intake folders watched: which files are complete, since when, and which are new.

- `look(root)`: every candidate file under `<root>/<unit>/…` with its stat key (size,
  mtime, ctime, inode), symbolic links included (they are refused, never followed), answers
  and Office temporary files left out.
- `IntakeState`: a small SQLite file under `$IOC_HOME/state/`: per path, the stat key last
  seen, when that version was first seen, when it was first seen complete — its arrival —,
  its SHA-256 (computed once per version, not at every look) and whether it was processed.
  It is kept on the local disk so that it survives restarts and warehouse outages: a report
  that arrived while the warehouse was down keeps the time it arrived.
- `process_waiting(...)`: the one intake pass, used by the resident watcher (`ioc watch`)
  and by Dagster's `intake_files` asset alike: complete files not yet in the manifest are
  ingested in arrival order, one transaction each, under a warehouse-wide lock so that two
  passes never take the same file.

A file is complete when two looks at least `settle_s` apart see the same stat key: a report
still being copied over a slow link changes size or time between looks and waits.
"""

from __future__ import annotations

import csv
import logging
import os
import sqlite3
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from ingest.intake import engine, store
from ingest.intake import paths as _paths

log = logging.getLogger(__name__)

StatKey = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode
ARRIVALS_SIDECAR = "_arrivals.csv"
INTAKE_LOCK = 7_301_000_002  # advisory lock: one intake pass at a time per warehouse
WATCHER = "intake-watcher"


def _key(st: os.stat_result) -> StatKey:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def look(root: Path) -> dict[str, StatKey]:
    """Candidate files under `<root>/<unit folder>/…` (absolute path → stat key).

    Folders are walked without following links; a link is listed (by its own stat) so that
    it gets its refusal. Files at the root itself (such as `_arrivals.csv`) are no reports.
    """
    root = Path(root).absolute()
    found: dict[str, StatKey] = {}

    def walk(folder: str, depth: int) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            rel = Path(entry.path).relative_to(root)
            if engine.is_ignored(rel):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(st.st_mode):
                walk(entry.path, depth + 1)
            elif depth > 0 and (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
                found[entry.path] = _key(st)

    if root.is_dir():
        walk(str(root), 0)
    return found


@dataclass(frozen=True)
class Seen:
    path: str
    key: StatKey
    complete_at: datetime


class IntakeState:
    """What the watcher knows about each file of the intake folders (see the module doc)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, timeout=60, isolation_level=None,
                                  check_same_thread=False)
        self.db.execute("pragma journal_mode=wal")
        self.db.execute("pragma synchronous=normal")
        self.db.executescript("""
            create table if not exists files (
                path text primary key, size integer, mtime_ns integer, ctime_ns integer,
                inode integer, seen_at real not null, complete_at text, sha256 text,
                done integer not null default 0);
            create table if not exists heartbeat (name text primary key, at real not null);
        """)

    @classmethod
    def for_home(cls, home: Path) -> IntakeState:
        return cls(home / "state" / "intake.sqlite")

    def close(self) -> None:
        self.db.close()

    def observe(self, root: Path, seen: dict[str, StatKey], *, now: float | None = None,
                settle_s: float = 2.0) -> list[Seen]:
        """Record one look at `root`; return the complete files not yet processed, in
        arrival order (then path order)."""
        now = time.time() if now is None else now
        stamp = datetime.fromtimestamp(now, UTC).isoformat()
        prefix = str(Path(root).absolute()).rstrip(os.sep) + os.sep
        upper = prefix[:-1] + chr(ord(os.sep) + 1)  # every path under root sorts in between
        self.db.execute("begin immediate")
        try:
            rows = {r[0]: r for r in self.db.execute(
                "select path, size, mtime_ns, ctime_ns, inode, seen_at, complete_at, done "
                "from files where path >= ? and path < ?", (prefix, upper))}
            gone = [p for p in rows if p not in seen]
            if gone:
                self.db.executemany("delete from files where path = ?", [(p,) for p in gone])
            ready: list[Seen] = []
            for path, key in seen.items():
                row = rows.get(path)
                if row is None or tuple(row[1:5]) != key:
                    self.db.execute(
                        "insert or replace into files (path, size, mtime_ns, ctime_ns, inode,"
                        " seen_at, complete_at, sha256, done) values (?,?,?,?,?,?,null,null,0)",
                        (path, *key, now))
                    continue
                complete_at, done = row[6], row[7]
                if done:
                    continue
                if complete_at is None:
                    if now - row[5] < settle_s:
                        continue
                    complete_at = stamp
                    self.db.execute("update files set complete_at = ? where path = ?",
                                    (complete_at, path))
                ready.append(Seen(path, key, datetime.fromisoformat(complete_at)))
            self.db.execute("commit")
        except BaseException:
            self.db.execute("rollback")
            raise
        ready.sort(key=lambda s: (s.complete_at, s.path))
        return ready

    def digest(self, item: Seen) -> str:
        """SHA-256 of the file's bytes (of a link: of the link itself), once per version."""
        row = self.db.execute(
            "select sha256 from files where path = ? and size = ? and mtime_ns = ? and "
            "ctime_ns = ? and inode = ?", (item.path, *item.key)).fetchone()
        if row and row[0]:
            return row[0]
        digest = _paths.fingerprint(Path(item.path))
        self.db.execute(
            "update files set sha256 = ? where path = ? and size = ? and mtime_ns = ? and "
            "ctime_ns = ? and inode = ?", (digest, item.path, *item.key))
        return digest

    def mark_done(self, items: Iterable[Seen]) -> None:
        self.db.executemany(
            "update files set done = 1 where path = ? and size = ? and mtime_ns = ? and "
            "ctime_ns = ? and inode = ?", [(i.path, *i.key) for i in items])

    def beat(self, name: str = WATCHER) -> None:
        self.db.execute("insert or replace into heartbeat (name, at) values (?, ?)",
                        (name, time.time()))

    def alive(self, name: str = WATCHER, within_s: float = 30.0) -> bool:
        row = self.db.execute("select at from heartbeat where name = ?", (name,)).fetchone()
        return bool(row) and time.time() - row[0] <= within_s

    def forget_heartbeat(self, name: str = WATCHER) -> None:
        self.db.execute("delete from heartbeat where name = ?", (name,))


def bulk_arrivals(root: Path) -> dict[str, datetime]:
    """Arrival times of history loaded in bulk (e.g. the demo world), from
    `<root>/_arrivals.csv` (`file` relative to the root, `arrived_at` ISO 8601).

    A malformed line is skipped with a warning (its file arrives when first seen complete);
    it never stops the intake.
    """
    sidecar = Path(root) / ARRIVALS_SIDECAR
    out: dict[str, datetime] = {}
    try:
        fh = open(sidecar, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except OSError:
        return out
    with fh:
        try:
            for n, row in enumerate(csv.DictReader(fh), 2):
                try:
                    when = datetime.fromisoformat(row["arrived_at"])
                    out[str((Path(root) / row["file"]).absolute())] = (
                        when if when.tzinfo else when.replace(tzinfo=UTC))
                except (KeyError, TypeError, ValueError):
                    log.warning("intake: %s line %d is not a file and an ISO time; ignored",
                                sidecar, n)
        except (csv.Error, UnicodeDecodeError) as exc:
            log.warning("intake: %s cannot be read (%s); its arrival times are ignored",
                        sidecar, exc)
    return out


def _try_lock(conn: psycopg.Connection, wait: bool) -> bool:
    if wait:
        conn.execute("select pg_advisory_lock(%s)", (INTAKE_LOCK,))
        return True
    return conn.execute("select pg_try_advisory_lock(%s)", (INTAKE_LOCK,)).fetchone()[0]


def process_waiting(root: Path, *, conninfo: str, archive_dir: Path, state: IntakeState,
                    looks: int = 1, settle_s: float = 2.0, wait_for_lock: bool = True,
                    now: datetime | None = None,
                    on_result: Callable[[engine.FileResult], None] | None = None,
                    ) -> list[engine.FileResult]:
    """One intake pass over `root`: look (`looks` times, `settle_s` apart), then ingest every
    complete file that the manifest does not hold yet, oldest arrival first.

    Each file is judged and loaded on its own: a file that cannot be read or loaded is
    refused and kept, and the others go on. Only a warehouse that cannot be reached stops
    the pass (psycopg.OperationalError); the files stay waiting, with their arrival times.
    """
    root = Path(root).absolute()
    ready: list[Seen] = []
    for i in range(max(1, looks)):
        if i:
            time.sleep(settle_s)
        ready = state.observe(root, look(root), settle_s=settle_s)
    if not ready:
        return []
    engine.ensure_tables(conninfo)
    with psycopg.connect(conninfo, autocommit=True) as lock_conn:
        if not _try_lock(lock_conn, wait_for_lock):
            return []  # another pass holds the intake; it will take these files too
        known = store.known_files(lock_conn, [s.path for s in ready])
        todo: list[Seen] = []
        for item in ready:
            try:
                digest = state.digest(item)
            except OSError:  # gone or unreadable since the look: the next look decides
                continue
            if digest in known.get(item.path, ()):
                state.mark_done([item])
            else:
                todo.append(item)
        if not todo:
            return []
        sidecar = bulk_arrivals(root)
        by_path = {i.path: i for i in todo}
        arrival = {p: sidecar.get(p, i.complete_at) for p, i in by_path.items()}
        todo.sort(key=lambda i: (arrival[i.path], i.path))

        def done(result: engine.FileResult) -> None:
            item = by_path.get(result.file)
            if item is not None:
                state.mark_done([item])
            if on_result is not None:
                on_result(result)

        return engine.ingest_paths(
            [i.path for i in todo], conninfo=conninfo, archive_dir=archive_dir,
            intake_root=root, now=now, arrived_at=arrival, on_result=done)
