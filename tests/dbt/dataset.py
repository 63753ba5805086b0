"""A small hand-made world for the warehouse tests, and the hand-computed answers.

Hiệp Đức as in the seed: 11 communes until 2024-12-31, 10 from 2025 (Hiệp Hòa and Hiệp
Thuận became Quế Tân). The marts are judged on 2025-03-10 (`AS_OF`).

Intake (raw_intake):
  KTXH-01  Hiệp Hòa   2024-11 on time, 2024-12 on time then corrected (v2 in force)
           Hiệp Thuận 2024-11 late, 2024-12 one refusal then on time
           Quế Tân    2025-01 on time, 2025-02 missing
  YT-01    Hiệp Thuận 2024-12
  HCC-06   Bình Lâm   2024-12 (matches the dossiers, plus a field the system does not have)
  GD-01    phong-gddt 2024-HK1, two schools
  one refused file whose unit could not be told
Agency (raw_agency): dossiers of Bình Lâm (a supplement pause, a late one, one open past
deadline, one across Tết), documents of Quế Thọ, feedback of Quế Tân (a default deadline
across Tết), and personal data in restricted.* that must never reach a mart.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

AS_OF = "2025-03-10"
VN = timezone(timedelta(hours=7))
PERSONAL_NAME = "Nguyễn Văn Riêng Tư"


def at(text: str) -> datetime:
    """A Vietnam-time timestamp from 'YYYY-MM-DD HH:MM'."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=VN)


def _error(code: str, message: str) -> dict:
    return {
        "sheet": "Sheet1",
        "row": 12,
        "column": "F",
        "value": "x",
        "message": message,
        "hint": None,
        "code": code,
    }


# fmt: off
# file_id, unit, form, period, arrived, status, version, is_current, superseded_by, errors
FILES = [
    (1, "xa-hiep-hoa", "KTXH-01", "2024-11", "2024-12-03 09:00", "accepted", 1, True, None, []),
    (2, "xa-hiep-thuan", "KTXH-01", "2024-11", "2024-12-06 09:00", "accepted", 1, True, None, []),
    (3, "xa-hiep-hoa", "KTXH-01", "2024-12", "2025-01-04 10:00", "accepted", 1, False, 4, []),
    (4, "xa-hiep-hoa", "KTXH-01", "2024-12", "2025-01-10 10:00", "accepted", 2, True, None, []),
    (5, "xa-hiep-thuan", "KTXH-01", "2024-12", "2025-01-03 10:00", "rejected", None, False, None,
     [_error("rule_broken", "Số hộ nghèo (XH03) cộng số hộ cận nghèo (XH04) lớn hơn XH02."),
      _error("negative", "Số liệu không được âm (đang ghi -4).")]),
    (6, "xa-hiep-thuan", "KTXH-01", "2024-12", "2025-01-05 20:00", "accepted", 1, True, None, []),
    (7, "xa-que-tan", "KTXH-01", "2025-01", "2025-02-04 10:00", "accepted", 1, True, None, []),
    (8, "xa-hiep-thuan", "YT-01", "2024-12", "2025-01-04 08:00", "accepted", 1, True, None, []),
    (9, "xa-binh-lam", "HCC-06", "2024-12", "2025-01-03 08:00", "accepted", 1, True, None, []),
    (10, "phong-gddt", "GD-01", "2024-HK1", "2025-02-10 08:00", "accepted", 1, True, None, []),
    (11, None, None, None, "2025-01-15 08:00", "rejected", None, False, None,
     [_error("corrupt_file", "Tệp bị hỏng hoặc không phải tệp Excel/CSV hợp lệ, không đọc được.")]),
]

# file_id -> {indicator: (value, plan_year)}
KTXH = {
    1: {"KT01": (100, 1000), "XH01": (4000, None), "XH02": (1000, None), "XH03": (100, None),
        "XH04": (50, None), "XH06": (15, None)},
    2: {"KT01": (60, 600), "XH01": (500, None), "XH02": (100, None), "XH03": (50, None),
        "XH04": (10, None), "XH06": (17, None)},
    3: {"KT01": (999, 1000), "XH01": (4000, None), "XH02": (1000, None), "XH03": (100, None),
        "XH04": (50, None), "XH06": (15, None)},
    4: {"KT01": (40, 1000), "XH01": (4000, None), "XH02": (1000, None), "XH03": (90, None),
        "XH04": (50, None), "XH06": (15, None)},
    6: {"KT01": (30, 600), "XH01": (500, None), "XH02": (100, None), "XH03": (50, None),
        "XH04": (10, None), "XH06": (17, None)},
    7: {"KT01": (70, 1800), "XH01": (4500, None), "XH02": (1100, None), "XH03": (130, None),
        "XH04": (60, None), "XH06": (16, None)},
}

YT = {8: {"YT01": 200, "YT02": 150, "YT03": 3, "YT04": 12, "YT05": 4, "YT06": 3, "YT07": 2,
          "YT08": 1, "YT11": 0}}

