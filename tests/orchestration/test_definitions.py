"""The Dagster code location: loads, has every piece, schedules at 01:00 Vietnam time."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg

from orchestration.alerts.sensors import alert_text, post_webhook
from orchestration.definitions import defs
from orchestration.schedules import nightly_schedule


def test_definitions_load_with_every_source_and_dbt_model() -> None:
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"raw_intake/file_manifest", "raw_intake/ktxh01_value"} <= keys
    assert {"raw_agency/ho_so", "raw_agency/van_ban", "raw_agency/phan_anh"} <= keys
    assert "mart_kinh_te_xa_hoi/fct_chi_tieu_thang" in keys


def test_dbt_sources_are_wired_to_the_intake_assets() -> None:
    graph = defs.resolve_asset_graph()
    staging = dg.AssetKey(["staging", "stg_intake__ktxh01_value"])
    assert dg.AssetKey(["raw_intake", "ktxh01_value"]) in graph.get(staging).parent_keys


def test_intake_marts_job_rebuilds_every_view_over_a_table_it_rebuilds() -> None:
    """dbt replaces a table by dropping the old one with CASCADE: a view over it is gone until
    rebuilt. So the job that follows each intake must rebuild every view downstream of a table
    it rebuilds (the KPI mart's int_kpi__phan_so reads the domain marts), and may skip only
    views that read no rebuilt table."""
    from orchestration.dbt.assets import view_keys
    from orchestration.intake.sensors import intake_marts_job

    graph = defs.resolve_asset_graph()
    selected = intake_marts_job.selection.resolve(graph)
    views = set(view_keys())
    tables = selected - views
    assert dg.AssetKey(["mart_kinh_te_xa_hoi", "fct_chi_tieu_thang"]) in tables
    assert dg.AssetKey(["mart_tong_quan", "fct_kpi_thang"]) in tables
    over_tables = {child for key in tables for child in graph.get(key).child_keys} & views
    assert dg.AssetKey(["intermediate", "int_kpi__phan_so"]) in over_tables
    assert over_tables <= selected, sorted(k.to_user_string() for k in over_tables - selected)
    assert views - selected, "views that read no rebuilt table are still skipped"


def test_nightly_schedule_runs_at_one_in_vietnam() -> None:
    assert nightly_schedule.cron_schedule == "0 1 * * *"
    assert nightly_schedule.execution_timezone == "Asia/Ho_Chi_Minh"
    assert nightly_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert defs.resolve_job_def("nightly_job") is not None


def test_sensors_start_running() -> None:
    for name in ("intake_sensor", "run_failure_alert"):
        sensor = defs.resolve_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_alert_names_the_failed_step_and_error() -> None:
    text = alert_text("nightly_job", "0123456789abcdef", ["intake_files"], "boom\ntraceback")
    assert "intake_files" in text and "boom" in text and "traceback" not in text
    assert "nightly_job" in text and "01234567" in text


def test_alert_webhook_receives_json() -> None:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    post_webhook(f"http://127.0.0.1:{server.server_port}/hook", "xin chào")
    thread.join(5)
    server.server_close()
    assert received == [{"text": "xin chào"}]
