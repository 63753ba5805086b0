"""Sensors of the intake path.

- `intake_marts_sensor`: when the resident watcher (`ioc watch`) has taken files — it reports
  each pass as a materialization of `raw_intake/*` outside any run — start `intake_marts_job`,
  the dbt models downstream of the raw intake tables, so the marts follow within a minute.
  Passes that land while a run is queued or running are taken together by the next run.
  On a warehouse that was never built completely (a fresh install: the marts downstream
  read agency staging views and seeds nobody built yet) it starts `nightly_job` instead.
- `intake_sensor`: the fallback when no watcher runs (Dagster started on its own, the watcher
  stopped): looks at the intake folders every tick and starts `intake_job` for complete new
  files. A file's arrival is the first look that saw it complete, kept per file in the
  intake state, not the time its run happened to start.
"""

import dagster as dg

from ingest.intake.watch import look
from orchestration.dbt.assets import missing_relations, view_keys
from orchestration.intake.assets import INTAKE_KEYS, MANIFEST_KEY, intake_files, intake_state
from orchestration.resources import IntakeResource, WarehouseResource
from orchestration.schedules import nightly_job

INTAKE_SENSOR_INTERVAL_S = 10
SENSOR_SETTLE_S = 1.0  # same stat on two ticks at least this far apart: complete
MARTS_SENSOR_INTERVAL_S = 5
# The full build a first intake pass starts on a fresh install runs its steps in the run's own
# process, as intake_marts_job does: the nightly job's default (one process per step) loads
# the code location again for each of its 18 steps while a commune waits for its figures.
IN_ONE_PROCESS = {"execution": {"config": {"in_process": {}}}}

intake_job = dg.define_asset_job(
    "intake_job",
    selection=dg.AssetSelection.assets(intake_files).downstream(),
    description="Nạp các tệp mới trong thư mục tiếp nhận và làm mới các bảng phụ thuộc.",
)

_VIEWS = dg.AssetSelection.assets(*view_keys())
_TABLES = dg.AssetSelection.assets(*INTAKE_KEYS).downstream(include_self=False) - _VIEWS

intake_marts_job = dg.define_asset_job(
    "intake_marts_job",
    # the tables downstream of the raw intake tables, and their tests; the views between them
    # are definitions, already in place, so they are not rebuilt — but a view that reads one
    # of those tables is: dbt replaces a table by dropping the old one with CASCADE, which
    # drops the views over it (the KPI mart's int_kpi__phan_so reads the domain marts)
    selection=_TABLES | (_TABLES.downstream(include_self=False) & _VIEWS),
    description="Làm mới các bảng dữ liệu dựng từ báo cáo vừa nạp (sau mỗi lượt tiếp nhận).",
    # one process: its steps (dbt, then the checks) would otherwise each start a new
    # process and load the code location again — seconds a waiting commune feels
    executor_def=dg.in_process_executor,
)


@dg.sensor(
    jobs=[intake_marts_job, nightly_job],
    minimum_interval_seconds=MARTS_SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Sau mỗi lượt tiếp nhận tệp của ioc watch, dựng lại các bảng liên quan.",
)
def intake_marts_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    after = int(context.cursor) if context.cursor else None
    if after is None:  # first evaluation: start from now, not from the whole history
        latest = context.instance.fetch_materializations(MANIFEST_KEY, limit=1).records
        context.update_cursor(str(latest[0].storage_id if latest else 0))
        return dg.SkipReason("cursor initialised")
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=MANIFEST_KEY, after_storage_id=after),
        limit=1000, ascending=True,
    ).records
    if not records:
        return dg.SkipReason("no new intake pass")
    newest = max(r.storage_id for r in records)
    context.update_cursor(str(newest))
    # Passes inside a run (nightly, intake_job) are followed by the run's own dbt steps.
    outside = [r for r in records if not r.event_log_entry.run_id]
    if not outside:
        return dg.SkipReason("intake passes of runs only")
    tags = {"ioc/intake_passes": str(len(outside))}
    # tables only: the views over a table an intake_marts_job run is replacing are missing
    # for a moment, and the job rebuilds them itself
    missing = missing_relations(warehouse.conninfo(), views=False)
    if missing:
        context.log.info(f"{len(missing)} dbt relation(s) not built yet: full build")
        return dg.RunRequest(run_key=f"intake-full:{newest}", job_name=nightly_job.name,
                             tags={**tags, "ioc/reason": "warehouse not built yet"},
                             run_config=IN_ONE_PROCESS)
    return dg.RunRequest(run_key=f"intake-marts:{newest}", job_name=intake_marts_job.name,
                         tags=tags)


@dg.sensor(
    job=intake_job,
    minimum_interval_seconds=INTAKE_SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Dự phòng khi ioc watch không chạy: theo dõi thư mục tiếp nhận, chạy nạp khi "
                "có tệp mới đã chép xong.",
)
def intake_sensor(context: dg.SensorEvaluationContext, intake: IntakeResource):
    root = intake.intake_path()
    if not root.exists():
        return dg.SkipReason(f"{root} does not exist")
    state = intake_state()
    try:
        if state.alive():
            return dg.SkipReason("ioc watch is taking the files")
        ready = state.observe(root, look(root), settle_s=SENSOR_SETTLE_S)
    finally:
        state.close()
    if not ready:
        return dg.SkipReason("no complete new files")
    run_key = "intake:" + ",".join(f"{s.path}:{s.key[0]}:{s.key[1]}" for s in ready)
    return dg.RunRequest(run_key=run_key, tags={"ioc/files": str(len(ready))})
