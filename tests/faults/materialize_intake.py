"""`python -m tests.faults.materialize_intake URL INTAKE ARCHIVE`: materialise the Dagster
intake asset once, in a process of its own (two of these at once are two concurrent runs).
Exit 0 on success."""

from __future__ import annotations

import sys


def main(url: str, intake: str, archive: str) -> int:
    import os

    import dagster as dg

    from orchestration.intake.assets import intake_files
    from orchestration.resources import IntakeResource, WarehouseResource

    # the resources read the environment only (no launch-time config)
    os.environ.update(IOC_WAREHOUSE_URL=url, IOC_INTAKE_DIR=intake, IOC_ARCHIVE_DIR=archive)
    result = dg.materialize(
        [intake_files], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
        resources={"warehouse": WarehouseResource(), "intake": IntakeResource()})
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
