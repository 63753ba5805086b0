"""Helpers for the intake tests: a clock after the example periods and a tmp intake root."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.intake.engine import FileResult, check_paths

NOW = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)


@pytest.fixture
def intake(tmp_path: Path) -> Path:
    root = tmp_path / "intake"
    root.mkdir()
    return root


def check_one(path: Path, intake_root: Path | None = None, now: datetime = NOW) -> FileResult:
    [result] = check_paths([path], intake_root=intake_root, now=now)
    return result


def codes(result: FileResult) -> list[str]:
    return [e["code"] for e in result.errors]


def warning_codes(result: FileResult) -> list[str]:
    return [w["code"] for w in result.warnings]


def values(result: FileResult, field: str = "value") -> dict[str, object]:
    return {r["indicator_code"]: r[field] for r in result.records}
