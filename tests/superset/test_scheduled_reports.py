"""Scheduled reports (issue 19): kept as code, run by the real Celery worker and beat, and
delivered to the outbox by the local SMTP sink — on the session's Superset and demo world.

The fast test makes two reports due every minute and waits for beat (`reports.scheduler`,
once a minute) and the worker to run them: a monthly report of `superset/reports.yaml` as the
leaders get it (a PDF screenshot of its dashboard by chromium, kept in
test-artifacts/superset/bao-cao-chi-tieu-thang.pdf; the smallest dashboard, to keep the test
short) and a CSV of a table chart for a commune's mailbox, which must hold that commune's rows
only (the report runs as its recipient, whose PostgreSQL role sees its own rows). Meanwhile
the worker runs the weekly overview the way `ioc up` queues it on built marts
(`reports.run_on_up`; its PDF kept as test-artifacts/superset/bao-cao-tong-quan-tuan.pdf).
`-m faults` runs every report of the file at once.
"""

from __future__ import annotations

import csv
import dataclasses
import email
import email.policy
import io
import os
import re
import smtplib
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
import yaml

from ioc import settings as settings_mod
from ioc import warehouse
from ioc_superset import mailsink, reports, worker
from ioc_superset.client import SupersetClient
from tests.support.layout import layout_height_px
from tests.support.superset_server import SupersetServer

pytestmark = pytest.mark.superset

COMMUNE_ROLE, COMMUNE_ID, COMMUNE_NAME = "Xã Hiệp Thuận", "xa-hiep-thuan", "Xã Hiệp Thuận"
TABLE_CHART = "Chỉ tiêu theo xã và tháng"  # one row per commune, month and indicator
KTXH = "mart_kinh_te_xa_hoi.fct_chi_tieu_thang"
ARTIFACTS = reports.PROJECT_ROOT / "test-artifacts" / "superset"


# --- the file, without Superset -----------------------------------------------------------


def test_reports_file_is_typed_and_names_existing_dashboards(tmp_path: Path) -> None:
    spec = reports.load()
    codes = {r.code for r in spec.reports}
    assert "tong_quan_tuan" in codes and len(codes) >= 8  # weekly + a monthly per domain
    assert spec.timezone == "Asia/Ho_Chi_Minh"
    slugs = {yaml.safe_load(p.read_text(encoding="utf-8"))["slug"]
             for p in (reports.PROJECT_ROOT / "superset" / "assets" / "dashboards").glob("*.yaml")}
    for report in spec.reports:
        assert report.dashboard in slugs, report.code
        assert report.format in ("PDF", "PNG") and report.scope == "Lãnh đạo huyện"
        assert "@" not in report.model_dump_json(), "no address in the repository"
    weekly = next(r for r in spec.reports if r.code == "tong_quan_tuan")
    assert weekly.dashboard == "tong-quan" and weekly.crontab.split()[4] == "1"

    bad = tmp_path / "reports.yaml"
    text = reports.REPORTS_FILE.read_text(encoding="utf-8")
    bad.write_text(text.replace("    scope: Lãnh đạo huyện\n", "    scope: Lãnh đạo huyện\n"
                                "    nguoi_nhan: a@b.c\n", 1), encoding="utf-8")
    with pytest.raises(reports.ReportsError, match=r"reports\[tong_quan_tuan\]\.nguoi_nhan"):
        reports.load(bad)
    bad.write_text(text.replace("dashboard: tong-quan", "chart: X", 1).replace(
        "format: PDF", "format: CSV", 1).replace("chart: X", "dashboard: tong-quan", 1),
        encoding="utf-8")
    with pytest.raises(reports.ReportsError, match="CSV"):
        reports.load(bad)


def test_recipients_come_from_the_recipients_file(tmp_path: Path, monkeypatch) -> None:
    book = tmp_path / "recipients.yaml"
    book.write_text(yaml.safe_dump({"version": 1, "recipients": [
        {"role": "lanh_dao", "email": ["b@lanh-dao.test", "a@lanh-dao.test"]},
        {"role": "lanh_dao", "units": ["xa-a"], "email": ["lanh-dao-xa-a@test"]},
        {"role": "don_vi", "units": ["xa-a"], "email": ["xa-a@test"]},
        {"role": "don_vi", "units": ["xa-b"], "email": ["xa-b@test"], "webhook": ["https://x"]},
    ]}), encoding="utf-8")
    monkeypatch.setenv("IOC_NOTIFY_RECIPIENTS", str(book))
    settings = settings_mod.load()
    base = reports.load().reports[0]
    assert reports.addresses(settings, base) == ["a@lanh-dao.test", "b@lanh-dao.test"]
    commune = base.model_copy(update={"to": "don_vi", "units": ["xa-a"], "scope": "Xã A"})
    assert reports.addresses(settings, commune) == ["xa-a@test"]
    assert reports.scope_mailbox("Xã Hiệp Đức") == "bao-cao.xa-hiep-duc@ioc.local"
    monkeypatch.delenv("IOC_NOTIFY_RECIPIENTS")
    # no file: the report goes to its scope's mailbox (reports.payload)
    assert reports.addresses(dataclasses.replace(settings, home=tmp_path), base) == []


