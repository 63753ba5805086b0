"""Report periods: months (`2024-10`) and school semesters (`2024-HK1` = HK1 of 2024–2025).

A semester HK1 runs September to January, HK2 February to May (forms-contract.md).
Periods are found in titles (`tháng 10 năm 2024`, `tháng 10/2024`, `T10/2024`,
`học kỳ I năm học 2024-2025`) and in file or folder names (`2024-10`, `2024-HK1`).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from ingest.intake.text import strip_accents

LOCAL_TZ = timezone(timedelta(hours=7), "Asia/Ho_Chi_Minh")  # no DST in Viet Nam


@dataclass(frozen=True, order=True)
class Period:
    code: str  # "2024-10" or "2024-HK1"
    start: date
    end: date

    @property
    def kind(self) -> str:
        return "semester" if "HK" in self.code else "month"

    @property
    def year(self) -> int:
        return int(self.code[:4])

    @property
    def month(self) -> int | None:
        return None if self.kind == "semester" else int(self.code[5:7])

    def ended(self, now: datetime) -> bool:
        """True once the last day of the period is over in Viet Nam."""
        return now.astimezone(LOCAL_TZ).date() > self.end


def month(year: int, mon: int) -> Period | None:
    if not (2000 <= year <= 2100 and 1 <= mon <= 12):
        return None
    last = calendar.monthrange(year, mon)[1]
    return Period(f"{year:04d}-{mon:02d}", date(year, mon, 1), date(year, mon, last))


def semester(school_year_start: int, half: int) -> Period | None:
    if not (2000 <= school_year_start <= 2100 and half in (1, 2)):
        return None
    y = school_year_start
    if half == 1:
        return Period(f"{y}-HK1", date(y, 9, 1), date(y + 1, 1, 31))
    return Period(f"{y}-HK2", date(y + 1, 2, 1), date(y + 1, 5, 31))


def parse_code(code: str) -> Period | None:
    m = re.fullmatch(r"(\d{4})-(\d{2})", code)
    if m:
        return month(int(m[1]), int(m[2]))
    m = re.fullmatch(r"(\d{4})-HK([12])", code)
    return semester(int(m[1]), int(m[2])) if m else None


_HALF = {"i": 1, "1": 1, "ii": 2, "2": 2}
# Dates of signature lines ("ngày 03 tháng 11 năm 2024") are not the period.
_SIGNED_DATE = re.compile(r"ngay\s*\d{1,2}\s*thang\s*\d{1,2}\s*(?:nam|/|-)\s*\d{4}")
_MONTH_PATTERNS = [
    re.compile(r"thang\s*(\d{1,2})\s*(?:nam|/|-|\.)\s*(\d{4})"),
    re.compile(r"(?<![a-z0-9])t\s*(\d{1,2})\s*[/\-.]\s*(\d{4})(?!\d)"),
]
_SEMESTER_PATTERNS = [
    re.compile(
        r"(?:hoc\s*ky|hk)\s*(ii|i|1|2)\b[\s,\-]*(?:nam\s*hoc)?\s*(\d{4})\s*(?:-|–|/|den)\s*(\d{4})"
    ),
]


def in_text(text: str) -> set[Period]:
    """Every period a title or header block names."""
    low = _SIGNED_DATE.sub(" ", strip_accents(text))
    found: set[Period] = set()
    for pattern in _SEMESTER_PATTERNS:
        for m in pattern.finditer(low):
            start, end = int(m[2]), int(m[3])
            if end == start + 1:
                p = semester(start, _HALF[m[1]])
                if p:
                    found.add(p)
    for pattern in _MONTH_PATTERNS:
        for m in pattern.finditer(low):
            p = month(int(m[2]), int(m[1]))
            if p:
                found.add(p)
    return found


_NAME_SEMESTER = [
    re.compile(r"(?<!\d)(\d{4})(?:[-_ .](\d{4}))?[-_ .]*hk\s*(ii|i|1|2)(?![a-z0-9])"),
    re.compile(r"(?<![a-z0-9])hk\s*(ii|i|1|2)[-_ .]*(\d{4})(?:[-_ .](\d{4}))?(?!\d)"),
]
_NAME_MONTH = [
    re.compile(r"(?<!\d)(20\d{2})[-_. ]?(0[1-9]|1[0-2])(?!\d)(?![-_.]\d)"),
    re.compile(r"(?<![a-z0-9])(?:t|thang)[-_ .]?(\d{1,2})[-_. ](20\d{2})(?!\d)"),
    re.compile(r"(?<!\d)(0?[1-9]|1[0-2])[-_.](20\d{2})(?!\d)"),
]


def in_name(name: str) -> set[Period]:
    """Periods written in a file or folder name (`KTXH-01_<org_unit_id>_2024-10.csv`)."""
    low = strip_accents(name)
    found: set[Period] = set()
    for i, pattern in enumerate(_NAME_SEMESTER):
        for m in pattern.finditer(low):
            if i == 0:
                year, half = int(m[1]), _HALF[m[3]]
            else:
                half, year = _HALF[m[1]], int(m[2])
            p = semester(year, half)
            if p:
                found.add(p)
    if found:
        return found
    for i, pattern in enumerate(_NAME_MONTH):
        for m in pattern.finditer(low):
            y, mo = (int(m[1]), int(m[2])) if i == 0 else (int(m[2]), int(m[1]))
            p = month(y, mo)
            if p:
                found.add(p)
        if found:
            break
    return found
