"""Intake after the 2025 reform (forms.md "After the 2025 reform"): the new communes report
from 2025-07 (GD-01 from 2025-HK1, each commune for the schools in its area), an old unit
that reports for a period after it ended is told which unit replaced it — through every
merger since 2020 — and a unit still reports for the periods in which it existed.

The units are the project's reference data (`dbt_project/seeds/org_units.csv`, a copy of
the outside world's list); the files are made here."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from cli.main import main
from tests.intake.builders import (
    GD_HEADER,
    block,
    hcc_sheet,
    ktxh_sheet,
    ktxh_table,
    write_xlsx,
)
from tests.intake.conftest import check_one, codes

NOW = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)


def _ktxh_title(month: int, year: int) -> str:
    return f"Tình hình thực hiện chỉ tiêu kinh tế - xã hội tháng {month} năm {year}"


def _ktxh(intake: Path, unit: str, unit_line: str, month: int, year: int) -> Path:
    return write_xlsx(intake / unit / "bao cao.xlsx",
                      ktxh_sheet(unit_line=unit_line, title=_ktxh_title(month, year),
                                 table=ktxh_table()))


def _refusal(result, code: str) -> dict:
    assert result.status == "rejected", result
    found = [e for e in result.errors if e["code"] == code]
    assert found, f"expected {code}, got {codes(result)}"
    return found[0]


# --- the examples of the issue ---------------------------------------------------------------


def test_new_commune_reports_ktxh01(intake: Path) -> None:
    result = check_one(_ktxh(intake, "xa-viet-an", "UBND XÃ VIỆT AN", 10, 2026), intake, NOW)
    assert result.status == "accepted", result.errors
    assert (result.org_unit_id, result.period) == ("xa-viet-an", "2026-10")


def test_new_commune_reports_hcc06(intake: Path) -> None:
    sheet = hcc_sheet(unit_line="UBND XÃ HIỆP ĐỨC",
                      title="Tình hình, kết quả giải quyết thủ tục hành chính tháng 9 năm 2026")
    path = write_xlsx(intake / "xa-hiep-duc" / "hcc.xlsx", sheet)
    result = check_one(path, intake, NOW)
    assert result.status == "accepted", result.errors
    assert (result.form, result.org_unit_id, result.period) == ("HCC-06", "xa-hiep-duc", "2026-09")


def _gd(schools: list[list], unit_line: str, title: str) -> list[list]:
    return block(unit_line, title, "GD-01") + [list(GD_HEADER)] + [list(s) for s in schools]


SCHOOLS_PHUOC_TRA = [
    ["MN21", "Trường Mầm non Phước Trà", "Mầm non", "Phước Trà", 5, 120, 60, 80, 0, 10, 5, "Có"],
    ["TH21", "Trường Tiểu học Sông Trà", "Tiểu học", "xã Phước Trà", 9, 210, 100, 150, 2, 16,
     9, "Không"],
]
HK1_2025 = "Báo cáo thống kê trường học học kỳ I năm học 2025-2026"


def test_new_commune_reports_gd01_for_its_schools(intake: Path) -> None:
    # "Phước Trà" in 2025-HK1 is the new commune (xa-phuoc-tra-2025), not the old one of the
    # same name that ended on 2025-06-30
    path = write_xlsx(intake / "xa-phuoc-tra-2025" / "gd.xlsx",
                      _gd(SCHOOLS_PHUOC_TRA, "UBND XÃ PHƯỚC TRÀ", HK1_2025))
    result = check_one(path, intake, NOW)
    assert result.status == "accepted", result.errors
    assert (result.form, result.org_unit_id, result.period) == (
        "GD-01", "xa-phuoc-tra-2025", "2025-HK1")
    assert {r["org_unit_id"] for r in result.records} == {"xa-phuoc-tra-2025"}


def test_old_commune_after_the_reform_is_told_its_successor(intake: Path) -> None:
    result = check_one(_ktxh(intake, "xa-binh-son", "UBND XÃ BÌNH SƠN", 8, 2025), intake, NOW)
    err = _refusal(result, "unit_not_valid")
    assert "Xã Bình Sơn" in err["message"] and "2025-08" in err["message"]
    assert "nay thuộc Xã Việt An" in err["message"]
    assert "xa-viet-an" in err["hint"]


def test_ioc_check_names_the_successor(intake: Path, capsys) -> None:
    path = _ktxh(intake, "xa-binh-son", "UBND XÃ BÌNH SƠN", 8, 2025)
    assert main(["check", str(path), "--json", "--now", NOW.isoformat()]) == 1
    [result] = json.loads(capsys.readouterr().out)
    assert any("nay thuộc Xã Việt An" in e["message"] for e in result["errors"])


# --- the successor chain ---------------------------------------------------------------------


def test_a_unit_merged_twice_is_sent_to_the_unit_of_the_period(intake: Path) -> None:
    # Hiệp Thuận → Quế Tân (2025-01-01) → Xã Hiệp Đức (2025-07-01)
    early = check_one(_ktxh(intake, "xa-hiep-thuan", "UBND XÃ HIỆP THUẬN", 3, 2025), intake, NOW)
    assert "nay thuộc Xã Quế Tân" in _refusal(early, "unit_not_valid")["message"]
    late = check_one(_ktxh(intake, "xa-hiep-thuan", "UBND XÃ HIỆP THUẬN", 9, 2025), intake, NOW)
    assert "nay thuộc Xã Hiệp Đức" in _refusal(late, "unit_not_valid")["message"]


def test_the_2020_merger_too(intake: Path) -> None:
    # Tân An → Tân Bình (2020-02-01) → Xã Hiệp Đức (2025-07-01)
    old = check_one(_ktxh(intake, "tt-tan-an", "UBND THỊ TRẤN TÂN AN", 5, 2021), intake, NOW)
    assert "nay thuộc Thị trấn Tân Bình" in _refusal(old, "unit_not_valid")["message"]


def test_old_unit_still_reports_for_its_last_month(intake: Path) -> None:
    # June 2025 reports arrive in July, from the old units, into their old folders
    result = check_one(_ktxh(intake, "xa-binh-son", "UBND XÃ BÌNH SƠN", 6, 2025), intake,
                       datetime(2025, 7, 3, 3, 0, tzinfo=UTC))
    assert result.status == "accepted", result.errors


def test_new_commune_cannot_report_before_it_existed(intake: Path) -> None:
    result = check_one(_ktxh(intake, "xa-viet-an", "UBND XÃ VIỆT AN", 6, 2025), intake, NOW)
    assert _refusal(result, "unit_not_valid")["value"] == "xa-viet-an"


# --- GD-01 before and after the reform -------------------------------------------------------


def test_gd01_before_the_reform_comes_from_the_education_office(intake: Path) -> None:
    schools = [["TH31", "Trường Tiểu học Phước Trà", "Tiểu học", "Phước Trà", 8, 150, 70, 90,
                1, 12, 8, "Có"]]
    title = "Báo cáo thống kê trường học học kỳ II năm học 2024-2025"
    office = write_xlsx(intake / "phong-gddt" / "gd.xlsx",
                        _gd(schools, "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO", title))
    result = check_one(office, intake, NOW)
    assert result.status == "accepted", result.errors
    # the school's commune in 2024-HK2 (Feb–May 2025) is the old Xã Phước Trà
    assert [r["org_unit_id"] for r in result.records] == ["xa-phuoc-tra"]
    commune = write_xlsx(intake / "xa-phuoc-tra" / "gd.xlsx",
                         _gd(schools, "UBND XÃ PHƯỚC TRÀ", title))
    assert _refusal(check_one(commune, intake, NOW), "unit_not_submitter")


def test_gd01_after_the_reform_is_not_the_education_office(intake: Path) -> None:
    office = write_xlsx(intake / "phong-gddt" / "gd.xlsx",
                        _gd(SCHOOLS_PHUOC_TRA, "PHÒNG GIÁO DỤC VÀ ĐÀO TẠO", HK1_2025))
    err = _refusal(check_one(office, intake, NOW), "unit_not_valid")
    # the office's successor is the area, which does not report: the communes do
    assert "Xã Phước Trà" in err["hint"] and "Xã Việt An" in err["hint"]


def test_gd01_of_a_commune_holds_only_its_own_schools(intake: Path) -> None:
    schools = [*SCHOOLS_PHUOC_TRA,
               ["TH41", "Trường Tiểu học Bình Sơn", "Tiểu học", "Việt An", 7, 160, 80, 10, 0,
                12, 7, "Có"]]
    path = write_xlsx(intake / "xa-phuoc-tra-2025" / "gd.xlsx",
                      _gd(schools, "UBND XÃ PHƯỚC TRÀ", HK1_2025))
    err = _refusal(check_one(path, intake, NOW), "outside_own_area")
    assert "Xã Việt An" in err["message"] and err["row"] is not None


def test_gd01_school_in_a_commune_that_no_longer_exists(intake: Path) -> None:
    schools = [["TH51", "Trường Tiểu học Bình Sơn", "Tiểu học", "Bình Sơn", 7, 160, 80, 10, 0,
                12, 7, "Có"]]
    path = write_xlsx(intake / "xa-viet-an" / "gd.xlsx",
                      _gd(schools, "UBND XÃ VIỆT AN", HK1_2025))
    err = _refusal(check_one(path, intake, NOW), "unknown_commune")
    assert "nay thuộc Xã Việt An" in err["message"]


# --- two units of one name -------------------------------------------------------------------


def test_same_name_told_apart_by_period_without_a_folder(tmp_path: Path) -> None:
    # no unit folder: the header's "XÃ PHƯỚC TRÀ" fits two units, the period decides
    after = write_xlsx(tmp_path / "KTXH-01 thang 8.xlsx",
                       ktxh_sheet(unit_line="UBND XÃ PHƯỚC TRÀ", title=_ktxh_title(8, 2025)))
    result = check_one(after, None, NOW)
    assert result.status == "accepted", result.errors
    assert result.org_unit_id == "xa-phuoc-tra-2025"
    before = write_xlsx(tmp_path / "KTXH-01 thang 5.xlsx",
                        ktxh_sheet(unit_line="UBND XÃ PHƯỚC TRÀ", title=_ktxh_title(5, 2025)))
    result = check_one(before, None, NOW)
    assert result.status == "accepted", result.errors
    assert result.org_unit_id == "xa-phuoc-tra"


def test_old_namesake_folder_after_the_reform(intake: Path) -> None:
    result = check_one(_ktxh(intake, "xa-phuoc-tra", "UBND XÃ PHƯỚC TRÀ", 8, 2025), intake, NOW)
    err = _refusal(result, "unit_not_valid")
    assert "(xa-phuoc-tra-2025)" in err["message"]
