"""Which alerts and reminders the warehouse's marts call for, today.

Each rule of `catalogue/alerts.yaml` is one query over a mart (never the raw tables): the
numbers an alert quotes are the ones the dashboards show. A `Message` names the unit (its
Vietnamese name), the figure, the threshold and a link to the dashboard filtered to that
unit; its `key` (rule × unit × period × detail) makes sending idempotent (ioc/alerts/send.py).
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import psycopg

from ioc.alerts import catalogue as alert_catalogue
from ioc.kpi import catalogue as kpi_catalogue
from ioc.settings import Settings

UNIT_FILTER = "Đơn vị"
VIEW_FILTER = "Góc nhìn lịch sử"
BASE_URL_VAR = "IOC_DASHBOARD_BASE_URL"


@dataclass(frozen=True)
class Message:
    key: str  # rule|unit|period|detail: the same alert is never sent twice
    rule: str
    org_unit_id: str
    org_unit_name: str
    subject: str
    body: str
    link: str
    roles: tuple[str, ...]

    def text(self) -> str:
        return f"{self.subject}\n{self.body}\nXem bảng điều khiển: {self.link}"


# ---------------------------------------------------------------- links to a filtered dashboard

def native_filter_id(slug: str, name: str) -> str:
    """The id `ioc superset build` gives a dashboard's native filter
    (superset/ioc_superset/assets_builder.py `_filter_id`; tests/alerts check both agree on the
    built assets)."""
    import hashlib

    return "NATIVE_FILTER-" + hashlib.sha1(f"{slug}|{name}".encode()).hexdigest()[:20]


_RISON_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-./~]*$")


def rison(value: object) -> str:
    """Rison (what Superset's `native_filters` URL parameter takes) of dicts, lists, text."""
    if isinstance(value, dict):
        return "(" + ",".join(f"{rison(k)}:{rison(v)}" for k, v in value.items()) + ")"
    if isinstance(value, list | tuple):
        return "!(" + ",".join(rison(v) for v in value) + ")"
    if isinstance(value, bool):
        return "!t" if value else "!f"
    if value is None:
        return "!n"
    if isinstance(value, int | float | Decimal):
        return str(value)
    text = str(value)
    if _RISON_ID.match(text):
        return text
    return "'" + text.replace("!", "!!").replace("'", "!'") + "'"


def dashboard_link(settings: Settings, slug: str, unit_name: str,
                   view_name: str = "Theo cấu trúc hiện nay") -> str:
    """The dashboard `slug` with its `Đơn vị` (and history view) filters set."""
    base = (os.environ.get(BASE_URL_VAR) or f"http://127.0.0.1:{settings.superset_port}")
    filters = {}
    for name, column, value in ((VIEW_FILTER, "structure_view_name", view_name),
                                (UNIT_FILTER, "org_unit_name", unit_name)):
        fid = native_filter_id(slug, name)
        filters[fid] = {
            "id": fid,
            "extraFormData": {"filters": [{"col": column, "op": "IN", "val": [value]}]},
            "filterState": {"value": [value]},
        }
    query = urllib.parse.quote(rison(filters), safe="(),:!'*-._~")
    return f"{base.rstrip('/')}/superset/dashboard/{slug}/?native_filters={query}"


# ---------------------------------------------------------------------------- number format

def vn_number(value: Decimal | float | int | None, digits: int = 1) -> str:
    """1234.5 → "1.234,5" (Vietnamese separators); whole numbers without decimals."""
    if value is None:
        return "(trống)"
    number = Decimal(str(value))
    whole = number == number.to_integral_value()
    text = f"{int(number):,}" if whole else f"{number:,.{digits}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def month_label(day: date) -> str:
    return f"{day.month:02d}/{day.year}"


# ---------------------------------------------------------------------------------- queries

KPI_ABOVE = """
    select org_unit_id, org_unit_name, period_month, value, is_month_complete
    from mart_tong_quan.fct_kpi_thang
    where structure_view = 'current_structure' and unit_level = 'don_vi'
      and kpi_code = %(kpi)s and is_latest and value > %(threshold)s
    order by org_unit_id
"""

BELOW_TARGET = """
    with months as (
        select org_unit_id, org_unit_name, kpi_code, kpi_name, unit, period_month, value,
               target, target_met,
               row_number() over (partition by org_unit_id, kpi_code
                                  order by period_month desc) as back
        from mart_tong_quan.fct_kpi_thang
        where structure_view = 'current_structure' and unit_level = 'don_vi'
          and kpi_code = any(%(kpis)s) and is_displayed and is_month_complete
          and value is not null and target is not null
    )
    select org_unit_id, min(org_unit_name), kpi_code, min(kpi_name), min(unit),
           max(period_month), array_agg(value order by period_month),
           min(target)
    from months
    where back <= %(months)s
    group by org_unit_id, kpi_code
    having count(*) = %(months)s and bool_and(not target_met)
    order by org_unit_id, kpi_code
"""

OUTLIERS = """
    select org_unit_id, org_unit_name, indicator_code, indicator_name, unit, period_month,
           value, median_value, round(modified_z::numeric, 1)
    from mart_bao_cao.fct_ngoai_le
    where period_month >= %(since)s and (%(direction)s = 'ca_hai' or direction = %(direction)s)
    order by org_unit_id, indicator_code, period_month
"""

MISSING = """
    select org_unit_id, org_unit_name, form_code, form_title, period, due_date
    from mart_bao_cao.fct_nop_bao_cao
    where structure_view = 'as_reported' and missing > 0
      and due_date + %(after)s <= %(today)s and due_date >= %(today)s - %(within)s
    order by org_unit_id, form_code, period
"""

# the forms a unit still owes for deadlines in (after, until]: not received (an early report
# counts as sent)
NOT_SENT_FOR_DUE_DATES = """
    select org_unit_id, org_unit_name, form_code, form_title, period, due_date
    from mart_bao_cao.fct_nop_bao_cao
    where structure_view = 'as_reported' and received = 0
      and due_date > %(after)s and due_date <= %(until)s
    order by org_unit_id, form_code, period
"""

WORKING_DAYS_AHEAD = """
    select date_day from mart_dung_chung.dim_ngay
    where date_day > %(today)s and is_working_day
    order by date_day limit %(n)s
"""

IS_WORKING_DAY = "select is_working_day from mart_dung_chung.dim_ngay where date_day = %s"


def _message(settings: Settings, code: str, unit: str, name: str, detail: str, *,
             subject: str, body: str, dashboard: str, to: list[str],
             view: str | None = None) -> Message:
    """A message of rule `code` to unit `unit` (its name `name`) about `detail` (period ×
    what), linking to `dashboard` filtered to the unit (and to the history view `view`)."""
    return Message(
        key=f"{code}|{unit}|{detail}", rule=code, org_unit_id=unit, org_unit_name=name,
        subject=subject, body=body,
        link=dashboard_link(settings, dashboard, name, *([view] if view else [])),
        roles=tuple(to),
    )


def _alert(settings: Settings, rule: alert_catalogue._Rule, unit: str, name: str, detail: str,
           body: str, *, subject: str | None = None, view: str | None = None) -> Message:
    """A message of an alert rule: its code, title, dashboard and recipients."""
    return _message(settings, rule.code, unit, name, detail,
                    subject=subject or f"[IOC] {rule.title}: {name}", body=body,
                    dashboard=rule.dashboard, to=rule.to, view=view)


def _months_back(last: date, months: int) -> date:
    """The first day of the month `months` months before the month of `last`."""
    first = last.replace(day=1)
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def _kpi_above(conn, settings: Settings, rule: alert_catalogue.KpiAbove) -> list[Message]:
    kpi = kpi_catalogue.load().kpi(rule.kpi)
    return [
        _alert(settings, rule, unit, name, f"{month:%Y-%m}|{rule.kpi}",
               f"{name}: {kpi.name} là {vn_number(value)} {kpi.unit}, vượt ngưỡng "
               f"{vn_number(rule.threshold)} {kpi.unit} (tháng {month_label(month)}"
               f"{'' if complete else ' (tháng đang diễn ra)'}).")
        for unit, name, month, value, complete in conn.execute(
            KPI_ABOVE, {"kpi": rule.kpi, "threshold": rule.threshold})
    ]


def _below_target(conn, settings: Settings, rule: alert_catalogue.BelowTarget) -> list[Message]:
    return [
        _alert(settings, rule, unit, name, f"{last:%Y-%m}|{code}",
               f"{name}: {kpi_name} dưới mục tiêu {rule.months} tháng liên tiếp "
               f"({month_label(_months_back(last, rule.months - 1))}–{month_label(last)}): "
               f"{', '.join(vn_number(v) for v in values)} {kpi_unit}; "
               f"mục tiêu {vn_number(target)} {kpi_unit}.")
        for unit, name, code, kpi_name, kpi_unit, last, values, target in conn.execute(
            BELOW_TARGET, {"kpis": list(rule.kpis), "months": rule.months})
    ]


def _outliers(conn, settings: Settings, rule: alert_catalogue.Outlier) -> list[Message]:
    since = _months_back(settings.today, rule.within_months)
    return [
        _alert(settings, rule, unit, name, f"{month:%Y-%m}|{code}",
               (f"{name}: {ind_name} tháng {month_label(month)} là {vn_number(value)} "
                f"{ind_unit or ''}, trung vị các tháng trước {vn_number(median)}; "
                f"điểm z hiệu chỉnh {vn_number(z)} vượt ngưỡng 3,5.").replace("  ", " "),
               view="Như đã báo cáo")
        for unit, name, code, ind_name, ind_unit, month, value, median, z in conn.execute(
            OUTLIERS, {"since": since, "direction": rule.direction})
    ]


def _missing(conn, settings: Settings, rule: alert_catalogue.MissingReport) -> list[Message]:
    return [
        _alert(settings, rule, unit, name, f"{period}|{form}",
               f"{name} chưa nộp biểu {form} ({title}) kỳ {period}: hạn nộp "
               f"{due:%d/%m/%Y}, đã quá {(settings.today - due).days} ngày (ngưỡng cảnh báo: "
               f"{rule.days_after_deadline} ngày sau hạn).",
               subject=f"[IOC] {rule.title}: {name} — {form} kỳ {period}",
               view="Như đã báo cáo")
        for unit, name, form, title, period, due in conn.execute(
            MISSING, {"after": rule.days_after_deadline, "today": settings.today,
                      "within": rule.within_days})
    ]


EVALUATORS = {
    "chi_so_vuot_nguong": _kpi_above,
    "duoi_muc_tieu": _below_target,
    "ngoai_le": _outliers,
    "thieu_bao_cao": _missing,
}


def alerts(conninfo: str, settings: Settings,
           catalogue: alert_catalogue.AlertCatalogue | None = None) -> list[Message]:
    """Every alert the marts call for today, rule by rule."""
    catalogue = catalogue or alert_catalogue.load()
    with psycopg.connect(conninfo) as conn:
        out: list[Message] = []
        for rule in catalogue.alerts:
            out.extend(EVALUATORS[rule.kind](conn, settings, rule))
        return out


# the reminders' subject and body (str.format of name, form, title, period, due, days_after)
REMINDER_TEXTS = {
    "nhac_truoc_han": (
        "[IOC] Nhắc nộp báo cáo: {form} kỳ {period} hạn {due:%d/%m/%Y}",
        "Kính gửi {name}: biểu {form} ({title}) kỳ {period} đến hạn nộp ngày {due:%d/%m/%Y}; "
        "hệ thống chưa nhận được báo cáo của đơn vị. Đề nghị đơn vị nộp đúng hạn.",
    ),
    "nhac_sau_han": (
        "[IOC] Báo cáo quá hạn: {form} kỳ {period} (hạn {due:%d/%m/%Y})",
        "Kính gửi {name}: biểu {form} ({title}) kỳ {period} đã quá hạn nộp ngày "
        "{due:%d/%m/%Y} được {days_after} ngày; hệ thống chưa nhận được báo cáo của đơn vị. "
        "Đề nghị đơn vị nộp ngay.",
    ),
}


def reminders(conninfo: str, settings: Settings,
              catalogue: alert_catalogue.AlertCatalogue | None = None) -> list[Message]:
    """Reminders due today: to each unit that has not sent a form whose deadline is
    `working_days_before` working days ahead (sent on a working day), or was
    `days_after` days ago."""
    cfg = (catalogue or alert_catalogue.load()).reminders
    today = settings.today
    out: list[Message] = []
    with psycopg.connect(conninfo) as conn:
        working = conn.execute(IS_WORKING_DAY, (today,)).fetchone()
        ahead = [row[0] for row in conn.execute(
            WORKING_DAYS_AHEAD, {"today": today, "n": cfg.working_days_before})]
        windows = []  # (reminder, deadlines after, deadlines up to)
        if working and working[0] and len(ahead) == cfg.working_days_before:
            # the deadlines that fall after the (n-1)th working day ahead and up to the nth:
            # a deadline on a weekend or holiday is reminded of on the working day that
            # comes n working days before the next working day after it
            windows.append(("nhac_truoc_han", ahead[-2] if len(ahead) > 1 else today, ahead[-1]))
        past_due = today - timedelta(days=cfg.days_after)
        windows.append(("nhac_sau_han", past_due - timedelta(days=1), past_due))
        for code, after, until in windows:
            subject, body = REMINDER_TEXTS[code]
            for unit, name, form, title, period, due in conn.execute(
                    NOT_SENT_FOR_DUE_DATES, {"after": after, "until": until}):
                words = {"name": name, "form": form, "title": title, "period": period,
                         "due": due, "days_after": cfg.days_after}
                out.append(_message(settings, code, unit, name, f"{period}|{form}",
                                    subject=subject.format(**words), body=body.format(**words),
                                    dashboard=cfg.dashboard, to=cfg.to, view="Như đã báo cáo"))
    return out
