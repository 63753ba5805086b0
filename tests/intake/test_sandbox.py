"""The reader runs in a memory-capped worker process: a file that makes it allocate beyond
the ceiling, or take too long, is refused with a reason — the service and the other files
go on, and the next file gets a new worker."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from ingest.intake import sandbox
from ingest.intake.engine import ingest_paths
from tests.intake.builders import ktxh_sheet, write_xlsx
from tests.intake.conftest import NOW
from tests.security import hostile


@pytest.fixture
def fresh_worker():
    sandbox.reset()
    yield
    sandbox.reset()


def test_a_file_that_exhausts_the_reader_is_refused_and_the_next_is_loaded(
        tmp_path: Path, fresh_db_url: str, monkeypatch, fresh_worker) -> None:
    # 2.4M real cells: inside the guard's bounds (3M), but far beyond a 250 MiB reader
    monkeypatch.setenv("IOC_INTAKE_READER_MEMORY_MB", "250")
    root = tmp_path / "intake"
    big = root / "xa-hiep-thuan" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx"
    big.parent.mkdir(parents=True)
    big.write_bytes(hostile.dense_rows_xlsx(12_000, 200))
    good = write_xlsx(root / "xa-que-luu" / "KTXH-01_xa-que-luu_2024-10.xlsx",
                      ktxh_sheet(unit_line="UBND XÃ QUẾ LƯU"))
    results = ingest_paths([big, good], conninfo=fresh_db_url, archive_dir=tmp_path / "arc",
                           intake_root=root, now=NOW)
    assert [r.status for r in results] == ["rejected", "accepted"]
    assert [e["code"] for e in results[0].errors] == ["too_large"]
    assert "bộ nhớ" in results[0].errors[0]["message"]
    assert Path(results[0].archive_path).read_bytes() == big.read_bytes()  # kept
    with psycopg.connect(fresh_db_url) as conn:
        assert conn.execute("select count(*) from raw_intake.file_manifest").fetchone()[0] == 2


def test_a_file_that_takes_too_long_is_refused(tmp_path: Path, monkeypatch,
                                               fresh_worker) -> None:
    from ingest.intake.engine import check_paths

    monkeypatch.setenv("IOC_INTAKE_READER_TIMEOUT_S", "0.3")
    slow = tmp_path / "xa-hiep-thuan" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx"
    slow.parent.mkdir(parents=True)
    slow.write_bytes(hostile.dense_rows_xlsx(4_000, 200))
    [result] = check_paths([slow], intake_root=tmp_path, now=NOW)
    assert [e["code"] for e in result.errors] == ["too_slow"]
    monkeypatch.setenv("IOC_INTAKE_READER_TIMEOUT_S", "300")
    good = write_xlsx(tmp_path / "xa-que-luu" / "KTXH-01_xa-que-luu_2024-10.xlsx",
                      ktxh_sheet(unit_line="UBND XÃ QUẾ LƯU"))
    [after] = check_paths([good], intake_root=tmp_path, now=NOW)
    assert after.status == "accepted"
