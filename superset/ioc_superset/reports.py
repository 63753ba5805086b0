"""Scheduled reports as code: `superset/reports.yaml` -> Superset's reports, through its API.

Bootstrap (`ioc superset bootstrap`, hence `ioc up` / `make demo`) calls `apply`: each report
of the file is created, or updated when it differs (a second run changes nothing); a report
the file no longer lists, but that this module made (its `extra` holds `ioc_code`), is
deleted. Reports people make in the UI are left alone.

Who receives a report comes from the recipients file of the alerts (`IOC_NOTIFY_RECIPIENTS`,
docs/alerts.md): the e-mail addresses of its entries with the report's role `to` (and, with
`units`, of those units). A report runs as one of its recipients (superset/ioc_identity.py),
so every recipient must be a Superset user of the report's `scope`: a recipient without a
Superset account gets one with that role (a random password never shown; an admin can set
one); an existing user keeps their roles — if they are of another scope, the report does not
run (refused by the executor hook, logged by the worker).

With no address for a report: when reports go to the outbox (no SMTP server configured), it
goes to a mailbox of its scope, `bao-cao.<scope>@ioc.local` (a user of that scope made
here), so the outbox shows what the leaders would get; with a real SMTP server, the report is
kept but inactive until someone is named in the recipients file.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import unicodedata
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator

from ioc.alerts.send import load_recipients
from ioc.kpi.catalogue import validate_yaml
from ioc.settings import PROJECT_ROOT, Settings
from ioc_superset import worker
from ioc_superset.client import SupersetClient, rison
from ioc_superset.users import role_ids

REPORTS_FILE = PROJECT_ROOT / "superset" / "reports.yaml"


class ReportsError(ValueError):
    """The reports file is malformed, or names a dashboard/chart that does not exist."""


class ReportSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str
    subject: str | None = None
    description: str = ""
    dashboard: str | None = None  # slug
    chart: str | None = None  # chart name (slice_name)
    format: Literal["PDF", "PNG", "CSV"]
    crontab: str
    timezone: str | None = None
    to: str
    units: list[str] | None = None
    scope: str
    active: bool = True

    @model_validator(mode="after")
    def _one_source(self) -> ReportSpec:
        if (self.dashboard is None) == (self.chart is None):
            raise ValueError("cần đúng một trong `dashboard` hoặc `chart`")
        if self.format == "CSV" and self.chart is None:
            raise ValueError("định dạng CSV chỉ dùng cho `chart`")
        if not re.fullmatch(r"[a-z0-9_]+", self.code):
            raise ValueError(f"`code` {self.code!r}: chỉ chữ thường, số và _")
        return self


class ReportsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    timezone: str = "Asia/Ho_Chi_Minh"
    reports: list[ReportSpec]

    @model_validator(mode="after")
    def _unique(self) -> ReportsFile:
        codes = [r.code for r in self.reports]
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ValueError(f"mã báo cáo trùng: {dup}")
        return self


def load(path: Path = REPORTS_FILE) -> ReportsFile:
    return validate_yaml(path.read_text(encoding="utf-8"), str(path), ReportsFile, ReportsError)


def slug(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def scope_mailbox(scope: str) -> str:
    return f"bao-cao.{slug(scope)}@ioc.local"


def addresses(settings: Settings, spec: ReportSpec) -> list[str]:
    """The recipients file's addresses for this report (sorted, unique)."""
    book = load_recipients(settings)
    if book is None:
        return []
    found: set[str] = set()
    for entry in book.recipients:
        if entry.role != spec.to:
            continue
        if spec.units is None and entry.units is not None:
            continue
        if spec.units is not None and entry.units is not None and not set(entry.units) & set(
                spec.units):
            continue
        found.update(entry.email)
    return sorted(found)


def ensure_recipient(client: SupersetClient, address: str, scope: str) -> int:
    """The Superset user with this e-mail (made, with the role `scope`, when missing)."""
    found = client.list_all("security/users", columns=["id", "email"], email=address)
    if found:
        return found[0]["id"]
    username = "bao-cao-" + hashlib.sha256(address.encode()).hexdigest()[:12]
    body = client.post("/api/v1/security/users/", {
        "first_name": "Người nhận báo cáo",
        "last_name": scope,
        "username": username,
        "email": address,
        "active": True,
        "password": secrets.token_urlsafe(24),
        "roles": role_ids(client, [scope]),
    })
    return body["id"]


def _object_id(client: SupersetClient, spec: ReportSpec) -> tuple[str, int]:
    if spec.dashboard is not None:
        rows = client.list_all("dashboard", columns=["id", "slug"], slug=spec.dashboard)
        kind, what = "dashboard", spec.dashboard
    else:
        rows = client.list_all("chart", columns=["id", "slice_name"], slice_name=spec.chart)
        kind, what = "chart", spec.chart
    if not rows:
        raise ReportsError(f"superset/reports.yaml: {spec.code}: không có {kind} {what!r}")
    return kind, rows[0]["id"]


