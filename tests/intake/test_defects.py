"""Every defect of forms-contract.md is refused — with sheet, row, column and value named —
and every problem of a file is reported, not just the first."""

from __future__ import annotations

import io
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.intake.builders import (
    GD_SCHOOLS,
    HCC_MERGES,
    HCC_ROWS,
    KTXH_VALUES,
    YT_VALUES,
    gd_sheet,
    hcc_sheet,
    ktxh_sheet,
    ktxh_table,
    write_xlsx,
    yt_sheet,
)
from tests.intake.conftest import check_one, codes, warning_codes

DATA = Path(__file__).parent / "data"


def _with(code: str, **changes) -> list[tuple]:
    """KTXH values with one indicator's cells changed (name, plan, month, ytd)."""
    out = []
    for c, n, u, p, m, y in KTXH_VALUES:
        if c == code:
            n, p, m, y = (changes.get("name", n), changes.get("plan", p),
                          changes.get("month", m), changes.get("ytd", y))
        out.append((c, n, u, p, m, y))
    return out


def _ktxh(intake: Path, values=KTXH_VALUES, name: str = "ktxh.xlsx", unit: str = "xa-hiep-thuan",
          **sheet) -> Path:
    return write_xlsx(intake / unit / name, ktxh_sheet(table=ktxh_table(values), **sheet))


def _refused(result, code: str) -> dict:
    assert result.status == "rejected"
    assert result.records == []
    found = [e for e in result.errors if e["code"] == code]
    assert found, f"expected {code}, got {codes(result)}"
    return found[0]


# --- indicator forms ----------------------------------------------------------------------------

def test_unknown_indicator_code(intake: Path) -> None:
    values = [*KTXH_VALUES, ("KT99", "Chỉ tiêu lạ", "ha", 1, 2, 3)]
    err = _refused(check_one(_ktxh(intake, values), intake), "unknown_indicator")
    assert (err["sheet"], err["row"], err["value"]) == ("Sheet1", 28, "KT99")
    assert err["column"] == "B (Mã chỉ tiêu)"
    assert "KT99" in err["message"]


def test_name_matching_no_indicator(intake: Path) -> None:
    table = [[r[0], *r[2:]] for r in ktxh_table()]  # no code column
    table.append([18, "Số cây xanh trồng mới", "cây", 100, 7, 70, None])
    path = write_xlsx(intake / "xa-hiep-thuan" / "k.xlsx", ktxh_sheet(table=table))
    err = _refused(check_one(path, intake), "unknown_indicator_name")
    assert err["value"] == "Số cây xanh trồng mới" and err["column"].startswith("B ")


def test_required_indicator_missing(intake: Path) -> None:
    values = [v for v in KTXH_VALUES if v[0] != "XH02"]
    err = _refused(check_one(_ktxh(intake, values), intake), "missing_indicator")
    assert "XH02" in err["message"]


def test_required_indicator_empty(intake: Path) -> None:
    err = _refused(check_one(_ktxh(intake, _with("KT06", month=None)), intake), "empty_required")
    assert (err["row"], err["column"]) == (15, "F (Thực hiện tháng)")


def test_optional_indicator_may_be_missing(intake: Path) -> None:
    values = [v for v in KTXH_VALUES if v[0] not in ("KT03", "XH08")]
    assert check_one(_ktxh(intake, values), intake).status == "accepted"


def test_value_not_a_number(intake: Path) -> None:
    err = _refused(check_one(_ktxh(intake, _with("KT02", month="khoảng 400")), intake),
                   "not_a_number")
    assert (err["row"], err["column"], err["value"]) == (11, "F (Thực hiện tháng)", "khoảng 400")


def test_negative_value(intake: Path) -> None:
    err = _refused(check_one(_ktxh(intake, _with("KT05", month=-3)), intake), "negative")
    assert (err["row"], err["value"]) == (14, "-3")


def test_value_outside_indicator_range(intake: Path) -> None:
    err = _refused(check_one(_ktxh(intake, _with("KT01", month=412500)), intake), "out_of_range")
    assert err["value"] == "412500" and "20000" in err["message"]


def test_same_indicator_twice_with_different_values(intake: Path) -> None:
    values = [*KTXH_VALUES, ("KT07", "Tổng đàn bò", "con", 1350, 1500, 1500)]
    err = _refused(check_one(_ktxh(intake, values), intake), "duplicate_indicator")
    assert "KT07" in err["message"] and err["row"] == 28


