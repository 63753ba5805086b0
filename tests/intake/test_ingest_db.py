"""Ingest against a real warehouse: archive, manifest, COPY, versions, duplicates, feedback."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg

from ingest.intake.engine import ingest_paths, scan_intake
from tests.conftest import FIXTURES

EXAMPLES = FIXTURES / "examples"
NOW = datetime(2025, 3, 1, tzinfo=UTC)


def _drop(intake: Path, unit: str, example: str, name: str | None = None) -> Path:
    folder = intake / unit
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or example)
    shutil.copyfile(EXAMPLES / example, target)
    return target


def test_example_ktxh_is_loaded(tmp_path: Path, fresh_db_url: str) -> None:
    intake = tmp_path / "intake"
    src = _drop(intake, "xa-hiep-thuan", "KTXH-01_xa-hiep-thuan_2024-10.xlsx")
    before = src.read_bytes()
    [result] = ingest_paths([src], conninfo=fresh_db_url, archive_dir=tmp_path / "archive",
                            intake_root=intake, now=NOW)
    assert result.status == "accepted", result.errors
    assert result.version == 1
    assert src.read_bytes() == before  # the original is never modified
    archived = Path(result.archive_path)
    assert archived.read_bytes() == before
    assert archived.parent.name == result.sha256[:2]
    with psycopg.connect(fresh_db_url) as conn:
        row = conn.execute(
            "select v.value, v.plan_year, v.ytd, v.source_row, m.status, m.is_current "
            "from raw_intake.ktxh01_value v join raw_intake.file_manifest m using (file_id) "
            "where v.indicator_code = 'KT01'").fetchone()
    assert row == (Decimal("412.5"), Decimal("5200"), Decimal("4125"), 10, "accepted", True)
    receipt = intake / "xa-hiep-thuan" / "_phan_hoi" / (src.name + ".da-nhan.txt")
    assert "ĐÃ TIẾP NHẬN" in receipt.read_text(encoding="utf-8-sig")
    assert scan_intake(intake, conninfo=fresh_db_url, settle_seconds=0) == []
