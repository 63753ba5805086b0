"""The demo world's model: units across both mergers and the 2025 reform, calendar, and
indicator values over the full span."""

from __future__ import annotations

from datetime import date

import pytest

from demo.calendar import Month, month_range, semesters_ending_in, work_calendar
from demo.units import build_world, load_seed_units
from demo.values import INDICATORS, school_rows, unit_month_values, year_plan

FULL = month_range(Month(2024, 1), Month(2026, 12))
UPLAND = {"xa-phuoc-tra", "xa-phuoc-gia", "xa-song-tra", "xa-binh-son"}
NEW_COMMUNES = {"xa-hiep-duc", "xa-viet-an", "xa-phuoc-tra-2025"}
DAYS = [date(2021, 5, 1), date(2024, 6, 15), date(2024, 12, 31), date(2025, 1, 1),
        date(2025, 6, 30), date(2025, 7, 1), date(2026, 12, 5)]


def _district():
    world = build_world("district", 1)
    return world, world.districts[0]


def _active(d, m):
    return [u for u in d.communes if u.valid_between(m.first, m.last)]


def test_district_units_follow_the_seed_file() -> None:
    world, d = _district()
    ids_2024 = {u.org_unit_id for u in _active(d, Month(2024, 12))}
    ids_2025 = {u.org_unit_id for u in _active(d, Month(2025, 1))}
    ids_june = {u.org_unit_id for u in _active(d, Month(2025, 6))}
    ids_july = {u.org_unit_id for u in _active(d, Month(2025, 7))}
    assert {"xa-hiep-hoa", "xa-hiep-thuan"} <= ids_2024 and "xa-que-tan" not in ids_2024
    assert "xa-que-tan" in ids_2025 and not {"xa-hiep-hoa", "xa-hiep-thuan"} & ids_2025
    assert len(ids_2024) == 11 and len(ids_2025) == 10 and ids_june == ids_2025
    assert ids_july == NEW_COMMUNES
    assert world.unit("tt-tan-binh").unit_type == "thi_tran"
    assert d.commune_areas["xa-que-tan"] == ("xa-hiep-hoa", "xa-hiep-thuan")
    # Twice merged: Hiệp Thuận → Quế Tân → Hiệp Đức, whose areas are its predecessors'.
    assert d.commune_areas["xa-hiep-duc"] == (
        "tt-tan-binh", "xa-hiep-hoa", "xa-hiep-thuan", "xa-que-luu")
    assert d.unit.unit_type == "huyen" and d.unit.valid_to == date(2025, 6, 30)
    assert d.area_unit.org_unit_id == "khu-vuc-hiep-duc" and d.area_unit.unit_type == "khu_vuc"
    assert d.province_on(date(2025, 6, 30)).org_unit_id == "tinh-quang-nam"
    assert d.province_on(date(2025, 7, 1)).org_unit_id == "tp-da-nang"
    # GD-01: the education office until it ended, then every commune.
    assert [u.org_unit_id for u in d.school_submitters(date(2025, 2, 1))] == ["phong-gddt"]
    assert {u.org_unit_id for u in d.school_submitters(date(2025, 9, 1))} == NEW_COMMUNES
    assert all(u.valid_to == date(2025, 6, 30) for u in d.agencies.values())


def test_areas_partition_the_territory_on_every_day() -> None:
    """On any day the valid communes hold every area once, and a commune formed by a merger
    holds exactly the areas of the communes merged into it (from the seed's successor_id)."""
    _, d = _district()
    for day in DAYS:
        held = [a for u in d.communes if u.valid_on(day) for a in d.commune_areas[u.org_unit_id]]
        assert sorted(held) == sorted(d.areas), day
    seed = load_seed_units()
    for u in d.communes:
        merged = [p.org_unit_id for p in seed if p.successor_id == u.org_unit_id and p.is_commune]
        if merged and u.org_unit_id not in d.areas:
            assert sorted(d.commune_areas[u.org_unit_id]) == sorted(
                a for p in merged for a in d.commune_areas[p]), u.org_unit_id


def test_new_communes_carry_on_their_predecessors_figures() -> None:
    """A commune formed on 2025-07-01 reports what its old communes together would have:
    population (a stock summed) within a month's growth of the old communes' June sum."""
    _, d = _district()
    june, july = Month(2025, 6), Month(2025, 7)
    for uid in NEW_COMMUNES:
        unit = d.by_id[uid]
        before = sum(unit_month_values(1, d, d.by_id[p], june)["XH01"]
                     for p in d.predecessors[uid])
        after = unit_month_values(1, d, unit, july)["XH01"]
        assert abs(after - before) / before < 0.005, (uid, before, after)
        # It plans for the months it exists: July–December 2025.
        plan = year_plan(1, d, unit, 2025)["KT01"]
        full = sum(unit_month_values(1, d, unit, Month(2025, m))["KT01"] for m in range(1, 13))
        half = sum(unit_month_values(1, d, unit, Month(2025, m))["KT01"] for m in range(7, 13))
        assert half <= plan <= 1.1 * half + 10 < full