def test_same_indicator_twice_with_same_values_is_a_warning(intake: Path) -> None:
    values = [*KTXH_VALUES, KTXH_VALUES[6]]
    result = check_one(_ktxh(intake, values), intake)
    assert result.status == "accepted" and "repeated_indicator" in warning_codes(result)
    assert len(result.records) == 17


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"XH03": 900, "XH04": 500}, "XH03"),  # 1400 > 1342 households
        ({"XH07": 1400}, "XH07"),
    ],
)
def test_ktxh_rules_between_values(intake: Path, changes: dict, fragment: str) -> None:
    values = [(c, n, u, p, changes.get(c, m), y) for c, n, u, p, m, y in KTXH_VALUES]
    err = _refused(check_one(_ktxh(intake, values), intake), "rule_broken")
    assert fragment in err["message"] and fragment in err["value"]


def test_ktxh_rule_xh06_at_most_19(intake: Path) -> None:
    result = check_one(_ktxh(intake, _with("XH06", month=20)), intake)
    assert result.status == "rejected"
    assert {"out_of_range"} <= set(codes(result))  # max 19 in indicators.csv as well


@pytest.mark.parametrize(("code", "value", "fragment"), [("YT02", 700, "YT02"),
                                                         ("YT06", 9, "YT06")])
def test_yt_rules_between_values(intake: Path, code: str, value: int, fragment: str) -> None:
    values = [(c, n, u, value if c == code else v) for c, n, u, v in YT_VALUES]
    path = write_xlsx(intake / "xa-song-tra" / "yt.xlsx", yt_sheet(values=values))
    err = _refused(check_one(path, intake), "rule_broken")
    assert fragment in err["message"]


def test_all_problems_are_reported(intake: Path) -> None:
    values = _with("KT02", month="abc")
    values = [(c, n, u, p, -1 if c == "KT05" else m, y) for c, n, u, p, m, y in values]
    values = [v for v in values if v[0] != "XH01"] + [("ZZ01", "?", "?", 1, 1, 1)]
    result = check_one(_ktxh(intake, values), intake)
    assert {"not_a_number", "negative", "missing_indicator", "unknown_indicator"} <= set(
        codes(result))
    assert all(e["message"] for e in result.errors)


# --- HCC-06 -------------------------------------------------------------------------------------

def _hcc(intake: Path, rows, total: bool = True, total_row: list | None = None) -> Path:
    sheet = hcc_sheet(rows, total=total)
    if total_row is not None:
        sheet[7 + 2 + len(rows)] = total_row
    merges = {"Sheet1": [m.format(r=8, r1=9) for m in HCC_MERGES]}
    return write_xlsx(intake / "xa-binh-lam" / "hcc.xlsx", sheet, merges=merges)


@pytest.mark.parametrize(
    ("col", "delta", "rule"),
    [
        (3, 1, "kỳ trước chuyển qua"),  # carried over: total ≠ sum of receipts
        (6, -1, "đã giải quyết + số đang giải quyết"),  # resolved total
        (7, 1, "trước hạn + đúng hạn + quá hạn"),  # early
        (11, 1, "trong hạn + quá hạn"),  # pending in time
    ],
)
def test_hcc06_rules(intake: Path, col: int, delta: int, rule: str) -> None:
    rows = [list(r) for r in HCC_ROWS]
    rows[2][col] += delta
    result = check_one(_hcc(intake, rows), intake)
    assert result.status == "rejected"
    messages = [e["message"] for e in result.errors if e["code"] == "rule_broken"]
    assert any(rule in m for m in messages), messages
    assert all(e["row"] == 12 for e in result.errors if e["code"] == "rule_broken")


def test_hcc06_total_row_must_equal_column_sums(intake: Path) -> None:
    total = [None, "Tổng cộng", 217, 9, 40, 167, 204, 169, 32, 3, 12, 10, 2]
    err = _refused(check_one(_hcc(intake, HCC_ROWS, total_row=total), intake), "total_mismatch")
    assert (err["row"], err["value"]) == (14, "217") and err["column"].startswith("C ")


def test_hcc06_field_twice(intake: Path) -> None:
    rows = [*HCC_ROWS, [5, "Hộ tịch", 1, 0, 1, 0, 1, 1, 0, 0, 0, 0, 0]]
    _refused(check_one(_hcc(intake, rows), intake), "duplicate_key")