def test_the_sink_writes_each_message_whole_to_the_outbox(tmp_path: Path) -> None:
    server = mailsink.make_server(tmp_path)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = "Báo cáo thử", "a@x", "b@y"
        message.set_content(".dòng bắt đầu bằng dấu chấm\n")
        message.add_attachment(b"%PDF-1.4 " + bytes(range(256)) * 400, maintype="application",
                               subtype="pdf", filename="bao-cao.pdf")
        with smtplib.SMTP(*server.server_address, timeout=10) as smtp:
            smtp.send_message(message)
    finally:
        server.shutdown()
        server.server_close()
    (path,) = tmp_path.glob("*/bao-cao-*.eml")
    got = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert got["Subject"] == "Báo cáo thử"
    # as sent on the wire (CRLF), the leading dot un-doubled
    assert got.get_body(("plain",)).get_content() == ".dòng bắt đầu bằng dấu chấm\r\n"
    assert _attachment(got) == ("bao-cao.pdf", b"%PDF-1.4 " + bytes(range(256)) * 400)
    assert not list(tmp_path.glob("*/*.tmp"))


# --- on the session's Superset ------------------------------------------------------------


@pytest.fixture(scope="module")
def report_worker(superset_server: SupersetServer) -> Iterator[Path]:
    """The worker (beat inside) and the SMTP sink, sending to the outbox whatever the
    developer's environment says about SMTP; stopped at the end."""
    saved = os.environ.get("IOC_NOTIFY_DRY_RUN")
    os.environ["IOC_NOTIFY_DRY_RUN"] = "1"
    settings = superset_server.settings
    try:
        worker.start(settings)
        yield worker.outbox(settings)
    finally:
        worker.stop(settings)
        if saved is None:
            os.environ.pop("IOC_NOTIFY_DRY_RUN", None)
        else:
            os.environ["IOC_NOTIFY_DRY_RUN"] = saved


def _messages(outbox: Path) -> dict[Path, email.message.EmailMessage]:
    return {p: email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
            for p in outbox.glob("*/bao-cao-*.eml")}


def _pdf_height(data: bytes) -> float:
    """The height of a report's PDF (Superset's: one page per screenshot), in its pixels."""
    return sum(float(m.group(1)) for m in re.finditer(
        rb"/MediaBox\s*\[\s*[\d.]+\s+[\d.]+\s+[\d.]+\s+([\d.]+)\s*\]", data))


# a report's page beyond its layout's rows: the gutters between rows and the page's margins
PAGE_MARGIN_PX = 800


def _layout_height(slug: str) -> int:
    """The layout height (px) of the dashboard `slug`, from its exported YAML."""
    return next(layout_height_px(yaml.safe_load(p.read_text(encoding="utf-8"))["position"])
                for p in (reports.PROJECT_ROOT / "superset" / "assets" / "dashboards").glob(
                    "*.yaml") if f"slug: {slug}\n" in p.read_text(encoding="utf-8"))


def _attachment(message: email.message.EmailMessage) -> tuple[str, bytes]:
    (part,) = [p for p in message.iter_attachments()]
    return part.get_filename(), part.get_payload(decode=True)


def _due_every_minute(base: reports.ReportSpec, **update) -> reports.ReportSpec:
    return base.model_copy(update={"crontab": "* * * * *", **update})


def _run(
    admin: SupersetClient, superset_server: SupersetServer, outbox: Path, tmp_path: Path,
    specs: list[reports.ReportSpec], timeout_s: float, queued: reports.ReportSpec | None = None,
    before: set[Path] | None = None,
) -> dict[str, email.message.EmailMessage]:
    """Create `specs` due every minute, wait for one message of each (and of `queued`, a
    report already queued), delete them."""
    before = set(_messages(outbox)) if before is None else before
    wanted = [*specs, *([queued] if queued else [])]
    path = tmp_path / "reports.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "reports": [
        s.model_dump(exclude_none=True) for s in specs]}, allow_unicode=True), encoding="utf-8")
    settings = superset_server.settings
    got: dict[str, email.message.EmailMessage] = {}
    try:
        assert reports.apply(admin, settings, path, prune=False) == [
            f"report {s.code}: created" for s in specs]
        assert reports.apply(admin, settings, path, prune=False) == []  # idempotent
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and len(got) < len(wanted):
            for p, message in _messages(outbox).items():
                for s in wanted:
                    if p not in before and s.subject and s.subject in (message["Subject"] or ""):
                        got.setdefault(s.code, message)
            time.sleep(1)
    finally:
        ids = {r["extra"].get("ioc_code"): r["id"] for r in admin.get(
            "/api/v1/report/", q="(page:0,page_size:100)")["result"] if r.get("extra")}
        for s in specs:
            if s.code in ids:
                admin.delete(f"/api/v1/report/{ids[s.code]}")
    log = settings.home / "logs" / f"{worker.WORKER}.log"
    assert len(got) == len(wanted), (sorted(got), log.read_text(errors="replace")[-4000:])
    return got


