"""The reports a unit owes, read from the reporting mart `mart_bao_cao.fct_nop_bao_cao` through
Superset as the person logged in: Superset runs the query under the PostgreSQL login role of
their scope, so row security decides what comes back (the page holds no database account).

One row per form × period the unit owes (the mart's `as_reported` view: the unit's own
reports), with its due date and where it stands: received on time or late, refused without
an accepted version, missing, not yet due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from ioc.settings import LOCAL_TZ
from upload.accounts import Superset, Tokens

DATASET = "fct_nop_bao_cao"
COLUMNS = ["form_code", "form_title", "period", "period_kind", "period_start", "due_date",
           "received", "on_time", "late", "missing", "refused_attempts", "accepted_versions",
           "current_version", "first_accepted_at", "last_accepted_at", "submission_status",
           "status_as_of"]


@dataclass(frozen=True)
class Owed:
    form: str
    form_title: str
    period: str
    period_start: date
    due_date: date
    status: str  # on_time | late | refused | missing | refused_due | not_due (CSS and tests)
    label: str  # Vietnamese
    refused_attempts: int
    current_version: int | None
    first_accepted_at: datetime | None
    as_of: date | None

    @property
    def received(self) -> bool:
        return self.status in ("on_time", "late")


def _day(value) -> date | None:
    if value is None:
        return None
    if isinstance(value, int | float):  # Superset returns dates as epoch milliseconds (UTC)
        return datetime.fromtimestamp(value / 1000, UTC).date()
    return date.fromisoformat(str(value)[:10])


def _moment(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC).astimezone(LOCAL_TZ)
    return datetime.fromisoformat(str(value)).astimezone(LOCAL_TZ)


def status_of(row: dict) -> tuple[str, str]:
    """(code, Vietnamese label) of a mart row."""
    refused = int(row.get("refused_attempts") or 0)
    tried = f"bị từ chối {refused} lần, " if refused else ""
    if row.get("received"):
        return ("on_time", "Đã nhận, đúng hạn") if row.get("on_time") else (
            "late", "Đã nhận, trễ hạn")
    if row.get("missing"):
        return ("refused", f"Quá hạn: {tried}chưa có bản hợp lệ") if refused else (
            "missing", "Quá hạn, chưa nộp")
    if refused:
        return "refused_due", f"Còn hạn: {tried}chưa có bản hợp lệ"
    return "not_due", "Còn hạn, chưa nộp"


async def owed(superset: Superset, tokens: Tokens, unit_id: str) -> list[Owed]:
    """Every report the unit owes (ended periods), newest period first."""
    found = await superset.call(tokens, "GET", "/api/v1/dataset/", params={
        "q": f"(columns:!(id,table_name),filters:!((col:table_name,opr:eq,value:{DATASET})))"})
    ids = [d["id"] for d in found.get("result", []) if d.get("table_name") == DATASET]
    if not ids:
        raise PermissionError(f"dataset {DATASET} not visible")
    body = {
        "datasource": {"id": ids[0], "type": "table"},
        "force": True,  # the mart changes within a minute of a report: no cached answer
        "queries": [{
            "columns": COLUMNS, "metrics": [], "row_limit": 10_000,
            "filters": [{"col": "org_unit_id", "op": "==", "val": unit_id},
                        {"col": "structure_view", "op": "==", "val": "as_reported"}],
            "orderby": [["period_start", False], ["form_code", True]],
        }],
        "result_format": "json", "result_type": "full",
    }
    result = await superset.call(tokens, "POST", "/api/v1/chart/data", json=body)
    rows = result["result"][0]["data"]
    out = []
    for row in rows:
        code, label = status_of(row)
        out.append(Owed(
            form=row["form_code"], form_title=row.get("form_title") or row["form_code"],
            period=row["period"], period_start=_day(row["period_start"]),
            due_date=_day(row["due_date"]), status=code, label=label,
            refused_attempts=int(row.get("refused_attempts") or 0),
            current_version=row.get("current_version"),
            first_accepted_at=_moment(row.get("first_accepted_at")),
            as_of=_day(row.get("status_as_of"))))
    out.sort(key=lambda o: (o.period_start, o.form), reverse=True)
    return out


def shown(rows: list[Owed], recent: int = 3) -> list[Owed]:
    """What the page lists by default: every report not received yet, and the `recent`
    latest periods of each form whatever their status."""
    latest: dict[str, list[str]] = {}
    for row in rows:  # newest first
        periods = latest.setdefault(row.form, [])
        if row.period not in periods and len(periods) < recent:
            periods.append(row.period)
    return [r for r in rows if not r.received or r.period in latest[r.form]]
