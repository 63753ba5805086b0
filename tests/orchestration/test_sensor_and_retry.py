"""The intake sensor reacts to complete files only; a transient warehouse fault is retried."""

from __future__ import annotations

import shutil
import time
from urllib.parse import urlsplit

import dagster as dg
import psycopg
import pytest

from orchestration.intake.assets import intake_files
from orchestration.intake.sensors import SENSOR_SETTLE_S, intake_sensor
from orchestration.resources import IntakeResource, WarehouseResource
from tests.conftest import FIXTURES
from tests.support.flaky_proxy import FlakyProxy

EXAMPLE = FIXTURES / "examples" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx"


@pytest.fixture
def intake_env(tmp_path, monkeypatch):
    """Resources read the environment (they take no config): point it at `tmp_path`."""
    monkeypatch.setenv("IOC_INTAKE_DIR", str(tmp_path))
    monkeypatch.setenv("IOC_ARCHIVE_DIR", str(tmp_path / "archive"))


def _tick(intake_dir, cursor, wait: bool = True):
    if wait:  # ticks are at least the settle time apart, as the daemon spaces them
        time.sleep(SENSOR_SETTLE_S + 0.1)
    context = dg.build_sensor_context(cursor=cursor, resources={"intake": IntakeResource()})
    result = intake_sensor(context)
    return result, context.cursor


@pytest.mark.usefixtures("intake_env")
def test_sensor_starts_a_run_for_a_dropped_file_and_waits_for_a_growing_one(
    tmp_path, warehouse_settings
) -> None:
    unit = tmp_path / "xa-hiep-thuan"
    unit.mkdir()
    shutil.copy2(EXAMPLE, unit / EXAMPLE.name)
    growing = unit / "dang-chep.xlsx"
    growing.write_bytes(b"PK\x03\x04" + b"\0" * 100)

    first, cursor = _tick(tmp_path, None, wait=False)
    assert isinstance(first, dg.SkipReason), "nothing is started on the first look"

    with growing.open("ab") as fh:  # still being copied between the two looks
        fh.write(b"\0" * 4096)
    second, cursor = _tick(tmp_path, cursor)
    assert isinstance(second, dg.RunRequest)
    assert EXAMPLE.name in second.run_key
    assert "dang-chep.xlsx" not in second.run_key

    third, cursor = _tick(tmp_path, cursor)  # the copy has finished: now it is ready too
    assert isinstance(third, dg.RunRequest)
    assert "dang-chep.xlsx" in third.run_key


@pytest.mark.usefixtures("intake_env")
def test_sensor_ignores_feedback_and_temporary_files(tmp_path, warehouse_settings) -> None:
    unit = tmp_path / "xa-hiep-thuan"
    (unit / "_phan_hoi").mkdir(parents=True)
    (unit / "_phan_hoi" / "a.loi.txt").write_text("x")
    (unit / "~$bao-cao.xlsx").write_bytes(b"lock")
    _, cursor = _tick(tmp_path, None, wait=False)
    result, _ = _tick(tmp_path, cursor)
    assert isinstance(result, dg.SkipReason)


def test_transient_warehouse_fault_is_retried(tmp_path, fresh_db_url, monkeypatch) -> None:
    intake = tmp_path / "intake"
    (intake / "xa-hiep-thuan").mkdir(parents=True)
    shutil.copy2(EXAMPLE, intake / "xa-hiep-thuan" / EXAMPLE.name)
    monkeypatch.setenv("IOC_INTAKE_DIR", str(intake))
    monkeypatch.setenv("IOC_ARCHIVE_DIR", str(tmp_path / "archive"))
    parts = urlsplit(fresh_db_url)
    with FlakyProxy(parts.hostname, parts.port, refuse_first=1) as proxy:
        monkeypatch.setenv("IOC_WAREHOUSE_URL", proxy.url_for(fresh_db_url))
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize(
            [intake_files],
            instance=instance,
            resources={"warehouse": WarehouseResource(), "intake": IntakeResource()},
            raise_on_error=False,
        )
        assert proxy.connections > 1
    assert result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_RESTARTED"]
    assert len(retries) == 1, "the first attempt failed on the refused connection"
    with psycopg.connect(fresh_db_url) as conn:
        status = conn.execute("select status from raw_intake.file_manifest").fetchall()
    assert status == [("accepted",)]


def test_marts_sensor_builds_a_fresh_warehouse_fully_in_one_process(fresh_db_url,
                                                                    monkeypatch) -> None:
    """A watcher's pass on a warehouse dbt never built: the whole nightly job, its steps in
    the run's own process (one per step would load the code location 18 times while the
    commune waits); the run config is one the nightly job accepts."""
    from orchestration.intake.assets import MANIFEST_KEY
    from orchestration.intake.sensors import intake_marts_sensor
    from orchestration.schedules import nightly_job

    monkeypatch.setenv("IOC_WAREHOUSE_URL", fresh_db_url)
    with dg.DagsterInstance.ephemeral() as instance:
        def tick(cursor):
            context = dg.build_sensor_context(instance=instance, cursor=cursor,
                                              resources={"warehouse": WarehouseResource()})
            return intake_marts_sensor(context), context.cursor

        skipped, cursor = tick(None)
        assert isinstance(skipped, dg.SkipReason)
        instance.report_runless_asset_event(dg.AssetMaterialization(MANIFEST_KEY))
        request, _ = tick(cursor)
    assert isinstance(request, dg.RunRequest), request
    assert request.job_name == nightly_job.name
    assert request.run_config == {"execution": {"config": {"in_process": {}}}}
    from dagster._core.system_config.objects import ResolvedRunConfig

    from orchestration.definitions import defs

    resolved = ResolvedRunConfig.build(defs.resolve_job_def(nightly_job.name), request.run_config)
    assert list(resolved.execution.execution_engine_config) == ["in_process"]