def test_due_reports_are_run_by_worker_and_beat_into_the_outbox(
    admin: SupersetClient, superset_server: SupersetServer, report_worker: Path,
    warehouse_settings, tmp_path: Path,
) -> None:
    monthly = next(r for r in reports.load().reports if r.code == "chi_tieu_thang")
    leader = _due_every_minute(monthly, code="thu_chi_tieu", name="Thử: chỉ tiêu",
                               subject="Thử báo cáo chỉ tiêu")
    commune = reports.ReportSpec(
        code="thu_xa", name="Thử: chỉ tiêu của xã", subject="Thử báo cáo của xã",
        description="Báo cáo thử của một xã", chart=TABLE_CHART, format="CSV",
        crontab="* * * * *", to="don_vi", units=[COMMUNE_ID], scope=COMMUNE_ROLE)
    # what `ioc up` does on built marts: the weekly overview once, now (it runs while the
    # worker waits for the next minute's tick)
    before = set(_messages(report_worker))
    weekly = next(r for r in reports.load().reports if r.code == reports.ON_UP)
    settings = superset_server.settings
    assert reports.run_on_up(admin, settings, "ngay-thu") is not None
    assert reports.run_on_up(admin, settings, "ngay-thu") is None  # once a day
    got = _run(admin, superset_server, report_worker, tmp_path, [leader, commune], 180,
               queued=weekly, before=before)

    # the weekly overview, run on the way up: the whole dashboard as a PDF, leaders' mailbox
    message = got[weekly.code]
    assert message["To"] == reports.scope_mailbox("Lãnh đạo huyện")
    name, data = _attachment(message)
    assert name.endswith(".pdf") and data.startswith(b"%PDF") and len(data) > 50_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "bao-cao-tong-quan-tuan.pdf").write_bytes(data)  # for a human to look at
    # ... all of it: the screenshot is not cut at the window's height (issue 19), it reaches
    # the overview's last row (the overdue lists)
    overview = _layout_height("tong-quan")
    assert overview <= _pdf_height(data) < overview + PAGE_MARGIN_PX, _pdf_height(data)

    # the monthly report: a PDF of the dashboard, to the leaders' mailbox, in Vietnamese
    message = got["thu_chi_tieu"]
    assert message["To"] == reports.scope_mailbox("Lãnh đạo huyện")
    name, data = _attachment(message)
    assert name.endswith(".pdf") and data.startswith(b"%PDF") and len(data) > 20_000
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "bao-cao-chi-tieu-thang.pdf").write_bytes(data)  # for a human to look at
    # ... and no more: the smallest dashboard's page ends at its last row, not at the bottom
    # of the 6,000 px window (it was 5,857 px high for a 1,184 px layout: white under it)
    height = _layout_height(monthly.dashboard)
    assert height <= _pdf_height(data) < height + PAGE_MARGIN_PX, (_pdf_height(data), height)
    body = message.get_body(("html",)).get_content()
    assert monthly.description in body and "Mở trong Superset" in body

    # the commune's report: run as its recipient, so PostgreSQL gives its rows only
    message = got["thu_xa"]
    assert message["To"] == reports.scope_mailbox(COMMUNE_ROLE)
    name, data = _attachment(message)
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    with warehouse.connect(warehouse_settings) as conn:
        own = conn.execute(f"select count(*) from {KTXH} where org_unit_id = %s",
                           (COMMUNE_ID,)).fetchone()[0]
        total = conn.execute(f"select count(*) from {KTXH}").fetchone()[0]
    assert 0 < own < total
    units = {v for row in rows for k, v in row.items() if k in ("org_unit_name", "Đơn vị")}
    assert units == {COMMUNE_NAME}, (list(rows[0]) if rows else None, units)
    assert len(rows) == own


@pytest.mark.faults
def test_every_report_of_the_file_runs(
    admin: SupersetClient, superset_server: SupersetServer, report_worker: Path, tmp_path: Path,
) -> None:
    """Every report of superset/reports.yaml, made due, reaches the outbox with its PDF."""
    specs = [_due_every_minute(r, code=f"thu_{r.code}", name=f"Thử: {r.name}",
                               subject=f"Thử: {r.subject}")
             for r in reports.load().reports]
    got = _run(admin, superset_server, report_worker, tmp_path, specs, 600)
    for code, message in got.items():
        _name, data = _attachment(message)
        assert data.startswith(b"%PDF"), code
