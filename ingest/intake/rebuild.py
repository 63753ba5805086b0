"""`raw_intake` re-derived from the archive alone: every arrival replayed, in its order.

The archive holds each file's bytes (`archive.py`) and the log of arrivals (`arrivals.py`):
where each file was dropped, when, and in which order the engine took it. `replay()` feeds
those arrivals, oldest first, through the engine's own per-file step (judge in the reader
process, one transaction, versions by arrival time, duplicates, going back to an earlier
version) into an empty database. Judging is done with today's contracts, at each file's
arrival time, exactly as live ingestion does it; nothing is read from the intake folders.

`compare()` then sets the rebuilt manifest and value rows beside the live ones, file by
file: an arrival whose status, version, current flag, answer (errors and warnings) or rows
differ is reported — the files whose outcome would be different under today's contracts.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from ingest.intake import archive, arrivals, engine, store
from ingest.intake import paths as _paths
from ingest.intake.contracts import load_contracts
from ingest.intake.validate import context_for

log = logging.getLogger(__name__)

# manifest columns that describe an outcome (file ids and processing times do not)
OUTCOME = ("status", "org_unit_id", "form_code", "period", "version", "is_current",
           "row_count", "errors", "warnings")


@dataclass
class ReplayResult:
    results: list[engine.FileResult] = field(default_factory=list)
    missing: list[arrivals.Arrival] = field(default_factory=list)  # bytes not in the archive
    corrupt: list[arrivals.Arrival] = field(default_factory=list)  # bytes not their hash


def replay(conninfo: str, archive_dir: Path, items: list[arrivals.Arrival] | None = None, *,
           now: datetime | None = None,
           on_result: Callable[[engine.FileResult], None] | None = None) -> ReplayResult:
    """Ingest every logged arrival into `conninfo` (whose raw_intake should be empty)."""
    archive_dir = Path(archive_dir)
    items = arrivals.read(archive_dir) if items is None else items
    now = now or datetime.now(UTC)
    contracts = load_contracts()
    out = ReplayResult()
    with psycopg.connect(conninfo) as conn:
        store.ensure_tables(conn, contracts)
        for item in items:
            path = Path(item.original_path)
            root = Path(item.intake_root) if item.intake_root else None
            if item.link:
                result = _refuse_link(conn, item, path, root)
            else:
                stored = archive.archive_path(archive_dir, item.sha256, item.ext)
                try:
                    data = stored.read_bytes()
                except OSError:
                    out.missing.append(item)
                    continue
                if archive.sha256(data) != item.sha256:
                    out.corrupt.append(item)
                    continue
                try:
                    result = engine._ingest_one(conn, data, path, root, stored, now,
                                                item.arrived_at, contracts, conninfo)
                except (psycopg.OperationalError, psycopg.InterfaceError):
                    raise
                except Exception:
                    log.exception("rebuild: could not load %s", path)
                    result = engine._refuse_after_load_error(conn, data, path, root, stored,
                                                             item.arrived_at)
            out.results.append(result)
            if on_result is not None:
                on_result(result)
    return out


def _refuse_link(conn, item: arrivals.Arrival, path: Path, root: Path | None
                 ) -> engine.FileResult:
    """A symbolic link as the engine refused it (nothing was read or archived)."""
    unit = context_for(path, root).folder_unit
    errors = [_paths.link_problem().to_json()]
    with conn.transaction():
        file_id = store.insert_manifest(
            conn, sha256=item.sha256, original_path=item.original_path,
            original_name=path.name, archive_path="", size_bytes=0,
            arrived_at=item.arrived_at, org_unit_id=unit, status="rejected", errors=errors)
    return engine.FileResult(item.original_path, "rejected", org_unit_id=unit, errors=errors,
                             sha256=item.sha256, size_bytes=0, file_id=file_id,
                             arrived_at=item.arrived_at)


# --- comparing a rebuilt raw_intake with the live one ------------------------------------------

@dataclass
class FileDifference:
    """One arrival whose outcome differs between the live and the rebuilt warehouse."""

    original_path: str
    sha256: str
    arrived_at: str
    live: dict[str, Any] | None
    rebuilt: dict[str, Any] | None
    fields: list[str]

    def line(self) -> str:
        name = Path(self.original_path).name
        if self.live is None:
            return f"{name} ({self.arrived_at}): chỉ có trong bản dựng lại — only in the rebuild"
        if self.rebuilt is None:
            return f"{name} ({self.arrived_at}): không dựng lại được — missing from the rebuild"
        changes = ", ".join(f"{f}: {_short(self.live.get(f))} → {_short(self.rebuilt.get(f))}"
                            for f in self.fields)
        return f"{name} ({self.arrived_at}): {changes}"

    def to_json(self) -> dict[str, Any]:
        return {"original_path": self.original_path, "sha256": self.sha256,
                "arrived_at": self.arrived_at, "fields": self.fields,
                "live": self.live, "rebuilt": self.rebuilt}


def _short(value: Any) -> str:
    if isinstance(value, list):
        codes = [e.get("code") for e in value if isinstance(e, dict)]
        return f"[{', '.join(str(c) for c in codes)}]"
    return str(value)


@dataclass
class IntakeComparison:
    files_live: int
    files_rebuilt: int
    differences: list[FileDifference]
    rows_only_live: dict[str, int]
    rows_only_rebuilt: dict[str, int]

    @property
    def same(self) -> bool:
        return not (self.differences or any(self.rows_only_live.values())
                    or any(self.rows_only_rebuilt.values()))

    def to_json(self) -> dict[str, Any]:
        return {"files_live": self.files_live, "files_rebuilt": self.files_rebuilt,
                "differences": [d.to_json() for d in self.differences],
                "rows_only_live": self.rows_only_live,
                "rows_only_rebuilt": self.rows_only_rebuilt}


def _manifest(conn) -> tuple[dict[tuple, dict[str, Any]], dict[int, tuple]]:
    """Arrival key (+ occurrence) → outcome, with file-id links replaced by arrival keys."""
    cur = conn.execute(
        "select file_id, original_path, sha256, arrived_at, superseded_by, duplicate_of, "
        + ", ".join(OUTCOME) + " from raw_intake.file_manifest order by file_id")
    names = [d.name for d in cur.description]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    key_of: dict[int, tuple] = {}
    count: Counter = Counter()
    for row in rows:
        base = (row["original_path"], row["sha256"],
                row["arrived_at"].astimezone(UTC).isoformat())
        count[base] += 1
        key_of[row["file_id"]] = (*base, count[base])
    out: dict[tuple, dict[str, Any]] = {}
    for row in rows:
        outcome = {k: row[k] for k in OUTCOME}
        for link in ("superseded_by", "duplicate_of"):
            target = key_of.get(row[link]) if row[link] is not None else None
            outcome[link] = list(target) if target else None
        for k in ("errors", "warnings"):
            if isinstance(outcome[k], str):
                outcome[k] = json.loads(outcome[k])
        out[key_of[row["file_id"]]] = outcome
    return out, key_of


def _value_rows(conn, key_of: dict[int, tuple]) -> dict[str, Counter]:
    out: dict[str, Counter] = {}
    for contract in load_contracts().values():
        table = contract.table
        if conn.execute("select to_regclass(%s)", (f"raw_intake.{table}",)).fetchone()[0] is None:
            continue
        # the cells' text as written is the file's own, not an outcome of judging it, and
        # rows loaded before that column existed have none: rows compare without it
        cols = [c for (c,) in conn.execute(
            "select column_name from information_schema.columns where table_schema = "
            "'raw_intake' and table_name = %s and column_name <> 'file_id' "
            "and column_name <> %s order by ordinal_position", (table, store.AS_WRITTEN))]
        select = ", ".join(f'"{c}"::text' for c in cols)
        rows: Counter = Counter()
        for file_id, *values in conn.execute(
                f"select file_id, {select} from raw_intake.{table}"):
            rows[(key_of.get(file_id), *values)] += 1
        out[table] = rows
    return out


def compare(live_url: str, rebuilt_url: str) -> IntakeComparison:
    """The live and the rebuilt `raw_intake`, arrival by arrival and row by row."""
    with psycopg.connect(live_url) as live, psycopg.connect(rebuilt_url) as rebuilt:
        live_files, live_keys = _manifest(live)
        new_files, new_keys = _manifest(rebuilt)
        live_rows, new_rows = _value_rows(live, live_keys), _value_rows(rebuilt, new_keys)
    differences: list[FileDifference] = []
    for key in list(live_files) + [k for k in new_files if k not in live_files]:
        a, b = live_files.get(key), new_files.get(key)
        fields = ([f for f in (*OUTCOME, "superseded_by", "duplicate_of") if a[f] != b[f]]
                  if a is not None and b is not None else ["(file)"])
        if fields:
            differences.append(FileDifference(key[0], key[1], key[2], a, b, fields))
    only_live = {t: sum((live_rows[t] - new_rows.get(t, Counter())).values())
                 for t in live_rows}
    only_new = {t: sum((new_rows[t] - live_rows.get(t, Counter())).values()) for t in new_rows}
    return IntakeComparison(len(live_files), len(new_files), differences, only_live, only_new)
