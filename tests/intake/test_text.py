"""Vietnamese number text, folding of labels, NFC, periods in titles and file names."""

from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest

from ingest.intake import periods
from ingest.intake.text import NotANumber, column_letter, fold, parse_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.234,5", "1234.5"),
        ("98,5", "98.5"),
        ("5.200", "5200"),
        ("1.234.567", "1234567"),
        ("1 234", "1234"),
        ("1\u00a0234,5", "1234.5"),
        ("412,5", "412.5"),
        ("12.5", "12.5"),
        ("1,234,567", "1234567"),
        ("1,234.5", "1234.5"),
        ("0", "0"),
        ("-5", "-5"),
        ("(7)", "-7"),
        (" 42 ", "42"),
    ],
)
def test_vietnamese_number_text(text: str, expected: str) -> None:
    assert parse_number(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["abc", "12 ha", "1.23.4", "1,2,3,4", "1.234,", "--5", "5%"])
def test_not_numbers(text: str) -> None:
    with pytest.raises(NotANumber):
        parse_number(text)


def test_numeric_cells_and_empties() -> None:
    assert parse_number(412.5) == Decimal("412.5")
    assert parse_number(5200.0) == Decimal(5200)
    assert parse_number(4125.000000000001) == Decimal(4125)  # formula noise
    assert parse_number(None) is None
    assert parse_number("") is None
    assert parse_number("-") is None
    with pytest.raises(NotANumber):
        parse_number(True)


def test_fold_ignores_case_diacritics_spacing_and_composition() -> None:
    nfd = unicodedata.normalize("NFD", "Thực hiện tháng")
    assert nfd != "Thực hiện tháng"
    assert fold(nfd) == fold("THUC HIEN\nTHANG") == fold("  Thực  hiện tháng ") == "thuc hien thang"
    assert fold("Đơn vị tính") == "don vi tinh"


def test_column_letters() -> None:
    assert [column_letter(i) for i in (0, 5, 25, 26, 27)] == ["A", "F", "Z", "AA", "AB"]


@pytest.mark.parametrize(
    ("title", "code"),
    [
        ("Tình hình thực hiện chỉ tiêu kinh tế - xã hội tháng 10 năm 2024", "2024-10"),
        ("Báo cáo hoạt động trạm y tế tháng 10/2024", "2024-10"),
        ("BÁO CÁO KTXH T10/2024", "2024-10"),
        ("tháng 3 - 2025", "2025-03"),
        ("Báo cáo thống kê trường học học kỳ I năm học 2024-2025", "2024-HK1"),
        ("học kỳ II năm học 2024 - 2025", "2024-HK2"),
    ],
)
def test_period_in_title(title: str, code: str) -> None:
    assert {p.code for p in periods.in_text(title)} == {code}


def test_signature_date_is_not_a_period() -> None:
    assert periods.in_text("Hiệp Thuận, ngày 03 tháng 11 năm 2024") == set()


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("KTXH-01_xa-hiep-thuan_2024-10.csv", "2024-10"),
        ("bao cao T10-2024.xlsx", "2024-10"),
        ("ktxh_202410.xlsx", "2024-10"),
        ("GD-01_phong-gddt_2024-HK1.xlsx", "2024-HK1"),
        ("GD01 HK2 2024-2025.xlsx", "2024-HK2"),
    ],
)
def test_period_in_file_name(name: str, code: str) -> None:
    assert {p.code for p in periods.in_name(name)} == {code}


def test_semester_bounds_and_end() -> None:
    from datetime import UTC, datetime

    hk1 = periods.parse_code("2024-HK1")
    assert (hk1.start.isoformat(), hk1.end.isoformat()) == ("2024-09-01", "2025-01-31")
    # 31 Jan 2025 23:30 in Viet Nam is 16:30 UTC: not ended; 17:00 UTC is 1 Feb 00:00 local.
    assert not hk1.ended(datetime(2025, 1, 31, 16, 30, tzinfo=UTC))
    assert hk1.ended(datetime(2025, 1, 31, 17, 0, tzinfo=UTC))