HCC_COLUMNS = ["received_total", "carried_over", "received_online", "received_direct",
               "resolved_total", "resolved_early", "resolved_on_time", "resolved_late",
               "pending_total", "pending_in_time", "pending_late"]
HCC = {9: [("Hộ tịch", [4, 0, 1, 3, 3, 2, 0, 1, 1, 0, 1]),
           ("Chứng thực", [1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0])]}

# school_code, name, level, commune, classes, pupils, girls, minority, dropouts, teachers,
# solid classrooms, national standard
GD = {10: [("TH01", "Trường TH Quế Tân", "Tiểu học", "xa-hiep-thuan", 10, 300, 150, 30, 3, 15,
            10, True),
           ("TH02", "Trường TH Bình Lâm", "Tiểu học", "xa-binh-lam", 5, 100, 48, 50, 1, 5, 3,
            False)]}

# ma_ho_so, ma_don_vi, kenh_nop, received, promised, finished, status, paused days,
# digitised, electronic result
DOSSIERS = [
    ("HS1", "20767", 2, "2024-12-02 09:00", "2024-12-05 17:00", "2024-12-04 10:00",
     "da_tra_ket_qua", 0, True, True),
    ("HS2", "20767", 1, "2024-12-09 08:00", "2024-12-19 17:00", "2024-12-18 10:00",
     "da_xu_ly", 3, False, False),
    ("HS3", "20767", 1, "2024-12-10 08:00", "2024-12-12 17:00", "2024-12-13 09:00",
     "da_xu_ly", 0, False, False),
    ("HS4", "20767", 1, "2024-12-20 08:00", "2024-12-24 17:00", None, "dang_xu_ly", 0, False,
     False),
    ("HS5", "20767", 2, "2025-01-24 10:00", "2025-02-05 17:00", "2025-02-04 09:00",
     "da_xu_ly", 0, True, True),
    ("HS6", "20767", 2, "2025-01-06 08:00", "2025-01-08 17:00", "2025-01-06 15:00",
     "da_xu_ly", 0, True, False),
    ("HS7", "20779", 1, "2024-12-03 08:00", "2024-12-03 17:00", "2024-12-03 11:00",
     "da_xu_ly", 0, False, False),
]

# id, direction, unit, date on the document, arrived, deadline, completed, signed
DOCUMENTS = [
    ("VB1", "den", "20764", "2025-01-03", "2025-01-06 09:00", "2025-01-10", "2025-01-09 10:00",
     None),
    ("VB2", "den", "20764", "2025-01-03", "2025-01-06 09:00", "2025-01-08", "2025-01-13 10:00",
     None),
    ("VB3", "den", "20764", "2025-01-17", "2025-01-20 09:00", "2025-02-03", None, None),
    ("VB4", "di", "20764", "2025-01-15", None, None, "2025-01-15 10:00", True),
    ("VB5", "di", "20764", "2025-01-16", None, None, "2025-01-16 10:00", False),
    ("VB6", "den", "20764", "2025-02-03", "2025-02-03 09:00", None, "2025-02-04 10:00", None),
]

# id, channel, field, received, deadline, completed, status, published, rating
FEEDBACK = [
    ("PA1", "zalo", "Môi trường", "2025-01-20 09:00", None, "2025-02-14 10:00", "da_xu_ly",
     True, 5),
    ("PA2", "zalo", "Môi trường", "2025-01-20 10:00", "2025-01-24 17:00", "2025-02-03 15:00",
     "da_xu_ly", False, 2),
    ("PA3", "zalo", "Môi trường", "2025-01-22 10:00", None, "2025-01-23 09:00", "tu_choi",
     False, None),
]

# fmt: on


