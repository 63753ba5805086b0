"""Checks on the reporting marts: outliers and completeness, as DHIS2 shows them.

Both read what dbt built in `mart_bao_cao` (one definition of an outlier and of "expected",
in SQL, shown on the `Tình hình nộp báo cáo` dashboard too) and raise a WARN in Dagster with
the units concerned — flagged, never refused.
"""

from datetime import date

import dagster as dg
import psycopg

from ioc import settings
from orchestration.resources import WarehouseResource

LATEST_MONTH = """
    select max(period_month) from mart_bao_cao.fct_nop_bao_cao
    where period_kind = 'month' and received > 0 and form_code in ('KTXH-01', 'YT-01')
"""

OUTLIERS = """
    select org_unit_id, indicator_code, value, round(modified_z::numeric, 1)
    from mart_bao_cao.fct_ngoai_le
    where period_month = %s
    order by abs(modified_z) desc
"""

LAST_CLOSED_PERIOD = """
    select max(period_month) from mart_bao_cao.fct_nop_bao_cao
    where period_kind = 'month' and due_date < %s and expected > 0
"""

NOT_ON_TIME = """
    select org_unit_id, form_code, case when missing > 0 then 'thiếu' else 'muộn' end
    from mart_bao_cao.fct_nop_bao_cao
    where structure_view = 'as_reported'  -- the units that owed the reports
      and period_kind = 'month' and period_month = %s and expected > 0
      and (missing > 0 or late > 0)
    order by 3, 1, 2
"""


def outliers_in_latest_month(conninfo: str) -> tuple[date | None, list[tuple]]:
    """(latest reported month, its flagged values: unit, indicator, value, modified z)."""
    with psycopg.connect(conninfo) as conn:
        month = conn.execute(LATEST_MONTH).fetchone()[0]
        if month is None:
            return None, []
        return month, conn.execute(OUTLIERS, (month,)).fetchall()


def units_not_on_time(conninfo: str, today: date) -> tuple[date | None, list[tuple]]:
    """(last closed month, units × forms missing or late for it)."""
    with psycopg.connect(conninfo) as conn:
        month = conn.execute(LAST_CLOSED_PERIOD, (today,)).fetchone()[0]
        if month is None:
            return None, []
        return month, conn.execute(NOT_ON_TIME, (month,)).fetchall()


@dg.asset_check(
    asset=dg.AssetKey(["mart_bao_cao", "fct_ngoai_le"]),
    name="ngoai_le_thang_gan_nhat",
    description="Số liệu bất thường (modified z-score > 3,5 so với lịch sử của chính đơn vị) "
    "trong tháng báo cáo gần nhất.",
)
def outlier_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    month, rows = outliers_in_latest_month(warehouse.conninfo())
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "month": str(month),
            "outliers": len(rows),
            "units": ", ".join(f"{u} {i}={v} (z={z})" for u, i, v, z in rows[:20]),
        },
    )


@dg.asset_check(
    asset=dg.AssetKey(["mart_bao_cao", "fct_nop_bao_cao"]),
    name="day_du_ky_da_dong",
    description="Mọi đơn vị đã nộp đúng hạn các biểu của kỳ tháng gần nhất đã quá hạn nộp.",
)
def completeness_check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    month, rows = units_not_on_time(warehouse.conninfo(), settings.load().today)
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "period": str(month),
            "missing": sum(1 for r in rows if r[2] == "thiếu"),
            "late": sum(1 for r in rows if r[2] == "muộn"),
            "units": ", ".join(f"{u} {f} ({s})" for u, f, s in rows[:40]),
        },
    )


reporting_checks = [outlier_check, completeness_check]
