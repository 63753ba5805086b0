"""The whole Dagster graph on a slice of the demo world: files, agency API, dbt — all real.

Two months around the 2025 merger (Dec 2024 – Jan 2025) of the demo district, its agency
records served by the demo API, the nightly job run once in process, in a database of its
own. Every file must end as the generator's manifest says it should (accepted, refused for
its planted defect, or duplicate), and every mart schema must hold rows.
"""

from __future__ import annotations

import csv

import dagster as dg
import psycopg
import pytest

from ioc.demo.api_server import serve_in_thread
from ioc.demo.calendar import Month
from ioc.demo.generate import generate

pytestmark = pytest.mark.e2e

MART_SCHEMAS = [
    "mart_hanh_chinh_cong",
    "mart_van_ban",
    "mart_kinh_te_xa_hoi",
    "mart_y_te",
    "mart_giao_duc",
    "mart_phan_anh_kien_nghi",
    "mart_bao_cao",
    "mart_tong_quan",
]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, warehouse_settings, monkeypatch_module):
    import uuid

    from psycopg import sql

    from ioc import warehouse

    root = tmp_path_factory.mktemp("demo-run")
    world = root / "world"
    generate(world, scale="district", seed=7, span=(Month(2024, 12), Month(2025, 1)), jobs=1)
    name = f"t_demo_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.url(warehouse_settings, "postgres"), autocommit=True) as c:
        c.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = warehouse.url(warehouse_settings, name)
    with serve_in_thread(world, token="kiem-thu") as api:
        for var, value in {
            "IOC_WAREHOUSE_URL": url,
            "IOC_INTAKE_DIR": str(world / "intake"),
            "IOC_ARCHIVE_DIR": str(root / "archive"),
            "IOC_AGENCY_API_URL": api.url,
            "IOC_AGENCY_API_TOKEN": "kiem-thu",
            "DAGSTER_HOME": str(root / "dagster"),
        }.items():
            monkeypatch_module.setenv(var, value)
        (root / "dagster").mkdir()
        from orchestration.definitions import defs

        with dg.DagsterInstance.get() as instance:
            result = defs.resolve_job_def("nightly_job").execute_in_process(
                instance=instance, raise_on_error=False
            )
    failures = [
        f"{e.step_key}: {e.event_specific_data.error.message[:500]}"
        for e in result.all_events
        if e.is_step_failure and e.event_specific_data and e.event_specific_data.error
    ]
    assert result.success, "nightly job failed:\n" + "\n".join(failures)
    yield world, url
    with psycopg.connect(warehouse.url(warehouse_settings, "postgres"), autocommit=True) as c:
        c.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def test_every_file_ends_as_the_generator_intended(demo_run) -> None:
    world, url = demo_run
    with open(world / "manifest.csv", encoding="utf-8") as fh:
        expected = {str(world / row["path"]): row["expected_status"] for row in csv.DictReader(fh)}
    with psycopg.connect(url) as conn:
        actual = dict(conn.execute("select original_path, status from raw_intake.file_manifest"))
    assert set(actual) == set(expected)
    wrong = {p: (actual[p], expected[p]) for p in expected if actual[p] != expected[p]}
    assert not wrong


def test_agency_records_and_every_mart_have_rows(demo_run) -> None:
    _, url = demo_run
    with psycopg.connect(url) as conn:
        for table in ("ho_so", "van_ban", "phan_anh"):
            n = conn.execute(f"select count(*) from raw_agency.{table}").fetchone()[0]
            assert n > 0, table
        for schema in MART_SCHEMAS:
            tables = [
                r[0]
                for r in conn.execute(
                    "select table_name from information_schema.tables where table_schema = %s",
                    (schema,),
                )
            ]
            assert tables, f"{schema} has no tables"
            total = sum(
                conn.execute(f'select count(*) from "{schema}"."{t}"').fetchone()[0] for t in tables
            )
            assert total > 0, f"{schema} is empty"


def test_a_second_run_loads_nothing_again(demo_run) -> None:
    world, url = demo_run
    from ingest.intake import engine

    with psycopg.connect(url) as conn:
        before = conn.execute("select count(*) from raw_intake.file_manifest").fetchone()[0]
    assert engine.scan_intake(world / "intake", conninfo=url, settle_seconds=0) == []
    with psycopg.connect(url) as conn:
        after = conn.execute("select count(*) from raw_intake.file_manifest").fetchone()[0]
    assert before == after


def test_completeness_check_names_the_late_and_missing_units(demo_run) -> None:
    from datetime import date, datetime, time, timedelta

    from orchestration.quality.reporting import units_not_on_time

    world, url = demo_run
    month, rows = units_not_on_time(url, date(2025, 3, 1))  # Jan due 5 Feb; Feb due 5 Mar
    assert str(month) == "2025-01-01"
    with open(world / "manifest.csv", encoding="utf-8") as fh:
        files = [r for r in csv.DictReader(fh) if r["period"] == "2025-01"]
    accepted = {
        (r["org_unit_id"], r["form_code"]) for r in files if r["expected_status"] == "accepted"
    }

    def first_arrival(unit: str, form: str) -> datetime:
        return min(
            datetime.fromisoformat(r["arrived_at"])
            for r in files
            if (r["org_unit_id"], r["form_code"]) == (unit, form)
            and r["expected_status"] == "accepted"
        )

    for unit, form, status in rows:
        if status == "thiếu":
            assert (unit, form) not in accepted
        else:
            due = date(2025, 2, 5)
            deadline = datetime.combine(
                due + timedelta(days=1), time(0), tzinfo=first_arrival(unit, form).tzinfo
            )
            assert first_arrival(unit, form) >= deadline, (unit, form)
    flagged = {(u, f) for u, f, _ in rows}
    communes_forms = {(r["org_unit_id"], r["form_code"]) for r in files}
    on_time = accepted - flagged
    assert on_time, "most communes report on time"
    assert communes_forms  # the month has files at all