def load(conn) -> None:
    """Insert the world into raw tables that already exist (created by the real DDL)."""
    for fid, unit, form, period, arrived, status, version, current, _next, errors in FILES:
        conn.execute(
            "insert into raw_intake.file_manifest (file_id, sha256, original_path, "
            "original_name, archive_path, org_unit_id, form_code, period, size_bytes, "
            "arrived_at, status, errors, version, is_current) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s, 1000, %s, %s, %s, %s, %s)",
            (
                fid,
                f"sha{fid}",
                f"/intake/{unit}/f{fid}.xlsx",
                f"f{fid}.xlsx",
                f"/archive/f{fid}.xlsx",
                unit,
                form,
                period,
                at(arrived),
                status,
                json.dumps(errors, ensure_ascii=False),
                version,
                current,
            ),
        )
    for fid, _unit, _form, _period, _arrived, _status, _v, _c, superseded, _e in FILES:
        if superseded:
            conn.execute(
                "update raw_intake.file_manifest set superseded_by = %s where file_id = %s",
                (superseded, fid),
            )
    for fid, values in KTXH.items():
        for row, (code, (value, plan)) in enumerate(values.items(), start=10):
            conn.execute(
                "insert into raw_intake.ktxh01_value (file_id, source_sheet, source_row, "
                "indicator_code, value, plan_year) values (%s, 'KTXH', %s, %s, %s, %s)",
                (fid, row, code, value, plan),
            )
    for fid, values in YT.items():
        for row, (code, value) in enumerate(values.items(), start=10):
            conn.execute(
                "insert into raw_intake.yt01_value (file_id, source_sheet, source_row, "
                "indicator_code, value) values (%s, 'YT', %s, %s, %s)",
                (fid, row, code, value),
            )
    for fid, rows in HCC.items():
        for row, (field, numbers) in enumerate(rows, start=10):
            conn.execute(
                "insert into raw_intake.hcc06_row (file_id, source_sheet, source_row, field, "
                + ", ".join(HCC_COLUMNS)
                + ") values (%s, 'HCC', %s, %s, "
                + ", ".join(["%s"] * len(HCC_COLUMNS))
                + ")",
                (fid, row, field, *numbers),
            )
    for fid, rows in GD.items():
        for row, school in enumerate(rows, start=10):
            conn.execute(
                "insert into raw_intake.gd01_school (file_id, source_sheet, source_row, "
                "school_code, school_name, level, org_unit_id, classes, pupils, girls, "
                "minority_pupils, dropouts, teachers, solid_classrooms, national_standard) "
                "values (%s, 'GD', %s, " + ", ".join(["%s"] * 12) + ")",
                (fid, row, *school),
            )
    for (
        key,
        unit,
        channel,
        received,
        promised,
        finished,
        status,
        paused,
        digitised,
        e_result,
    ) in DOSSIERS:
        last = finished or received
        conn.execute(
            "insert into raw_agency.ho_so (ma_ho_so, ma_tthc, ten_tthc, linh_vuc, "
            "cap_thuc_hien, ma_don_vi, kenh_nop, muc_do_dvc, ngay_tiep_nhan, ngay_hen_tra, "
            "ngay_ket_thuc_xu_ly, trang_thai, so_lan_bo_sung, so_ngay_bo_sung, "
            "co_ket_qua_dien_tu, da_so_hoa, cap_nhat_luc) values (%s, '1.001193', "
            "'Đăng ký khai sinh', 'Hộ tịch', 'xa', %s, %s, 'mot_phan', %s, %s, %s, %s, %s, %s, "
            "%s, %s, %s)",
            (
                key,
                unit,
                channel,
                at(received),
                at(promised),
                finished and at(finished),
                status,
                1 if paused else 0,
                paused,
                e_result,
                digitised,
                at(last),
            ),
        )
        conn.execute(
            "insert into restricted.ho_so_ca_nhan (ma_ho_so, ho_ten, so_dien_thoai, so_cccd, "
            "cap_nhat_luc) values (%s, %s, '0905123456', '049123456789', %s)",
            (key, PERSONAL_NAME, at(last)),
        )
    for key, direction, unit, dated, arrived, deadline, completed, signed in DOCUMENTS:
        status = "da_xu_ly" if completed else "dang_xu_ly"
        conn.execute(
            "insert into raw_agency.van_ban (id, so_ky_hieu, trich_yeu, loai_van_ban, chieu, "
            "ma_don_vi, do_khan, ngay_van_ban, ngay_den, han_xu_ly, ngay_hoan_thanh, "
            "trang_thai, ky_so, cap_nhat_luc) values (%s, '1/UBND', 'V/v báo cáo', "
            "'Công văn', %s, %s, 'thuong', %s, %s, %s, %s, %s, %s, %s)",
            (
                key,
                direction,
                unit,
                dated,
                arrived and at(arrived),
                deadline,
                completed and at(completed),
                status,
                signed,
                at(completed or arrived),
            ),
        )
    for key, channel, field, received, deadline, completed, status, published, rating in FEEDBACK:
        conn.execute(
            "insert into raw_agency.phan_anh (ma_phan_anh, kenh, linh_vuc, dia_ban, "
            "ma_don_vi_xu_ly, ngay_tiep_nhan, han_xu_ly, ngay_hoan_thanh, trang_thai, "
            "cong_khai, danh_gia, cap_nhat_luc) values (%s, %s, %s, '20758', "
            "'20758', %s, %s, %s, %s, %s, %s, %s)",
            (
                key,
                channel,
                field,
                at(received),
                deadline and at(deadline),
                completed and at(completed),
                status,
                published,
                rating,
                at(completed or received),
            ),
        )
        conn.execute(
            "insert into restricted.phan_anh_ca_nhan (ma_phan_anh, ho_ten, so_dien_thoai, "
            "so_cccd, noi_dung, tieu_de, cap_nhat_luc) values (%s, %s, '0905123456', null, %s, "
            "%s, %s)",
            (key, PERSONAL_NAME, f"Tôi là {PERSONAL_NAME}", f"Rác thải - {PERSONAL_NAME}",
             at(received)),
        )
