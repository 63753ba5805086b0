"""The whole Dagster graph on a slice of the demo world: files, agency API, dbt — all real.

Three months around the 2025-07-01 reform (May – July 2025) of the demo district, seen on
2025-08-12 (`TODAY`, pinned: the demo API's clock, dbt's as_of_date and the checks all take
it): the education office's last GD-01 (2024-HK2, May), the ten old communes' June reports
arriving in July, the three new communes' first month, agency records changing codes on the
day. Its agency records are served by the demo
API, the nightly job runs once in process, in a database of its own. Every file must end as
the generator's manifest says it should (accepted, refused for its planted defect, or
duplicate), and every mart schema must hold rows.
"""

from __future__ import annotations

import csv
from datetime import date, datetime, time

import dagster as dg
import psycopg
import pytest

from demo.api_server import serve_in_thread
from demo.calendar import TZ, Month
from demo.generate import generate
from tests.support.marts import MART_SCHEMAS

pytestmark = pytest.mark.e2e
TODAY = date(2025, 8, 12)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, warehouse_settings, monkeypatch_module):
    import uuid

    from psycopg import sql

    from ioc import warehouse

    root = tmp_path_factory.mktemp("demo-run")
    world = root / "world"
    generate(world, scale="district", seed=7, span=(Month(2025, 5), Month(2025, 7)), today=TODAY,
             jobs=1)
    name = f"t_demo_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(warehouse.url(warehouse_settings, "postgres"), autocommit=True) as c:
        c.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    url = warehouse.url(warehouse_settings, name)
    with serve_in_thread(world, token="kiem-thu",
                         now=datetime.combine(TODAY, time(0), TZ)) as api:
        for var, value in {
            "IOC_TODAY": TODAY.isoformat(),
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
    from datetime import timedelta

    from orchestration.quality.reporting import units_not_on_time

    world, url = demo_run
    month, rows = units_not_on_time(url, TODAY)  # July due 5 August; August not yet due
    assert str(month) == "2025-07-01"
    with open(world / "manifest.csv", encoding="utf-8") as fh:
        files = [r for r in csv.DictReader(fh) if r["period"] == "2025-07"]
    accepted = {
        (r["org_unit_id"], r["form_code"]) for r in files if r["expected_status"] == "accepted"
    }
    # The three communes formed on 2025-07-01 owe July's reports (not the old ones).
    assert {u for u, _ in accepted} == {"xa-hiep-duc", "xa-viet-an", "xa-phuoc-tra-2025"}

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
            due = date(2025, 8, 5)
            deadline = datetime.combine(
                due + timedelta(days=1), time(0), tzinfo=first_arrival(unit, form).tzinfo
            )
            assert first_arrival(unit, form) >= deadline, (unit, form)
    # Exactly the reports the manifest says are missing or late on TODAY: every new commune
    # has at least one (its first month comes in late), the others are on time.
    deadline = datetime.combine(date(2025, 8, 6), time(0), TZ)
    new_communes = ("xa-hiep-duc", "xa-viet-an", "xa-phuoc-tra-2025")
    expected = set()
    for unit in new_communes:
        for form in ("KTXH-01", "YT-01", "HCC-06"):
            if (unit, form) not in accepted:
                expected.add((unit, form, "thiếu"))
            elif first_arrival(unit, form) >= deadline:
                expected.add((unit, form, "muộn"))
    assert set(rows) == expected
    assert {u for u, _, _ in expected} == set(new_communes)
    assert accepted - {(u, f) for u, f, _ in rows}, "most reports are on time"


def test_old_communes_june_reports_arriving_in_july_are_loaded(demo_run) -> None:
    """A unit reports for the periods in which it existed: the June reports of the ten old
    communes arrive in July, after they ended, and are current versions in the warehouse."""
    _, url = demo_run
    with psycopg.connect(url) as conn:
        current = conn.execute(
            "select org_unit_id, form_code, min(arrived_at) from raw_intake.file_manifest "
            "where status = 'accepted' and is_current and period = '2025-06' "
            "group by 1, 2").fetchall()
    units = {u for u, _, _ in current}
    assert len(units) == 10 and not units & {"xa-hiep-duc", "xa-viet-an", "xa-phuoc-tra-2025"}
    assert all(at.astimezone(TZ).date() >= date(2025, 7, 1) for _, _, at in current)
