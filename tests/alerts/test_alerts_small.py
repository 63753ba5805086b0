"""Alerts and reminders on small hand-made marts: which units a rule fires for and which it
leaves alone, what a message says, where it goes (a real SMTP sink and webhook receiver,
or the dry-run outbox), and that nothing is delivered twice.

The marts here hold only the columns the rules read, with rows chosen by hand around each
threshold; tests/alerts/test_alerts_demo_world.py runs the same rules over marts dbt built.
"""

from __future__ import annotations

import csv
import dataclasses
import urllib.parse
from datetime import date, timedelta

import psycopg
import pytest
import yaml

from ioc.alerts import rules, send
from ioc.settings import PROJECT_ROOT
from tests.alerts.sinks import start_smtp_sink, start_webhook_receiver

DDL = """
create schema mart_tong_quan; create schema mart_bao_cao; create schema mart_dung_chung;
create table mart_tong_quan.fct_kpi_thang (
    structure_view text, unit_level text, org_unit_id text, org_unit_name text, kpi_code text,
    kpi_name text, unit text, period_month date, value numeric, target numeric,
    target_met boolean, is_latest boolean, is_displayed boolean, is_month_complete boolean);
create table mart_bao_cao.fct_ngoai_le (
    org_unit_id text, org_unit_name text, indicator_code text, indicator_name text, unit text,
    period_month date, value numeric, median_value numeric, modified_z numeric,
    direction text);
create table mart_bao_cao.fct_nop_bao_cao (
    structure_view text, org_unit_id text, org_unit_name text, form_code text,
    form_title text, period text, due_date date, missing int, received int);
create table mart_dung_chung.dim_ngay (date_day date primary key, is_working_day boolean);
"""

QH = "hcc_qua_han_dang_xu_ly"
DH = "hcc_dung_han"
NAMES = {"xa-a": "Xã An Phú", "xa-b": "Xã Bình Minh", "xa-c": "Phường Cầu Đất",
         "xa-d": "Xã Đồng Tâm"}


def _kpi(unit, code, month, value, *, target=None, met=None, latest=False, complete=True,
         level="don_vi", view="current_structure"):
    return (view, level, unit, NAMES[unit], code, code, "hồ sơ", date.fromisoformat(month),
            value, target, met, latest, True, complete)


KPI_ROWS = [
    _kpi("xa-a", QH, "2025-09-01", 12, latest=True, complete=False),  # above 10: fires
    _kpi("xa-b", QH, "2025-09-01", 10, latest=True, complete=False),  # at the threshold
    _kpi("xa-c", QH, "2025-08-01", 25),  # not the latest month
    _kpi("xa-c", QH, "2025-09-01", 3, latest=True, complete=False),
    _kpi("xa-d", QH, "2025-09-01", 30, latest=True, level="dia_ban"),  # an area, not a unit
    _kpi("xa-d", QH, "2025-09-01", 40, latest=True, view="as_reported"),  # the other view
    # below target two complete months running: xa-a (Jul, Aug); xa-b met in Aug; xa-c has
    # no July; September is running and does not count
    _kpi("xa-a", DH, "2025-07-01", 80, target=95, met=False),
    _kpi("xa-a", DH, "2025-08-01", 85.5, target=95, met=False),
    _kpi("xa-a", DH, "2025-09-01", 99, target=95, met=True, latest=True, complete=False),
    _kpi("xa-b", DH, "2025-07-01", 80, target=95, met=False),
    _kpi("xa-b", DH, "2025-08-01", 96, target=95, met=True),
    _kpi("xa-b", DH, "2025-09-01", 50, target=95, met=False, latest=True, complete=False),
    _kpi("xa-c", DH, "2025-08-01", 70, target=95, met=False),
]

