"""Months, school semesters, due dates and working days (Vietnamese public holidays, Tết).

Deadlines of dossiers and documents are counted in working days: weekends and the public
holidays of the `holidays` package (Tết included) do not count.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

import holidays

TZ = timezone(timedelta(hours=7), "+07:00")
"""Asia/Ho_Chi_Minh has had no daylight saving since 1975: a fixed +07:00 is exact."""


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        y, m = text.strip().split("-")
        return cls(int(y), int(m))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def last(self) -> date:
        return self.next().first - timedelta(days=1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def prev(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def add(self, n: int) -> Month:
        k = self.year * 12 + self.month - 1 + n
        return Month(k // 12, k % 12 + 1)

    def index(self) -> int:
        """Months since January 2024 (the model's origin; negative before)."""
        return (self.year - 2024) * 12 + self.month - 1

    def start_dt(self) -> datetime:
        return datetime.combine(self.first, time(0), TZ)

    def end_dt(self) -> datetime:
        """The first instant after the month."""
        return self.next().start_dt()


def month_range(start: Month, end: Month) -> list[Month]:
    out, m = [], start
    while m <= end:
        out.append(m)
        m = m.next()
    return out


@dataclass(frozen=True)
class Semester:
    """A school semester: HK1 Sep–Jan, HK2 Feb–May of school year `year`–`year+1`."""

    year: int
    half: int

    @property
    def period(self) -> str:
        return f"{self.year}-HK{self.half}"

    @property
    def first_month(self) -> Month:
        return Month(self.year, 9) if self.half == 1 else Month(self.year + 1, 2)

    @property
    def last_month(self) -> Month:
        return Month(self.year + 1, 1) if self.half == 1 else Month(self.year + 1, 5)

    @property
    def due(self) -> date:
        return self.last_month.last + timedelta(days=15)

    @property
    def title(self) -> str:
        roman = "I" if self.half == 1 else "II"
        return f"học kỳ {roman} năm học {self.year}-{self.year + 1}"


def semesters_ending_in(start: Month, end: Month) -> list[Semester]:
    """Semesters whose last month lies in the span (their reports are due inside it)."""
    out = []
    for year in range(start.year - 1, end.year + 1):
        for half in (1, 2):
            s = Semester(year, half)
            if start <= s.last_month <= end:
                out.append(s)
    return sorted(out, key=lambda s: s.last_month)


def monthly_due(period: Month) -> date:
    """Monthly forms are due on the 5th of the next month."""
    return period.next().first + timedelta(days=4)


def end_of_day(d: date) -> datetime:
    return datetime.combine(d, time(23, 59, 59), TZ)


class WorkCalendar:
    """Working days between 2015 and 2030, with O(1) 'add n working days'."""

    def __init__(self, first_year: int = 2015, last_year: int = 2030) -> None:
        vn = holidays.country_holidays("VN", years=range(first_year, last_year + 1))
        self.holidays = frozenset(vn.keys())
        self.tet = {d.year: d for d, name in vn.items() if name == "Lunar New Year"}
        day, stop = date(first_year, 1, 1), date(last_year, 12, 31)
        self.days: list[date] = []
        while day <= stop:
            if day.weekday() < 5 and day not in self.holidays:
                self.days.append(day)
            day += timedelta(days=1)
        self._ordinals = [d.toordinal() for d in self.days]

    def is_working_day(self, d: date) -> bool:
        return d.weekday() < 5 and d not in self.holidays

    def index_on_or_after(self, d: date) -> int:
        return bisect.bisect_left(self._ordinals, d.toordinal())

    def add(self, d: date, n: int) -> date:
        """The n-th working day after `d` (n=0: `d` itself if working, else the next one)."""
        i = self.index_on_or_after(d)
        if n > 0 and i < len(self.days) and self.days[i] == d:
            return self.days[i + n]
        return self.days[i + max(n - 1, 0)] if n > 0 else self.days[i]

    def add_dt(self, dt: datetime, n: int) -> datetime:
        """`dt` moved n working days forward, same clock time."""
        return datetime.combine(self.add(dt.date(), n), dt.timetz())

    def between(self, a: date, b: date) -> int:
        """Working days in (a, b]: how many working days later b is than a."""
        return self.index_on_or_after(b + timedelta(days=1)) - self.index_on_or_after(
            a + timedelta(days=1)
        )

    def in_month(self, m: Month) -> list[date]:
        lo = self.index_on_or_after(m.first)
        hi = self.index_on_or_after(m.next().first)
        return self.days[lo:hi]

    def tet_distance(self, d: date) -> int:
        """Days from the nearest Lunar New Year day (negative before it)."""
        best = None
        for y in (d.year - 1, d.year, d.year + 1):
            t = self.tet.get(y)
            if t is not None:
                delta = (d - t).days
                if best is None or abs(delta) < abs(best):
                    best = delta
        return best if best is not None else 999


@lru_cache(maxsize=1)
def work_calendar() -> WorkCalendar:
    return WorkCalendar()
