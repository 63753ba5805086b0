"""A small demo world (district scale, Nov 2024 – Feb 2025: across the Quế Tân merger, a
semester end and Tết) generated once per test session."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ioc.demo.calendar import Month
from ioc.demo.generate import generate

SPAN = (Month(2024, 11), Month(2025, 2))
SEED = 7


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo") / "world"
    generate(out, "district", seed=SEED, span=SPAN)
    return out


@pytest.fixture(scope="session")
def manifest(demo_dir: Path) -> list[dict]:
    with (demo_dir / "manifest.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
