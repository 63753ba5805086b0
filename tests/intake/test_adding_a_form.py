"""The worked example of docs/adding-a-form.md works: its YAML (read from the page) declares
a new form that is recognised, read, checked and loaded without any new code."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import psycopg

from ingest.intake import store
from ingest.intake.contracts import CONTRACTS_DIR, load_contracts
from ingest.intake.reference import SEEDS, form_submitters
from ingest.intake.validate import check_bytes, context_for
from tests.intake.builders import write_xlsx
from tests.intake.conftest import NOW

DOC = Path(__file__).resolve().parents[2] / "docs" / "adding-a-form.md"


def _contracts(tmp_path: Path):
    folder = tmp_path / "contracts"
    shutil.copytree(CONTRACTS_DIR, folder)
    yaml_block = re.search(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    (folder / "dc-01.yaml").write_text(yaml_block, encoding="utf-8")
    return load_contracts(folder)


def _submitters(tmp_path: Path):
    """form_submitters.csv with the page's line for DC-01 added (read from the page)."""
    line = re.search(r"```csv\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    original = (SEEDS / "form_submitters.csv").read_text(encoding="utf-8")
    (seeds / "form_submitters.csv").write_text(original + line, encoding="utf-8")
    return form_submitters(seeds)


def _sheet(rows):
    return [["UBND XÃ SÔNG TRÀ", None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
            ["BÁO CÁO TÌNH HÌNH DÂN CƯ THEO THÔN tháng 10 năm 2024"], ["Biểu số: DC-01"],
            ["STT", "Thôn", "Số hộ", "Số nhân khẩu", "Trong đó nữ", "Hộ nghèo"], *rows,
            [], [None, None, None, "Sông Trà, ngày 02 tháng 11 năm 2024"], ["NGƯỜI LẬP BIỂU"]]


GOOD = [[1, "Thôn 1", 120, 480, 241, 12], [2, "Thôn 2", 95, 390, 200, 30],
        [None, "Tổng cộng", 215, 870, 441, 42]]


def test_worked_example_is_read(tmp_path: Path) -> None:
    contracts = _contracts(tmp_path)
    path = write_xlsx(tmp_path / "intake" / "xa-song-tra" / "dan cu.xlsx", _sheet(GOOD))
    out = check_bytes(path.read_bytes(), context_for(path, tmp_path / "intake"), now=NOW,
                      contracts=contracts, submitters=_submitters(tmp_path))
    assert out.accepted, out.problems.errors
    assert (out.form, out.org_unit_id, out.period, out.table) == (
        "DC-01", "xa-song-tra", "2024-10", "dc01_village")
    assert [(r["village"], r["residents"]) for r in out.records] == [("Thôn 1", 480),
                                                                     ("Thôn 2", 390)]


def test_worked_example_rules(tmp_path: Path) -> None:
    contracts = _contracts(tmp_path)
    bad = [[1, "Thôn 1", 120, 480, 500, 12], [2, "Thôn 1", 95, 390, 200, 130],
           [None, "Tổng cộng", 215, 870, 700, 42]]
    path = write_xlsx(tmp_path / "intake" / "xa-song-tra" / "dan cu.xlsx", _sheet(bad))
    out = check_bytes(path.read_bytes(), context_for(path, tmp_path / "intake"), now=NOW,
                      contracts=contracts, submitters=_submitters(tmp_path))
    assert {p.code for p in out.problems.errors} == {"rule_broken", "duplicate_key",
                                                     "total_mismatch"}


def test_worked_example_table_is_created(tmp_path: Path, fresh_db_url: str) -> None:
    contracts = _contracts(tmp_path)
    with psycopg.connect(fresh_db_url) as conn:
        store.ensure_tables(conn, contracts)
        columns = [r[0] for r in conn.execute(
            "select column_name from information_schema.columns where table_schema = "
            "'raw_intake' and table_name = 'dc01_village' order by ordinal_position")]
    assert columns == ["file_id", "source_sheet", "source_row", "village", "households",
                       "residents", "women", "poor_households", "as_written"]
