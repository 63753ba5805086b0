"""Start an intake run when new files are complete in the intake folders.

A file counts as complete when its size is the same on two consecutive ticks (staff copy
large files over slow links); a file still growing waits for the next tick.
"""

import json

import dagster as dg

from orchestration.intake.assets import intake_files
from orchestration.resources import IntakeResource

INTAKE_SENSOR_INTERVAL_S = 30

intake_job = dg.define_asset_job(
    "intake_job",
    selection=dg.AssetSelection.assets(intake_files).downstream(),
    description="Nạp các tệp mới trong thư mục tiếp nhận và làm mới các bảng phụ thuộc.",
)


def stable_files(previous: dict[str, int], current: dict[str, int]) -> list[str]:
    """Files whose size did not change since the previous look."""
    return sorted(p for p, size in current.items() if previous.get(p) == size)


@dg.sensor(
    job=intake_job,
    minimum_interval_seconds=INTAKE_SENSOR_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Theo dõi thư mục tiếp nhận; chạy nạp khi có tệp mới đã chép xong.",
)
def intake_sensor(context: dg.SensorEvaluationContext, intake: IntakeResource):
    from ingest.intake import engine

    root = intake.intake_path()
    if not root.exists():
        return dg.SkipReason(f"{root} does not exist")
    previous = json.loads(context.cursor) if context.cursor else {}
    current = {}
    for path in engine.scan_intake(root, settle_seconds=0):  # size compared across ticks
        try:
            current[str(path)] = path.stat().st_size
        except FileNotFoundError:
            continue
    ready = stable_files(previous, current)
    context.update_cursor(json.dumps(current))
    if not ready:
        return dg.SkipReason("no complete new files")
    run_key = "intake:" + ",".join(f"{p}:{current[p]}" for p in ready)
    return dg.RunRequest(run_key=run_key, tags={"ioc/files": str(len(ready))})
