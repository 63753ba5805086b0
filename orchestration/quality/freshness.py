"""Freshness of every source, judged on the data itself, not on when a run last happened.

A run that "succeeds" without new data is exactly what these checks must catch (a pull
whose watermark jumped to next year succeeds every night and brings nothing). So each check
reads the warehouse:
- agency resources: the last successful pull is at most `PULL_MAX_AGE` old, and the newest
  record changed at most `DATA_MAX_AGE` ago (a district's one-stop desk changes dossiers
  every working day; three days of silence mean the feed stopped); any record dated in the
  future (beyond the allowed skew) fails its own check, with the record keys;
- the intake: the newest file arrived at most `INTAKE_MAX_AGE` ago (reports are due monthly).
Checks are WARN: they raise attention, not block runs. `freshness_job` runs them every hour
(`freshness_schedule`) and they also run in every job that builds their asset.
"""

from datetime import timedelta

import dagster as dg
import psycopg
from psycopg import sql

from ingest import catalogue
from orchestration.resources import WarehouseResource

# From the catalogue of sources (ingest/agency/mapping.yaml via ingest/catalogue.py).
RESOURCE_OF = {src.table: src.resource for src in catalogue.agency_sources()}
AGENCY_TABLES = tuple(RESOURCE_OF)
PULL_MAX_AGE = timedelta(hours=26)
DATA_MAX_AGE = timedelta(days=3)
INTAKE_MAX_AGE = timedelta(days=35)
FUTURE_SKEW = timedelta(minutes=5)


def _exists(conn: psycopg.Connection, table: str) -> bool:
    return conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is not None


def agency_freshness(conninfo: str, table: str) -> dict:
    """Ages (seconds) of the last successful pull and of the newest record, and the records
    dated in the future."""
    with psycopg.connect(conninfo) as conn:
        if not _exists(conn, f"raw_agency.{table}"):
            return {"exists": False}
        pulled = conn.execute(
            "select extract(epoch from now() - last_run_at) from raw_agency.sync_state "
            "where resource = %s and last_status = 'ok'", (RESOURCE_OF[table],)).fetchone()
        newest, future, keys = conn.execute(sql.SQL(
            "select extract(epoch from now() - max(cap_nhat_luc) filter (where cap_nhat_luc "
            "<= now() + %s)), count(*) filter (where cap_nhat_luc > now() + %s), "
            "(array_agg({key} order by cap_nhat_luc desc) filter (where cap_nhat_luc > now() + "
            "%s))[1:20] from {table}").format(
                key=sql.Identifier(_key(conn, table)), table=sql.Identifier("raw_agency", table)),
            (FUTURE_SKEW, FUTURE_SKEW, FUTURE_SKEW)).fetchone()
    return {"exists": True, "pull_age_s": float(pulled[0]) if pulled else None,
            "data_age_s": float(newest) if newest is not None else None,
            "future": int(future), "future_keys": list(keys or [])}


def _key(conn: psycopg.Connection, table: str) -> str:
    return conn.execute(
        "select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid "
        "and a.attnum = any(i.indkey) where i.indrelid = %s::regclass and i.indisprimary",
        (f"raw_agency.{table}",)).fetchone()[0]


def _hours(seconds: float | None) -> str:
    return "chưa có" if seconds is None else f"{seconds / 3600:.1f} giờ"


def _agency_checks(table: str) -> list[dg.AssetChecksDefinition]:
    asset = dg.AssetKey(["raw_agency", table])

    @dg.asset_check(asset=asset, name=f"{table}_freshness", blocking=False,
                    description="Lần lấy dữ liệu thành công gần nhất và bản ghi mới nhất "
                                "không quá cũ.")
    def fresh(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        got = agency_freshness(warehouse.conninfo(), table)
        if not got["exists"]:
            return dg.AssetCheckResult(passed=False, severity=dg.AssetCheckSeverity.WARN,
                                       description="Chưa có bảng dữ liệu.")
        pull, data = got["pull_age_s"], got["data_age_s"]
        ok = (pull is not None and pull <= PULL_MAX_AGE.total_seconds()
              and data is not None and data <= DATA_MAX_AGE.total_seconds())
        return dg.AssetCheckResult(
            passed=ok, severity=dg.AssetCheckSeverity.WARN,
            description=(f"Lấy thành công cách đây {_hours(pull)}; bản ghi mới nhất đổi cách "
                         f"đây {_hours(data)}."),
            metadata={"pull_age_hours": round(pull / 3600, 2) if pull is not None else -1,
                      "data_age_hours": round(data / 3600, 2) if data is not None else -1})

    @dg.asset_check(asset=asset, name=f"{table}_no_future_records", blocking=False,
                    description="Không có bản ghi ghi ngày ở tương lai (quá giờ hiện tại).")
    def no_future(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        got = agency_freshness(warehouse.conninfo(), table)
        future = got.get("future", 0)
        return dg.AssetCheckResult(
            passed=not future, severity=dg.AssetCheckSeverity.WARN,
            description=(f"{future} bản ghi có thời điểm cập nhật ở tương lai; kiểm tra đồng hồ "
                         f"hoặc dữ liệu của hệ thống nguồn: {', '.join(got['future_keys'])}"
                         if future else "Không có."),
            metadata={"future_records": future,
                      "keys": dg.MetadataValue.json(got.get("future_keys", []))})

    return [fresh, no_future]


@dg.asset_check(asset=dg.AssetKey(["raw_intake", "file_manifest"]), name="intake_freshness",
                blocking=False, description="Tệp báo cáo mới nhất đến chưa quá lâu.")
def intake_freshness(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with psycopg.connect(warehouse.conninfo()) as conn:
        if not _exists(conn, "raw_intake.file_manifest"):
            age = None
        else:
            age = conn.execute("select extract(epoch from now() - max(arrived_at)) "
                               "from raw_intake.file_manifest").fetchone()[0]
    age = float(age) if age is not None else None
    return dg.AssetCheckResult(
        passed=age is not None and age <= INTAKE_MAX_AGE.total_seconds(),
        severity=dg.AssetCheckSeverity.WARN,
        description=f"Tệp mới nhất đến cách đây {_hours(age)}.",
        metadata={"age_days": round(age / 86400, 1) if age is not None else -1})


freshness_checks = [c for t in AGENCY_TABLES for c in _agency_checks(t)] + [intake_freshness]

freshness_job = dg.define_asset_job(
    "freshness_job",
    selection=dg.AssetSelection.checks(*freshness_checks),
    description="Kiểm tra độ mới của dữ liệu mỗi nguồn (theo chính dữ liệu, không theo lượt chạy).",
)

freshness_schedule = dg.ScheduleDefinition(
    name="freshness_schedule",
    job=freshness_job,
    cron_schedule="17 * * * *",
    execution_timezone="Asia/Ho_Chi_Minh",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
