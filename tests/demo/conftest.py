"""Demo worlds generated once per test session, each for a pinned "today" (reproducible):

- `demo_dir`: district scale, Nov 2024 – Feb 2025: across the Quế Tân merger, a semester end
  and Tết;
- `reform_dir`: district scale, May 2025 – Jan 2026: across the 2025-07-01 reform (districts
  abolished, ten communes become three), the last GD-01 of the district's education office
  (2024-HK2) and the first ones of the communes (2025-HK1, due 2026-02-15).
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest

from demo.calendar import Month
from demo.generate import generate

SPAN = (Month(2024, 11), Month(2025, 2))
TODAY = date(2025, 5, 1)  # every report of the span has arrived
SEED = 7
REFORM_SPAN = (Month(2025, 5), Month(2026, 1))
REFORM_TODAY = date(2026, 3, 20)


def read_manifest(world: Path) -> list[dict]:
    with (world / "manifest.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "world"
    generate(out, "district", seed=SEED, span=SPAN, today=TODAY)
    return out


@pytest.fixture(scope="session")
def manifest(demo_dir: Path) -> list[dict]:
    return read_manifest(demo_dir)


@pytest.fixture(scope="session")
def reform_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo-reform") / "world"
    generate(out, "district", seed=SEED, span=REFORM_SPAN, today=REFORM_TODAY)
    return out


@pytest.fixture(scope="session")
def reform_manifest(reform_dir: Path) -> list[dict]:
    return read_manifest(reform_dir)
