"""Answers a person can act on: each problem names the row as staff know it (the field, the
indicator, the school code and name) besides sheet, row and column; receipts and refusals
name the unit and the form by their Vietnamese names."""

from __future__ import annotations

from pathlib import Path

from ingest.intake.engine import ingest_paths
from ingest.intake.feedback import report_text
from tests.intake.builders import (
    GD_SCHOOLS,
    HCC_MERGES,
    HCC_ROWS,
    KTXH_VALUES,
    gd_sheet,
    hcc_sheet,
    ktxh_sheet,
    ktxh_table,
    write_xlsx,
)
from tests.intake.conftest import NOW, check_one


def _hcc(path: Path, rows) -> Path:
    sheet = hcc_sheet(rows)
    top = next(i for i, r in enumerate(sheet, 1) if r and r[0] == "STT")
    merges = [m.format(r=top, r1=top + 1) for m in HCC_MERGES]
    return write_xlsx(path, [("Sheet1", sheet)], merges={"Sheet1": merges})


def test_a_broken_hcc06_row_names_its_field(intake: Path) -> None:
    rows = [list(r) for r in HCC_ROWS]
    rows[2][8] = 5  # Đất đai: resolved on time 5 instead of 4, the row no longer adds up
    path = _hcc(intake / "xa-binh-lam" / "HCC-06_xa-binh-lam_2024-10.xlsx", rows)
    result = check_one(path, intake)
    keys = {e["key"] for e in result.errors if e["code"] == "rule_broken"}
    assert keys == {"Lĩnh vực: Đất đai"}
    text = report_text(result)
    assert "Lĩnh vực: Đất đai" in text
    assert "Đơn vị: Xã Bình Lâm (xa-binh-lam)" in text
    assert "Biểu mẫu: HCC-06 - Tình hình, kết quả giải quyết thủ tục hành chính" in text


def test_a_gd01_error_names_the_school_code_and_name(intake: Path) -> None:
    schools = [list(s) for level in GD_SCHOOLS.values() for s in level]
    schools[3][6] = 600  # TH03: more girls than pupils
    path = write_xlsx(intake / "phong-gddt" / "GD-01_phong-gddt_2024-HK1.xlsx",
                      gd_sheet(schools))
    result = check_one(path, intake)
    keys = {e["key"] for e in result.errors}
    assert keys == {"Mã trường: TH03 (Trường Tiểu học Kim Đồng)"}, result.errors
    assert "Mã trường: TH03 (Trường Tiểu học Kim Đồng)" in report_text(result)


def test_an_indicator_error_names_the_indicator(intake: Path) -> None:
    values = [(c, n, u, p, "mười" if c == "KT02" else m, y) for c, n, u, p, m, y in KTXH_VALUES]
    path = write_xlsx(intake / "xa-hiep-thuan" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx",
                      ktxh_sheet(table=ktxh_table(values)))
    result = check_one(path, intake)
    [error] = result.errors
    assert error["key"] == "Chỉ tiêu KT02 (Chi ngân sách xã)"
    assert error["sheet"] and error["row"] and error["column"].startswith("F")
    assert "Chỉ tiêu KT02 (Chi ngân sách xã)" in report_text(result)


def test_a_receipt_names_unit_and_form(intake: Path, tmp_path: Path, fresh_db_url: str) -> None:
    path = write_xlsx(intake / "xa-hiep-thuan" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx",
                      ktxh_sheet())
    [result] = ingest_paths([path], conninfo=fresh_db_url, archive_dir=tmp_path / "archive",
                            intake_root=intake, now=NOW)
    text = Path(result.feedback_path).read_text(encoding="utf-8-sig")
    assert "Đơn vị: Xã Hiệp Thuận (xa-hiep-thuan)" in text
    assert "Biểu mẫu: KTXH-01 - Báo cáo tình hình thực hiện chỉ tiêu kinh tế - xã hội" in text
    assert "ĐÃ TIẾP NHẬN" in text
