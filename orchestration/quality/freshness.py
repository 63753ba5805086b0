"""Freshness of every source: when did each raw asset last receive data?

Agency resources are pulled nightly, so older than 26 hours means the night failed; the
intake manifest sees a file at least every month (reports are due on the 5th), so older than
35 days means the intake stopped. Checks are WARN: they raise attention, not block runs.
"""

from datetime import timedelta

import dagster as dg

AGENCY_KEYS = [dg.AssetKey(["raw_agency", t]) for t in ("ho_so", "van_ban", "phan_anh")]
INTAKE_KEYS = [dg.AssetKey(["raw_intake", "file_manifest"])]

freshness_checks = [
    *dg.build_last_update_freshness_checks(
        assets=AGENCY_KEYS, lower_bound_delta=timedelta(hours=26), timezone="Asia/Ho_Chi_Minh"
    ),
    *dg.build_last_update_freshness_checks(
        assets=INTAKE_KEYS, lower_bound_delta=timedelta(days=35), timezone="Asia/Ho_Chi_Minh"
    ),
]

freshness_sensor = dg.build_sensor_for_freshness_checks(
    freshness_checks=freshness_checks,
    minimum_interval_seconds=600,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
