"""Small report files built in the tests themselves (no large fixtures).

`ktxh_table()` and friends return the rows of a valid form as lists of cells; `write_xlsx`
and `write_csv` put rows into files with the variations a test needs (merged cells, hidden
rows, hidden sheets, other encodings and delimiters).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl

KTXH_HEADER = ["STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Kế hoạch năm",
               "Thực hiện tháng", "Lũy kế từ đầu năm", "Ghi chú"]
# code, name, unit, plan, month, ytd
KTXH_VALUES = [
    ("KT01", "Thu ngân sách nhà nước trên địa bàn", "triệu đồng", 5200, 412.5, 4125),
    ("KT02", "Chi ngân sách xã", "triệu đồng", 4800, 388, 3880),
    ("KT03", "Diện tích gieo trồng cây hằng năm", "ha", 820, 0, 0),
    ("KT04", "Sản lượng lương thực có hạt", "tấn", 2100, 0, 0),
    ("KT05", "Diện tích trồng rừng mới tập trung", "ha", 150, 12.5, 125),
    ("KT06", "Tổng đàn trâu", "con", 430, 415, 415),
    ("KT07", "Tổng đàn bò", "con", 1350, 1320, 1320),
    ("KT08", "Tổng đàn lợn", "con", 3000, 2875, 2875),
    ("KT09", "Giải ngân vốn đầu tư công", "triệu đồng", 12000, 950, 9500),
    ("XH01", "Dân số trung bình", "người", 5150, 5120, 5120),
    ("XH02", "Tổng số hộ", "hộ", 1350, 1342, 1342),
    ("XH03", "Số hộ nghèo", "hộ", 170, 187, 187),
    ("XH04", "Số hộ cận nghèo", "hộ", 90, 96, 96),
    ("XH05", "Số lao động được tạo việc làm mới", "người", 120, 14, 14),
    ("XH06", "Số tiêu chí nông thôn mới đạt", "tiêu chí", 16, 15, 15),
    ("XH07", "Số hộ sử dụng nước sạch", "hộ", 1150, 1104, 1104),
    ("XH08", "Số người tham gia bảo hiểm y tế", "người", 4900, 4870, 4870),
]
YT_HEADER = ["STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Thực hiện tháng", "Ghi chú"]
YT_VALUES = [
    ("YT01", "Số lượt khám chữa bệnh", "lượt", 612),
    ("YT02", "Trong đó: số lượt khám có bảo hiểm y tế", "lượt", 540),
    ("YT03", "Số trẻ dưới 1 tuổi được tiêm chủng đầy đủ", "trẻ", 7),
    ("YT04", "Số trẻ dưới 1 tuổi thuộc diện tiêm chủng trong năm", "trẻ", 84),
    ("YT05", "Số phụ nữ đẻ", "người", 6),
    ("YT06", "Số phụ nữ đẻ được khám thai từ 4 lần trở lên", "người", 5),
    ("YT07", "Số ca mắc sốt xuất huyết", "ca", 2),
    ("YT08", "Số ca mắc tay chân miệng", "ca", 0),
    ("YT09", "Số trẻ dưới 5 tuổi suy dinh dưỡng thể nhẹ cân", "trẻ", 41),
    ("YT10", "Số người có hồ sơ sức khỏe điện tử", "người", 3980),
    ("YT11", "Số người tử vong", "người", 3),
]
HCC_TOP = ["STT", "Lĩnh vực", "Số hồ sơ nhận giải quyết", None, None, None,
           "Kết quả giải quyết", None, None, None, None, None, None]
HCC_SUB = [None, None, "Tổng số", "Kỳ trước chuyển qua", "Mới tiếp nhận trực tuyến",
           "Mới tiếp nhận trực tiếp, bưu chính", "Đã giải quyết: Tổng số", "Trước hạn",
           "Đúng hạn", "Quá hạn", "Đang giải quyết: Tổng số", "Trong hạn", "Quá hạn"]
HCC_ROWS = [
    [1, "Hộ tịch", 73, 2, 31, 40, 68, 50, 18, 0, 5, 5, 0],
    [2, "Chứng thực", 117, 0, 5, 112, 117, 110, 7, 0, 0, 0, 0],
    [3, "Đất đai", 16, 6, 1, 9, 10, 3, 4, 3, 6, 4, 2],
    [4, "Lao động - Thương binh và Xã hội", 10, 1, 3, 6, 9, 6, 3, 0, 1, 1, 0],
]
HCC_MERGES = ["C{r}:F{r}", "G{r}:M{r}", "A{r}:A{r1}", "B{r}:B{r1}"]
GD_HEADER = ["Mã trường", "Tên trường", "Cấp học", "Xã, thị trấn", "Số lớp", "Số học sinh",
             "Trong đó nữ", "Học sinh dân tộc thiểu số", "Học sinh bỏ học trong kỳ",
             "Số giáo viên", "Số phòng học kiên cố", "Đạt chuẩn quốc gia"]
GD_SCHOOLS = {
    "Mầm non": [["MN01", "Trường Mẫu giáo Hiệp Thuận", "Mầm non", "xã Hiệp Thuận", 6, 142, 70, 3,
                 0, 12, 6, "Có"],
                ["MN02", "Trường Mẫu giáo Sông Trà", "Mầm non", "Sông Trà", 5, 98, 51, 61, 1, 9,
                 4, "Không"]],
    "Tiểu học": [["TH01", "Trường Tiểu học Hiệp Thuận", "Tiểu học", "Hiệp Thuận", 10, 236, 113,
                  5, 0, 17, 10, "Có"],
                 ["TH03", "Trường Tiểu học Kim Đồng", "Tiểu học", "Thị trấn Tân Bình", 18, 512,
                  250, 6, 0, 30, 18, "Có"]],
    "THCS": [["CS01", "Trường THCS Phan Bội Châu", "THCS", "TT Tân Bình", 16, 560, 271, 9, 3, 38,
              16, "x"]],
}
FOOTER = [
    [],
    [None, None, None, None, "Hiệp Thuận, ngày 03 tháng 11 năm 2024"],
    ["NGƯỜI LẬP BIỂU", None, None, None, "CHỦ TỊCH"],
    [],
    ["Nguyễn Thị Hoa", None, None, None, "Trần Văn Minh"],
]


def block(unit_line: str, title: str, code: str | None) -> list[list[Any]]:
    rows = [[unit_line, None, None, None, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"],
            [None, None, None, None, "Độc lập - Tự do - Hạnh phúc"], [], ["BÁO CÁO"], [title]]
    rows.append([f"Biểu số: {code}"] if code else [])
    rows.append([])
    return rows


def ktxh_table(values: Sequence[tuple] = KTXH_VALUES, header: Sequence[Any] = KTXH_HEADER,
               groups: bool = True) -> list[list[Any]]:
    rows: list[list[Any]] = [list(header)]
    for i, (code, name, unit, plan, month, ytd) in enumerate(values, 1):
        if groups and code == "KT01":
            rows.append(["I", None, "KINH TẾ"])
        if groups and code == "XH01":
            rows.append(["II", None, "XÃ HỘI"])
        rows.append([i, code, name, unit, plan, month, ytd, None])
    return rows


def ktxh_sheet(unit_line: str = "UBND XÃ HIỆP THUẬN",
               title: str = "Tình hình thực hiện chỉ tiêu kinh tế - xã hội tháng 10 năm 2024",
               code: str | None = "KTXH-01", table: list[list[Any]] | None = None,
               footer: bool = True) -> list[list[Any]]:
    return block(unit_line, title, code) + (table or ktxh_table()) + (FOOTER if footer else [])


def yt_sheet(unit_line: str = "TRẠM Y TẾ XÃ SÔNG TRÀ",
             title: str = "Báo cáo hoạt động trạm y tế tháng 10/2024",
             values: Sequence[tuple] = YT_VALUES) -> list[list[Any]]:
    table = [list(YT_HEADER)] + [[i, c, n, u, v, None] for i, (c, n, u, v) in enumerate(values, 1)]
    return block(unit_line, title, "YT-01") + table + FOOTER


def hcc_sheet(rows: list[list[Any]] | None = None, total: bool = True,
              unit_line: str = "UBND XÃ BÌNH LÂM",
              title: str = "Tình hình, kết quả giải quyết thủ tục hành chính tháng 10 năm 2024"
              ) -> list[list[Any]]:
    rows = [list(r) for r in (rows or HCC_ROWS)]
    out = [*block(unit_line, title, "HCC-06"), list(HCC_TOP), list(HCC_SUB), *rows]
    if total:
        sums = [sum(r[i] for r in rows) for i in range(2, 13)]
        out.append([None, "Tổng cộng", *sums])
    return out + FOOTER


def gd_sheet(schools: list[list[Any]], title: str =
             "Báo cáo thống kê trường học học kỳ I năm học 2024-2025",
             header: Sequence[str] = GD_HEADER) -> list[list[Any]]:
    return block("PHÒNG GIÁO DỤC VÀ ĐÀO TẠO", title, "GD-01") + [list(header)] + [
        list(s) for s in schools]


def write_xlsx(path: Path, sheets: Sequence[tuple[str, list[list[Any]]]] | list[list[Any]], *,
               merges: dict[str, list[str]] | None = None,
               hidden_rows: dict[str, list[int]] | None = None,
               hidden_sheets: Sequence[str] = ()) -> Path:
    """Rows (lists of cells) into an .xlsx; `sheets` may be one sheet's rows."""
    if sheets and isinstance(sheets[0], list):
        sheets = [("Sheet1", sheets)]  # type: ignore[list-item]
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:  # type: ignore[misc]
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, 1):
            for c, value in enumerate(row, 1):
                if value is not None:
                    ws.cell(r, c, value)
        for rng in (merges or {}).get(name, []):
            ws.merge_cells(rng)
        for r in (hidden_rows or {}).get(name, []):
            ws.row_dimensions[r].hidden = True
        if name in hidden_sheets:
            ws.sheet_state = "hidden"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def csv_bytes(rows: list[list[Any]], *, delimiter: str = ",", encoding: str = "utf-8",
              bom: bool = False) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258_text(text: str) -> str:
    """Text as Windows-1258 stores it: base letters precomposed, tone marks combining."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(p for p in parts if p in _TONES)
        base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in _TONES))
        out.append(base + tones)
    return "".join(out)


def vn_number(value: float | int) -> str:
    """1234.5 → '1.234,5' (how Vietnamese staff type numbers as text)."""
    whole, _, frac = f"{value}".partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    text = ".".join(groups)
    return text + ("," + frac if frac and frac != "0" else "")
