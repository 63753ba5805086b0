"""Alerts to leaders after each load, reminders to communes each morning
(catalogue/alerts.yaml, ioc/alerts/).

- `thong_bao_job` evaluates every alert rule over the marts and sends what is new;
  `thong_bao_sau_khi_nap` starts it whenever a job that rebuilds marts succeeds (the nightly
  run, a file's intake), so an alert follows the data that raised it.
- `nhac_nop_bao_cao_job` sends the reminders due today (one working day before a form's
  deadline, one day after it, to each unit that has not sent it); a schedule runs it at
  07:30 in Vietnam every day.

Sending is idempotent (ioc/alerts/send.py keeps a ledger): a rerun, or the next load,
sends nothing already delivered.
"""

import dagster as dg

from ioc import settings as settings_mod
from ioc.alerts import rules, send
from orchestration.intake.sensors import intake_job, intake_marts_job
from orchestration.resources import WarehouseResource
from orchestration.schedules import TIMEZONE, nightly_job


def _report(context: dg.OpExecutionContext, kind: str, messages, outcome) -> dg.Output:
    for key, address, error in outcome.failed:
        context.log.error(f"{kind}: gửi {key} tới {address} thất bại: {error}")
    metadata = {
        "messages": len(messages),
        "delivered": len(outcome.sent),
        "already_delivered": outcome.skipped,
        "failed": len(outcome.failed),
        "keys": dg.MetadataValue.md("\n".join(f"- {k} ({c})" for k, c, _ in outcome.sent[:50])
                                    or "(không có)"),
    }
    if outcome.failed:
        raise dg.Failure(f"{kind}: {len(outcome.failed)} lượt gửi thất bại (sẽ thử lại ở lần "
                         "chạy sau)", metadata=metadata)
    return dg.Output(len(outcome.sent), metadata=metadata)


@dg.op(description="Đánh giá các ngưỡng cảnh báo (catalogue/alerts.yaml) và gửi cảnh báo mới.")
def gui_canh_bao(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> dg.Output:
    cfg = settings_mod.load()
    messages = rules.alerts(warehouse.conninfo(), cfg)
    return _report(context, "cảnh báo", messages, send.send(cfg, messages))


@dg.op(description="Nhắc các đơn vị chưa nộp báo cáo: trước hạn một ngày làm việc và sau hạn.")
def gui_nhac_nho(context: dg.OpExecutionContext, warehouse: WarehouseResource) -> dg.Output:
    cfg = settings_mod.load()
    messages = rules.reminders(warehouse.conninfo(), cfg)
    return _report(context, "nhắc nộp báo cáo", messages, send.send(cfg, messages))


@dg.job(description="Gửi cảnh báo theo ngưỡng sau mỗi lần nạp dữ liệu.")
def thong_bao_job():
    gui_canh_bao()


@dg.job(description="Nhắc các xã nộp báo cáo trước và sau hạn.")
def nhac_nop_bao_cao_job():
    gui_nhac_nho()


@dg.run_status_sensor(
    name="thong_bao_sau_khi_nap",
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[nightly_job, intake_job, intake_marts_job],
    request_job=thong_bao_job,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sau mỗi lần nạp thành công: đánh giá ngưỡng cảnh báo.",
)
def thong_bao_sau_khi_nap(context: dg.RunStatusSensorContext):
    return dg.RunRequest(run_key=f"after-{context.dagster_run.run_id}")


nhac_nop_bao_cao_schedule = dg.ScheduleDefinition(
    name="nhac_nop_bao_cao_schedule",
    job=nhac_nop_bao_cao_job,
    cron_schedule="30 7 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
