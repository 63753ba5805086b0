"""Pull agency resources into the warehouse: the one entry point of Dagster and `ioc pull`.

A run of one resource:
1. takes the resource's lock and reads its watermark (`raw_agency.sync_state`);
2. asks for everything changed since watermark − overlap, paging by keyset
   (`paging.PagePlan`) so records that change while it pages are neither lost nor doubled;
3. maps each record (`mapping`), splitting personal fields off to `restricted`;
4. commits every `commit_every` records in one transaction with the watermark (`load`).

Logs say what happened (pages, counts, retries), never what a record contains.
"""

from __future__ import annotations

import contextlib
import logging
import time
import traceback
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from ingest.agency import page_archive, schema
from ingest.agency.client import AgencyClient
from ingest.agency.config import RESOURCES, AgencyConfig
from ingest.agency.config import load as load_config
from ingest.agency.errors import AgencyError, BusyError, ConfigError, LoadError, PullFailed
from ingest.agency.load import Batch, Store, lock_and_bind, reject
from ingest.agency.mapping import VN_TZ, RecordProblem, record_identity
from ingest.agency.paging import PagePlan

log = logging.getLogger("ingest.agency")


@dataclass
class PullStats:
    """What one resource's run did (flat ints/floats/strs: Dagster metadata takes it as is)."""

    resource: str
    status: str = "running"
    since: str = ""
    watermark_before: str = ""
    watermark_after: str = ""
    requests: int = 0
    pages: int = 0
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    history_added: int = 0
    personal_written: int = 0
    personal_purged: int = 0
    rejected: int = 0
    batches: int = 0
    throttled: int = 0
    server_errors: int = 0
    timeouts: int = 0
    connection_errors: int = 0
    waited_seconds: float = 0.0
    seconds: float = 0.0
    unmapped_fields: str = ""
    future_dated: int = 0  # records dated after now + the allowed skew (alerted)
    future_keys: str = ""  # their keys (up to 20), to find them at the source
    error: str = ""

    @property
    def written(self) -> int:
        """Rows this run added or changed (0 when the platform had nothing new)."""
        return self.inserted + self.updated + self.history_added + self.personal_written

    def to_dict(self) -> dict:
        return asdict(self)


def pull(resources: list[str] | None = None, *, conninfo: str,
         config: AgencyConfig | None = None) -> dict[str, PullStats]:
    """Pull the named resources ("ho-so", "van-ban", "phan-anh"; all when None).

    Every named resource is attempted; if any failed, `PullFailed` is raised after the
    others ran, carrying every resource's stats. Raises `ConfigError` before any work when
    a named resource is unknown or has no URL/token.
    """
    config = config or load_config()
    names = list(resources) if resources else [r for r in RESOURCES if r in config.sources]
    unknown = [r for r in names if r not in config.sources]
    if unknown:
        raise ConfigError(f"Tài nguyên không hợp lệ: {', '.join(unknown)} "
                          f"(unknown resource; choose from {', '.join(config.sources)})")
    for name in names:
        config.source(name)  # URL and token present, or a ConfigError now
    schema.ensure_tables(conninfo)
    results: dict[str, PullStats] = {}
    errors: dict[str, AgencyError] = {}
    for name in names:
        stats = PullStats(name)
        results[name] = stats
        try:
            sync_resource(name, conninfo=conninfo, config=config, stats=stats)
        except AgencyError as exc:
            errors[name] = exc
    if errors:
        raise PullFailed(errors, results)
    return results


