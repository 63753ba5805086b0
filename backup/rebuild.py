"""`ioc rebuild`: the raw layer and the marts re-derived from the archive alone.

1. The archive's arrival log is completed from the live manifest (archives from before the
   log; `ingest/intake/arrivals.py`), so the archive alone holds every arrival.
2. A scratch database (`<warehouse>_rebuild` on the same server, or `--target`) is created
   empty, or with `--into-warehouse` the configured warehouse itself when it is empty (the
   recovery when the archive is all that survived).
3. Every report file is replayed in the order it arrived, judged by today's contracts at its
   arrival time (`ingest/intake/rebuild.py`); every agency page, in the order it came,
   through the connector's mapping and load (`ingest/agency/page_archive.py`).
4. dbt (`seed`, `run`) builds the marts on the rebuilt raw tables.
5. The rebuilt and the live tables are compared row for row — raw_intake per arrival
   (status, version, current flag, the answer's errors and warnings, rows), raw_agency per
   record and version, every mart — and every file whose outcome differs is reported.

Exit code of the command: 0 when everything is the same, 3 when something differs.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from ingest.agency import page_archive
from ingest.intake import rebuild as intake_rebuild
from ioc import dbt_runner, warehouse
from ioc import settings as settings_mod

SCRATCH_COMMENT = "ioc rebuild scratch database"
# columns that record when or in which order rows were loaded, not what they say; and the
# moment a mart was judged at (its build's `now()`, seconds apart from one mart to the next: the
# rebuilt marts are judged at the live KPI mart's clock, see same_moments)
VOLATILE = frozenset({"file_id", "current_file_id", "superseded_by", "duplicate_of",
                      "_loaded_at", "processed_at", "seen_at", "last_run_at", "records_total",
                      "last_stats", "last_error", "last_status", "as_of", "clock_at"})


class RebuildError(RuntimeError):
    """The rebuild cannot run (the message says why)."""


@dataclass
class RebuildReport:
    target: str
    kept: bool
    arrivals: int = 0
    backfilled: int = 0
    files: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    corrupt: list[str] = field(default_factory=list)
    agency: dict[str, dict] = field(default_factory=dict)
    intake: Any = None  # ingest.intake.rebuild.IntakeComparison
    agency_differences: list[str] = field(default_factory=list)
    mart_differences: list[str] = field(default_factory=list)
    marts_compared: int = 0
    clock_at: str | None = None  # the live marts' clock the rebuilt marts were judged at
    timings: dict[str, float] = field(default_factory=dict)
    compared: bool = True

    @property
    def same(self) -> bool:
        return (not self.missing and not self.corrupt and not self.agency_differences
                and not self.mart_differences and (self.intake is None or self.intake.same))

    def lines(self) -> list[str]:
        out = [f"Dựng lại từ kho lưu trữ vào {self.target}: {self.arrivals} lượt tệp đến "
               f"({', '.join(f'{k} {v}' for k, v in sorted(self.files.items()))})"]
        if self.backfilled:
            out.append(f"  {self.backfilled} lượt đến bổ sung vào nhật ký lưu trữ từ "
                       "raw_intake.file_manifest")
        for name, stats in self.agency.items():
            out.append(f"  {name}: {stats['pages']} trang, {stats['records']} bản ghi")
        out += [f"  THIẾU trong kho lưu trữ: {m}" for m in self.missing]
        out += [f"  HỎNG (sai mã băm): {c}" for c in self.corrupt]
        if not self.compared:
            out.append("  (không so sánh: không có kho dữ liệu đang chạy để so)")
        else:
            diffs = self.intake.differences if self.intake else []
            if diffs:
                out.append(f"  {len(diffs)} tệp cho kết quả khác (theo hợp đồng biểu mẫu hôm nay):")
                out += [f"    {d.line()}" for d in diffs]
            if self.intake is not None:
                for table, n in self.intake.rows_only_live.items():
                    if n:
                        out.append(f"  raw_intake.{table}: {n} dòng chỉ có ở kho đang chạy")
                for table, n in self.intake.rows_only_rebuilt.items():
                    if n:
                        out.append(f"  raw_intake.{table}: {n} dòng chỉ có ở bản dựng lại")
            out += [f"  raw_agency khác: {d}" for d in self.agency_differences]
            out += [f"  mart khác: {d}" for d in self.mart_differences]
            out.append(f"  {self.marts_compared} bảng mart đã so sánh từng dòng"
                       + (f", đánh giá tại cùng thời điểm với kho đang chạy ({self.clock_at})"
                          if self.clock_at else ""))
            out.append("  KẾT QUẢ: giống hệt kho đang chạy" if self.same
                       else "  KẾT QUẢ: CÓ KHÁC BIỆT (xem trên)")
        if self.kept:
            out.append(f"  bản dựng lại được giữ: {self.target}")
        return out

    def to_json(self) -> dict:
        out = {k: v for k, v in dataclasses.asdict(self).items() if k != "intake"}
        out["intake"] = self.intake.to_json() if self.intake is not None else None
        out["same"] = self.same
        return out


# --- databases ------------------------------------------------------------------------------------

def _with_db(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/" + name))


def _admin_url(settings: settings_mod.Settings) -> str:
    return warehouse.url(settings, "postgres") if settings.embedded else warehouse.url(settings)


def _scratch(settings: settings_mod.Settings, name: str) -> str:
    """A new empty database `name`; an earlier scratch database of that name is dropped."""
    with psycopg.connect(_admin_url(settings), autocommit=True) as conn:
        row = conn.execute("select shobj_description(oid, 'pg_database') from pg_database "
                           "where datname = %s", (name,)).fetchone()
        if row is not None:
            if row[0] != SCRATCH_COMMENT:
                raise RebuildError(f"cơ sở dữ liệu {name} đã có và không phải bản dựng lại "
                                   "trước: chọn --target khác")
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))
        try:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        except psycopg.errors.InsufficientPrivilege:
            raise RebuildError("không có quyền tạo cơ sở dữ liệu: dùng --target URL của một "
                               "cơ sở dữ liệu trống") from None
        conn.execute(sql.SQL("comment on database {} is {}").format(
            sql.Identifier(name), sql.Literal(SCRATCH_COMMENT)))
        # closed until opened (docs/security.md): no login role but the owner connects to a
        # copy of the raw and personal tables (PUBLIC may connect to a new database)
        conn.execute(sql.SQL("revoke connect, temporary on database {} from public").format(
            sql.Identifier(name)))
    return _with_db(warehouse.url(settings), name)


def drop_scratch(settings: settings_mod.Settings, url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(_admin_url(settings), autocommit=True) as conn:
        row = conn.execute("select shobj_description(oid, 'pg_database') from pg_database "
                           "where datname = %s", (name,)).fetchone()
        if row is not None and row[0] == SCRATCH_COMMENT:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def _has_intake_rows(url: str) -> bool:
    with psycopg.connect(url) as conn:
        if conn.execute("select to_regclass('raw_intake.file_manifest')").fetchone()[0] is None:
            return False
        return conn.execute("select exists (select 1 from raw_intake.file_manifest)"
                            ).fetchone()[0]


# --- the moments the live marts were judged at ---------------------------------------------------

def same_moments(live_url: str, target_url: str) -> str | None:
    """Give the rebuilt warehouse the live one's moments, so its marts are judged as the live
    marts were: each agency resource's last pull (`sync_state`'s times, which are bookkeeping,
    not data) and the clock of the live KPI mart's build (the newest as-of moment A in
    `mart_tong_quan.fct_kpi_thang`; the report forms' A is the clock). Returns the clock as an
    ISO moment, or None when the live warehouse has no KPI mart (the rebuild then runs on its
    own clock)."""
    with psycopg.connect(live_url) as conn:
        pulls = conn.execute(
            "select resource, watermark, last_run_at, last_status from raw_agency.sync_state"
        ).fetchall() if _exists(conn, "raw_agency.sync_state") else []
        clock = conn.execute(
            "select max(as_of) from mart_tong_quan.fct_kpi_thang"
        ).fetchone()[0] if _exists(conn, "mart_tong_quan.fct_kpi_thang") else None
    if pulls:
        with psycopg.connect(target_url, autocommit=True) as conn:
            for resource, watermark, last_run_at, last_status in pulls:
                conn.execute("update raw_agency.sync_state set watermark = %s, last_run_at = %s,"
                             " last_status = %s where resource = %s",
                             (watermark, last_run_at, last_status, resource))
    return clock.isoformat() if clock else None


def _exists(conn: psycopg.Connection, relation: str) -> bool:
    return conn.execute("select to_regclass(%s) is not null", (relation,)).fetchone()[0]


# --- dbt on another database ---------------------------------------------------------------------

def run_dbt(url: str, settings: settings_mod.Settings, *args: str) -> None:
    # another database, but this project's target folder: one dbt at a time on it
    proc = dbt_runner.dbt_process(list(args), dataclasses.replace(settings, warehouse_url=url),
                                  capture=True, timeout=3600)
    if proc.returncode != 0:
        raise RebuildError(f"dbt {' '.join(args)} thất bại trên bản dựng lại:\n"
                           f"{(proc.stdout + proc.stderr)[-3000:]}")


# --- comparing tables row for row ----------------------------------------------------------------

def table_fingerprints(url: str, schema_like: str, ignore: frozenset[str] = VOLATILE
                       ) -> dict[str, tuple[int, str]]:
    """(row count, hash of the sorted row hashes) of every base table in matching schemas,
    columns that only say when or in which order rows were loaded left out."""
    out: dict[str, tuple[int, str]] = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "select table_schema, table_name from information_schema.tables where "
            "table_schema like %s and table_type = 'BASE TABLE' order by 1, 2",
            (schema_like,)).fetchall()
        for schema, table in tables:
            cols = [c for (c,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s "
                "and table_name = %s order by ordinal_position", (schema, table))
                if c not in ignore]
            row = sql.SQL(", ").join(sql.Identifier(c) for c in cols)
            query = sql.SQL(
                "select count(*), coalesce(md5(string_agg(h, ',' order by h)), '') from "
                "(select md5(row({})::text) h from {}) x").format(
                row, sql.Identifier(schema, table))
            count, digest = conn.execute(query).fetchone()
            out[f"{schema}.{table}"] = (count, digest)
    return out


def differences(live: dict, rebuilt: dict) -> list[str]:
    return [f"{t}: {live.get(t, ('-', ''))[0]} dòng ở kho đang chạy, "
            f"{rebuilt.get(t, ('-', ''))[0]} dòng ở bản dựng lại"
            + (" (nội dung khác)" if live.get(t, (0,))[0] == rebuilt.get(t, (0,))[0] else "")
            for t in sorted(set(live) | set(rebuilt)) if live.get(t) != rebuilt.get(t)]


def _agency_differences(live_url: str, rebuilt_url: str) -> list[str]:
    live = table_fingerprints(live_url, "raw\\_agency")
    rebuilt = table_fingerprints(rebuilt_url, "raw\\_agency")
    out = differences(live, rebuilt)
    live_r = table_fingerprints(live_url, "restricted")
    new_r = table_fingerprints(rebuilt_url, "restricted")
    for table in sorted(set(live_r) | set(new_r)):
        if live_r.get(table) == new_r.get(table):
            continue
        if new_r.get(table, (0,))[0] == 0:
            out.append(f"{table}: dữ liệu cá nhân không có trong kho lưu trữ "
                       "(chế độ hash/drop, hoặc đã hết hạn lưu giữ): không dựng lại")
        else:
            out.append(f"{table}: khác")
    return out


# --- the rebuild ---------------------------------------------------------------------------------

def rebuild(settings: settings_mod.Settings | None = None, *, target: str | None = None,
            into_warehouse: bool = False, dbt: bool = True, keep: bool = False,
            progress: Callable[[str], None] | None = None) -> RebuildReport:
    from ingest.intake import arrivals

    settings = settings or settings_mod.load()
    say = progress or (lambda _line: None)
    timings: dict[str, float] = {}
    if settings.embedded:
        warehouse.start(settings)
    live_url = warehouse.url(settings)
    live_has_data = _has_intake_rows(live_url)
    t = time.monotonic()
    backfilled = 0
    if live_has_data:
        with psycopg.connect(live_url, autocommit=True) as conn:
            backfilled = arrivals.backfill(conn, settings.archive_dir)
    if into_warehouse:
        if live_has_data:
            raise RebuildError("kho dữ liệu đang có dữ liệu raw_intake: --into-warehouse chỉ "
                               "dùng cho kho trống (khôi phục khi chỉ còn kho lưu trữ)")
        target_url, scratch = live_url, False
    elif target and "://" in target:
        if _has_intake_rows(target):
            raise RebuildError(f"{target.split('@')[-1]}: cơ sở dữ liệu đích phải trống")
        target_url, scratch = target, False
    else:
        name = target or f"{urlsplit(live_url).path.lstrip('/')}_rebuild"
        target_url, scratch = _scratch(settings, name), True
    shown = urlsplit(target_url).path.lstrip("/")
    report = RebuildReport(target=shown, kept=keep or not scratch, backfilled=backfilled,
                           timings=timings, compared=live_has_data and not into_warehouse)
    try:
        items = arrivals.read(settings.archive_dir)
        report.arrivals = len(items)
        timings["arrivals"] = round(time.monotonic() - t, 2)
        say(f"  tệp báo cáo: {len(items)} lượt đến, phát lại theo thứ tự…")
        t = time.monotonic()
        replayed = intake_rebuild.replay(target_url, settings.archive_dir, items)
        for r in replayed.results:
            report.files[r.status] = report.files.get(r.status, 0) + 1
        report.missing = [a.original_path for a in replayed.missing]
        report.corrupt = [a.original_path for a in replayed.corrupt]
        timings["intake"] = round(time.monotonic() - t, 2)
        say("  dữ liệu các cơ quan: phát lại các trang đã lưu…")
        t = time.monotonic()
        stats = page_archive.replay(target_url, settings.archive_dir)
        report.agency = {k: dataclasses.asdict(v) for k, v in stats.items()}
        timings["agency"] = round(time.monotonic() - t, 2)
        if dbt:
            say("  dbt seed + run…")
            t = time.monotonic()
            run_args = ["run", "--quiet"]
            if report.compared:
                # judged at the live marts' moments, or every status "at A" would differ
                report.clock_at = same_moments(live_url, target_url)
                if report.clock_at:
                    run_args += ["--vars", json.dumps({"clock_at": report.clock_at})]
            run_dbt(target_url, settings, "seed", "--quiet")
            run_dbt(target_url, settings, *run_args)
            timings["dbt"] = round(time.monotonic() - t, 2)
        if report.compared:
            say("  so sánh từng dòng với kho đang chạy…")
            t = time.monotonic()
            report.intake = intake_rebuild.compare(live_url, target_url)
            report.agency_differences = _agency_differences(live_url, target_url)
            if dbt:
                live_marts = table_fingerprints(live_url, "mart\\_%")
                new_marts = table_fingerprints(target_url, "mart\\_%")
                report.marts_compared = len(live_marts)
                report.mart_differences = differences(live_marts, new_marts)
            timings["compare"] = round(time.monotonic() - t, 2)
    finally:
        if scratch and not keep:
            drop_scratch(settings, target_url)
    return report
