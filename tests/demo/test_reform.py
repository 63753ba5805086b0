"""The demo world up to yesterday and across the 2025-07-01 reform.

- It ends the day before "today": nothing arrives or is received from the start of today on,
  the current month is in progress, and a world generated a day later is the same world with
  that day added (so `make demo` run again only adds what arrived meanwhile).
- Around the reform: the old communes' June 2025 reports arrive in July in their old
  folders (accepted: a unit reports for the periods in which it existed); from July 2025 the
  three new communes report, late in their first month; a clerk still files a post-reform
  report in an old folder (refused, naming the commune that replaced it); GD-01 comes from
  the education office until 2024-HK2 and from each commune for its schools from 2025-HK1;
  agency records change codes on the day, codes are reused, the district agencies stop.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from demo.calendar import TZ, Month
from demo.generate import default_span, generate
from demo.store import read_resource
from demo.units import load_seed_units
from demo.values import INDICATORS
from tests.demo.reader import norm, read_gd, read_hcc, read_indicator

UNITS = {u.org_unit_id: u for u in load_seed_units()}
NAMES = {norm(i.name): c for c, i in INDICATORS.items()}
NEW_COMMUNES = {"xa-hiep-duc", "xa-viet-an", "xa-phuoc-tra-2025"}
REFORM = date(2025, 7, 1)
MONTHLY = ("KTXH-01", "YT-01", "HCC-06")


def _valid(unit_id: str, m: Month) -> bool:
    return UNITS[unit_id].valid_between(m.first, m.last)


def _at(row: dict) -> datetime:
    return datetime.fromisoformat(row["arrived_at"])


# --------------------------------------------------------------------------- up to yesterday
T1, T2 = date(2026, 11, 20), date(2026, 12, 15)
START = Month(2025, 12)  # thirteen months: the showcase year is the same in both worlds


@pytest.fixture(scope="module")
def days(tmp_path_factory) -> dict[date, Path]:
    root = tmp_path_factory.mktemp("days")
    out = {}
    for today in (T1, T2):
        out[today] = root / str(today)
        span = (START, default_span(today)[1])
        generate(out[today], "district", seed=11, span=span, today=today, jobs=1)
    return out


def _start(day: date) -> datetime:
    return datetime.combine(day, time(0), TZ)


def test_the_world_ends_the_day_before_today(days) -> None:
    world = days[T2]
    meta = json.loads((world / "meta.json").read_text(encoding="utf-8"))
    assert meta["today"] == "2026-12-15" and meta["span"]["end"] == "2026-12"
    assert meta["clock_default"] == "2026-12-14T23:59:59+07:00"
    with (world / "manifest.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert max(_at(r) for r in rows) < _start(T2)
    # November's reports (due 5 December) are in, December's are not (the month runs on):
    # only a report sent before its month ended, which is refused.
    nov = [r for r in rows if r["period"] == "2026-11" and r["expected_status"] == "accepted"]
    assert {(r["org_unit_id"], r["form_code"]) for r in nov if r["late"] == "no"}
    dec = [r for r in rows if r["period"] == "2026-12"]
    assert all(r["defect"] == "period_not_ended" for r in dec)
    for resource, when in (("ho-so", "ngayTiepNhan"), ("van-ban", "capNhatLuc"),
                           ("phan-anh", "ngayTiepNhan")):
        t = read_resource(world, resource).to_pandas()
        first = t.sort_values("capNhatLuc").groupby(t.columns[0]).head(1)
        assert first[when].max() < pd.Timestamp(_start(T2)), resource
        received = first[when].dt.date
        # the current month is in progress: records up to yesterday, a normal rate of them
        assert (received == date(2026, 12, 14)).any() or resource == "phan-anh"
        in_dec = (received >= date(2026, 12, 1)).sum()
        in_nov = ((received >= date(2026, 11, 1)) & (received < date(2026, 12, 1))).sum()
        assert 0.25 * in_nov < in_dec < 0.75 * in_nov, (resource, in_dec, in_nov)
    # Records still open keep changing after the world's end (the API's clock hides that).
    t = read_resource(world, "ho-so").to_pandas()
    assert (t.capNhatLuc >= pd.Timestamp(_start(T2))).any()


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((root / "intake").rglob("*")) if p.is_file()
            and p.name != "_arrivals.csv"}


def test_a_later_day_adds_to_the_same_world(days) -> None:
    early, late = days[T1], days[T2]
    with (early / "manifest.csv").open(encoding="utf-8") as fh:
        rows_early = list(csv.DictReader(fh))
    with (late / "manifest.csv").open(encoding="utf-8") as fh:
        rows_late = list(csv.DictReader(fh))
    before = [r for r in rows_late if _at(r) < _start(T1)]
    # three weeks: November's reports of the three communes arrived meanwhile
    assert rows_early == before and len(rows_late) >= len(rows_early) + 8
    tree_early, tree_late = _tree(early), _tree(late)
    assert all(tree_late.get(path) == sha for path, sha in tree_early.items())
    for resource in ("ho-so", "van-ban", "phan-anh"):
        a = pq.read_table(early / "agency" / resource / "part-0000.parquet").to_pylist()
        b = pq.read_table(late / "agency" / resource / "part-0000.parquet").to_pylist()
        key = next(iter(a[0]))  # maHoSo, id, maPhanAnh
        index = {(r[key], r["capNhatLuc"]): r for r in b}
        assert all(index.get((r[key], r["capNhatLuc"])) == r for r in a), resource
        assert len(b) > len(a)


# --------------------------------------------------------------------------- the 2025 reform
def test_the_three_new_communes_report_from_july_2025(reform_dir: Path,
                                                     reform_manifest: list[dict]) -> None:
    originals = [r for r in reform_manifest if r["form_code"] in MONTHLY
                 and r["kind"] != "stray"]
    by_period: dict[str, set[str]] = {}
    for r in originals:
        by_period.setdefault(r["period"], set()).add(r["org_unit_id"])
    june = {u for u, unit in UNITS.items() if unit.is_commune and _valid(u, Month(2025, 6))}
    assert len(june) == 10 and by_period["2025-06"] == june
    for period in ("2025-07", "2025-08", "2025-12", "2026-01"):
        assert by_period[period] == NEW_COMMUNES, period
    for r in originals:  # the file's header names the commune of its folder
        if r["form_code"] != "HCC-06" and r["path"].endswith(".xlsx") and \
                r["expected_status"] == "accepted":
            header = norm(read_indicator(reform_dir / r["path"], NAMES).unit_line)
            assert header.endswith(norm(UNITS[r["org_unit_id"]].short_name)), (r, header)


def test_old_communes_send_june_in_july(reform_manifest: list[dict]) -> None:
    """A unit reports for the periods in which it existed: June 2025 reports arrive in July,
    after the old communes ended, into their old folders, and are accepted."""
    june = [r for r in reform_manifest if r["period"] == "2025-06" and r["form_code"] in MONTHLY
            and r["expected_status"] == "accepted"]
    units = {r["org_unit_id"] for r in june}
    assert len(units) == 10 and not units & NEW_COMMUNES
    assert all(_at(r).date() >= REFORM for r in june)
    assert all(UNITS[u].valid_to == date(2025, 6, 30) for u in units)
    assert any(r["late"] == "yes" for r in june) or len(june) >= 30


def test_a_new_communes_first_month_comes_in_late(reform_manifest: list[dict]) -> None:
    first = [r for r in reform_manifest if r["period"] == "2025-07"
             and r["org_unit_id"] in NEW_COMMUNES and r["kind"] in ("original", "resubmission")]
    late = {r["org_unit_id"] for r in first if r["late"] == "yes"}
    assert late == NEW_COMMUNES  # every new commune has at least one late first report
    later = [r for r in reform_manifest if r["period"] in ("2025-10", "2025-11", "2025-12")
             and r["org_unit_id"] in NEW_COMMUNES and r["kind"] == "original"]
    assert sum(r["late"] == "yes" for r in first) / len(first) > \
        2 * sum(r["late"] == "yes" for r in later) / len(later)


def test_an_old_folder_gets_a_report_for_after_the_reform(reform_dir: Path,
                                                          reform_manifest: list[dict]) -> None:
    strays = [r for r in reform_manifest if r["defect"] == "unit_not_valid"
              and r["period"] >= "2025-07"]
    assert strays
    for r in strays:
        old = UNITS[r["org_unit_id"]]
        successor = UNITS[old.successor_id]
        assert old.valid_to < Month.parse(r["period"]).first and r["expected_status"] == "rejected"
        assert f"nay thuộc {successor.name}" in r["reason"], r["reason"]
        path = reform_dir / r["path"]
        header = read_hcc(path).unit_line if r["form_code"] == "HCC-06" else \
            read_indicator(path, NAMES).unit_line
        assert norm(header).endswith(norm(old.short_name))  # written as the old commune
        # ... and the new commune's own report for that period arrives as usual
        assert any(x["org_unit_id"] == successor.org_unit_id and x["period"] == r["period"]
                   and x["form_code"] == r["form_code"] and x["expected_status"] == "accepted"
                   for x in reform_manifest)


def test_gd01_moves_from_the_education_office_to_the_communes(
        reform_dir: Path, reform_manifest: list[dict]) -> None:
    gd = [r for r in reform_manifest if r["form_code"] == "GD-01"
          and r["expected_status"] == "accepted"]
    final: dict[tuple[str, str], dict] = {}
    for r in sorted(gd, key=_at):
        final[(r["org_unit_id"], r["period"])] = r
    assert {u for u, p in final if p == "2024-HK2"} == {"phong-gddt"}
    assert {u for u, p in final if p == "2025-HK1"} == NEW_COMMUNES
    office = read_gd(reform_dir / final[("phong-gddt", "2024-HK2")]["path"])
    assert norm(office.unit_line) == "phong giao duc va dao tao"
    codes = []
    for unit in NEW_COMMUNES:
        f = read_gd(reform_dir / final[(unit, "2025-HK1")]["path"])
        name = norm(UNITS[unit].short_name)
        assert norm(f.unit_line).endswith(name), f.unit_line
        # a commune reports the schools that stand in it, and names itself in their rows
        assert f.schools and all(norm(s["commune"]).endswith(name) for s in f.schools)
        codes += [s["code"] for s in f.schools]
    # the same schools as the office's last report, now split among the three communes
    assert sorted(codes) == sorted(s["code"] for s in office.schools)


def _finals(world: Path, resource: str) -> pd.DataFrame:
    t = read_resource(world, resource).to_pandas()
    return t[t["_hetHieuLuc"].isna()]


def test_agency_codes_change_on_the_day(reform_dir: Path) -> None:
    versions = read_resource(reform_dir, "ho-so").to_pandas()
    d = versions[versions["_hetHieuLuc"].isna()]
    day = d.ngayTiepNhan.dt.date
    week_before = (day >= date(2025, 6, 23)) & (day < REFORM)
    week_after = (day >= REFORM) & (day < date(2025, 7, 8))
    # Reused codes: before the day the old commune's, from the day the new commune's.
    for code, old, new in (("20770", "xa-song-tra", "xa-phuoc-tra-2025"),
                           ("20767", "xa-binh-lam", "xa-viet-an"),
                           ("20779", "tt-tan-binh", "xa-hiep-duc")):
        assert UNITS[old].api_code == UNITS[new].api_code == code
        held = d.maDonVi == code
        assert (week_before & held).any() and (week_after & held).any()
    # From the day only the three communes' codes; the old ones and 512.* stop.
    new_codes = {UNITS[u].api_code for u in NEW_COMMUNES}
    assert set(d[day >= REFORM].maDonVi) == new_codes
    # Records received before keep their codes; whatever the old units had open was finished
    # on their last day (only the handing back of a result may follow, under the old code).
    old_units = d[~d.maDonVi.isin(new_codes) | (day < REFORM)]
    assert len(old_units[old_units.maDonVi.str.startswith("512.")]) > 1000
    assert (old_units.ngayKetThucXuLy.dt.date < REFORM).all()
    assert (old_units.trangThai != "dang_xu_ly").all()
    later = versions[versions.capNhatLuc.dt.date >= REFORM]
    handed = later[~later.maDonVi.isin(new_codes) | (later.ngayTiepNhan.dt.date < REFORM)]
    assert (handed.trangThai == "da_tra_ket_qua").all()
    # The communes took over the district's procedures (land, business households, ...).
    after = d[day >= REFORM]
    assert (after.capThucHien == "xa").all() and after.linhVuc.isin(["Đất đai", "Kinh doanh"]).any()
    per_month = d.groupby(d.ngayTiepNhan.dt.strftime("%Y-%m")).size()
    assert 0.8 < per_month["2025-08"] / per_month["2025-05"] < 1.25  # the same district's work
    for resource, unit_col, done in (("van-ban", "maDonVi", "ngayHoanThanh"),
                                     ("phan-anh", "maDonViXuLy", "ngayHoanThanh")):
        t = read_resource(reform_dir, resource).to_pandas().sort_values("capNhatLuc")
        key = t.columns[0]
        created = t.groupby(key).capNhatLuc.transform("min").dt.date
        new = t[created >= REFORM]
        assert set(new[unit_col].dropna()) <= new_codes and len(new) > 1000, resource
        old = t[(created < REFORM) & t["_hetHieuLuc"].isna() & t[unit_col].notna()]
        old = old[~old[unit_col].isin(new_codes) | (created[old.index] < REFORM)]
        assert (old[done].dt.date < REFORM).all(), resource


def test_documents_come_from_the_city_after_the_reform(reform_dir: Path) -> None:
    docs = _finals(reform_dir, "van-ban")
    incoming = docs[(docs.chieu == "den") & docs.maDonVi.isin(
        [UNITS[u].api_code for u in NEW_COMMUNES])]
    after = incoming[incoming.ngayDen.dt.date >= REFORM]
    issuers = Counter(after.coQuanBanHanh)
    assert any("thành phố Đà Nẵng" in i for i in issuers)
    assert not any("huyện" in i or "tỉnh Quảng Nam" in i for i in issuers), issuers


def _hcc_truth(d: pd.DataFrame, unit_id: str, m: Month) -> dict[str, list[int]]:
    """HCC-06 recomputed from the dossiers of the unit: its code, while it held it."""
    unit = UNITS[unit_id]
    start, end = pd.Timestamp(m.start_dt()), pd.Timestamp(m.end_dt())
    held = (d.ngayTiepNhan.dt.date >= unit.valid_from) & (
        d.ngayTiepNhan.dt.date <= (unit.valid_to or date.max))
    d = d[(d.maDonVi == unit.api_code) & held & (d.ngayTiepNhan < end)]
    d = d[d.ngayKetThucXuLy.isna() | (d.ngayKetThucXuLy >= start)]
    out = {}
    for field, g in d.groupby("linhVuc"):
        carried = g.ngayTiepNhan < start
        done = g.ngayKetThucXuLy.notna() & (g.ngayKetThucXuLy < end)
        fd, dd = g.ngayKetThucXuLy.dt.date, g.ngayHenTra.dt.date
        pending, overdue = ~done, g.ngayHenTra < end
        out[field] = [int(x) for x in (
            len(g), carried.sum(), (~carried & (g.kenhNop == 2)).sum(),
            (~carried & (g.kenhNop != 2)).sum(), done.sum(), (done & (fd < dd)).sum(),
            (done & (fd == dd)).sum(), (done & (fd > dd)).sum(), pending.sum(),
            (pending & ~overdue).sum(), (pending & overdue).sum())]
    return out


def test_hcc06_agrees_with_the_records_across_the_reform(reform_dir: Path,
                                                         reform_manifest: list[dict]) -> None:
    d = _finals(reform_dir, "ho-so")
    final: dict[tuple[str, str], dict] = {}
    for r in sorted(reform_manifest, key=_at):
        if r["form_code"] == "HCC-06" and r["expected_status"] == "accepted":
            final[(r["org_unit_id"], r["period"])] = r
    checked = Counter()
    for (unit, period), r in final.items():
        reported = read_hcc(reform_dir / r["path"]).rows
        truth = _hcc_truth(d, unit, Month.parse(period))
        wrong = {f: v for f, v in reported.items() if v != truth.get(f, [0] * 11)}
        if r["misreport"]:
            assert len(wrong) == 1, (r["path"], wrong)
        else:
            assert not wrong, (r["path"], wrong, truth)
        checked[period >= "2025-07"] += 1
        if period == "2025-07":  # the first month carries nothing over: the old desks closed
            assert all(v[1] == 0 for v in reported.values())
    assert checked[False] >= 15 and checked[True] >= 15
