"""The nightly backup: `backup_job` runs after every nightly run (succeeded or failed: what
came in during the day must be kept either way), and `backup_age_sensor` alerts the team on
duty when the newest backup is older than `IOC_BACKUP_MAX_AGE_HOURS` (26 h by default), or
when the platform has never been backed up. A failed backup run is alerted by
`run_failure_alert` like every other run.

The backup is an op job, not an asset: it must never be part of `nightly_job`'s asset
selection, and it materialises nothing the marts depend on.
"""


import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from backup import backup, retention
from backup.config import load as load_config
from ioc import settings as settings_mod
from orchestration.alerts.sensors import send_alert
from orchestration.schedules import nightly_job


@dg.op(description="Sao lưu kho dữ liệu, Superset, Dagster và kho lưu trữ tệp (ioc backup).")
def backup_op(context: dg.OpExecutionContext) -> dg.Output[str]:
    result = backup.run(settings_mod.load(), progress=context.log.info)
    for warning in result.warnings:
        context.log.warning(warning)
    return dg.Output(result.name, metadata={
        "backup": result.name,
        "path": str(result.path),
        "seconds": result.seconds,
        "size_mb": round(result.size_bytes / 1048576, 2),
        "archive_files": result.archive_files,
        "archive_new_files": result.archive_new_files,
        "archive_new_mb": round(result.archive_new_bytes / 1048576, 2),
        "encrypted": result.encrypted,
        "pruned": ", ".join(result.pruned),
    })


@dg.job(description="Sao lưu hằng đêm, chạy sau lượt chạy đêm (nightly_job).")
def backup_job():
    backup_op()


def _after_nightly(name: str, status: dg.DagsterRunStatus) -> dg.RunStatusSensorDefinition:
    """A sensor that requests `backup_job` once after each nightly run ending in `status`."""
    @dg.run_status_sensor(
        name=name, run_status=status, monitored_jobs=[nightly_job], request_job=backup_job,
        default_status=dg.DefaultSensorStatus.RUNNING)
    def after(context: dg.RunStatusSensorContext):
        return dg.RunRequest(run_key=f"after-{context.dagster_run.run_id}")

    return after


backup_after_nightly = _after_nightly("backup_after_nightly", dg.DagsterRunStatus.SUCCESS)
backup_after_failed_nightly = _after_nightly("backup_after_failed_nightly",
                                             dg.DagsterRunStatus.FAILURE)


def age_problem(target: Path, max_age_hours: float, home: Path,
                now: datetime | None = None) -> tuple[str, str] | None:
    """(what the problem is about, the alert text) when backups are missing or too old."""

    now = now or datetime.now(UTC)
    latest = retention.newest(target)
    if latest is None:
        marker = home / "warehouse-password"  # written when the warehouse is first created
        try:
            installed = datetime.fromtimestamp(marker.stat().st_mtime, UTC)
        except OSError:
            return None
        if (now - installed).total_seconds() / 3600 <= max_age_hours:
            return None
        return ("none", f"[IOC] Chưa có bản sao lưu nào trong {target}, hệ thống đã chạy từ "
                        f"{installed:%d/%m/%Y}. Kiểm tra backup_job và IOC_BACKUP_DIR.")
    age = (now - latest.created_at).total_seconds() / 3600
    if age <= max_age_hours:
        return None
    return (latest.name, f"[IOC] Bản sao lưu mới nhất ({latest.name}) đã cũ {age:.0f} giờ "
                         f"(quá {max_age_hours:g} giờ). Kiểm tra backup_job trong Dagster và "
                         f"thư mục sao lưu {target}.")


@dg.sensor(name="backup_age_sensor", minimum_interval_seconds=3600,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Báo động khi bản sao lưu mới nhất cũ hơn IOC_BACKUP_MAX_AGE_HOURS.")
def backup_age_sensor(context: dg.SensorEvaluationContext):
    cfg = settings_mod.load()
    config = load_config(cfg)
    problem = age_problem(config.target, config.max_age_hours, cfg.home)
    if problem is None:
        context.update_cursor(None)
        return dg.SkipReason("bản sao lưu mới nhất còn trong hạn")
    about, text = problem
    state = json.loads(context.cursor) if context.cursor else {}
    now = datetime.now(UTC).timestamp()
    if state.get("about") == about and now - state.get("at", 0) < 24 * 3600:
        return dg.SkipReason(f"đã báo: {text}")  # once a day while it lasts, not every hour
    send_alert(text, context.log)
    context.update_cursor(json.dumps({"about": about, "at": now}))
    return dg.SkipReason(text)


backup_sensors = [backup_after_nightly, backup_after_failed_nightly, backup_age_sensor]
