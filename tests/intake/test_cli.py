"""`ioc check` and `ioc ingest`: exit codes, JSON output, no side effects for check."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from cli.main import main
from tests.conftest import FIXTURES

EXAMPLES = FIXTURES / "examples"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "intake"
    for unit, name in [("xa-que-luu", "KTXH-01_xa-que-luu_2024-10.csv"),
                       ("xa-binh-lam", "HCC-06_xa-binh-lam_2024-10.xlsx")]:
        (root / unit).mkdir(parents=True)
        shutil.copyfile(EXAMPLES / name, root / unit / name)
    return root


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_check_folder_json_and_no_side_effects(tree: Path, capsys) -> None:
    before = _snapshot(tree)
    assert main(["check", str(tree), "--json", "--now", "2025-01-01T00:00:00+07:00"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [(r["form"], r["org_unit_id"], r["status"]) for r in results] == [
        ("HCC-06", "xa-binh-lam", "accepted"), ("KTXH-01", "xa-que-luu", "accepted")]
    assert results[1]["records"][0]["value"] == 412.5
    assert set(results[0]) >= {"file", "status", "form", "org_unit_id", "period", "errors",
                               "warnings", "records"}
    assert _snapshot(tree) == before  # nothing written, moved or answered


def test_check_unit_folder_and_refusal_exit_1(tree: Path, capsys) -> None:
    bad = tree / "xa-binh-lam" / "rong.xlsx"
    bad.write_bytes(b"")
    assert main(["check", str(tree / "xa-binh-lam")]) == 1
    out = capsys.readouterr().out
    assert "rejected" in out and "Tệp rỗng" in out


def test_check_usage_errors_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["check", str(tmp_path / "missing.xlsx")]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["check", str(empty)]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["check"])
    assert exc.value.code == 2


def test_ingest_loads_into_the_configured_warehouse(tree: Path, tmp_path: Path, fresh_db_url: str,
                                                     monkeypatch, capsys) -> None:
    monkeypatch.setenv("IOC_WAREHOUSE_URL", fresh_db_url)
    monkeypatch.setenv("IOC_ARCHIVE_DIR", str(tmp_path / "archive"))
    assert main(["ingest", str(tree), "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in first] == ["accepted", "accepted"]
    assert main(["ingest", str(tree), "--json"]) == 0  # duplicates are not failures
    again = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    with psycopg.connect(fresh_db_url) as conn:
        assert conn.execute("select count(*) from raw_intake.hcc06_row").fetchone()[0] == 4
    reports = [p for p in (tmp_path / "archive").rglob("*.*") if "_log" not in p.parts]
    assert len(reports) == 2  # one copy per content
    from ingest.intake import arrivals

    assert len(arrivals.read(tmp_path / "archive")) == 4  # every arrival in the archive's log
    assert (tree / "xa-que-luu" / "_phan_hoi" /
            "KTXH-01_xa-que-luu_2024-10.csv.da-nhan.txt").exists()
    bad = tree / "xa-que-luu" / "bao cao.ods"
    bad.write_bytes(b"PK\x03\x04whatever")
    assert main(["ingest", str(bad)]) == 1
