"""The nightly run: every source, then every dbt model, at 01:00 in Vietnam."""

from __future__ import annotations

import dagster as dg

NIGHTLY_CRON = "0 1 * * *"
TIMEZONE = "Asia/Ho_Chi_Minh"

nightly_job = dg.define_asset_job(
    "nightly_job",
    selection=dg.AssetSelection.all(),
    description="Chạy hằng đêm: lấy dữ liệu các nguồn, nạp tệp, dựng lại kho dữ liệu.",
)

nightly_schedule = dg.ScheduleDefinition(
    name="nightly_schedule",
    job=nightly_job,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
