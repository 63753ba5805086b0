"""Every "normal variation" of forms-contract.md is read, with the right values.

Each test builds a small file with one variation and checks that it is accepted and that
the values read are the ones typed.
"""

from __future__ import annotations

import io
import shutil
import unicodedata
import zipfile
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from tests.intake.builders import (
    FOOTER,
    GD_HEADER,
    GD_SCHOOLS,
    HCC_MERGES,
    HCC_ROWS,
    KTXH_HEADER,
    KTXH_VALUES,
    YT_VALUES,
    block,
    cp1258_text,
    csv_bytes,
    gd_sheet,
    hcc_sheet,
    ktxh_sheet,
    ktxh_table,
    vn_number,
    write_xlsx,
    yt_sheet,
)
from tests.intake.conftest import check_one, codes, values, warning_codes

DATA = Path(__file__).parent / "data"


def _ktxh(intake: Path, rows, name: str = "bao cao thang 10.xlsx", unit: str = "xa-hiep-thuan",
          **kwargs) -> Path:
    return write_xlsx(intake / unit / name, rows, **kwargs)


def _accepted(result) -> None:
    assert result.status == "accepted", result.errors


def _expected_ktxh() -> dict[str, Decimal]:
    return {c: Decimal(str(m)) for c, _, _, _, m, _ in KTXH_VALUES}


# --- KTXH-01 / YT-01 layout -------------------------------------------------------------------

def test_reference_layout(intake: Path) -> None:
    result = check_one(_ktxh(intake, ktxh_sheet()), intake)
    _accepted(result)
    assert (result.form, result.org_unit_id, result.period) == ("KTXH-01", "xa-hiep-thuan",
                                                                 "2024-10")
    assert values(result) == _expected_ktxh()
    assert values(result, "plan_year")["KT01"] == 5200
    assert values(result, "ytd")["KT09"] == 9500
    assert [r["source_row"] for r in result.records][:2] == [10, 11]


def test_header_row_at_row_15(intake: Path) -> None:
    rows = ktxh_sheet()
    rows = rows[:7] + [[]] * 7 + rows[7:]  # header now on Excel row 15
    result = check_one(_ktxh(intake, rows), intake)
    _accepted(result)
    assert result.records[0]["source_row"] == 17


def test_header_row_below_15_is_not_found(intake: Path) -> None:
    rows = ktxh_sheet()
    rows = rows[:7] + [[]] * 9 + rows[7:]  # header on Excel row 17
    result = check_one(_ktxh(intake, rows), intake)
    assert result.status == "rejected" and "no_header" in codes(result)


def test_columns_in_another_order_and_extra_columns(intake: Path) -> None:
    order = [5, 2, 1, 4, 6, 0, 7, 3]
    table = []
    for i, row in enumerate(ktxh_table()):
        row = row + [None] * (8 - len(row))
        extra = "Nguồn số liệu" if i == 0 else "Thống kê xã"
        table.append([extra] + [row[j] for j in order] + ["So sánh cùng kỳ" if i == 0 else 99])
    result = check_one(_ktxh(intake, ktxh_sheet(table=table)), intake)
    _accepted(result)
    assert values(result) == _expected_ktxh()
    assert values(result, "plan_year")["XH02"] == 1350


def test_header_texts_with_case_spacing_line_breaks_and_no_diacritics(intake: Path) -> None:
    header = ["stt", "MA CHI TIEU", "Chỉ  tiêu", "Đơn vị\ntính", "KE HOACH NAM",
              "Thuc hien thang", "Lũy kế\ntừ đầu năm", "ghi chu"]
    result = check_one(_ktxh(intake, ktxh_sheet(table=ktxh_table(header=header))), intake)
    _accepted(result)
    assert values(result) == _expected_ktxh()
    assert values(result, "ytd")["KT01"] == Decimal(4125)


def test_header_with_month_number_in_it(intake: Path) -> None:
    header = [*KTXH_HEADER[:4], "Kế hoạch năm 2024", "Thực hiện tháng 10", "Lũy kế 10 tháng",
              "Ghi chú"]
    result = check_one(_ktxh(intake, ktxh_sheet(table=ktxh_table(header=header))), intake)
    _accepted(result)
    assert values(result, "ytd")["KT01"] == Decimal(4125)


