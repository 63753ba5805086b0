"""Dagster sends alerts after every load and reminders each morning."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs


def test_alerts_follow_every_job_that_rebuilds_marts() -> None:
    sensor = defs.resolve_sensor_def("thong_bao_sau_khi_nap")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.job_name == "thong_bao_job"
    # no public accessor (dagster is pinned in uv.lock): what the decorator was given
    monitored = {job.name for job in sensor._monitored_jobs}
    assert monitored == {"nightly_job", "intake_job", "intake_marts_job"}


def test_reminders_each_morning_in_vietnam() -> None:
    schedule = defs.resolve_schedule_def("nhac_nop_bao_cao_schedule")
    assert schedule.job_name == "nhac_nop_bao_cao_job"
    assert schedule.cron_schedule == "30 7 * * *"
    assert schedule.execution_timezone == "Asia/Ho_Chi_Minh"
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_the_pipeline_command_prints_one_line_for_the_alerts() -> None:
    from cli.pipeline import progress_line

    meta = {"result": {"messages": dg.MetadataValue.int(7), "delivered": dg.MetadataValue.int(12),
                       "already_delivered": dg.MetadataValue.int(2)}}
    assert progress_line("gui_canh_bao", meta) == (
        "  Cảnh báo: 12 lượt gửi mới (7 thông báo, 2 lượt đã gửi trước đó)")
