"""The public page's schema follows an intake load, not only the night (issue 19).

A report dropped in the intake folder changes the marts the 766 rates are computed from; the
jobs Dagster starts after an intake pass (`intake_marts_job` after `ioc watch`, `intake_job`
without it) must rebuild every `cong_khai` table that depends on the intake, so the public
page shows the new figures minutes after the drop. (Its grants come back with dbt's
`on-run-end` access sweep, which every dbt invocation runs.)"""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs
from orchestration.intake.assets import INTAKE_KEYS


def test_intake_jobs_rebuild_the_public_schema() -> None:
    graph = defs.resolve_asset_graph()
    public = {k for k in graph.get_all_asset_keys() if k.path[0] == "cong_khai"}
    fed_by_intake = dg.AssetSelection.assets(*INTAKE_KEYS).downstream().resolve(graph) & public
    assert dg.AssetKey(["cong_khai", "ck_chi_so_thang"]) in fed_by_intake
    for name in ("intake_marts_job", "intake_job"):
        job = defs.resolve_job_def(name)
        keys = set(job.asset_layer.executable_asset_keys)
        missing = sorted(k.to_user_string() for k in fed_by_intake - keys)
        assert not missing, (name, missing)
