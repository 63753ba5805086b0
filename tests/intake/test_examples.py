"""The example files of tests/fixtures/examples are accepted with the values they hold."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from tests.intake.conftest import check_one, values

EXAMPLES = FIXTURES / "examples"


def _in_folder(intake: Path, name: str, unit: str) -> Path:
    target = intake / unit / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(EXAMPLES / name, target)
    return target


@pytest.mark.parametrize("in_intake", [True, False])
def test_que_luu_csv_windows_1258(intake: Path, in_intake: bool) -> None:
    name = "KTXH-01_xa-que-luu_2024-10.csv"
    path = _in_folder(intake, name, "xa-que-luu") if in_intake else EXAMPLES / name
    result = check_one(path, intake if in_intake else None)
    assert result.status == "accepted", result.errors
    assert (result.form, result.org_unit_id, result.period) == ("KTXH-01", "xa-que-luu",
                                                                 "2024-10")
    assert values(result)["KT01"] == Decimal("412.5")
    assert values(result, "plan_year")["KT01"] == Decimal(5200)
    assert values(result, "plan_year")["KT09"] == Decimal(12000)
    assert values(result)["XH01"] == Decimal(5120)
    assert len(result.records) == 17
    assert result.to_json()["records"][0] == {
        "indicator_code": "KT01", "value": 412.5, "plan_year": 5200, "ytd": None, "note": None,
        "source_sheet": "CSV", "source_row": 2,
        # the number cells as the CSV held them, beside the numbers read from them
        "as_written": '{"value": "412,5", "plan_year": "5.200"}'}


def test_hiep_thuan_xlsx(intake: Path) -> None:
    result = check_one(_in_folder(intake, "KTXH-01_xa-hiep-thuan_2024-10.xlsx", "xa-hiep-thuan"),
                       intake)
    assert result.status == "accepted", result.errors
    assert (result.org_unit_id, result.period) == ("xa-hiep-thuan", "2024-10")
    assert values(result)["KT01"] == Decimal("412.5")
    assert values(result, "ytd")["KT01"] == Decimal(4125)
    assert values(result)["XH06"] == 15


def test_song_tra_yt01(intake: Path) -> None:
    result = check_one(_in_folder(intake, "YT-01_xa-song-tra_2024-10.xlsx", "xa-song-tra"), intake)
    assert result.status == "accepted", result.errors
    assert result.form == "YT-01"
    assert values(result) == {"YT01": 612, "YT02": 540, "YT03": 7, "YT04": 84, "YT05": 6,
                              "YT06": 5, "YT07": 2, "YT08": 0, "YT09": 41, "YT10": 3980,
                              "YT11": 3}


def test_binh_lam_hcc06(intake: Path) -> None:
    result = check_one(_in_folder(intake, "HCC-06_xa-binh-lam_2024-10.xlsx", "xa-binh-lam"), intake)
    assert result.status == "accepted", result.errors
    rows = {r["field"]: r for r in result.records}
    assert list(rows) == ["Hộ tịch", "Chứng thực", "Đất đai", "Lao động - Thương binh và Xã hội"]
    assert rows["Đất đai"] == {
        "field": "Đất đai", "received_total": 16, "carried_over": 6, "received_online": 1,
        "received_direct": 9, "resolved_total": 10, "resolved_early": 3, "resolved_on_time": 4,
        "resolved_late": 3, "pending_total": 6, "pending_in_time": 4, "pending_late": 2,
        "source_sheet": "Sheet", "source_row": 12, "as_written": (
            '{"received_total": "16", "carried_over": "6", "received_online": "1", '
            '"received_direct": "9", "resolved_total": "10", "resolved_early": "3", '
            '"resolved_on_time": "4", "resolved_late": "3", "pending_total": "6", '
            '"pending_in_time": "4", "pending_late": "2"}')}


def test_gddt_gd01(intake: Path) -> None:
    result = check_one(_in_folder(intake, "GD-01_phong-gddt_2024-HK1.xlsx", "phong-gddt"), intake)
    assert result.status == "accepted", result.errors
    assert result.period == "2024-HK1"
    schools = {r["school_code"]: r for r in result.records}
    assert len(schools) == 8
    assert {r["level"] for r in result.records} == {"Mầm non", "Tiểu học", "THCS"}
    assert schools["CS01"]["org_unit_id"] == "tt-tan-binh"  # written "Tân Bình"
    assert schools["TH02"]["org_unit_id"] == "xa-phuoc-tra"
    assert schools["CS02"]["national_standard"] is True  # "x"
    assert schools["MN02"]["national_standard"] is False
    assert schools["TH03"]["pupils"] == 512 and schools["TH03"]["girls"] == 250
    assert result.to_json()["records"][0]["pupils"] == 142
