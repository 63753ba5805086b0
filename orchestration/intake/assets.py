"""The raw intake tables as one Dagster multi-asset.

One step reads every waiting file of every form, because a file's form is only known once it
is read; each raw table is its own asset key (`raw_intake/<table>`), which is also how
dagster-dbt names the dbt sources, so lineage runs from files to marts.

Files are normally taken within seconds by the resident watcher (`ioc watch`, see
`orchestration/intake/watcher.py`), which reports each pass to Dagster as a materialization
of these same assets; this asset is the same pass (`ingest.intake.watch.process_waiting`)
run inside Dagster: in the nightly job, and by the fallback sensor when no watcher runs.
"""

from collections import Counter

import dagster as dg

from ingest import catalogue
from ingest.intake.engine import ensure_tables
from ingest.intake.watch import IntakeState, process_waiting
from ioc import settings as settings_mod
from orchestration.resources import IntakeResource, WarehouseResource

# Derived from the catalogue of sources (ingest/catalogue.py): a new contract file is a new
# asset here, with no change to this module.
RAW_INTAKE_TABLES = {
    "file_manifest": "Every file version that arrived, with status, errors and version.",
    **{c.table: catalogue.form_asset_description(c) for c in catalogue.forms().values()},
    "chi_tieu_value": "Every indicator-list form's values: the view the intake keeps over their "
                      "tables (read by the generic indicator mart).",
}
FORM_TABLES = catalogue.form_tables()
MANIFEST_KEY = dg.AssetKey(["raw_intake", "file_manifest"])
INTAKE_KEYS = [dg.AssetKey(["raw_intake", table]) for table in RAW_INTAKE_TABLES]

INTAKE_SPECS = [
    dg.AssetSpec(
        key=dg.AssetKey(["raw_intake", table]),
        description=description,
        group_name="intake",
        kinds={"python", "postgres"},
    )
    for table, description in RAW_INTAKE_TABLES.items()
]


def intake_state() -> IntakeState:
    return IntakeState.for_home(settings_mod.load().home)


def pass_events(results) -> list[dg.AssetMaterialization]:
    """What one intake pass did, as materializations of the raw intake assets: the manifest
    (counts and every file with its outcome) and each form's table that received rows."""
    statuses = Counter(r.status for r in results)
    by_form = Counter(r.form for r in results if r.status == "accepted")
    files = [
        {"file": r.file, "status": r.status, "form": r.form, "unit": r.org_unit_id,
         "period": r.period, "errors": len(r.errors)}
        for r in results
    ]
    events = [
        dg.AssetMaterialization(
            asset_key=MANIFEST_KEY,
            metadata={
                "files_seen": len(results),
                "accepted": statuses.get("accepted", 0),
                "rejected": statuses.get("rejected", 0),
                "duplicate": statuses.get("duplicate", 0),
                "files": dg.MetadataValue.json(files[:200]),
            },
        )
    ]
    for form, table in FORM_TABLES.items():
        if by_form.get(form):
            events.append(dg.AssetMaterialization(
                asset_key=dg.AssetKey(["raw_intake", table]),
                metadata={"files_loaded": by_form[form]},
            ))
    return events


@dg.multi_asset(
    specs=INTAKE_SPECS,
    name="intake_files",
    description="Đọc, kiểm tra, lưu trữ và nạp các tệp báo cáo trong thư mục tiếp nhận.",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
)
def intake_files(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, intake: IntakeResource
):
    root = intake.intake_path()
    root.mkdir(parents=True, exist_ok=True)
    ensure_tables(warehouse.conninfo())  # the raw tables exist even before the first file
    state = intake_state()
    try:
        # Two looks: a file still being copied (its size or time changes) waits.
        results = process_waiting(root, conninfo=warehouse.conninfo(),
                                  archive_dir=intake.archive_path(), state=state, looks=2)
    finally:
        state.close()
    context.log.info(f"{len(results)} file(s) taken from {root}")
    for r in results:
        if r.status == "rejected":
            context.log.warning(f"refused {r.file}: {len(r.errors)} problem(s)")
    events = {e.asset_key: e.metadata for e in pass_events(results)}
    for spec in INTAKE_SPECS:
        metadata = events.get(spec.key) or (
            {"files_loaded": 0} if spec.key != MANIFEST_KEY else {"files_seen": 0})
        yield dg.MaterializeResult(asset_key=spec.key, metadata=metadata)