def sync_resource(resource: str, *, conninfo: str, config: AgencyConfig,
                  stats: PullStats | None = None) -> PullStats:
    """One resource, start to finish; raises an `AgencyError` (message without values)."""
    stats = stats or PullStats(resource)
    t0 = time.perf_counter()
    store: Store | None = None
    conn: psycopg.Connection | None = None
    try:
        source = config.source(resource)
        rmap = config.mapping.resource(resource)
        try:
            conn = psycopg.connect(conninfo, autocommit=True)
        except psycopg.OperationalError as exc:
            first = (str(exc).strip().splitlines() or ["?"])[0]
            raise LoadError(f"Không kết nối được kho dữ liệu (cannot reach the warehouse: "
                            f"{first})") from None
        store = Store(conn, resource, rmap.table, config.personal_retention)
        converter = lock_and_bind(store, rmap, config)
        pages = page_archive.for_run(None, resource, rmap, config.personal_mode,
                                     config.personal_retention)  # raw pages kept (ioc rebuild)
        watermark = store.watermark()
        since = watermark - config.overlap if watermark else None
        since_text = since.astimezone(VN_TZ).isoformat() if since else None
        stats.watermark_before = watermark.astimezone(VN_TZ).isoformat() if watermark else ""
        stats.since = since_text or ""
        log.info("%s: bắt đầu từ %s (watermark %s)", resource, since_text or "đầu",
                 stats.watermark_before or "-")
        plan = PagePlan(since, config.page_size, config.max_requests, since_text)
        with AgencyClient(source.base_url or "", source.token or "", resource, rmap.path,
                          config.mapping.request, config.mapping.response,
                          config.retry) as client:
            try:
                _run(plan, client, converter, store, config, stats, pages)
            finally:
                stats.requests = client.requests
                for name, count in asdict(client.faults).items():  # PullStats has each one
                    setattr(stats, name, count)
                stats.waited_seconds = round(client.waited, 3)
                stats.unmapped_fields = ",".join(sorted(converter.unmapped))
        if config.personal_retention and converter.personal_columns:
            stats.personal_purged = store.purge_personal(config.personal_retention)
        new_watermark = store.watermark()
        stats.watermark_after = (new_watermark.astimezone(VN_TZ).isoformat()
                                 if new_watermark else "")
        stats.status = "incomplete" if plan.exhausted else "ok"
        stats.seconds = round(time.perf_counter() - t0, 3)
        store.finish(stats.status, stats.to_dict())
        if converter.unmapped:
            log.warning("%s: bỏ qua các trường không có trong bảng ánh xạ (unmapped "
                        "fields ignored): %s", resource, stats.unmapped_fields)
        log.info("%s: xong — %d bản ghi, mới %d, đổi %d, giữ nguyên %d, lịch sử +%d, "
                 "loại %d, %d trang, %.1f s", resource, stats.fetched, stats.inserted,
                 stats.updated, stats.unchanged, stats.history_added, stats.rejected,
                 stats.pages, stats.seconds)
        return stats
    except AgencyError as exc:
        _failed(stats, store, exc, t0)
        raise
    except Exception as exc:  # a bug: report where, not the message (it may quote values)
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        error = AgencyError(f"{resource}: lỗi nội bộ {type(exc).__name__} tại "
                            f"{Path(frame.filename).name}:{frame.lineno} (internal error)")
        _failed(stats, store, error, t0)
        raise error from None
    finally:
        if conn is not None:
            conn.close()


def _run(plan: PagePlan, client: AgencyClient, converter, store: Store,
         config: AgencyConfig, stats: PullStats,
         pages: page_archive.PageArchive | None = None) -> None:
    rmap = converter.mapping
    batch = Batch()
    future: list[str] = []
    request = plan.first()
    while request is not None:
        page = client.page(request.since, request.page, config.page_size, request.since_text)
        if pages is not None:
            pages.keep(request, page)
        stats.pages += 1
        stats.fetched += len(page.records)
        newest: datetime | None = None
        newest_text: str | None = None
        for record in page.records:
            try:
                item = converter.convert(record)
            except RecordProblem as problem:
                cursor = reject(batch, record, rmap, problem)
                stats.rejected += 1
                log.warning("%s: bỏ qua một bản ghi — %s (record skipped)", client.resource,
                            problem)
                if cursor is not None and (newest is None or cursor > newest):
                    newest, newest_text = cursor, _raw_cursor(record, rmap.cursor)
                continue
            batch.add(item)
            if item.cursor > datetime.now(UTC) + config.future_skew:
                stats.future_dated += 1
                key, _ = record_identity(record, rmap.key, rmap.cursor)
                future.append(key or "?")
            if newest is None or item.cursor > newest:
                newest, newest_text = item.cursor, _raw_cursor(record, rmap.cursor)
        log.debug("%s: trang %d từ %s: %d bản ghi (%.2f s)", client.resource, request.page,
                  request.since_text or "đầu", len(page.records), page.seconds)
        if len(batch) >= config.commit_every:
            _commit(store, batch, stats, config.future_skew)
            batch = Batch()
        request = plan.next(len(page.records), newest, newest_text, page.pages)
    _commit(store, batch, stats, config.future_skew)
    if future:
        stats.future_keys = ",".join(future[:20])
        log.warning("%s: %d bản ghi ghi ngày ở tương lai (records dated in the future), "
                    "ví dụ %s; watermark giữ ở hiện tại", client.resource, len(future),
                    stats.future_keys)
    if plan.exhausted:
        log.warning("%s: dừng sau %d yêu cầu (max_requests); lần sau chạy tiếp", client.resource,
                    plan.requests)


def _commit(store: Store, batch: Batch, stats: PullStats, skew: timedelta) -> None:
    result = store.commit(batch, skew=skew)
    stats.batches += 1
    for name, count in result._asdict().items():  # PullStats has every BatchResult count
        setattr(stats, name, getattr(stats, name) + count)
    log.info("%s: lô %d đã ghi — mới %d, đổi %d, lịch sử +%d (watermark %s)", store.resource,
             stats.batches, result.inserted, result.updated, result.history_added,
             batch.newest.isoformat() if batch.newest else "-")


def _raw_cursor(record, cursor: str) -> str | None:
    value = record.get(cursor) if isinstance(record, dict) else None
    return value if isinstance(value, str) else None


def _failed(stats: PullStats, store: Store | None, exc: Exception, t0: float) -> None:
    stats.status = "failed"
    stats.error = str(exc)
    stats.seconds = round(time.perf_counter() - t0, 3)
    log.error("%s: thất bại — %s", stats.resource, exc)
    if isinstance(exc, BusyError):  # the other run owns sync_state's status
        return
    if store is not None and not store.conn.closed:
        with contextlib.suppress(AgencyError):
            store.finish("failed", stats.to_dict(), str(exc))
