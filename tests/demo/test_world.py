"""The demo world's model: units, calendar, and indicator values over the full span."""

from __future__ import annotations

from datetime import date

from ioc.demo.calendar import Month, month_range, semesters_ending_in, work_calendar
from ioc.demo.units import build_world
from ioc.demo.values import INDICATORS, unit_month_values

FULL = month_range(Month(2024, 1), Month(2025, 6))
UPLAND = {"xa-phuoc-tra", "xa-phuoc-gia", "xa-song-tra", "xa-binh-son"}


def _district():
    world = build_world("district", 1)
    return world, world.districts[0]


def _active(d, m):
    return [u for u in d.communes if u.valid_between(m.first, m.last)]


def test_district_units_follow_the_seed_file() -> None:
    world, d = _district()
    ids_2024 = {u.org_unit_id for u in _active(d, Month(2024, 12))}
    ids_2025 = {u.org_unit_id for u in _active(d, Month(2025, 1))}
    assert {"xa-hiep-hoa", "xa-hiep-thuan"} <= ids_2024 and "xa-que-tan" not in ids_2024
    assert "xa-que-tan" in ids_2025 and not {"xa-hiep-hoa", "xa-hiep-thuan"} & ids_2025
    assert len(ids_2024) == 11 and len(ids_2025) == 10
    assert world.unit("tt-tan-binh").unit_type == "thi_tran"
    assert d.commune_areas["xa-que-tan"] == ("xa-hiep-hoa", "xa-hiep-thuan")


def test_synthetic_worlds_are_marked_and_sized() -> None:
    province = build_world("province", 1)
    assert len(province.districts) == 18
    active = [u for d in province.districts for u in _active(d, Month(2024, 6))]
    assert 200 <= len(active) <= 280
    assert all(u.org_unit_id.startswith("sim-") and "synthetic" in u.note for u in province.units)
    national = build_world("national", 1)
    n = sum(len(_active(d, Month(2024, 6))) for d in national.districts)
    assert 3000 <= n <= 3600
    codes = [u.api_code for u in national.units]
    assert len(codes) == len(set(codes))


def test_working_days_skip_weekends_and_tet() -> None:
    cal = work_calendar()
    assert not cal.is_working_day(date(2025, 1, 29))  # Tết 2025
    assert not cal.is_working_day(date(2024, 2, 12))  # Tết 2024
    assert cal.add(date(2025, 1, 24), 1) == date(2025, 2, 3)  # Friday before Tết → after it
    assert cal.add(date(2024, 4, 26), 1) == date(2024, 5, 2)  # 29/4–1/5 holidays
    assert [s.period for s in semesters_ending_in(Month(2024, 1), Month(2025, 6))] == [
        "2023-HK1", "2023-HK2", "2024-HK1", "2024-HK2"]


def test_values_in_range_and_rules_hold_every_month() -> None:
    _, d = _district()
    for m in FULL:
        for u in _active(d, m):
            v = unit_month_values(1, d, u, m)
            for code, ind in INDICATORS.items():
                assert ind.min <= v[code] <= ind.max, (u.org_unit_id, m, code, v[code])
            assert v["XH03"] + v["XH04"] <= v["XH02"]
            assert v["XH07"] <= v["XH02"] and v["XH06"] <= 19
            assert v["YT02"] <= v["YT01"] and v["YT06"] <= v["YT05"]


def _sum(d, code, months, only=None):
    total = 0.0
    for m in months:
        for u in _active(d, m):
            if only is None or u.org_unit_id in only:
                total += unit_month_values(1, d, u, m)[code]
    return total


def test_values_move_with_seasons_and_trends() -> None:
    _, d = _district()
    rainy = [Month(2024, m) for m in (9, 10, 11, 12)]
    dry = [Month(2024, m) for m in (1, 2, 3, 4)]
    assert _sum(d, "YT07", rainy) > 5 * _sum(d, "YT07", dry)  # dengue Sep–Dec
    assert _sum(d, "KT05", rainy) > 0 and _sum(d, "KT05", dry) == 0  # forest planted when wet
    harvest = [Month(2024, m) for m in (4, 5, 8, 9)]
    assert _sum(d, "KT04", [Month(2024, m) for m in (2, 7, 11)]) == 0
    assert _sum(d, "KT04", harvest) > 1000
    start, end = Month(2024, 1), Month(2025, 6)
    assert _sum(d, "XH03", [end]) < 0.85 * _sum(d, "XH03", [start])  # poverty falls
    assert _sum(d, "KT07", [end]) > _sum(d, "KT07", [start])  # herds grow
    assert _sum(d, "YT10", [end]) > _sum(d, "YT10", [start])


def test_upland_communes_are_poorer_with_more_minority_pupils() -> None:
    _, d = _district()
    m = Month(2024, 6)
    rate = {u.org_unit_id: unit_month_values(1, d, u, m)["XH03"] /
            unit_month_values(1, d, u, m)["XH02"] for u in _active(d, m)}
    assert min(rate[u] for u in UPLAND) > max(r for u, r in rate.items() if u not in UPLAND)