OUTLIER_ROWS = [
    ("xa-a", NAMES["xa-a"], "YT-SXH", "Số ca sốt xuất huyết", "ca", date(2025, 8, 1), 48, 6,
     9.4, "cao"),
    ("xa-b", NAMES["xa-b"], "YT-SXH", "Số ca sốt xuất huyết", "ca", date(2025, 8, 1), 0, 6,
     -4.0, "thap"),
    ("xa-c", NAMES["xa-c"], "YT-SXH", "Số ca sốt xuất huyết", "ca", date(2025, 5, 1), 60, 5,
     8.0, "cao"),  # older than two months
]


def _report(unit, form, period, due, *, received, missing, view="as_reported"):
    return (view, unit, NAMES[unit], form, f"Biểu {form}", period, date.fromisoformat(due),
            missing, received)


REPORT_ROWS = [
    _report("xa-a", "HCC-06", "2025-08", "2025-09-05", received=1, missing=0),
    _report("xa-b", "HCC-06", "2025-08", "2025-09-05", received=0, missing=1),  # fires
    _report("xa-c", "YT-01", "2025-08", "2025-09-09", received=0, missing=1),  # one day after
    _report("xa-d", "YT-01", "2025-08", "2025-09-10", received=0, missing=0),  # due today
    _report("xa-d", "KTXH-01", "2025-05", "2025-06-05", received=0, missing=1),  # too old
    _report("xa-b", "HCC-06", "2025-08", "2025-09-05", received=0, missing=2,
            view="current_structure"),
    # reminders: due Wed 2025-09-03, after the National Day holiday (Sep 1-2 2025)
    _report("xa-a", "KTXH-01", "2025-08", "2025-09-03", received=1, missing=0),
    _report("xa-b", "KTXH-01", "2025-08", "2025-09-03", received=0, missing=0),
    _report("xa-c", "KTXH-01", "2025-08", "2025-09-03", received=0, missing=0),
    _report("xa-c", "KTXH-01", "2025-08", "2025-09-03", received=0, missing=0,
            view="current_structure"),
    # a deadline on Sunday 2025-10-05: reminded on Friday 2025-10-03
    _report("xa-d", "YT-01", "2025-09", "2025-10-05", received=0, missing=0),
]


