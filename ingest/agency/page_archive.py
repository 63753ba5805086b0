"""Every agency page kept as received, compressed, so `raw_agency` can be rebuilt from it.

A pull archives each page right after it arrives (before its records are mapped):

    <archive_dir>/agency/<resource>/<YYYY-MM-DD>/<received>-<run>-<seq>.json.gz

holding the request (since, page), the page's counters and its records. The records are kept
as the platform sent them, less two things, for the privacy rules of docs/privacy.md:
- fields the mapping does not list (an allowlist: a field the platform adds later, personal
  or not, is never written anywhere, the archive included);
- personal fields (`personal:` in the mapping). With `IOC_AGENCY_PERSONAL_DATA=store` they go
  to a sidecar `<same name>.personal.json.gz` (mode 0400), which the personal-data retention
  (`IOC_AGENCY_PERSONAL_RETENTION_DAYS`) deletes like the restricted rows, and which backups
  leave out unless they are encrypted; in `hash` and `drop` mode they are not kept at all.

Files are written once (temp file, fsync, rename, read-only) and never changed; names sort
in the order the pages arrived. `replay()` feeds them, in that order, through the connector's
own mapping and load steps (`mapping.bind`, `load.Store`) into a database: the same newest
version per record, the same history and the same watermark as the live pulls produced.
`IOC_AGENCY_ARCHIVE_PAGES=0` turns archiving off.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest.agency import schema
from ingest.agency.config import load as load_config
from ingest.agency.load import Batch, Store, lock_and_bind, reject
from ingest.agency.mapping import RecordProblem, ResourceMapping, _get
from ioc import settings

log = logging.getLogger("ingest.agency")

AGENCY_DIR = "agency"
PERSONAL_SUFFIX = ".personal.json.gz"
PAGE_SUFFIX = ".json.gz"


def enabled(env: dict[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return (env.get("IOC_AGENCY_ARCHIVE_PAGES") or "1").strip().lower() not in ("0", "no",
                                                                               "false", "off")


def resource_dir(archive_dir: Path, resource: str) -> Path:
    return Path(archive_dir) / AGENCY_DIR / resource


def _write_once(path: Path, doc: Any, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            gz.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def split_record(record: Any, mapping: ResourceMapping) -> tuple[Any, dict[str, Any] | None]:
    """(the record with only the mapping's plain fields, its personal values or None)."""
    if not isinstance(record, dict):
        return None, None  # refused as "not an object" either way; its content is not kept
    plain = {k: v for k, v in record.items() if k in mapping.fields}
    personal = {name: _get(record, name) for name in mapping.personal}
    personal = {k: v for k, v in personal.items() if v is not None}
    return plain, personal or None


def join_record(plain: Any, personal: dict[str, Any] | None) -> Any:
    """The inverse of `split_record` (as far as the mapping reads)."""
    if not isinstance(plain, dict) or not personal:
        return plain
    out = dict(plain)
    for dotted, value in personal.items():
        here = out
        *parents, last = dotted.split(".")
        for part in parents:
            nxt = here.get(part)
            if not isinstance(nxt, dict):
                nxt = {}
                here[part] = nxt
            here = nxt
        here[last] = value
    return out


@dataclass
class PageArchive:
    """The pages of one resource's run; `keep()` each page as it arrives."""

    archive_dir: Path
    resource: str
    mapping: ResourceMapping
    personal_mode: str = "store"
    personal_retention: timedelta | None = None
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    seq: int = 0
    written: int = 0

    def __post_init__(self) -> None:
        if self.personal_retention:
            self.purged = purge_personal(self.archive_dir, self.resource,
                                         self.personal_retention)

    def keep(self, request: Any, page: Any) -> Path:
        now = datetime.now(UTC)
        self.seq += 1
        name = f"{now:%Y%m%dT%H%M%S.%fZ}-{self.run}-{self.seq:06d}"
        folder = resource_dir(self.archive_dir, self.resource) / f"{now:%Y-%m-%d}"
        plain, personal = [], []
        for record in page.records:
            p, s = split_record(record, self.mapping)
            plain.append(p)
            personal.append(s)
        doc = {"resource": self.resource, "received_at": now.isoformat(),
               "request": {"since": request.since_text or (request.since.isoformat()
                                                           if request.since else None),
                           "page": request.page},
               "page": page.page, "pages": page.pages, "total": page.total, "records": plain}
        path = folder / (name + PAGE_SUFFIX)
        _write_once(path, doc, 0o444)
        if self.personal_mode == "store" and self.mapping.personal:
            _write_once(folder / (name + PERSONAL_SUFFIX), {"records": personal}, 0o400)
        self.written += 1
        return path


def for_run(archive_dir: Path | None, resource: str, mapping: ResourceMapping,
            personal_mode: str, personal_retention: timedelta | None) -> PageArchive | None:
    """The run's page archive, or None when archiving is off (or nowhere to put it)."""
    if not enabled():
        return None
    if archive_dir is None:
        archive_dir = settings.load().archive_dir
    return PageArchive(Path(archive_dir), resource, mapping, personal_mode, personal_retention)


def purge_personal(archive_dir: Path, resource: str, retention: timedelta) -> int:
    """Delete personal sidecars of pages received more than `retention` ago."""
    cutoff = time.time() - retention.total_seconds()
    removed = 0
    for path in resource_dir(archive_dir, resource).glob(f"*/*{PERSONAL_SUFFIX}"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


@dataclass
class ArchivedPage:
    path: Path
    received_at: datetime
    records: list
    personal_kept: bool  # a sidecar holds this page's personal values


def pages(archive_dir: Path, resource: str) -> Iterator[ArchivedPage]:
    """A resource's archived pages in the order they arrived, personal values joined back
    where a sidecar is kept."""
    root = resource_dir(archive_dir, resource)
    if not root.is_dir():
        return
    files = sorted(p for p in root.glob(f"*/*{PAGE_SUFFIX}")
                   if not p.name.endswith(PERSONAL_SUFFIX) and not p.name.startswith("."))
    for path in files:
        with gzip.open(path, "rb") as fh:
            doc = json.loads(fh.read())
        records = doc.get("records") or []
        side = path.with_name(path.name[: -len(PAGE_SUFFIX)] + PERSONAL_SUFFIX)
        kept = side.exists()
        if kept:
            with gzip.open(side, "rb") as fh:
                personal = json.loads(fh.read()).get("records") or []
            records = [join_record(r, personal[i] if i < len(personal) else None)
                       for i, r in enumerate(records)]
        yield ArchivedPage(path, datetime.fromisoformat(doc["received_at"]), records, kept)


@dataclass
class ReplayStats:
    resource: str
    pages: int = 0
    records: int = 0
    rejected: int = 0


def replay(conninfo: str, archive_dir: Path, resources: list[str] | None = None,
           config=None) -> dict[str, ReplayStats]:
    """Load every archived page, oldest first, into `conninfo`'s raw_agency (and restricted,
    where personal sidecars are kept) through the connector's mapping and load steps."""
    import psycopg

    config = config or load_config()
    names = resources or list(config.mapping.resources)
    schema.ensure_tables(conninfo)
    out: dict[str, ReplayStats] = {}
    with psycopg.connect(conninfo, autocommit=True) as conn:
        for name in names:
            rmap = config.mapping.resource(name)
            stats = ReplayStats(name)
            out[name] = stats
            store = Store(conn, name, rmap.table, config.personal_retention)
            converter = lock_and_bind(store, rmap, config)
            batch = Batch()
            for page in pages(archive_dir, name):
                stats.pages += 1
                for record in page.records:
                    stats.records += 1
                    try:
                        item = converter.convert(record)
                    except RecordProblem as problem:
                        reject(batch, record, rmap, problem)
                        stats.rejected += 1
                        continue
                    if not page.personal_kept:
                        item.personal = None  # not kept (hash/drop mode, or purged)
                    batch.add(item)
                if len(batch) >= config.commit_every:
                    store.commit(batch, skew=config.future_skew)
                    batch = Batch()
            store.commit(batch, skew=config.future_skew)
            store.finish("ok", {"resource": name, "rebuilt_from_archive": True,
                                "pages": stats.pages, "fetched": stats.records})
            conn.execute("select pg_advisory_unlock(hashtext(%s))",
                         (f"ioc.agency.pull.{name}",))
    return out
