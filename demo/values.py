"""What the communes report: KTXH-01 and YT-01 values over time, and the schools of GD-01.

Values are smooth functions of time per area plus seeded noise drawn per (area, indicator,
month), so any month can be computed on its own. Seasons follow central Vietnam: rice sown in
Dec–Jan and May–Jun and harvested in Apr–May and Aug–Sep, forest planted in the rainy season
(Sep–Dec), dengue from September to December, poverty re-assessed at the turn of the year.
Every value lies inside the min–max of `indicators.csv` and the cross-rules of the forms hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from demo.calendar import Month, Semester
from demo.rng import binomial, poisson, rnd
from demo.units import Area, District, Unit
from ingest.intake.reference import Indicator, indicators

# The indicators as the intake engine reads them (dbt_project/seeds/indicators.csv); their
# bounds are Decimal there, floats here.
INDICATORS: dict[str, Indicator] = indicators()
ONE_DECIMAL = {"KT01", "KT02", "KT03", "KT04", "KT05", "KT09"}


def _clamp(code: str, v: float) -> float:
    ind = INDICATORS[code]
    v = min(max(v, float(ind.min)), float(ind.max))
    return round(v, 1) if code in ONE_DECIMAL else float(round(v))


def _noise(seed: int, area: str, code: str, m: Month, sd: float) -> float:
    return rnd(seed, "v", area, code, m).gauss(1.0, sd)


def _area_month(seed: int, a: Area, m: Month) -> dict[str, float]:
    """All indicator values of one area in one month (unrounded)."""
    t = m.index()
    yr = m.year - 2024
    mo = m.month
    pop = a.population * (1 + 0.009 * t / 12) * (1 + 0.0008 * math.sin(t))
    hh_size = 4.3 if a.upland else 3.8
    hh = pop / hh_size * (1 + 0.012 * t / 12)
    decline = 0.86 if a.upland else 0.80
    poor = hh * a.poor_rate * decline ** (yr + (mo - 1) / 48)
    near = hh * a.near_poor_rate * (0.95 ** yr) * (1 + 0.02 * (mo - 1) / 12)
    water_rate = min(0.99, (0.55 if a.upland else 0.86) + 0.04 * t / 12)
    bhyt_rate = 0.975 if a.upland else min(0.96, 0.89 + 0.02 * t / 12)
    ntm = min(19, a.ntm + (1 if (yr >= 1 and (hash_int(seed, a.area_id, "ntm") % 2 == 0)) else 0)
              + (1 if m >= Month(2025, 6) and a.ntm < 16 else 0))
    town = 3.0 if a.town else 1.0
    n = lambda code, sd=0.12: _noise(seed, a.area_id, code, m, sd)  # noqa: E731
    v: dict[str, float] = {}
    revenue_season = {12: 1.7, 1: 0.7, 6: 1.15}.get(mo, 1.0)
    v["KT01"] = pop * 0.045 * town * revenue_season * n("KT01") * (1.06 ** yr)
    v["KT02"] = pop * 0.085 * {12: 1.9, 1: 0.6}.get(mo, 1.0) * n("KT02") * (1.05 ** yr)
    sow = {12: 0.40, 1: 0.55, 5: 0.45, 6: 0.50}.get(mo, 0.03)
    v["KT03"] = a.crop_ha * sow * n("KT03", 0.06)
    harvest = {4: 0.45, 5: 0.55, 8: 0.45, 9: 0.50}.get(mo, 0.0)
    yield_t = 3.4 if a.upland else 5.6
    v["KT04"] = a.crop_ha * 0.5 * yield_t * harvest * n("KT04", 0.08)
    plant = {9: 0.20, 10: 0.32, 11: 0.30, 12: 0.18}.get(mo, 0.0)
    v["KT05"] = (140 if a.upland else 45) * plant * n("KT05", 0.2) if a.forest else 0.0
    herd = 1 + t / 12
    v["KT06"] = (a.population * (0.24 if a.upland else 0.05)) * (1 + 0.02 * herd) * n("KT06", 0.01)
    v["KT07"] = (a.population * (0.32 if a.upland else 0.18)) * (1 + 0.045 * herd) * n("KT07", 0.01)
    asf = 0.86 if Month(2024, 7) <= m <= Month(2024, 10) else 1.0
    v["KT08"] = (a.population * (0.30 if a.upland else 0.55)) * (1 + 0.035 * herd) * asf * n(
        "KT08", 0.015)
    disb = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 21][mo - 1] / 100
    v["KT09"] = a.population * 1.9 * (1.1 ** yr) * disb * n("KT09", 0.15)
    v["XH01"] = pop
    v["XH02"] = hh
    v["XH03"] = poor
    v["XH04"] = near
    v["XH05"] = pop * 0.0025 * {1: 1.6, 2: 1.3, 3: 1.4}.get(mo, 1.0) * n("XH05", 0.25)
    v["XH06"] = float(ntm)
    v["XH07"] = hh * water_rate
    v["XH08"] = pop * bhyt_rate
    r = rnd(seed, "yt", a.area_id, m)
    visits_season = {1: 1.1, 2: 0.85, 10: 1.15, 11: 1.2, 12: 1.15}.get(mo, 1.0)
    v["YT01"] = pop * 0.11 * visits_season * n("YT01", 0.08)
    v["YT02"] = v["YT01"] * ((0.93 if a.upland else 0.86) + r.uniform(-0.03, 0.03))
    births_year = pop * (0.0165 if a.upland else 0.0128)
    v["YT04"] = births_year * (1 + 0.0 * yr)
    coverage = 0.86 if a.upland else 0.96
    v["YT03"] = float(poisson(r, births_year / 12 * coverage))
    v["YT05"] = float(poisson(r, births_year / 12))
    v["YT06"] = float(binomial(r, int(v["YT05"]), 0.62 if a.upland else 0.9))
    dengue = {9: 1.5, 10: 3.0, 11: 3.5, 12: 2.0, 8: 0.6, 7: 0.3}.get(mo, 0.08)
    v["YT07"] = float(poisson(r, dengue * pop / 4000 * (0.4 if a.upland else 1.0) * (
        1.4 if m.year == 2024 else 1.0)))
    hfmd = {3: 1.0, 4: 1.3, 5: 0.9, 9: 0.8, 10: 1.2, 11: 1.0}.get(mo, 0.2)
    v["YT08"] = float(poisson(r, hfmd * pop / 6000))
    under5 = pop * 0.08
    v["YT09"] = under5 * (0.21 if a.upland else 0.07) * (0.96 ** (t / 12)) * n("YT09", 0.03)
    v["YT10"] = pop * min(0.95, 0.58 + 0.022 * (t + 3))
    v["YT11"] = float(poisson(r, pop * 0.0066 / 12))
    return v


def hash_int(seed: int, *labels: object) -> int:
    return rnd(seed, "h", *labels).getrandbits(32)


def unit_month_values(seed: int, district: District, unit: Unit, m: Month) -> dict[str, float]:
    """The true values a commune reports for a month (areas combined, rounded, clamped)."""
    areas = tuple(district.areas[a] for a in district.commune_areas[unit.org_unit_id])
    return dict(_combined(seed, areas, m))


@lru_cache(maxsize=200_000)
def _combined(seed: int, areas: tuple[Area, ...], m: Month) -> tuple[tuple[str, float], ...]:
    per_area = [_area_month(seed, a, m) for a in areas]
    out: dict[str, float] = {}
    for code, ind in INDICATORS.items():
        vals = [pa[code] for pa in per_area]
        raw = min(vals) if ind.area_rollup == "none" else sum(vals)
        out[code] = _clamp(code, raw)
    # Rounding can break the rules the forms check: restore them.
    out["XH03"] = min(out["XH03"], out["XH02"])
    out["XH04"] = min(out["XH04"], out["XH02"] - out["XH03"])
    out["XH07"] = min(out["XH07"], out["XH02"])
    out["YT02"] = min(out["YT02"], out["YT01"])
    out["YT06"] = min(out["YT06"], out["YT05"])
    out["YT03"] = min(out["YT03"], out["YT04"])
    return tuple(out.items())


def year_plan(seed: int, district: District, unit: Unit, year: int) -> dict[str, float]:
    """`Kế hoạch năm`: a bit above the year's expected total for flows, a target for stocks.

    A unit formed during the year plans for the months it exists (the communes of 2025-07-01
    plan July–December)."""
    months = [Month(year, mm) for mm in range(1, 13)
              if Month(year, mm).last >= unit.valid_from] or [Month(year, 12)]
    vals = [unit_month_values(seed, district, unit, mm) for mm in months]
    r = rnd(seed, "plan", unit.org_unit_id, year)
    plan = {}
    for code, ind in INDICATORS.items():
        if ind.form != "KTXH-01":
            continue
        if ind.kind == "flow":
            total = sum(v[code] for v in vals)
            plan[code] = round(total * r.uniform(1.0, 1.1), -1 if total > 200 else 0)
        else:
            last = vals[-1][code]
            factor = {"XH03": 0.85, "XH04": 0.92, "XH06": 1.0}.get(code, 1.02)
            target = last * factor + (1 if code == "XH06" and last < 19 else 0)
            plan[code] = float(round(min(target, float(INDICATORS[code].max))))
    return plan


def ytd(seed: int, district: District, unit: Unit, m: Month, code: str,
        overrides: dict[tuple[str, str], float] | None = None) -> float:
    """`Lũy kế từ đầu năm`: sum of this year's monthly values for flows, this value for stocks.

    `overrides` holds values of months as reported when they differ from the truth (a first
    version later corrected is replaced, so the truth is what later months add up).
    """
    ind = INDICATORS[code]
    values = unit_month_values(seed, district, unit, m)
    if ind.kind == "stock":
        return values[code]
    total = 0.0
    for mm in range(1, m.month + 1):
        month = Month(m.year, mm)
        if month.first < unit.valid_from:
            continue
        total += unit_month_values(seed, district, unit, month)[code]
    if overrides:
        for (period, c), val in overrides.items():
            if c == code and period == str(m):
                total += val - values[code]
    return round(total, 1)


# ----------------------------------------------------------------------------- schools (GD-01)
LEVELS = ("Mầm non", "Tiểu học", "THCS")
LEVEL_PREFIX = {"Mầm non": "MN", "Tiểu học": "TH", "THCS": "CS"}
FAMOUS = ["Kim Đồng", "Lê Lợi", "Nguyễn Trãi", "Trần Phú", "Lý Tự Trọng", "Phan Bội Châu",
          "Nguyễn Du", "Lê Quý Đôn", "Võ Thị Sáu", "Hoàng Hoa Thám", "Quang Trung", "Chu Văn An"]


@dataclass(frozen=True)
class School:
    code: str
    name: str
    level: str
    area_id: str
    share: float


@dataclass
class SchoolRow:
    code: str
    name: str
    level: str
    commune: Unit
    classes: int
    pupils: int
    girls: int
    minority: int
    dropouts: int
    teachers: int
    solid_rooms: int
    standard: bool


def district_schools(seed: int, district: District) -> list[School]:
    """The schools of a district: one or two per level per area, numbered per level."""
    counters = {lvl: 0 for lvl in LEVELS}
    out: list[School] = []
    famous = iter(FAMOUS * 40)
    for area_id, a in district.areas.items():
        r = rnd(seed, "schools", area_id)
        place = _area_name(district, area_id)
        for lvl in LEVELS:
            n = 2 if (a.population > 8000 and lvl != "THCS") else 1
            for k in range(n):
                counters[lvl] += 1
                if lvl == "Mầm non":
                    kind = "Trường Mầm non" if a.town or r.random() < 0.5 else "Trường Mẫu giáo"
                    name = f"{kind} {place}" + (f" {k + 1}" if n > 1 else "")
                elif lvl == "Tiểu học":
                    name = f"Trường Tiểu học {next(famous) if (a.town or k) else place}"
                else:
                    name = (f"Trường PTDTBT THCS {place}" if a.upland
                            else f"Trường THCS {next(famous) if a.town else place}")
                code = f"{LEVEL_PREFIX[lvl]}{counters[lvl]:02d}"
                out.append(School(code, name, lvl, area_id, 1.0 / n))
    return out


def _area_name(district: District, area_id: str) -> str:
    for u in district.communes:
        if u.org_unit_id == area_id:
            return u.short_name
    return area_id


def commune_of_area(district: District, area_id: str, day: date) -> Unit:
    """The commune that holds an area on a day (after a merger: the successor)."""
    for u in district.communes:
        if u.valid_between(day, day) and area_id in district.commune_areas.get(u.org_unit_id, ()):
            return u
    raise LookupError(f"no commune holds {area_id} on {day}")


def school_rows(seed: int, district: District, sem: Semester) -> list[SchoolRow]:
    rows = []
    for s in district_schools(seed, district):
        a = district.areas[s.area_id]
        r = rnd(seed, "school", s.code, sem.period)
        yr = sem.year - 2023
        ratio = {"Mầm non": 0.045, "Tiểu học": 0.082, "THCS": 0.056}[s.level]
        pupils = a.population * ratio * s.share * (1 + 0.01 * yr) * rnd(
            seed, "school-year", s.code, sem.year).uniform(0.95, 1.05)
        if sem.half == 2:
            pupils *= 0.99
        pupils = max(12, round(pupils))
        size = {"Mầm non": 24, "Tiểu học": 27, "THCS": 34}[s.level] * (0.8 if a.upland else 1.0)
        classes = max(1, round(pupils / size))
        girls = round(pupils * r.uniform(0.46, 0.51))
        minority = min(pupils, round(pupils * a.minority * r.uniform(0.9, 1.1)))
        drop_rate = (0.012 if a.upland else 0.002) * (2 if s.level == "THCS" else 1)
        dropouts = binomial(r, pupils, drop_rate) if s.level != "Mầm non" else 0
        teachers = round(classes * {"Mầm non": 2.0, "Tiểu học": 1.4, "THCS": 1.9}[s.level])
        solid = min(classes, round(classes * ((0.65 + 0.05 * yr) if a.upland else 0.97)))
        standard = rnd(seed, "std", s.code).random() < (0.15 + 0.1 * yr if a.upland else 0.8)
        rows.append(SchoolRow(
            s.code, s.name, s.level, commune_of_area(district, s.area_id, sem.first_month.first),
            classes, pupils, girls, minority, dropouts, teachers, solid, standard,
        ))
    return rows
