"""A short demo world loaded into the session warehouse, so every mart the dashboards read
holds real rows built by the real pipeline.

The steps are the production ones, called directly (no Dagster, to keep the suite fast):
`demo.generate` writes the district's intake files and agency records; the intake engine
judges and loads the files in arrival order; the agency connectors pull dossiers, documents
and feedback from the demo API; `dbt build` makes every mart. One "today" (`TODAY`, pinned so
the suite is reproducible) is given to all of them: the world ends the day before, the demo
API's clock stands at its start, dbt's `as_of_date` is that day.

The span is October 2024 – September 2025 (in progress on `TODAY`): Hiệp Thuận before its
merger (the commune role of the security tests), Quế Tân in 2025, the 2025-07-01 reform with
the three new communes from July, GD-01 of the two semesters that end inside it (2024-HK1 in
January, 2024-HK2 in May), and more than six months of history per old commune for the
outlier mart.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path

from ioc import warehouse
from ioc.settings import Settings

SEED = 1
START = (2024, 10)
END = (2025, 9)
TODAY = date(2025, 9, 10)
AS_OF_DATE = TODAY.isoformat()
TOKEN = "kiem-thu-superset"


@dataclass
class LoadedWorld:
    root: Path
    timings: dict[str, float] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    pulled: dict[str, int] = field(default_factory=dict)


def _arrivals(intake: Path) -> dict[str, datetime]:
    """The generator's sidecar: when each file reached the intake folder."""
    with open(intake / "_arrivals.csv", encoding="utf-8-sig", newline="") as fh:
        return {
            str((intake / row["file"]).absolute()): datetime.fromisoformat(row["arrived_at"])
            for row in csv.DictReader(fh)
        }


def load(settings: Settings, root: Path) -> LoadedWorld:
    """Generate, ingest, pull and build; return what it took."""
    from demo.api_server import serve_in_thread
    from demo.calendar import TZ, Month
    from demo.generate import generate
    from ingest.agency import config as agency_config
    from ingest.agency.pull import pull
    from ingest.intake import engine
    from ioc.dbt_runner import run_dbt

    loaded = LoadedWorld(root)
    world = root / "world"
    t0 = time.perf_counter()
    generate(world, scale="district", seed=SEED, span=(Month(*START), Month(*END)), today=TODAY,
             jobs=1)
    loaded.timings["generate"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    url = warehouse.url(settings)
    intake = world / "intake"
    arrivals = _arrivals(intake)
    waiting = engine.scan_intake(intake, conninfo=url, settle_seconds=0)
    waiting.sort(key=lambda p: (arrivals.get(str(p.absolute()), datetime.max.astimezone()), str(p)))
    results = engine.ingest_paths(
        waiting,
        conninfo=url,
        archive_dir=root / "archive",
        intake_root=intake,
        arrived_at=arrivals,
        feedback=False,
    )
    for r in results:
        loaded.files[r.status] = loaded.files.get(r.status, 0) + 1
    loaded.timings["ingest"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    with serve_in_thread(world, token=TOKEN, now=datetime.combine(TODAY, clock_time(0), TZ)) as api:
        cfg = agency_config.load(base_url=api.url, token=TOKEN)
        stats = pull(conninfo=url, config=cfg)
    loaded.pulled = {name: s.inserted + s.updated for name, s in stats.items()}
    loaded.timings["pull"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    code = run_dbt(
        ["build", "--vars", f"{{as_of_date: '{AS_OF_DATE}'}}", "--quiet"],
        settings,
        check=False,
    )
    loaded.timings["dbt_build"] = time.perf_counter() - t0
    if code != 0:
        raise RuntimeError(f"dbt build failed (exit {code}) on the demo world")
    return loaded