def test_schools_stand_in_the_commune_of_their_area() -> None:
    _, d = _district()
    semesters = {s.period: s for s in semesters_ending_in(Month(2025, 1), Month(2026, 5))}
    before = school_rows(1, d, semesters["2024-HK2"])
    after = school_rows(1, d, semesters["2025-HK1"])
    assert [s.code for s in before] == [s.code for s in after]
    assert {s.commune.org_unit_id for s in after} == NEW_COMMUNES
    for old, new in zip(before, after, strict=True):
        assert d.successor(old.commune).org_unit_id == new.commune.org_unit_id


def test_synthetic_worlds_are_marked_sized_and_reformed() -> None:
    province = build_world("province", 1)
    assert len(province.districts) == 18
    active = [u for d in province.districts for u in _active(d, Month(2024, 6))]
    assert 200 <= len(active) <= 280
    after = [u for d in province.districts for u in _active(d, Month(2025, 8))]
    assert 0.25 * len(active) <= len(after) <= 0.4 * len(active)
    assert all(u.org_unit_id.startswith("sim-") and "synthetic" in u.note for u in province.units)
    # a province-level city of today's size (Đà Nẵng: 94 communes and wards after the reform)
    city = build_world("city", 1)
    now = sum(len(_active(d, Month(2025, 8))) for d in city.districts)
    assert 85 <= now <= 105 and city.districts[0].province.name == "Thành phố Mô Phỏng 01"
    national = build_world("national", 1)
    before = sum(len(_active(d, Month(2024, 6))) for d in national.districts)
    now = sum(len(_active(d, Month(2026, 11))) for d in national.districts)
    assert 8000 <= before <= 11000 and 2800 <= now <= 3600  # Vietnam: ~10,000 → 3,321
    assert len({d.unit.parent_id for d in national.districts}) == 34
    for world in (province, city, national):
        by_id = {u.org_unit_id: u for u in world.units}
        for day in (date(2024, 6, 1), date(2025, 1, 1), date(2025, 7, 1)):
            codes = [u.api_code for u in world.units if u.api_code and u.valid_on(day)]
            assert len(codes) == len(set(codes)), day  # a code is one unit on a given day
        for u in world.units:
            if u.unit_type in ("xa", "thi_tran", "co_quan", "huyen") and u.valid_to:
                nxt = by_id[u.successor_id]  # every unit that ended has a successor ...
                assert (nxt.valid_from - u.valid_to).days == 1, u  # ... from the next day
    for d in province.districts:
        assert d.area_unit.unit_type == "khu_vuc" and d.unit.successor_id == d.area_unit.org_unit_id
        for day in (date(2024, 6, 15), date(2025, 3, 1), date(2025, 8, 1)):
            held = [a for u in d.communes if u.valid_on(day)
                    for a in d.commune_areas[u.org_unit_id]]
            assert sorted(held) == sorted(d.areas)
        # The new communes keep the code of one of the communes merged into them.
        for u in d.communes:
            if u.valid_from == date(2025, 7, 1):
                merged = [d.by_id[p] for p in d.predecessors[u.org_unit_id]]
                assert 2 <= len(merged) <= 5
                assert u.api_code in {p.api_code for p in merged}


def test_working_days_skip_weekends_and_tet() -> None:
    cal = work_calendar()
    assert not cal.is_working_day(date(2025, 1, 29))  # Tết 2025
    assert not cal.is_working_day(date(2024, 2, 12))  # Tết 2024
    assert not cal.is_working_day(date(2026, 2, 17))  # Tết 2026
    assert cal.add(date(2025, 1, 24), 1) == date(2025, 2, 3)  # Friday before Tết → after it
    assert cal.add(date(2024, 4, 26), 1) == date(2024, 5, 2)  # 29/4–1/5 holidays
    assert [s.period for s in semesters_ending_in(Month(2024, 1), Month(2026, 12))] == [
        "2023-HK1", "2023-HK2", "2024-HK1", "2024-HK2", "2025-HK1", "2025-HK2"]


@pytest.mark.parametrize("m", FULL, ids=str)
def test_values_in_range_and_rules_hold_every_month(m) -> None:
    _, d = _district()
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
    for end in (Month(2025, 6), Month(2026, 11)):  # across both mergers and the reform
        start = Month(2024, 1)
        assert _sum(d, "XH03", [end]) < 0.85 * _sum(d, "XH03", [start])  # poverty falls
        assert _sum(d, "KT07", [end]) > _sum(d, "KT07", [start])  # herds grow
        assert _sum(d, "YT10", [end]) > _sum(d, "YT10", [start])
    # The district's population moves smoothly through the reform (no jump at 2025-07).
    june, july = _sum(d, "XH01", [Month(2025, 6)]), _sum(d, "XH01", [Month(2025, 7)])
    assert abs(july - june) / june < 0.005


def test_upland_communes_are_poorer_with_more_minority_pupils() -> None:
    _, d = _district()
    m = Month(2024, 6)
    rate = {u.org_unit_id: unit_month_values(1, d, u, m)["XH03"] /
            unit_month_values(1, d, u, m)["XH02"] for u in _active(d, m)}
    assert min(rate[u] for u in UPLAND) > max(r for u, r in rate.items() if u not in UPLAND)