def test_header_merged_over_two_rows(intake: Path) -> None:
    top = ["STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Kế hoạch năm", "Thực hiện", None,
           "Ghi chú"]
    sub = [None, None, None, None, None, "Tháng", "Lũy kế từ đầu năm", None]
    table = ktxh_table()
    rows = ktxh_sheet(table=[top, sub, *table[1:]])
    merges = {"Sheet1": ["A8:A9", "B8:B9", "C8:C9", "D8:D9", "E8:E9", "F8:G8", "H8:H9"]}
    result = check_one(_ktxh(intake, rows, merges=merges), intake)
    _accepted(result)
    assert values(result) == _expected_ktxh()
    assert values(result, "ytd")["KT05"] == 125


def test_nfd_text_everywhere(intake: Path) -> None:
    def nfd(rows):
        return [[unicodedata.normalize("NFD", v) if isinstance(v, str) else v for v in r]
                for r in rows]

    table = [[*r[:1], None, *r[2:]] for r in ktxh_table()]  # names only: matched in NFD too
    table[0][1] = "Mã"
    result = check_one(_ktxh(intake, nfd(ktxh_sheet(table=table))), intake)
    _accepted(result)
    assert values(result) == _expected_ktxh()
    assert result.org_unit_id == "xa-hiep-thuan"


def test_code_column_missing_matches_names(intake: Path) -> None:
    table = [[r[0], *r[2:]] for r in ktxh_table()]
    table[1:] = [[r[0], r[1].upper() if isinstance(r[1], str) and r[0] == 3 else r[1], *r[2:]]
                 for r in table[1:]]
    result = check_one(_ktxh(intake, ktxh_sheet(table=table)), intake)
    _accepted(result)
    assert values(result) == _expected_ktxh()


def test_names_without_diacritics_and_with_bullets(intake: Path) -> None:
    table = [[r[0], *r[2:]] for r in ktxh_table()]
    for row in table[1:]:
        if isinstance(row[1], str) and row[0] not in ("I", "II"):
            plain = row[1].replace("Đ", "D").replace("đ", "d")
            row[1] = "- " + unicodedata.normalize("NFD", plain).encode("ascii", "ignore").decode()
    result = check_one(_ktxh(intake, ktxh_sheet(table=table)), intake)
    _accepted(result)
    assert values(result)["KT01"] == Decimal("412.5")


def test_numbers_as_vietnamese_text_and_with_spaces(intake: Path) -> None:
    text_values = [
        (c, n, u, vn_number(p), vn_number(m), f"{vn_number(y)} ".replace(".", " ", 1)
         if y >= 1000 else vn_number(y))
        for c, n, u, p, m, y in KTXH_VALUES
    ]
    table = ktxh_table(values=text_values)
    assert table[2][4] == "5.200" and table[2][5] == "412,5" and table[2][6] == "4 125 "
    result = check_one(_ktxh(intake, ktxh_sheet(table=table)), intake)
    _accepted(result)
    assert values(result) == _expected_ktxh()
    assert values(result, "plan_year")["KT09"] == 12000
    assert values(result, "ytd")["KT01"] == 4125