def test_hcc06_negative_count(intake: Path) -> None:
    rows = [list(r) for r in HCC_ROWS]
    rows[0] = [1, "Hộ tịch", -1, -1, 0, 0, 0, 0, 0, 0, -1, -1, 0]
    _refused(check_one(_hcc(intake, rows, total=False), intake), "negative")


# --- GD-01 --------------------------------------------------------------------------------------

def _gd(intake: Path, schools) -> Path:
    return write_xlsx(intake / "phong-gddt" / "gd.xlsx", gd_sheet(schools))


def test_gd01_unknown_commune(intake: Path) -> None:
    rows = [[*GD_SCHOOLS["THCS"][0][:3], "Xã Tam Kỳ", *GD_SCHOOLS["THCS"][0][4:]]]
    err = _refused(check_one(_gd(intake, rows), intake), "unknown_commune")
    assert err["value"] == "Xã Tam Kỳ" and err["column"].startswith("D ")


def test_gd01_school_code_twice_across_sheets(intake: Path) -> None:
    dup = [["TH01", "Trường khác", "THCS", "Phước Gia", 6, 190, 96, 181, 4, 17, 6, "Có"]]
    path = write_xlsx(intake / "phong-gddt" / "gd.xlsx",
                      [("Tiểu học", gd_sheet(GD_SCHOOLS["Tiểu học"])), ("THCS", gd_sheet(dup))])
    err = _refused(check_one(path, intake), "duplicate_key")
    assert err["sheet"] == "THCS" and err["value"] == "TH01"


@pytest.mark.parametrize("col", [6, 7, 8])  # girls, minority pupils, dropouts
def test_gd01_part_more_than_pupils(intake: Path, col: int) -> None:
    row = list(GD_SCHOOLS["THCS"][0])
    row[col] = row[5] + 1
    err = _refused(check_one(_gd(intake, [row]), intake), "rule_broken")
    assert "không được lớn hơn số học sinh" in err["message"]


def test_gd01_negative_count(intake: Path) -> None:
    row = list(GD_SCHOOLS["THCS"][0])
    row[4] = -2
    _refused(check_one(_gd(intake, [row]), intake), "negative")


# --- containers ---------------------------------------------------------------------------------

def _copy(intake: Path, src: Path, name: str, unit: str = "xa-hiep-thuan") -> Path:
    target = intake / unit / name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, target)
    return target


def test_password_protected_workbook(intake: Path) -> None:
    path = _copy(intake, DATA / "ktxh-01-password.xlsx", "KTXH-01_2024-10.xlsx")
    err = _refused(check_one(path, intake), "password_protected")
    assert "mật khẩu" in err["message"]
    result = check_one(path, intake)
    assert (result.org_unit_id, result.form, result.period) == ("xa-hiep-thuan", "KTXH-01",
                                                                 "2024-10")


