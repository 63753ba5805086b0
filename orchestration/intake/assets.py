"""The raw intake tables as one Dagster multi-asset.

One step reads every waiting file of every form, because a file's form is only known once it
is read; each raw table is its own asset key (`raw_intake/<table>`), which is also how
dagster-dbt names the dbt sources, so lineage runs from files to marts.
"""

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.resources import IntakeResource, WarehouseResource

RAW_INTAKE_TABLES = {
    "file_manifest": "Every file version that arrived, with status, errors and version.",
    "ktxh01_value": "KTXH-01: socio-economic indicators per commune and month.",
    "yt01_value": "YT-01: health station indicators per commune and month.",
    "hcc06_row": "HCC-06: administrative procedure results per field, as the commune reported.",
    "gd01_school": "GD-01: one row per school and semester.",
}

ARRIVALS_SIDECAR = "_arrivals.csv"


def bulk_arrivals(root: Path) -> dict[str, datetime] | None:
    """Arrival times of history loaded in bulk (e.g. the demo world), from
    `<root>/_arrivals.csv` (`file` relative to the root, `arrived_at` ISO 8601).

    Files not listed there arrive "now", when the platform first sees them.
    """
    sidecar = root / ARRIVALS_SIDECAR
    if not sidecar.exists():
        return None
    with open(sidecar, encoding="utf-8-sig", newline="") as fh:
        return {
            str((root / row["file"]).absolute()): datetime.fromisoformat(row["arrived_at"])
            for row in csv.DictReader(fh)
        }


INTAKE_SPECS = [
    dg.AssetSpec(
        key=dg.AssetKey(["raw_intake", table]),
        description=description,
        group_name="intake",
        kinds={"python", "postgres"},
    )
    for table, description in RAW_INTAKE_TABLES.items()
]


@dg.multi_asset(
    specs=INTAKE_SPECS,
    name="intake_files",
    description="Đọc, kiểm tra, lưu trữ và nạp các tệp báo cáo trong thư mục tiếp nhận.",
    retry_policy=dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL),
)
def intake_files(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, intake: IntakeResource
):
    from ingest.intake import engine

    root = intake.intake_path()
    root.mkdir(parents=True, exist_ok=True)
    conninfo = warehouse.conninfo()
    engine.ensure_tables(conninfo)
    waiting = engine.scan_intake(root, conninfo=conninfo)
    context.log.info(f"{len(waiting)} file(s) waiting in {root}")
    arrivals = bulk_arrivals(root)
    if arrivals:  # history in arrival order, so versions and duplicates come out as they did
        waiting.sort(
            key=lambda p: (
                arrivals.get(str(p.absolute()), datetime.max.replace(tzinfo=UTC)),
                str(p),
            )
        )
    results = engine.ingest_paths(
        waiting,
        conninfo=conninfo,
        archive_dir=intake.archive_path(),
        intake_root=root,
        arrived_at=arrivals,
    )
    statuses = Counter(r.status for r in results)
    by_form = Counter(r.form for r in results if r.status == "accepted")
    for r in results:
        if r.status == "rejected":
            context.log.warning(f"refused {r.file}: {len(r.errors)} problem(s)")
    form_tables = {
        "KTXH-01": "ktxh01_value",
        "YT-01": "yt01_value",
        "HCC-06": "hcc06_row",
        "GD-01": "gd01_school",
    }
    yield dg.MaterializeResult(
        asset_key=dg.AssetKey(["raw_intake", "file_manifest"]),
        metadata={
            "files_seen": len(results),
            "accepted": statuses.get("accepted", 0),
            "rejected": statuses.get("rejected", 0),
            "duplicate": statuses.get("duplicate", 0),
        },
    )
    for form, table in form_tables.items():
        yield dg.MaterializeResult(
            asset_key=dg.AssetKey(["raw_intake", table]),
            metadata={"files_loaded": by_form.get(form, 0)},
        )
