"""Writing batches into the warehouse: COPY into temp tables, then set-based merges.

One batch is one transaction, and the watermark moves in that same transaction, so the
warehouse never holds a watermark ahead of its data (a run that dies keeps every batch it
committed and loses only the open one; the next run starts from the committed watermark).

Per batch:
- history: every (key, cap_nhat_luc) not yet there (`on conflict do nothing`);
- current table: the newest version per key in the batch, and an existing row is replaced
  only by a *strictly newer* cap_nhat_luc, so an older copy met in an overlap window or a
  replayed page never overwrites a newer one, and a re-read of an unchanged record writes
  nothing;
- restricted.<table>_ca_nhan: the personal values, under the same newest-wins rule;
- sync_state: watermark = greatest(old, newest cursor of the batch), never beyond now plus
  the allowed clock skew: one record dated in the future must not move it past records
  still to come (every later pull would ask for changes "since next year").

psycopg errors are re-raised as `LoadError` naming only the SQLSTATE: their messages can
quote the values of a failing row.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

import psycopg

from ingest.agency.errors import BusyError, LoadError
from ingest.agency.mapping import (
    Converted,
    RecordConverter,
    RecordProblem,
    bind,
    column_names,
    record_identity,
)

if TYPE_CHECKING:
    from ingest.agency.config import AgencyConfig


@dataclass
class Batch:
    rows: list[tuple] = field(default_factory=list)
    personal: list[tuple] = field(default_factory=list)
    rejects: list[tuple] = field(default_factory=list)
    newest: datetime | None = None

    def add(self, item: Converted) -> None:
        self.rows.append(item.row)
        if item.personal is not None:
            self.personal.append(item.personal)
        if self.newest is None or item.cursor > self.newest:
            self.newest = item.cursor

    def reject(self, key: str | None, cursor: datetime | None, api_field: str,
               problem: str) -> None:
        self.rejects.append((key, cursor, api_field, problem))
        if cursor is not None and (self.newest is None or cursor > self.newest):
            self.newest = cursor

    def __len__(self) -> int:
        return len(self.rows) + len(self.rejects)


class BatchResult(NamedTuple):
    """What committing one batch did: records inserted, updated and found unchanged,
    versions added to the history, personal rows written."""

    inserted: int
    updated: int
    unchanged: int
    history_added: int
    personal_written: int


NOTHING_WRITTEN = BatchResult(0, 0, 0, 0, 0)


def _safe(exc: psycopg.Error, doing: str) -> LoadError:
    return LoadError(f"Lỗi khi {doing} (warehouse error {type(exc).__name__}, "
                     f"SQLSTATE {exc.sqlstate or '?'})")


class Store:
    """The warehouse side of one resource's run, on one autocommit connection."""

    def __init__(self, conn: psycopg.Connection, resource: str, table: str,
                 personal_retention: timedelta | None = None) -> None:
        self.conn = conn
        self.resource = resource
        self.table = table
        self.personal_retention = personal_retention
        self._prepared: RecordConverter | None = None

    # ------------------------------------------------------------------ before the run
    def lock(self) -> None:
        """Hold a session lock for this resource, so two pulls never interleave batches."""
        got = self.conn.execute("select pg_try_advisory_lock(hashtext(%s))",
                                (f"ioc.agency.pull.{self.resource}",)).fetchone()[0]
        if not got:
            raise BusyError(f"{self.resource}: đang có một lần kéo dữ liệu khác chạy "
                            "(another pull of this resource is running)")

    def column_types(self, schema: str, table: str) -> dict[str, str]:
        rows = self.conn.execute(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = %s and table_name = %s", (schema, table)).fetchall()
        return dict(rows)

    def watermark(self) -> datetime | None:
        row = self.conn.execute("select watermark from raw_agency.sync_state where resource = %s",
                                (self.resource,)).fetchone()
        return row[0] if row else None

    def prepare(self, converter: RecordConverter) -> None:
        """Session temp tables shaped like the targets (types only, no constraints)."""
        self._prepared = converter
        with self.conn.transaction():
            self.conn.execute(
                f"create temp table if not exists _in_{self.table} on commit delete rows as "
                f"select {column_names(converter.columns)} from raw_agency.{self.table} "
                "with no data")
            if converter.personal_columns:
                self.conn.execute(
                    f"create temp table if not exists _in_{self.table}_ca_nhan "
                    "on commit delete rows as "
                    f"select {column_names(converter.personal_columns)} "
                    f"from restricted.{self.table}_ca_nhan with no data")

    # ------------------------------------------------------------------------- a batch
    def commit(self, batch: Batch, *, status: str = "running",
               skew: timedelta = timedelta(minutes=5)) -> BatchResult:
        """Write one batch and move the watermark (at most to now + `skew`), atomically."""
        converter = self._prepared
        assert converter is not None, "prepare() first"
        try:
            with self.conn.transaction():
                result = self._write(batch, converter) if batch.rows else NOTHING_WRITTEN
                if batch.rejects:
                    self._rejects(batch.rejects)
                self.conn.execute(
                    "insert into raw_agency.sync_state as s (resource, watermark, last_run_at, "
                    "last_status, records_total) values (%s, least(%s, now() + %s), now(), %s, "
                    "%s) on conflict (resource) do update set "
                    "watermark = least(greatest(s.watermark, excluded.watermark), "
                    "now() + %s), "
                    "last_run_at = now(), last_status = excluded.last_status, "
                    "records_total = coalesce(s.records_total, 0) + excluded.records_total",
                    (self.resource, batch.newest, skew, status, result.inserted, skew))
        except psycopg.Error as exc:
            raise _safe(exc, f"nạp lô {self.resource} (loading a batch)") from None
        return result

    def _write(self, batch: Batch, converter: RecordConverter) -> BatchResult:
        cols = converter.columns
        key = converter.mapping.key_column
        cursor = converter.mapping.cursor_column
        tmp = f"_in_{self.table}"
        names = column_names(cols)
        with self.conn.cursor() as cur:
            with cur.copy(f"copy {tmp} ({names}) from stdin") as copy:
                for row in batch.rows:
                    copy.write_row(row)
            cur.execute(
                f"insert into raw_agency.{self.table}_history ({names}) "
                f"select distinct on ({key}, {cursor}) {names} from {tmp} "
                "on conflict do nothing")
            history_added = cur.rowcount
            updates = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c != key)
            cur.execute(
                f"with up as (insert into raw_agency.{self.table} as t ({names}) "
                f"select distinct on ({key}) {names} from {tmp} order by {key}, {cursor} desc "
                f"on conflict ({key}) do update set {updates}, _loaded_at = now() "
                f"where excluded.{cursor} > t.{cursor} returning (xmax = 0) as fresh) "
                "select count(*) filter (where fresh), count(*) filter (where not fresh) from up")
            inserted, updated = cur.fetchone()
            cur.execute(f"select count(distinct {key}) from {tmp}")
            distinct = cur.fetchone()[0]
            personal = 0
            if batch.personal and converter.personal_columns:
                personal = self._write_personal(cur, batch.personal, converter)
        return BatchResult(inserted, updated, distinct - inserted - updated, history_added,
                           personal)

    def _write_personal(self, cur: psycopg.Cursor, rows: list[tuple],
                        converter: RecordConverter) -> int:
        cols = converter.personal_columns
        key, names = cols[0], column_names(cols)
        tmp = f"_in_{self.table}_ca_nhan"
        with cur.copy(f"copy {tmp} ({names}) from stdin") as copy:
            for row in rows:
                copy.write_row(row)
        updates = ", ".join(f'"{c}" = excluded."{c}"' for c in cols if c != key)
        expired = "where cap_nhat_luc >= now() - %s " if self.personal_retention else ""
        cur.execute(
            f"insert into restricted.{self.table}_ca_nhan as t ({names}) "
            f"select * from (select distinct on ({key}) {names} from {tmp} "
            f"order by {key}, cap_nhat_luc desc) newest {expired}"
            f"on conflict ({key}) do update set {updates} "
            "where excluded.cap_nhat_luc > t.cap_nhat_luc",
            (self.personal_retention,) if self.personal_retention else None)
        return cur.rowcount

    def purge_personal(self, retention: timedelta) -> int:
        """Delete personal rows of records that have not changed for `retention` (and, at
        write time, `_write_personal` never stores rows already that old)."""
        try:
            cur = self.conn.execute(
                f"delete from restricted.{self.table}_ca_nhan where cap_nhat_luc < now() - %s",
                (retention,))
        except psycopg.Error as exc:
            raise _safe(exc, "xoá dữ liệu cá nhân hết hạn (purging personal data)") from None
        return cur.rowcount

    def _rejects(self, rejects: list[tuple]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(
                "insert into raw_agency.sync_rejects (resource, record_key, cap_nhat_luc, field, "
                "problem) select %s, %s, %s, %s, %s where not exists (select 1 from "
                "raw_agency.sync_rejects r where r.resource = %s "
                "and r.record_key is not distinct from %s "
                "and r.cap_nhat_luc is not distinct from %s and r.field = %s)",
                [(self.resource, k, c, f, p, self.resource, k, c, f) for k, c, f, p in rejects])

    # -------------------------------------------------------------------- after the run
    def finish(self, status: str, stats: dict, error: str | None = None) -> None:
        """Record how the run ended (best effort when the run failed)."""
        try:
            self.conn.execute(
                "insert into raw_agency.sync_state as s (resource, last_run_at, last_status, "
                "last_error, last_stats) values (%s, now(), %s, %s, %s) "
                "on conflict (resource) do update set last_run_at = now(), "
                "last_status = excluded.last_status, last_error = excluded.last_error, "
                "last_stats = excluded.last_stats",
                (self.resource, status, error, json.dumps(stats, default=str)))
        except psycopg.Error as exc:
            raise _safe(exc, "ghi trạng thái đồng bộ (recording the run)") from None


def lock_and_bind(store: Store, rmap, config: AgencyConfig):
    """Lock the resource's store for this run and bind the resource's mapping to the
    warehouse's columns: the record converter (pull and the archive's replay)."""
    store.lock()
    converter = bind(
        rmap, store.column_types("raw_agency", rmap.table),
        store.column_types("restricted", f"{rmap.table}_ca_nhan"),
        personal_mode=config.personal_mode, unit_codes=config.mapping.unit_codes,
        hash_key=config.personal_key)
    store.prepare(converter)
    return converter


def reject(batch: Batch, record, rmap, problem: RecordProblem) -> datetime | None:
    """Note in `batch` a record that failed mapping (its key and cursor, when they can be
    read, and what is wrong); its cursor."""
    key, cursor = record_identity(record, rmap.key, rmap.cursor)
    batch.reject(key, cursor, problem.api_field, problem.problem)
    return cursor
