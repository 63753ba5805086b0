"""A run-failure sensor that names the failed asset(s) and the error.

Set `IOC_ALERT_WEBHOOK_URL` to a chat webhook (Slack/Mattermost/Rocket.Chat incoming
webhooks take `{"text": ...}`; Google Chat too; for Zalo or Telegram put a small relay in
front). Without it, alerts go to the Dagster log only.
"""

import json
import os
import urllib.request

import dagster as dg


def alert_text(job_name: str, run_id: str, failed_steps: list[str], error: str) -> str:
    """The alert message, in Vietnamese for the data team on duty."""
    steps = ", ".join(failed_steps) if failed_steps else "(không rõ bước)"
    first_line = (error or "").strip().splitlines()[0:1]
    reason = first_line[0][:300] if first_line else "không có thông báo lỗi"
    return (
        f"[IOC] Lượt chạy thất bại: job {job_name}, run {run_id[:8]}\n"
        f"Bước/tài sản lỗi: {steps}\nLỗi: {reason}"
    )


def post_webhook(url: str, text: str, timeout_s: float = 10.0) -> None:
    body = json.dumps({"text": text}).encode("utf-8")
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        response.read()


def send_alert(text: str, log) -> None:
    """An alert for the data team: to the log, and to the chat webhook when one is set."""
    log.error(text)
    url = os.environ.get("IOC_ALERT_WEBHOOK_URL")
    if url:
        try:
            post_webhook(url, text)
        except OSError as exc:
            log.error(f"alert webhook failed: {exc}")


@dg.run_failure_sensor(
    name="run_failure_alert",
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=False,
)
def run_failure_alert(context: dg.RunFailureSensorContext):
    failed = [event.step_key or "?" for event in context.get_step_failure_events()]
    error = context.failure_event.message or ""
    for event in context.get_step_failure_events():
        data = event.event_specific_data
        if data is not None and getattr(data, "error", None) is not None:
            error = data.error.message
            break
    send_alert(alert_text(context.dagster_run.job_name, context.dagster_run.run_id, failed,
                          error), context.log)