def payload(client: SupersetClient, settings: Settings, spec: ReportSpec, timezone: str,
            owner: int) -> dict:
    """What Superset should hold for this report (the API's POST/PUT body)."""
    targets = addresses(settings, spec)
    active = spec.active
    if not targets:
        targets = [scope_mailbox(spec.scope)]
        active = active and worker.uses_sink()
    for address in targets:
        ensure_recipient(client, address, spec.scope)
    kind, object_id = _object_id(client, spec)
    body = {
        "type": "Report",
        "name": spec.name,
        "description": spec.description,  # the e-mail's text
        "extra": {"ioc_code": spec.code},
        "crontab": spec.crontab,
        "timezone": spec.timezone or timezone,
        "report_format": spec.format,
        "active": active,
        "owners": [owner],
        "recipients": [{"type": "Email", "recipient_config_json": {
            "target": ",".join(targets), "ccTarget": "", "bccTarget": ""}}],
        "creation_method": "alerts_reports",
        "force_screenshot": spec.format != "CSV",
        "log_retention": 90,
        "working_timeout": 600,
        "chart": None,
        "dashboard": None,
    }
    body[kind] = object_id
    if spec.subject:
        body["email_subject"] = spec.subject
    return body


def _existing(client: SupersetClient) -> dict[str, dict]:
    """This module's reports in Superset, by code."""
    out: dict[str, dict] = {}
    page = 0
    while True:
        body = client.get("/api/v1/report/", q=rison({
            "page": page, "page_size": 100, "order_column": "name", "order_direction": "asc"}))
        for row in body.get("result", []):
            code = (row.get("extra") or {}).get("ioc_code")
            if code:
                out[code] = row
        if len(body.get("result", [])) < 100:
            return out
        page += 1


def _same(have: dict, want: dict) -> bool:
    def recipients(rows: list) -> list:
        out = []
        for r in rows:
            config = r["recipient_config_json"]
            config = json.loads(config) if isinstance(config, str) else config
            out.append((r["type"], config.get("target"), config.get("ccTarget") or "",
                        config.get("bccTarget") or ""))
        return sorted(out)

    def ref(value):
        return value.get("id") if isinstance(value, dict) else value

    return all([
        have.get("type") == want["type"],
        have.get("name") == want["name"],
        (have.get("description") or "") == want["description"],
        (have.get("extra") or {}) == want["extra"],
        have.get("crontab") == want["crontab"],
        have.get("timezone") == want["timezone"],
        have.get("report_format") == want["report_format"],
        have.get("active") == want["active"],
        bool(have.get("force_screenshot")) == want["force_screenshot"],
        have.get("working_timeout") == want["working_timeout"],
        have.get("log_retention") == want["log_retention"],
        (have.get("email_subject") or None) == want.get("email_subject"),
        ref(have.get("chart")) == want["chart"],
        ref(have.get("dashboard")) == want["dashboard"],
        sorted(o["id"] for o in have.get("owners", [])) == want["owners"],
        recipients(have.get("recipients", [])) == recipients(want["recipients"]),
    ])


def apply(client: SupersetClient, settings: Settings, path: Path = REPORTS_FILE,
          prune: bool = True) -> list[str]:
    """Make Superset's reports match the file; returns what changed."""
    spec = load(path)
    me = client.get("/api/v1/me/")["result"]
    owner = me.get("id") or client.list_all(
        "security/users", columns=["id", "username"], username=me["username"])[0]["id"]
    existing = _existing(client)
    changes: list[str] = []
    for report in spec.reports:
        want = payload(client, settings, report, spec.timezone, owner)
        row = existing.get(report.code)
        if row is None:
            client.post("/api/v1/report/", want)
            changes.append(f"report {report.code}: created")
            continue
        have = client.get(f"/api/v1/report/{row['id']}")["result"]
        if not _same(have, want):
            client.put(f"/api/v1/report/{row['id']}", {k: v for k, v in want.items()
                                                       if k != "creation_method"})
            changes.append(f"report {report.code}: updated")
    if prune:
        wanted = {r.code for r in spec.reports}
        for code, row in existing.items():
            if code not in wanted:
                client.delete(f"/api/v1/report/{row['id']}")
                changes.append(f"report {code}: deleted")
    return changes


# --- a first look on `ioc up` --------------------------------------------------------------

ON_UP = "tong_quan_tuan"


def report_id(client: SupersetClient, code: str) -> int | None:
    row = _existing(client).get(code)
    return row["id"] if row else None


# the overview's mart: a report run before the first build would show only errors
ON_UP_NEEDS = "mart_tong_quan.fct_kpi_thang"


def marts_built(settings: Settings) -> bool:
    from ioc import warehouse

    try:
        with warehouse.connect(settings, connect_timeout=5) as conn:
            return conn.execute("select to_regclass(%s)", (ON_UP_NEEDS,)).fetchone()[0] is not None
    except Exception:  # no warehouse yet: nothing to show
        return False


def run_on_up(client: SupersetClient, settings: Settings, today: str) -> str | None:
    """When reports go to the outbox, `ioc up` (or `make demo`, after its first load) runs
    the weekly overview once a day right away, so the outbox shows what the leaders get
    without waiting for Monday — once the marts are built. Never with a real SMTP server
    (people would get an extra e-mail). Returns what it did."""
    if not worker.uses_sink() or not marts_built(settings):
        return None
    marker = settings.home / "superset" / "reports-run-on-up"
    if marker.exists() and marker.read_text(encoding="utf-8").strip() == today:
        return None
    rid = report_id(client, ON_UP)
    if rid is None:
        return None
    worker.run_now(settings, rid)
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(today + "\n", encoding="utf-8")
    return f"report {ON_UP}: queued now -> {worker.outbox(settings)}"
