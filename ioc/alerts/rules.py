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
    """The id `ioc superset build` gives a dashboard's native filter (ioc/bi/assets_builder.py
    `_filter_id`; tests/alerts check both agree on the built assets)."""
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


def _kpi_above(conn, settings: Settings, rule: alert_catalogue.KpiAbove) -> list[Message]:
    kpi = kpi_catalogue.load().kpi(rule.kpi)
    out = []
    for unit, name, month, value, complete in conn.execute(
            KPI_ABOVE, {"kpi": rule.kpi, "threshold": rule.threshold}):
        running = "" if complete else " (tháng đang diễn ra)"
        out.append(Message(
            key=f"{rule.code}|{unit}|{month:%Y-%m}|{rule.kpi}",
            rule=rule.code, org_unit_id=unit, org_unit_name=name,
            subject=f"[IOC] {rule.title}: {name}",
            body=(f"{name}: {kpi.name} là {vn_number(value)} {kpi.unit}, vượt ngưỡng "
                  f"{vn_number(rule.threshold)} {kpi.unit} (tháng {month_label(month)}"
                  f"{running})."),
            link=dashboard_link(settings, rule.dashboard, name),
            roles=tuple(rule.to),
        ))
    return out


def _below_target(conn, settings: Settings, rule: alert_catalogue.BelowTarget) -> list[Message]:
    out = []
    for unit, name, code, kpi_name, kpi_unit, last, values, target in conn.execute(
            BELOW_TARGET, {"kpis": list(rule.kpis), "months": rule.months}):
        first = last.replace(day=1)
        for _ in range(rule.months - 1):
            first = (first - timedelta(days=1)).replace(day=1)
        figures = ", ".join(vn_number(v) for v in values)
        out.append(Message(
            key=f"{rule.code}|{unit}|{last:%Y-%m}|{code}",
            rule=rule.code, org_unit_id=unit, org_unit_name=name,
            subject=f"[IOC] {rule.title}: {name}",
            body=(f"{name}: {kpi_name} dưới mục tiêu {rule.months} tháng liên tiếp "
                  f"({month_label(first)}–{month_label(last)}): {figures} {kpi_unit}; "
                  f"mục tiêu {vn_number(target)} {kpi_unit}."),
            link=dashboard_link(settings, rule.dashboard, name),
            roles=tuple(rule.to),
        ))
    return out


def _outliers(conn, settings: Settings, rule: alert_catalogue.Outlier) -> list[Message]:
    since = settings.today.replace(day=1)
    for _ in range(rule.within_months):
        since = (since - timedelta(days=1)).replace(day=1)
    out = []
    for unit, name, code, ind_name, ind_unit, month, value, median, z in conn.execute(
            OUTLIERS, {"since": since, "direction": rule.direction}):
        out.append(Message(
            key=f"{rule.code}|{unit}|{month:%Y-%m}|{code}",
            rule=rule.code, org_unit_id=unit, org_unit_name=name,
            subject=f"[IOC] {rule.title}: {name}",
            body=(f"{name}: {ind_name} tháng {month_label(month)} là {vn_number(value)} "
                  f"{ind_unit or ''}, trung vị các tháng trước {vn_number(median)}; "
                  f"điểm z hiệu chỉnh {vn_number(z)} vượt ngưỡng 3,5.").replace("  ", " "),
            link=dashboard_link(settings, rule.dashboard, name, "Như đã báo cáo"),
            roles=tuple(rule.to),
        ))
    return out


def _missing(conn, settings: Settings, rule: alert_catalogue.MissingReport) -> list[Message]:
    out = []
    for unit, name, form, title, period, due in conn.execute(
            MISSING, {"after": rule.days_after_deadline, "today": settings.today,
                      "within": rule.within_days}):
        late = (settings.today - due).days
        out.append(Message(
            key=f"{rule.code}|{unit}|{period}|{form}",
            rule=rule.code, org_unit_id=unit, org_unit_name=name,
            subject=f"[IOC] {rule.title}: {name} — {form} kỳ {period}",
            body=(f"{name} chưa nộp biểu {form} ({title}) kỳ {period}: hạn nộp "
                  f"{due:%d/%m/%Y}, đã quá {late} ngày (ngưỡng cảnh báo: "
                  f"{rule.days_after_deadline} ngày sau hạn)."),
            link=dashboard_link(settings, rule.dashboard, name, "Như đã báo cáo"),
            roles=tuple(rule.to),
        ))
    return out


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
        if working and working[0] and len(ahead) == cfg.working_days_before:
            # the deadlines that fall after the (n-1)th working day ahead and up to the nth:
            # a deadline on a weekend or holiday is reminded of on the working day that
            # comes n working days before the next working day after it
            after = ahead[-2] if len(ahead) > 1 else today
            for unit, name, form, title, period, due_date in conn.execute(
                    NOT_SENT_FOR_DUE_DATES, {"after": after, "until": ahead[-1]}):
                out.append(Message(
                    key=f"nhac_truoc_han|{unit}|{period}|{form}",
                    rule="nhac_truoc_han", org_unit_id=unit, org_unit_name=name,
                    subject=f"[IOC] Nhắc nộp báo cáo: {form} kỳ {period} hạn {due_date:%d/%m/%Y}",
                    body=(f"Kính gửi {name}: biểu {form} ({title}) kỳ {period} đến hạn nộp "
                          f"ngày {due_date:%d/%m/%Y}; hệ thống chưa nhận được báo cáo của "
                          f"đơn vị. Đề nghị đơn vị nộp đúng hạn."),
                    link=dashboard_link(settings, cfg.dashboard, name, "Như đã báo cáo"),
                    roles=tuple(cfg.to),
                ))
        past_due = today - timedelta(days=cfg.days_after)
        for unit, name, form, title, period, due_date in conn.execute(
                NOT_SENT_FOR_DUE_DATES, {"after": past_due - timedelta(days=1),
                                         "until": past_due}):
            out.append(Message(
                key=f"nhac_sau_han|{unit}|{period}|{form}",
                rule="nhac_sau_han", org_unit_id=unit, org_unit_name=name,
                subject=f"[IOC] Báo cáo quá hạn: {form} kỳ {period} (hạn {due_date:%d/%m/%Y})",
                body=(f"Kính gửi {name}: biểu {form} ({title}) kỳ {period} đã quá hạn nộp "
                      f"ngày {due_date:%d/%m/%Y} được {cfg.days_after} ngày; hệ thống chưa "
                      f"nhận được báo cáo của đơn vị. Đề nghị đơn vị nộp ngay."),
                link=dashboard_link(settings, cfg.dashboard, name, "Như đã báo cáo"),
                roles=tuple(cfg.to),
            ))
    return out
