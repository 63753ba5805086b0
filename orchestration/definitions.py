"""The one Dagster `Definitions` of the platform: merges every domain's pieces.

Found without arguments through `[tool.dagster]` in pyproject.toml, so `dagster dev`,
`dagster definitions validate` and `dagster asset list` work from the repository root.
"""

from __future__ import annotations

import dagster as dg

from orchestration.agency.assets import agency_assets
from orchestration.alerts.notify import (  # issue 19: alerts and reminders
    nhac_nop_bao_cao_job,
    nhac_nop_bao_cao_schedule,
    thong_bao_job,
    thong_bao_sau_khi_nap,
)
from orchestration.alerts.sensors import run_failure_alert
from orchestration.backup.jobs import backup_job, backup_sensors
from orchestration.dbt.assets import dbt_resource, ioc_dbt_assets
from orchestration.intake.assets import intake_files
from orchestration.intake.sensors import (
    intake_job,
    intake_marts_job,
    intake_marts_sensor,
    intake_sensor,
)
from orchestration.quality.form_rules import form_rule_checks
from orchestration.quality.freshness import (
    freshness_checks,
    freshness_job,
    freshness_schedule,
)
from orchestration.quality.reporting import reporting_checks
from orchestration.resources import AgencyApiResource, IntakeResource, WarehouseResource
from orchestration.schedules import nightly_job, nightly_schedule

defs = dg.Definitions(
    assets=[intake_files, *agency_assets, ioc_dbt_assets],
    asset_checks=[*form_rule_checks, *reporting_checks, *freshness_checks],
    jobs=[nightly_job, intake_job, intake_marts_job, freshness_job, backup_job,
          thong_bao_job, nhac_nop_bao_cao_job],
    schedules=[nightly_schedule, freshness_schedule, nhac_nop_bao_cao_schedule],
    sensors=[intake_sensor, intake_marts_sensor, run_failure_alert, *backup_sensors,
             thong_bao_sau_khi_nap],
    resources={
        "warehouse": WarehouseResource(),
        "intake": IntakeResource(),
        "agency_api": AgencyApiResource(),
        "dbt": dbt_resource(),
    },
)
