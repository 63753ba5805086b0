"""Alerts and reminders over the marts dbt built from the demo world (the session's
`mart_world`), run as Dagster runs them: `thong_bao_job` and `nhac_nop_bao_cao_job`.

What should fire is worked out from other tables than the ones the rules read: overdue
dossiers from the dossier mart (not the KPI mart), missing reports from the intake manifest
and the units that must send each form.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import psycopg
import pytest

from ioc import settings as settings_mod
from ioc.alerts import catalogue, rules
from orchestration.definitions import defs
from tests.superset import demo_world


@pytest.fixture
def world_env(mart_world, warehouse_url, tmp_path, monkeypatch):
    """The demo world's day, the session warehouse, an empty IOC_HOME (outbox, ledger)."""
    monkeypatch.setenv("IOC_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv(settings_mod.TODAY_VAR, demo_world.AS_OF_DATE)
    for var in ("IOC_SMTP_HOST", "IOC_NOTIFY_RECIPIENTS", "IOC_NOTIFY_DRY_RUN"):
        monkeypatch.delenv(var, raising=False)
    return settings_mod.load()


OVERDUE_BY_UNIT = """
    select org_unit_id, sum(open_overdue)
    from mart_hanh_chinh_cong.fct_ho_so_thang
    where structure_view = 'current_structure'
      and period_month = date_trunc('month', %s::date)::date
    group by org_unit_id
"""


def test_alerts_after_a_load_fire_where_the_demo_world_calls_for_them(world_env, warehouse_url):
    rule = next(r for r in catalogue.load().alerts if r.code == "ho_so_qua_han")
    with psycopg.connect(warehouse_url) as conn:
        overdue = dict(conn.execute(OVERDUE_BY_UNIT, (demo_world.AS_OF_DATE,)).fetchall())
    above = {u for u, n in overdue.items() if n > rule.threshold}
    assert above and set(overdue) - above, "the demo world has units on both sides"

    result = defs.get_job_def("thong_bao_job").execute_in_process()
    assert result.success
    sent = result.output_for_node("gui_canh_bao")
    messages = rules.alerts(warehouse_url, world_env)
    assert sent == len(messages) > 0
    assert {m.org_unit_id for m in messages if m.rule == "ho_so_qua_han"} == above
    outbox = sorted((world_env.home / "outbox").rglob("*.eml"))
    assert len(outbox) == len(messages)
    # the next load's run delivers nothing again
    again = defs.get_job_def("thong_bao_job").execute_in_process()
    assert again.success and again.output_for_node("gui_canh_bao") == 0
    assert len(sorted((world_env.home / "outbox").rglob("*.eml"))) == len(messages)


OWED_NOT_RECEIVED = """
    select e.org_unit_id, e.form_code
    from intermediate.int_bao_cao__expected e
    where e.due_date = %(due)s
      and not exists (
        select 1 from staging.stg_intake__file_manifest f
        where f.org_unit_id = e.org_unit_id and f.form_code = e.form_code
          and f.period = e.period and f.status = 'accepted'
          and f.arrived_at <= (select as_of from intermediate.int_thoi_diem__bieu_mau))
"""

WORKING_DAY_BEFORE = """
    select max(date_day) from mart_dung_chung.dim_ngay where date_day < %s and is_working_day
"""


def test_reminders_reach_exactly_the_units_that_owe_the_report(world_env, warehouse_url,
                                                               monkeypatch):
    """Around the demo world's latest deadline (its reports may all be in: then the reminders
    are silent; tests/alerts/test_alerts_small.py has units on both sides)."""
    with psycopg.connect(warehouse_url) as conn:
        due = conn.execute("select max(due_date) from intermediate.int_bao_cao__expected "
                           "where due_date < %s", (world_env.today,)).fetchone()[0]
        owed = {(u, f) for u, f in conn.execute(OWED_NOT_RECEIVED, {"due": due}).fetchall()}
        day_before = conn.execute(WORKING_DAY_BEFORE, (due,)).fetchone()[0]
        expected_units = conn.execute(
            "select count(*) from intermediate.int_bao_cao__expected where due_date = %s",
            (due,)).fetchone()[0]
    assert expected_units > len(owed)
    for today, rule in ((day_before, "nhac_truoc_han"), (due + timedelta(days=1), "nhac_sau_han")):
        cfg = dataclasses.replace(world_env, today=today)
        messages = [m for m in rules.reminders(warehouse_url, cfg) if m.rule == rule]
        assert {(m.org_unit_id, m.key.split("|")[3]) for m in messages} == owed, (today, rule)
    # as Dagster sends them: the morning job of the day after the deadline
    monkeypatch.setenv(settings_mod.TODAY_VAR, (due + timedelta(days=1)).isoformat())
    result = defs.get_job_def("nhac_nop_bao_cao_job").execute_in_process()
    assert result.success
    files = list((world_env.home / "outbox").rglob("nhac_sau_han-*.eml"))
    assert len(files) == len(owed)