def test_corrupt_workbook(intake: Path) -> None:
    good = _ktxh(intake, name="good.xlsx").read_bytes()
    path = intake / "xa-hiep-thuan" / "hong.xlsx"
    path.write_bytes(good[: len(good) // 2])
    _refused(check_one(path, intake), "corrupt_file")
    path.write_bytes(b"this is not a spreadsheet at all")
    _refused(check_one(path, intake), "corrupt_file")


def test_zip_that_is_not_a_workbook(intake: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "hello")
    path = intake / "xa-hiep-thuan" / "fake.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(buf.getvalue())
    _refused(check_one(path, intake), "corrupt_file")


def test_empty_file(intake: Path) -> None:
    path = intake / "xa-hiep-thuan" / "rong.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"")
    _refused(check_one(path, intake), "empty_file")


def test_unknown_extension(intake: Path) -> None:
    path = intake / "xa-hiep-thuan" / "bao cao.pdf"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"%PDF-1.4 ...")
    _refused(check_one(path, intake), "unknown_extension")


def test_unrecognised_form(intake: Path) -> None:
    rows = [["UBND XÃ HIỆP THUẬN"], ["Danh sách cán bộ"], ["Họ tên", "Chức vụ", "Năm sinh"],
            ["Nguyễn Văn A", "Chủ tịch", 1970]]
    path = write_xlsx(intake / "xa-hiep-thuan" / "danh sach.xlsx", rows)
    _refused(check_one(path, intake), "unknown_form")


def test_missing_value_column(intake: Path) -> None:
    table = [[c for i, c in enumerate(r) if i != 5] for r in ktxh_table()]
    path = write_xlsx(intake / "xa-hiep-thuan" / "k.xlsx", ktxh_sheet(table=table))
    err = _refused(check_one(path, intake), "missing_column")
    assert "Thực hiện tháng" in err["message"]


# --- unit and period ----------------------------------------------------------------------------

def test_period_not_ended(intake: Path) -> None:
    path = _ktxh(intake)
    err = _refused(check_one(path, intake, now=datetime(2024, 10, 31, 10, tzinfo=UTC)),
                   "period_not_ended")
    assert err["value"] == "2024-10"
    assert check_one(path, intake, now=datetime(2024, 10, 31, 17, 1, tzinfo=UTC)).status == (
        "accepted")


def test_unit_not_valid_in_period(intake: Path) -> None:
    title = "Tình hình thực hiện chỉ tiêu kinh tế - xã hội tháng 3 năm 2025"
    path = _ktxh(intake, title=title)
    err = _refused(check_one(path, intake, now=datetime(2025, 5, 1, tzinfo=UTC)),
                   "unit_not_valid")
    assert "xa-que-tan" in err["message"]


def test_new_commune_valid_after_merger(intake: Path) -> None:
    title = "Tình hình thực hiện chỉ tiêu kinh tế - xã hội tháng 3 năm 2025"
    path = _ktxh(intake, title=title, unit_line="UBND XÃ QUẾ TÂN", unit="xa-que-tan")
    result = check_one(path, intake, now=datetime(2025, 5, 1, tzinfo=UTC))
    assert result.status == "accepted", result.errors


def test_content_names_another_unit_than_its_folder(intake: Path) -> None:
    path = _ktxh(intake, unit="xa-binh-lam")  # header says UBND XÃ HIỆP THUẬN
    err = _refused(check_one(path, intake), "unit_mismatch")
    assert "Hiệp Thuận" in err["message"] and "xa-binh-lam" in err["message"]


def test_file_name_names_another_unit_than_its_folder(intake: Path) -> None:
    rows = [["Mã chỉ tiêu", "Chỉ tiêu", "Thực hiện tháng"]] + [[c, n, m] for c, n, _, _, m, _
                                                               in KTXH_VALUES]
    path = write_xlsx(intake / "xa-binh-lam" / "KTXH-01_xa-hiep-thuan_2024-10.xlsx", rows)
    _refused(check_one(path, intake), "unit_mismatch")


def test_content_names_another_period_than_its_file_name(intake: Path) -> None:
    path = _ktxh(intake, name="KTXH-01_xa-hiep-thuan_2024-09.xlsx")
    err = _refused(check_one(path, intake), "period_mismatch")
    assert "2024-10" in err["message"] and "2024-09" in err["message"]


def test_unknown_period(intake: Path) -> None:
    path = _ktxh(intake, title="Tình hình thực hiện chỉ tiêu kinh tế - xã hội")
    _refused(check_one(path, intake), "unknown_period")


def test_semester_form_with_a_month(intake: Path) -> None:
    rows = gd_sheet(GD_SCHOOLS["THCS"], title="Báo cáo thống kê trường học tháng 10 năm 2024")
    path = write_xlsx(intake / "phong-gddt" / "gd.xlsx", rows)
    _refused(check_one(path, intake), "wrong_period_kind")


def test_form_from_a_unit_that_does_not_submit_it(intake: Path) -> None:
    path = _ktxh(intake, unit="phong-gddt", unit_line="PHÒNG GIÁO DỤC VÀ ĐÀO TẠO")
    _refused(check_one(path, intake), "unit_not_submitter")


def test_gd01_commune_merged_before_the_semester(intake: Path) -> None:
    row = [*GD_SCHOOLS["THCS"][0][:3], "Hiệp Thuận", *GD_SCHOOLS["THCS"][0][4:]]
    rows = gd_sheet([row], title="Báo cáo thống kê trường học học kỳ II năm học 2024-2025")
    path = write_xlsx(intake / "phong-gddt" / "gd.xlsx", rows)
    err = _refused(check_one(path, intake, now=datetime(2025, 6, 20, tzinfo=UTC)),
                   "unknown_commune")
    assert "Quế Tân" in err["message"]
