"""Hostile files against the intake engine: each is refused or neutralised within bounded
memory and time, and the sender is told why in Vietnamese.

Every file is judged in a child process with a 2 GiB address-space ceiling (`probe.py`), so
a reader that explodes kills the child, not the test run; the child reports wall time and
peak memory. Then the same files go through a real `ioc ingest` (also a child, also bounded):
refused files load nothing and get their answer in `_phan_hoi/`.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from ioc.settings import PROJECT_ROOT
from tests.faults.ledger import LEDGER
from tests.security import hostile as h

LIMIT_MB = 2048  # address space of the child judging one file
MAX_SECONDS = 20.0  # wall time to refuse any of these (measured: < 2 s each, idle machine)
MAX_RSS_MB = 600  # peak resident memory while judging any of these
VIETNAMESE = set("ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ")


@dataclass(frozen=True)
class Case:
    name: str
    build: object  # () -> bytes
    ext: str = ".xlsx"
    refused_with: frozenset[str] = frozenset({"too_large"})  # empty: neutralised (accepted)
    slow: bool = False


CASES = [
    Case("zip bomb: 3 GiB sheet in 11 MB, honest headers", lambda: h.zip_bomb_xlsx(3 * h.GIB)),
    Case("zip bomb: 3 GiB sheet, headers declare 600 bytes",
         lambda: h.zip_bomb_xlsx(3 * h.GIB, lie=True)),
    Case("zip bomb: 400 MB sheet, under the 512 MB total", lambda: h.zip_bomb_xlsx(400 << 20),
         slow=True),
    Case("1,000,000 rows x 200 columns of cells (3 MB file)", lambda: h.million_rows_xlsx()),
    Case("1,000,000 rows x 200 columns, headers lie", lambda: h.million_rows_xlsx(lie=True)),
    Case("one cell at GR1000000: used range 1M x 200 in 6 KB", lambda: h.sparse_huge_xlsx()),
    Case("one cell at GR1000000 without a <dimension>",
         lambda: h.sparse_huge_xlsx(declare=False)),
    Case("20,000 rows of 200 implied-position cells (4M cells)",
         lambda: h.repeated_rows_xlsx(b"<row>" + b"<c><v>1</v></c>" * 200 + b"</row>", 20_000)),
    Case("cell at GR1000000 after a tab: <c\\tr=...>",
         lambda: h.far_cell_spelled_xlsx('<c\tr="{ref}">')),
    Case("cell at GR1000000 after a line break: <c\\nr=...>",
         lambda: h.far_cell_spelled_xlsx('<c\nr="{ref}">')),
    Case("cell at GR1000000 in single quotes: <c r='...'>",
         lambda: h.far_cell_spelled_xlsx("<c r='{ref}'>")),
    Case("cell at GR1000000 with spaces around '='",
         lambda: h.far_cell_spelled_xlsx('<c r = "{ref}">')),
    Case("cell at GR1000000 after an attribute holding '>'",
         lambda: h.far_cell_spelled_xlsx('<c s=">" r="{ref}">')),
    Case("cell at GR1000000, sheet stored as xl/data/sheet1.xml",
         lambda: h.far_cell_spelled_xlsx('<c r="{ref}">', sheet_at="xl/data/sheet1.xml")),
    Case("cell at GR1000000, sheet stored as a picture (xl/media/image1.png)",
         lambda: h.far_cell_spelled_xlsx('<c r="{ref}">', sheet_at="xl/media/image1.png")),
    Case("<dimension> claims A1:GR1000000, cells are the report's",
         lambda: h.dimension_only_xlsx(), refused_with=frozenset()),
    Case(".xls with one cell at IV65536 (rows padded to 16.7M cells)", lambda: h.far_cell_xls(),
         ext=".xls"),
    Case("CSV of 3.2M cells (6 MB)", lambda: h.huge_csv(), ext=".csv"),
    Case("billion laughs in the sheet", lambda: h.entity_xlsx("laughs"),
         refused_with=frozenset({"corrupt_file"})),
    Case("billion laughs in workbook.xml", lambda: h.entity_xlsx("laughs", "xl/workbook.xml"),
         refused_with=frozenset({"corrupt_file"})),
    Case("external entity file:///etc/passwd in the sheet", lambda: h.entity_xlsx("xxe"),
         refused_with=frozenset({"corrupt_file"})),
    Case("external entity file:///etc/passwd in workbook.xml",
         lambda: h.entity_xlsx("xxe", "xl/workbook.xml"),
         refused_with=frozenset({"corrupt_file"})),
    Case("external entity in docProps/core.xml (never parsed)",
         lambda: h.entity_xlsx("xxe", "docProps/core.xml"), refused_with=frozenset()),
]
FAST = [c for c in CASES if not c.slow]


def _params(cases):
    return [pytest.param(c, id=c.name, marks=[pytest.mark.faults] if c.slow else [])
            for c in cases]


def judge_in_child(path: Path, root: Path, limit_mb: int = LIMIT_MB) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.security.probe", str(path), str(root), str(limit_mb)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"the judge died (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(proc.stdout)


def _drop(root: Path, case: Case, data: bytes) -> Path:
    path = root / "xa-hiep-thuan" / f"KTXH-01_xa-hiep-thuan_2024-10{case.ext}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", _params(CASES))
def test_hostile_file_is_refused_within_bounds(case: Case, tmp_path: Path) -> None:
    data = case.build()
    assert len(data) < 16 << 20  # the attack is small; what it claims is not
    root = tmp_path / "intake"
    path = _drop(root, case, data)
    report = judge_in_child(path, root)
    LEDGER.hostile(case.name)
    [result] = report["results"]
    codes = {code for code, _, _ in result["errors"]}
    if case.refused_with:
        assert result["status"] == "rejected"
        assert codes & case.refused_with, result["errors"]
        assert result["records"] == 0
        for _code, message, _hint in result["errors"]:  # the sender is told why, in Vietnamese
            assert set(message.lower()) & VIETNAMESE, message
    else:  # neutralised: read as the report it is, the trick ignored
        assert result["status"] == "accepted", result["errors"]
        assert result["records"] == 17
    assert "root:x:0:0" not in result["text"]  # /etc/passwd never read into a result
    assert report["seconds"] < MAX_SECONDS * (3 if case.slow else 1), report["seconds"]
    assert report["peak_rss_mb"] < MAX_RSS_MB, report["peak_rss_mb"]


def _limit_memory() -> None:
    limit = LIMIT_MB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_ioc_ingest_refuses_them_loads_nothing_and_answers(tmp_path: Path,
                                                            fresh_db_url: str) -> None:
    """All the hostile files at once through `ioc ingest` (a bounded child process): one
    refused manifest row each, no value row, an answer in `_phan_hoi/` saying why."""
    root = tmp_path / "intake"
    expected = {}
    for i, case in enumerate(FAST):
        path = root / "xa-hiep-thuan" / f"KTXH-01_xa-hiep-thuan_2024-10_{i:02d}{case.ext}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(case.build())
        expected[str(path)] = case
    env = {**os.environ, "IOC_WAREHOUSE_URL": fresh_db_url,
           "IOC_ARCHIVE_DIR": str(tmp_path / "archive")}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ioc"), "ingest", str(root), "--json",
         "--now", "2025-03-01T10:00:00+07:00"], env=env, capture_output=True, text=True,
        timeout=600, preexec_fn=_limit_memory, cwd=PROJECT_ROOT)
    assert proc.returncode == 1, proc.stderr[-2000:]  # some refused
    results = {r["file"]: r for r in json.loads(proc.stdout)}
    assert set(results) == set(expected)
    with psycopg.connect(fresh_db_url) as conn:
        for path, case in expected.items():
            r = results[path]
            status, loaded = conn.execute(
                "select m.status, (select count(*) from raw_intake.ktxh01_value v "
                "where v.file_id = m.file_id) from raw_intake.file_manifest m "
                "where m.original_path = %s", (path,)).fetchone()
            if case.refused_with:
                assert (r["status"], status, loaded) == ("rejected", "rejected", 0), case.name
                answer = Path(path).parent / "_phan_hoi" / f"{Path(path).name}.loi.txt"
                text = answer.read_text(encoding="utf-8-sig")
                assert "TỆP BỊ TỪ CHỐI" in text and r["errors"][0]["message"] in text
            else:
                assert status == "accepted" and loaded == 17, case.name
    LEDGER.hostile("hostile files through `ioc ingest` (one batch)", len(expected))