def _calendar() -> list[tuple[date, bool]]:
    """dim_ngay's rule over the project's holiday seed."""
    kinds = {}
    with open(PROJECT_ROOT / "dbt_project" / "seeds" / "vn_holidays.csv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            kinds[date.fromisoformat(row["holiday_date"])] = row["kind"]
    day, out = date(2025, 1, 1), []
    while day <= date(2025, 12, 31):
        kind = kinds.get(day)
        out.append((day, kind == "weekend_workday" or (kind != "holiday" and day.isoweekday() < 6)))
        day += timedelta(days=1)
    return out


@pytest.fixture
def small_marts(fresh_db_url):
    with psycopg.connect(fresh_db_url) as conn:
        conn.execute(DDL)
        with conn.cursor() as cur:
            cur.executemany("insert into mart_tong_quan.fct_kpi_thang values "
                            f"({', '.join(['%s'] * 14)})", KPI_ROWS)
            cur.executemany("insert into mart_bao_cao.fct_ngoai_le values "
                            f"({', '.join(['%s'] * 10)})", OUTLIER_ROWS)
            cur.executemany("insert into mart_bao_cao.fct_nop_bao_cao values "
                            f"({', '.join(['%s'] * 9)})", REPORT_ROWS)
            cur.executemany("insert into mart_dung_chung.dim_ngay values (%s, %s)", _calendar())
    return fresh_db_url


@pytest.fixture
def at(warehouse_settings, tmp_path, monkeypatch):
    """Settings on a given day with their own IOC_HOME (outbox, ledger), nothing configured."""
    for var in ("IOC_SMTP_HOST", send.RECIPIENTS_VAR, send.DRY_RUN_VAR, rules.BASE_URL_VAR):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(rules.BASE_URL_VAR, "https://ioc.example.gov.vn")

    def make(day: str):
        return dataclasses.replace(warehouse_settings, home=tmp_path / "home",
                                   today=date.fromisoformat(day))

    return make


def _by_rule(messages) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for m in messages:
        out.setdefault(m.rule, set()).add(m.org_unit_id)
    return out


def test_each_rule_fires_exactly_where_its_condition_holds(small_marts, at):
    messages = rules.alerts(small_marts, at("2025-09-10"))
    assert _by_rule(messages) == {
        "ho_so_qua_han": {"xa-a"},
        "duoi_muc_tieu_hai_thang": {"xa-a"},
        "so_lieu_tang_dot_bien": {"xa-a"},
        "thieu_bao_cao": {"xa-b", "xa-c"},
    }
    assert len({m.key for m in messages}) == len(messages)


def test_a_message_names_unit_figure_threshold_and_a_filtered_link(small_marts, at):
    messages = {m.rule: m for m in rules.alerts(small_marts, at("2025-09-10"))
                if m.org_unit_id == "xa-a"}
    overdue = messages["ho_so_qua_han"]
    assert "Xã An Phú" in overdue.subject
    assert "là 12 hồ sơ, vượt ngưỡng 10 hồ sơ (tháng 09/2025 (tháng đang diễn ra))" in overdue.body
    below = messages["duoi_muc_tieu_hai_thang"]
    assert "2 tháng liên tiếp (07/2025–08/2025): 80, 85,5" in below.body
    assert "mục tiêu 95" in below.body
    spike = messages["so_lieu_tang_dot_bien"]
    assert "Số ca sốt xuất huyết tháng 08/2025 là 48 ca" in spike.body
    assert "điểm z hiệu chỉnh 9,4" in spike.body
    link = urllib.parse.unquote(overdue.link)
    assert link.startswith("https://ioc.example.gov.vn/superset/dashboard/hanh-chinh-cong/")
    assert "col:org_unit_name,op:IN,val:!('Xã An Phú')" in link
    assert rules.native_filter_id("hanh-chinh-cong", "Đơn vị") in link
    missing = next(m for m in rules.alerts(small_marts, at("2025-09-10"))
                   if m.rule == "thieu_bao_cao" and m.org_unit_id == "xa-c")
    assert "chưa nộp biểu YT-01" in missing.body and "hạn nộp 09/09/2025, đã quá 1 ngày" \
        in missing.body and "ngưỡng cảnh báo: 1 ngày sau hạn" in missing.body


def test_silent_where_nothing_holds(small_marts, at):
    # the day before every deadline, on data where no latest month is above the threshold
    with psycopg.connect(small_marts) as conn:
        conn.execute("update mart_tong_quan.fct_kpi_thang set value = 1 where kpi_code = %s",
                     (QH,))
        conn.execute("update mart_tong_quan.fct_kpi_thang set target_met = true")
        conn.execute("delete from mart_bao_cao.fct_ngoai_le where direction = 'cao'")
    assert rules.alerts(small_marts, at("2025-09-05")) == []


def test_reminders_reach_exactly_the_units_that_owe_the_report(small_marts, at):
    # Friday 2025-08-29: the next working day is Wednesday 2025-09-03 (Sep 1-2 are holidays)
    before = rules.reminders(small_marts, at("2025-08-29"))
    assert {(m.rule, m.org_unit_id) for m in before} == {
        ("nhac_truoc_han", "xa-b"), ("nhac_truoc_han", "xa-c")}
    assert all("KTXH-01" in m.subject and "03/09/2025" in m.subject for m in before)
    # not on the holiday itself, nor on the Monday a plain weekday count would pick
    assert rules.reminders(small_marts, at("2025-09-01")) == []
    assert rules.reminders(small_marts, at("2025-09-02")) == []
    # Thursday 2025-09-04: one day after KTXH-01's deadline, and the working day before
    # HCC-06's (Friday 2025-09-05), which xa-a has already sent
    after = {(m.rule, m.org_unit_id, m.key.split("|")[3])
             for m in rules.reminders(small_marts, at("2025-09-04"))}
    assert after == {("nhac_sau_han", "xa-b", "KTXH-01"), ("nhac_sau_han", "xa-c", "KTXH-01"),
                     ("nhac_truoc_han", "xa-b", "HCC-06")}
    # a deadline on a Sunday: the Friday before, once
    assert [(m.rule, m.org_unit_id) for m in rules.reminders(small_marts, at("2025-10-03"))] \
        == [("nhac_truoc_han", "xa-d")]
    assert rules.reminders(small_marts, at("2025-10-02")) == []
    assert rules.reminders(small_marts, at("2025-10-04")) == []
    # 2025-09-06: one day after the HCC-06 deadline of 09-05; xa-a sent it
    assert {(m.rule, m.org_unit_id) for m in rules.reminders(small_marts, at("2025-09-06"))} \
        == {("nhac_sau_han", "xa-b")}


def test_dry_run_outbox_is_the_default(small_marts, at):
    cfg = at("2025-09-10")
    messages = rules.alerts(small_marts, cfg)
    outcome = send.send(cfg, messages)
    assert not outcome.failed and len(outcome.sent) == len(messages) == 5
    files = sorted((cfg.home / "outbox").rglob("*.eml"))
    assert len(files) == 5
    text = b"".join(f.read_bytes() for f in files)
    assert b"X-IOC-Alert-Key: ho_so_qua_han|xa-a|2025-09|" in text
    again = send.send(cfg, rules.alerts(small_marts, cfg))
    assert again.sent == [] and again.skipped == 5
    assert len(sorted((cfg.home / "outbox").rglob("*.eml"))) == 5


def test_smtp_and_webhook_by_recipient_role_and_unit_once(small_marts, at, tmp_path,
                                                           monkeypatch):
    sink, hook = start_smtp_sink(), start_webhook_receiver()
    try:
        book = tmp_path / "recipients.yaml"
        book.write_text(yaml.safe_dump({"version": 1, "recipients": [
            {"role": "lanh_dao", "name": "Lãnh đạo UBND", "email": ["lanh-dao@example.org"],
             "webhook": [hook.url]},
            {"role": "don_vi", "units": ["xa-a"], "email": ["mot-cua@xa-a.example.org"]},
            {"role": "don_vi", "units": ["xa-b", "xa-c"], "webhook": [hook.url + "/xa"]},
            {"role": "du_lieu", "email": ["du-lieu@example.org"]},  # no rule names it
        ]}, allow_unicode=True), encoding="utf-8")
        monkeypatch.setenv(send.RECIPIENTS_VAR, str(book))
        monkeypatch.setenv("IOC_SMTP_HOST", sink.host)
        monkeypatch.setenv("IOC_SMTP_PORT", str(sink.port))
        monkeypatch.setenv("IOC_SMTP_FROM", "ioc@example.gov.vn")
        cfg = at("2025-09-10")
        outcome = send.send(cfg, rules.alerts(small_marts, cfg))
        assert not outcome.failed
        to = [(r.to[0], r.message["X-IOC-Alert-Key"].split("|")[1]) for r in sink.messages]
        assert sorted(to) == sorted(
            [("lanh-dao@example.org", u) for u in ("xa-a", "xa-a", "xa-a", "xa-b", "xa-c")]
            + [("mot-cua@xa-a.example.org", "xa-a")] * 3)
        first = next(r.message for r in sink.messages
                     if "Hồ sơ đang quá hạn" in r.message["Subject"])
        assert first["From"] == "ioc@example.gov.vn"
        assert "vượt ngưỡng 10 hồ sơ" in first.get_content()
        assert sorted(p["path"] for p in hook.posts) == ["/hooks/ioc"] * 5 + ["/hooks/ioc/xa"] * 2
        assert all("Xem bảng điều khiển: https://ioc.example.gov.vn/" in p["text"]
                   for p in hook.posts)
        assert not list((cfg.home / "outbox").rglob("*"))  # configured: nothing in dry run
        # a rerun after the next load: nothing twice; reminders go to the units only
        again = send.send(cfg, rules.alerts(small_marts, cfg))
        assert again.sent == [] and len(sink.messages) == 8 and len(hook.posts) == 7
        reminded = send.send(at("2025-08-29"), rules.reminders(small_marts, at("2025-08-29")))
        assert not reminded.failed
        assert len(sink.messages) == 8  # xa-b and xa-c take their messages by webhook
        assert [p["path"] for p in hook.posts[7:]] == ["/hooks/ioc/xa"] * 2
    finally:
        sink.close()
        hook.close()


def test_a_failed_delivery_is_retried_not_lost(small_marts, at, tmp_path, monkeypatch):
    book = tmp_path / "recipients.yaml"
    book.write_text(yaml.safe_dump({"version": 1, "recipients": [
        {"role": "lanh_dao", "email": ["lanh-dao@example.org"]}]}), encoding="utf-8")
    monkeypatch.setenv(send.RECIPIENTS_VAR, str(book))
    monkeypatch.setenv("IOC_SMTP_HOST", "127.0.0.1")
    sink = start_smtp_sink()
    port = sink.port
    sink.close()  # nobody listens there now
    monkeypatch.setenv("IOC_SMTP_PORT", str(port))
    cfg = at("2025-09-10")
    down = send.send(cfg, rules.alerts(small_marts, cfg))
    assert len(down.failed) == 5 and down.sent == []
    sink = start_smtp_sink()
    try:
        monkeypatch.setenv("IOC_SMTP_PORT", str(sink.port))
        up = send.send(cfg, rules.alerts(small_marts, cfg))
        assert len(up.sent) == 5 and len(sink.messages) == 5
    finally:
        sink.close()


def test_a_recipients_file_with_an_unknown_key_is_refused(small_marts, at, tmp_path,
                                                         monkeypatch):
    book = tmp_path / "recipients.yaml"
    book.write_text("version: 1\nrecipients:\n  - role: lanh_dao\n    emails: [a@example.org]\n",
                    encoding="utf-8")
    monkeypatch.setenv(send.RECIPIENTS_VAR, str(book))
    cfg = at("2025-09-10")
    with pytest.raises(send.RecipientsError, match=r"recipients\[0\]\.emails"):
        send.send(cfg, rules.alerts(small_marts, cfg))


def test_the_command_line_shows_then_sends_once(small_marts, tmp_path, monkeypatch, capsys):
    from cli.main import main

    monkeypatch.setenv("IOC_WAREHOUSE_URL", small_marts)
    monkeypatch.setenv("IOC_HOME", str(tmp_path / "cli-home"))
    monkeypatch.setenv("IOC_TODAY", "2025-09-10")
    for var in ("IOC_SMTP_HOST", send.RECIPIENTS_VAR, send.DRY_RUN_VAR):
        monkeypatch.delenv(var, raising=False)
    assert main(["alerts", "check"]) == 0
    shown = capsys.readouterr().out
    assert "5 thông báo (chưa gửi)" in shown and "Xã Bình Minh chưa nộp biểu HCC-06" in shown
    assert not (tmp_path / "cli-home" / "outbox").exists()
    assert main(["alerts", "send"]) == 0
    assert "5 đã gửi, 0 đã gửi trước đó, 0 lỗi" in capsys.readouterr().out
    assert main(["alerts", "send"]) == 0
    assert "0 đã gửi, 5 đã gửi trước đó, 0 lỗi" in capsys.readouterr().out
    assert len(list((tmp_path / "cli-home" / "outbox").rglob("*.eml"))) == 5
