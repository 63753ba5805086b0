"""`python -m tests.faults.materialize_intake URL INTAKE ARCHIVE`: materialise the Dagster
intake asset once, in a process of its own (two of these at once are two concurrent runs).
Exit 0 on success."""

from __future__ import annotations

import sys


def main(url: str, intake: str, archive: str) -> int:
    import dagster as dg

    from orchestration.intake.assets import intake_files
    from orchestration.resources import IntakeResource, WarehouseResource

    result = dg.materialize(
        [intake_files], instance=dg.DagsterInstance.ephemeral(), raise_on_error=False,
        resources={"warehouse": WarehouseResource(url=url),
                   "intake": IntakeResource(intake_dir=intake, archive_dir=archive)})
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