def test_formula_cells_count_with_their_cached_values(intake: Path) -> None:
    path = intake / "xa-hiep-thuan" / "ktxh.xlsx"
    path.parent.mkdir(parents=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("KTXH")
    for r, row in enumerate(ktxh_sheet()):
        for c, v in enumerate(row):
            if v is not None:
                ws.write(r, c, v)
    # KT01: month = ytd / 10 and ytd = a sum, both formulas with the results Excel stored
    ws.write_formula(9, 5, "=G10/10", None, 412.5)
    ws.write_formula(9, 6, "=4000+125", None, 4125)
    wb.close()
    result = check_one(path, intake)
    _accepted(result)
    assert values(result)["KT01"] == Decimal("412.5")
    assert values(result, "ytd")["KT01"] == 4125


def test_empty_rows_hidden_rows_and_notes_sheet(intake: Path) -> None:
    rows = ktxh_sheet()
    rows = [*rows[:12], [], [], *rows[12:]]  # two empty rows inside the table
    notes = [["Ghi chú"], ["Số liệu tháng 10 là số ước tính, có 17 chỉ tiêu"], ["KT01", 1, 2, 3]]
    path = _ktxh(intake, [("KTXH", rows), ("Ghi chú", notes)], hidden_rows={"KTXH": [11]})
    result = check_one(path, intake)
    _accepted(result)
    assert values(result) == _expected_ktxh()
    assert "hidden_rows" in warning_codes(result)


def test_first_visible_sheet_is_read(intake: Path) -> None:
    old = ktxh_sheet(title="Tình hình thực hiện chỉ tiêu kinh tế - xã hội tháng 9 năm 2024")
    path = _ktxh(intake, [("Tháng 9", old), ("Tháng 10", ktxh_sheet())], hidden_sheets=["Tháng 9"])
    result = check_one(path, intake)
    _accepted(result)
    assert result.period == "2024-10"
    assert result.records[0]["source_sheet"] == "Tháng 10"


def test_period_written_other_ways(intake: Path) -> None:
    for i, title in enumerate(["Báo cáo KTXH tháng 10/2024", "BÁO CÁO KT-XH T10/2024",
                               "Tình hình thực hiện chỉ tiêu kinh tế - xã hội Tháng 10 Năm 2024"]):
        result = check_one(_ktxh(intake, ktxh_sheet(title=title), name=f"f{i}.xlsx"), intake)
        _accepted(result)
        assert result.period == "2024-10"


def test_form_recognised_without_code_line(intake: Path) -> None:
    result = check_one(_ktxh(intake, ktxh_sheet(code=None)), intake)
    _accepted(result)
    assert result.form == "KTXH-01"


def test_xlsm_is_read_and_macros_never_run(intake: Path) -> None:
    src = _ktxh(intake, ktxh_sheet(), name="tmp.xlsx")
    buf = io.BytesIO()
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(
                    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
                    b"application/vnd.ms-excel.sheet.macroEnabled.main+xml")
            zout.writestr(item, data)
        zout.writestr("xl/vbaProject.bin", b"Attribute VB_Name = \"Module1\"\nSub AutoOpen()")
    src.unlink()
    path = intake / "xa-hiep-thuan" / "KTXH T10.xlsm"
    path.write_bytes(buf.getvalue())
    result = check_one(path, intake)
    _accepted(result)
    assert values(result) == _expected_ktxh()


def test_legacy_xls(intake: Path) -> None:
    path = intake / "xa-hiep-thuan" / "KTXH thang 10.xls"
    path.parent.mkdir(parents=True)
    shutil.copyfile(DATA / "ktxh-01-legacy.xls", path)
    result = check_one(path, intake)
    _accepted(result)
    assert values(result) == _expected_ktxh()  # a hidden first sheet was skipped
    assert "hidden_rows" in warning_codes(result)


# --- CSV variant --------------------------------------------------------------------------------

def _csv_rows(text_numbers: bool = True):
    rows = [["Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Kế hoạch năm", "Thực hiện tháng",
             "Lũy kế từ đầu năm", "Ghi chú"]]
    for c, n, u, p, m, _y in KTXH_VALUES:
        rows.append([c, n, u, vn_number(p) if text_numbers else p,
                     vn_number(m) if text_numbers else m, "", ""])
    return rows


def test_csv_windows_1258_semicolon(intake: Path) -> None:
    path = intake / "xa-que-luu" / "KTXH-01_xa-que-luu_2024-10.csv"
    path.parent.mkdir(parents=True)
    rows = [[cp1258_text(v) for v in r] for r in _csv_rows()]
    data = csv_bytes(rows, delimiter=";", encoding="cp1258")
    assert "Thực hiện tháng".encode() not in data
    path.write_bytes(data)
    result = check_one(path, intake)
    _accepted(result)
    assert (result.org_unit_id, result.period) == ("xa-que-luu", "2024-10")
    assert values(result) == _expected_ktxh()
    assert values(result, "plan_year")["KT01"] == 5200


def test_csv_utf8_with_and_without_bom_comma(intake: Path) -> None:
    for bom in (True, False):
        path = intake / "xa-que-luu" / f"KTXH-01_2024-10_{bom}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(csv_bytes(_csv_rows(text_numbers=False), bom=bom))
        result = check_one(path, intake)
        _accepted(result)
        assert values(result) == _expected_ktxh()


def test_csv_unit_from_folder_and_period_from_name(intake: Path) -> None:
    path = intake / "xa-binh-son" / "chi tieu T10-2024.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(csv_bytes(_csv_rows(), delimiter=";", bom=True))
    result = check_one(path, intake)
    _accepted(result)
    assert (result.form, result.org_unit_id, result.period) == ("KTXH-01", "xa-binh-son",
                                                                 "2024-10")


def test_csv_period_from_a_period_folder(intake: Path) -> None:
    path = intake / "xa-binh-son" / "2024-10" / "ktxh.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(csv_bytes(_csv_rows(), delimiter=";"))
    result = check_one(path, intake)
    _accepted(result)
    assert result.period == "2024-10"


# --- YT-01 --------------------------------------------------------------------------------------

def test_yt01_reference_and_name_matching(intake: Path) -> None:
    result = check_one(write_xlsx(intake / "xa-song-tra" / "yt.xlsx", yt_sheet()), intake)
    _accepted(result)
    assert result.form == "YT-01" and result.org_unit_id == "xa-song-tra"
    assert values(result) == {c: Decimal(v) for c, _, _, v in YT_VALUES}


def test_yt01_filed_by_thi_tran(intake: Path) -> None:
    rows = yt_sheet(unit_line="TRẠM Y TẾ THỊ TRẤN TÂN BÌNH")
    result = check_one(write_xlsx(intake / "tt-tan-binh" / "yt.xlsx", rows), intake)
    _accepted(result)
    assert result.org_unit_id == "tt-tan-binh"


# --- HCC-06 -------------------------------------------------------------------------------------

def _hcc_merges(start: int = 8) -> dict[str, list[str]]:
    return {"Sheet1": [m.format(r=start, r1=start + 1) for m in HCC_MERGES]}


def test_hcc06_two_level_merged_header(intake: Path) -> None:
    path = write_xlsx(intake / "xa-binh-lam" / "hcc.xlsx", hcc_sheet(), merges=_hcc_merges())
    result = check_one(path, intake)
    _accepted(result)
    assert [r["field"] for r in result.records] == [r[1] for r in HCC_ROWS]  # no "Tổng cộng"
    land = result.records[2]
    assert (land["resolved_late"], land["pending_late"], land["pending_in_time"]) == (3, 2, 4)
    assert land["received_total"] == 16 and land["carried_over"] == 6


def test_hcc06_header_without_merge_information(intake: Path) -> None:
    path = write_xlsx(intake / "xa-binh-lam" / "hcc.xlsx", hcc_sheet())
    result = check_one(path, intake)
    _accepted(result)
    assert result.records[2]["resolved_late"] == 3 and result.records[2]["pending_late"] == 2


def test_hcc06_free_text_fields_and_more_rows(intake: Path) -> None:
    rows = [*HCC_ROWS, [5, "Văn hóa", 2, 0, 2, 0, 2, 2, 0, 0, 0, 0, 0],
            [6, "Tư pháp - Hộ tịch khác", 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]]
    path = write_xlsx(intake / "xa-binh-lam" / "hcc.xlsx", hcc_sheet(rows),
                      merges=_hcc_merges())
    result = check_one(path, intake)
    _accepted(result)
    assert len(result.records) == 6


# --- GD-01 --------------------------------------------------------------------------------------

def test_gd01_one_sheet_per_level_and_commune_names(intake: Path) -> None:
    sheets = [(level, gd_sheet(rows)) for level, rows in GD_SCHOOLS.items()]
    sheets.append(("Ghi chú", [["Số liệu tính đến 31/12/2024"]]))
    path = write_xlsx(intake / "phong-gddt" / "GD-01 HK1.xlsx", sheets)
    result = check_one(path, intake)
    _accepted(result)
    assert (result.form, result.org_unit_id, result.period) == ("GD-01", "phong-gddt",
                                                                 "2024-HK1")
    by_code = {r["school_code"]: r for r in result.records}
    assert set(by_code) == {"MN01", "MN02", "TH01", "TH03", "CS01"}
    assert by_code["MN01"]["org_unit_id"] == "xa-hiep-thuan"
    assert by_code["TH03"]["org_unit_id"] == "tt-tan-binh"
    assert by_code["CS01"]["org_unit_id"] == "tt-tan-binh"
    assert by_code["CS01"]["national_standard"] is True  # "x"
    assert by_code["MN02"]["national_standard"] is False
    assert by_code["TH01"]["level"] == "Tiểu học" and by_code["TH01"]["pupils"] == 236


def test_gd01_all_levels_in_one_sheet_level_from_sheet_name(intake: Path) -> None:
    header = [h for h in GD_HEADER if h != "Cấp học"]
    sheets = [(level, gd_sheet([r[:2] + r[3:] for r in rows], header=header))
              for level, rows in GD_SCHOOLS.items()]
    path = write_xlsx(intake / "phong-gddt" / "gd.xlsx", sheets)
    result = check_one(path, intake)
    _accepted(result)
    assert {r["school_code"]: r["level"] for r in result.records}["CS01"] == "THCS"


def test_gd01_empty_national_standard_is_no(intake: Path) -> None:
    rows = [[*GD_SCHOOLS["THCS"][0][:11], None]]
    path = write_xlsx(intake / "phong-gddt" / "gd.xlsx", gd_sheet(rows))
    result = check_one(path, intake)
    _accepted(result)
    assert result.records[0]["national_standard"] is False


def test_gd01_semester_two(intake: Path) -> None:
    rows = gd_sheet(GD_SCHOOLS["THCS"], title="Báo cáo thống kê trường học học kỳ II năm học "
                                              "2024-2025")
    path = write_xlsx(intake / "phong-gddt" / "gd.xlsx", rows)
    from datetime import UTC, datetime

    result = check_one(path, intake, now=datetime(2025, 6, 20, tzinfo=UTC))
    _accepted(result)
    assert result.period == "2024-HK2"


def test_footer_rows_are_not_data(intake: Path) -> None:
    # the place/date line sits in a number column: it must end the data, not be an error
    rows = block("UBND XÃ HIỆP THUẬN", "Tình hình thực hiện chỉ tiêu kinh tế - xã hội tháng 10 "
                 "năm 2024", "KTXH-01") + ktxh_table() + FOOTER
    result = check_one(_ktxh(intake, rows), intake)
    _accepted(result)
    assert len(result.records) == 17


def test_addressee_and_send_date_do_not_confuse_unit_and_period(intake: Path) -> None:
    rows = ktxh_sheet()
    rows[2] = [None, None, "Kính gửi: Phòng Tài chính - Kế hoạch huyện Hiệp Đức"]
    path = _ktxh(intake, rows, name="KTXH-01_gui ngay 2024-11-05.xlsx")
    result = check_one(path, intake)
    _accepted(result)
    assert (result.org_unit_id, result.period) == ("xa-hiep-thuan", "2024-10")


def test_gd01_section_heading_rows_are_skipped(intake: Path) -> None:
    rows = [["I. MẦM NON"], *GD_SCHOOLS["Mầm non"], ["II. THCS"], *GD_SCHOOLS["THCS"],
            [None, "Tổng cộng", None, None, 27, 800]]
    path = write_xlsx(intake / "phong-gddt" / "gd.xlsx", gd_sheet(rows))
    result = check_one(path, intake)
    _accepted(result)
    assert [r["school_code"] for r in result.records] == ["MN01", "MN02", "CS01"]


def test_numbering_row_under_the_header(intake: Path) -> None:
    table = ktxh_table()
    table.insert(1, ["A", "B", "C", "D", 1, 2, 3, 4])
    result = check_one(_ktxh(intake, ktxh_sheet(table=table)), intake)
    _accepted(result)
    assert values(result) == _expected_ktxh()
