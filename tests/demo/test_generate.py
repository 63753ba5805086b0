"""The generated demo world: deterministic, every file listed truthfully, layouts readable,
values inside the contract, HCC-06 agreeing with the dossier records."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import zipfile
from collections import Counter
from datetime import date, datetime, time
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from demo.calendar import TZ, Month, work_calendar
from demo.generate import generate
from demo.intake import DEFECT_TEXT
from demo.store import read_resource
from demo.units import load_seed_units
from demo.values import INDICATORS
from tests.demo.reader import (
    norm,
    number,
    read_csv,
    read_gd,
    read_hcc,
    read_indicator,
    title_period,
)

NAMES = {norm(i.name): c for c, i in INDICATORS.items()}
UNITS = {u.org_unit_id: u for u in load_seed_units()}
ALLOWED = {".xlsx", ".xlsm", ".xls", ".csv"}


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_other_world(tmp_path: Path) -> None:
    span, today = (Month(2025, 1), Month(2025, 1)), date(2025, 3, 1)
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, "district", seed=3, span=span, today=today)
    generate(b, "district", seed=3, span=span, today=today, jobs=2)
    generate(c, "district", seed=4, span=span, today=today)
    ta, tb, tc = _tree(a), _tree(b), _tree(c)
    assert len(ta) > 60
    assert ta == tb
    assert ta["manifest.csv"] != tc["manifest.csv"]
    assert ta["agency/ho-so/part-0000.parquet"] != tc["agency/ho-so/part-0000.parquet"]
    with pytest.raises(FileExistsError):
        generate(a, "district", seed=3, span=span, today=today)


def test_manifest_lists_every_file_truthfully(demo_dir: Path, manifest: list[dict]) -> None:
    on_disk = {str(p.relative_to(demo_dir)) for p in (demo_dir / "intake").rglob("*")
               if p.is_file() and p.name != "_arrivals.csv"}
    assert on_disk == {r["path"] for r in manifest}
    for r in manifest:
        data = (demo_dir / r["path"]).read_bytes()
        assert len(data) == int(r["size_bytes"])
        assert hashlib.sha256(data).hexdigest() == r["sha256"]
        arrived = datetime.fromisoformat(r["arrived_at"])
        assert arrived.utcoffset().total_seconds() == 7 * 3600
        due_end = datetime.combine(datetime.fromisoformat(r["due_date"]).date(),
                                   time(23, 59, 59), TZ)
        assert (r["late"] == "yes") == (arrived > due_end)
        assert r["path"].split("/")[1] == r["org_unit_id"]
        assert r["expected_status"] in ("accepted", "rejected", "duplicate")
        assert bool(r["defect"]) == (r["expected_status"] == "rejected")
    with (demo_dir / "intake" / "_arrivals.csv").open(encoding="utf-8") as fh:
        sidecar = {row["file"]: row["arrived_at"] for row in csv.DictReader(fh)}
    assert sidecar == {r["path"].removeprefix("intake/"): r["arrived_at"] for r in manifest}


def test_every_story_kind_occurs(manifest: list[dict]) -> None:
    defects = Counter(r["defect"] for r in manifest if r["defect"])
    assert set(DEFECT_TEXT) <= set(defects), set(DEFECT_TEXT) - set(defects)
    kinds = Counter(r["kind"] for r in manifest)
    assert {"original", "correction", "resubmission", "duplicate", "stray"} <= set(kinds)
    assert any(r["late"] == "yes" and r["expected_status"] == "accepted" for r in manifest)
    assert any(r["misreport"] for r in manifest)
    rejected = [r for r in manifest if r["expected_status"] == "rejected"]
    assert len(rejected) < 0.25 * len(manifest)


def test_units_report_only_while_valid(manifest: list[dict]) -> None:
    for r in manifest:
        if r["form_code"] == "GD-01" or r["defect"] == "unit_not_valid":
            continue
        unit = UNITS[r["org_unit_id"]]
        m = Month.parse(r["period"])
        assert unit.valid_between(m.first, m.last), r["path"]
    assert any(r["org_unit_id"] == "xa-que-tan" for r in manifest)
    invalid = [r for r in manifest if r["defect"] == "unit_not_valid"]
    assert invalid and all(r["org_unit_id"] in ("xa-hiep-hoa", "xa-hiep-thuan") for r in invalid)
    forms = {(r["org_unit_id"], r["form_code"]) for r in manifest if r["kind"] == "original"}
    for uid in ("xa-binh-lam", "tt-tan-binh", "xa-que-tan"):
        assert {(uid, f) for f in ("KTXH-01", "YT-01", "HCC-06")} <= forms
    assert ("phong-gddt", "GD-01") in forms


def _accepted(manifest: list[dict], form: str) -> list[dict]:
    return [r for r in manifest if r["form_code"] == form and r["expected_status"] == "accepted"]


def _final(manifest: list[dict], form: str) -> dict[tuple[str, str], dict]:
    """The last accepted file per unit and period (corrections replace earlier versions)."""
    out = {}
    for r in sorted(_accepted(manifest, form), key=lambda r: r["arrived_at"]):
        out[(r["org_unit_id"], r["period"])] = r
    return out


def test_indicator_files_read_in_range_and_by_the_rules(demo_dir: Path,
                                                        manifest: list[dict]) -> None:
    seen = Counter()
    for form in ("KTXH-01", "YT-01"):
        expected = {c for c, i in INDICATORS.items() if i.form == form}
        for r in _accepted(manifest, form):
            path = demo_dir / r["path"]
            f = read_indicator(path, NAMES)
            assert f.header_row <= 15, r["path"]
            codes = [ln["code"] for ln in f.lines]
            assert sorted(codes) == sorted(expected), (r["path"], codes)
            v = {ln["code"]: number(ln["value"]) for ln in f.lines}
            for code, value in v.items():
                ind = INDICATORS[code]
                assert value is not None and ind.min <= value <= ind.max, (r["path"], code, value)
            if form == "KTXH-01":
                assert v["XH03"] + v["XH04"] <= v["XH02"] and v["XH07"] <= v["XH02"]
                assert v["XH06"] <= 19
            else:
                assert v["YT02"] <= v["YT01"] and v["YT06"] <= v["YT05"]
            if path.suffix == ".csv":
                raw = path.read_bytes()
                seen["csv_" + ("cp1258" if not _utf8(raw) else "utf8")] += 1
                seen["csv_" + ("semicolon" if b";" in raw.splitlines()[0] else "comma")] += 1
                continue
            assert m_title(f.title) == r["period"], (r["path"], f.title)
            seen["two_level"] += f.two_level
            seen["hidden"] += f.hidden
            seen["no_code"] += "code" not in f.columns
            seen["text_numbers"] += any(isinstance(ln["value"], str) for ln in f.lines)
            seen["nfd"] += _has_nfd(path)
            with zipfile.ZipFile(path) as z:
                sheets = z.read("xl/workbook.xml").decode()
                seen["notes_sheet"] += sheets.count("<sheet ") > 1
                seen["formulas"] += any(b"<f>" in z.read(n) for n in z.namelist()
                                        if n.startswith("xl/worksheets/"))
    for variation in ("csv_cp1258", "csv_utf8", "csv_semicolon", "csv_comma", "two_level",
                      "hidden", "no_code", "text_numbers", "nfd", "notes_sheet", "formulas"):
        assert seen[variation] > 0, variation


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def _has_nfd(path: Path) -> bool:
    with zipfile.ZipFile(path) as z:
        strings = z.read("xl/sharedStrings.xml").decode("utf-8")
    return any(0x300 <= ord(c) <= 0x36F for c in strings)


def m_title(title: str) -> str:
    period = title_period(title)
    assert period, title
    return period


def test_ytd_adds_up_the_accepted_months(demo_dir: Path, manifest: list[dict]) -> None:
    final = _final(manifest, "KTXH-01")
    flows = [c for c, i in INDICATORS.items() if i.form == "KTXH-01" and i.kind == "flow"]
    checked = 0
    for (unit, period), r in final.items():
        if period != "2025-02" or (unit, "2025-01") not in final:
            continue
        feb = read_indicator(demo_dir / r["path"], NAMES)
        jan = read_indicator(demo_dir / final[(unit, "2025-01")]["path"], NAMES)
        jv = {ln["code"]: number(ln["value"]) for ln in jan.lines}
        for ln in feb.lines:
            if ln["code"] in flows and ln.get("ytd") not in (None, ""):
                expected = jv[ln["code"]] + number(ln["value"])
                assert abs(number(ln["ytd"]) - expected) <= max(0.01 * expected, 0.11), (
                    unit, ln["code"])
                checked += 1
    assert checked > 20


def test_hcc06_identities_and_gd01_rules(demo_dir: Path, manifest: list[dict]) -> None:
    for r in _accepted(manifest, "HCC-06"):
        f = read_hcc(demo_dir / r["path"])
        assert f.header_row <= 15 and len(f.merged) >= 4
        assert {"Hộ tịch", "Chứng thực", "Đất đai"} <= set(f.rows)
        for vals in f.rows.values():
            assert vals[0] == sum(vals[1:4]) == vals[4] + vals[8]
            assert vals[4] == sum(vals[5:8]) and vals[8] == sum(vals[9:11])
        assert f.total == [sum(col) for col in zip(*f.rows.values(), strict=True)]
    gd = _accepted(manifest, "GD-01")
    assert gd
    communes = {norm(u.short_name) for u in UNITS.values() if u.is_commune}
    for r in gd:
        f = read_gd(demo_dir / r["path"])
        codes = [s["code"] for s in f.schools]
        assert len(codes) == len(set(codes)) > 20
        for s in f.schools:
            assert max(s["girls"], s["minority"], s["dropouts"]) <= s["pupils"]
            assert min(s["classes"], s["pupils"], s["girls"], s["minority"], s["dropouts"],
                       s["teachers"], s["rooms"]) >= 0
            name = re.sub(r"^(xa|tt|thi tran) ", "", norm(s["commune"]))
            assert name in communes, s
        upland = [s for s in f.schools if norm(s["commune"]).endswith("phuoc tra")]
        lowland = [s for s in f.schools if norm(s["commune"]).endswith("que tho")]
        assert sum(s["minority"] for s in upland) / sum(s["pupils"] for s in upland) > 0.5
        assert sum(s["minority"] for s in lowland) / sum(s["pupils"] for s in lowland) < 0.1


def test_refused_files_carry_the_defect_the_manifest_names(demo_dir: Path,
                                                            manifest: list[dict]) -> None:
    for r in manifest:
        if r["expected_status"] != "rejected":
            continue
        path = demo_dir / r["path"]
        defect = r["defect"]
        if defect == "empty_file":
            assert path.stat().st_size == 0
        elif defect == "corrupt_workbook":
            with pytest.raises(zipfile.BadZipFile):
                zipfile.ZipFile(path).testzip()
        elif defect == "wrong_extension":
            assert path.suffix.lower() not in ALLOWED
        elif defect == "period_not_ended":
            end = Month.parse(r["period"]).end_dt()
            assert datetime.fromisoformat(r["arrived_at"]) < end
        elif defect == "period_mismatch":
            name_period = re.search(r"\d{4}-\d{2}", path.name).group(0)
            assert name_period != r["period"]
            assert m_title(read_indicator(path, NAMES).title if r["form_code"] != "HCC-06"
                           else read_hcc(path).title) == r["period"]
        elif defect in ("unit_mismatch", "unit_not_valid"):
            unit = UNITS[r["org_unit_id"]]
            header = (read_hcc(path).unit_line if r["form_code"] == "HCC-06"
                      else read_indicator(path, NAMES).unit_line)
            named = norm(header).endswith(norm(unit.short_name))
            m = Month.parse(r["period"])
            assert (not named) if defect == "unit_mismatch" else \
                (named and not unit.valid_between(m.first, m.last))
        elif defect == "unrecognised_form":
            text = " ".join(norm(c) for row in _rows(path) for c in row if c)
            assert "chi tieu" not in text and "linh vuc" not in text and "ma truong" not in text
        elif defect.startswith("hcc_"):
            f = read_hcc(path)
            broken = any(v[0] != sum(v[1:4]) for v in f.rows.values())
            sums = [sum(col) for col in zip(*f.rows.values(), strict=True)]
            assert broken if defect == "hcc_row_identity" else f.total != sums
        elif defect.startswith("gd_"):
            assert _gd_broken(read_gd(path), defect)
        else:
            assert _indicator_broken(read_indicator(path, NAMES), r["form_code"], defect), r


def _rows(path: Path) -> list[list]:
    from tests.demo.reader import visible_sheets

    return [row for s in visible_sheets(path) for row in s.rows] if path.suffix != ".csv" \
        else read_csv(path)


def _gd_broken(f, defect: str) -> bool:
    communes = {norm(u.short_name) for u in UNITS.values() if u.is_commune}
    if defect == "gd_unknown_commune":
        return any(re.sub(r"^(xa|tt|thi tran) ", "", norm(s["commune"])) not in communes
                   for s in f.schools)
    if defect == "gd_duplicate_school":
        codes = [s["code"] for s in f.schools]
        return len(codes) != len(set(codes))
    if defect == "gd_count_exceeds_pupils":
        return any(max(s["girls"], s["minority"], s["dropouts"]) > s["pupils"] for s in f.schools)
    return any(s["dropouts"] < 0 for s in f.schools)


def _indicator_broken(f, form: str, defect: str) -> bool:
    codes = [ln["code"] for ln in f.lines]
    values = {}
    bad_number = False
    for ln in f.lines:
        try:
            values.setdefault(ln["code"], []).append(number(ln["value"]))
        except ValueError:
            bad_number = True
    known = {c for c, i in INDICATORS.items() if i.form == form}
    if defect == "unknown_indicator":
        return any(c not in known for c in codes)
    if defect == "missing_required":
        required = {c for c in known if INDICATORS[c].required}
        return any(c not in values or None in values[c] for c in required)
    if defect == "not_a_number":
        return bad_number
    flat = {c: v[0] for c, v in values.items()}
    if defect == "negative_value":
        return any(v is not None and v < 0 for v in flat.values())
    if defect == "out_of_range":
        return any(v is not None and v > INDICATORS[c].max for c, v in flat.items())
    if defect == "duplicate_indicator":
        return any(len(set(v)) > 1 for v in values.values())
    if defect == "cross_rule":
        if form == "KTXH-01":
            return flat["XH03"] + flat["XH04"] > flat["XH02"] or flat["XH07"] > flat["XH02"]
        return flat["YT02"] > flat["YT01"] or flat["YT06"] > flat["YT05"]
    raise AssertionError(defect)


def _dossier_finals(demo_dir: Path) -> pd.DataFrame:
    t = read_resource(demo_dir, "ho-so").to_pandas()
    return t[t["_hetHieuLuc"].isna()]


def _hcc_from_records(d: pd.DataFrame, api_code: str, m: Month) -> dict[str, list[int]]:
    """HCC-06 numbers recomputed from the dossiers, following docs/demo-data.md."""
    start, end = pd.Timestamp(m.start_dt()), pd.Timestamp(m.end_dt())
    d = d[(d.maDonVi == api_code) & (d.ngayTiepNhan < end)]
    d = d[d.ngayKetThucXuLy.isna() | (d.ngayKetThucXuLy >= start)]
    out = {}
    for field, g in d.groupby("linhVuc"):
        carried = (g.ngayTiepNhan < start)
        online = ~carried & (g.kenhNop == 2)
        direct = ~carried & (g.kenhNop != 2)
        done = g.ngayKetThucXuLy.notna() & (g.ngayKetThucXuLy < end)
        fd, dd = g.ngayKetThucXuLy.dt.date, g.ngayHenTra.dt.date
        pending = ~done
        overdue = g.ngayHenTra < end
        out[field] = [int(x) for x in (
            len(g), carried.sum(), online.sum(), direct.sum(), done.sum(),
            (done & (fd < dd)).sum(), (done & (fd == dd)).sum(), (done & (fd > dd)).sum(),
            pending.sum(), (pending & ~overdue).sum(), (pending & overdue).sum())]
    return out


def test_hcc06_agrees_with_the_dossier_records(demo_dir: Path, manifest: list[dict]) -> None:
    dossiers = _dossier_finals(demo_dir)
    compared = misreported = 0
    for (unit, period), r in _final(manifest, "HCC-06").items():
        reported = read_hcc(demo_dir / r["path"]).rows
        truth = _hcc_from_records(dossiers, UNITS[unit].api_code, Month.parse(period))
        for field in truth:
            assert field in reported, (unit, period, field)
        diffs = {f: [a - b for a, b in zip(v, truth.get(f, [0] * 11), strict=True)]
                 for f, v in reported.items()}
        wrong = {f: d for f, d in diffs.items() if any(d)}
        if r["misreport"]:
            misreported += 1
            assert len(wrong) == 1, (r["path"], wrong)
            (f, d), = wrong.items()
            k = d[0]
            assert r["misreport"].startswith(f) and f"chênh {k}" in r["misreport"]
            assert d == [k, 0, 0, k, k, k, 0, 0, 0, 0, 0]
        else:
            assert not wrong, (r["path"], wrong)
        compared += 1
    assert compared >= 40 and misreported >= 1


def test_dossiers_look_like_a_district(demo_dir: Path) -> None:
    versions = read_resource(demo_dir, "ho-so").to_pandas()
    for _, g in versions.groupby("maHoSo"):
        caps = list(g.capNhatLuc.sort_values())
        assert all(a < b for a, b in pairwise(caps))
    d = versions[versions["_hetHieuLuc"].isna()].copy()
    d["month"] = d.ngayTiepNhan.dt.strftime("%Y-%m")
    per_month = d.groupby("month").size()
    assert 1100 <= per_month["2024-11"] <= 2000
    days = d.ngayTiepNhan.dt.date.value_counts()
    after_tet = [x for x in days.index if datetime(2025, 1, 27).date() <= x
                 <= datetime(2025, 2, 14).date()]
    before = [x for x in days.index if x.month == 11]
    assert days[after_tet].sum() / 19 < 0.6 * days[before].sum() / 30  # fewer around Tết
    span = d[d.month >= "2024-11"]
    assert 0.25 <= (span.kenhNop == 2).mean() <= 0.45
    done = span[span.ngayKetThucXuLy.notna()]
    late = done.ngayKetThucXuLy.dt.date > done.ngayHenTra.dt.date
    assert 0.02 <= late.mean() <= 0.06
    assert late.groupby(done.linhVuc).mean().idxmax() in ("Đất đai", "Nông nghiệp")
    assert late[done.linhVuc == "Đất đai"].sum() > 0.5 * late.sum()
    assert (versions.trangThai == "cho_bo_sung").any() and (d.soNgayBoSung > 0).any()
    cal = work_calendar()
    assert all(cal.is_working_day(x.date()) for x in d.ngayHenTra)
    assert d.chuHoSo.map(lambda p: p["soCCCD"] is None or p["soCCCD"].startswith("000")).all()
    assert set(d.maDonVi) >= {"20761", "20758", "512.VPDK"}
    # Quế Tân took Hiệp Hòa's code 20758 on 2025-01-01: the code has records on both sides.
    reused = d[d.maDonVi == "20758"].ngayTiepNhan.dt.date
    assert (reused < date(2025, 1, 1)).sum() > 50 and (reused >= date(2025, 1, 1)).sum() > 50


def test_documents_and_feedback(demo_dir: Path) -> None:
    vb = read_resource(demo_dir, "van-ban").to_pandas()
    final = vb[vb["_hetHieuLuc"].isna()]
    out = final[final.chieu == "di"]
    assert out.kySo.mean() > 0.85 and (final.chieu == "den").sum() > out.shape[0]
    assert final.hanXuLy.notna().any()
    # As the API shows them at the world's clock: some still being handled. (Every unit of
    # this world ended on 2025-06-30, when whatever was open was closed.)
    clock = pd.Timestamp(json.loads((demo_dir / "meta.json").read_text())["clock_default"])
    shown = vb[(vb.capNhatLuc <= clock) & (vb["_hetHieuLuc"].isna() | (vb["_hetHieuLuc"] > clock))]
    assert shown.id.is_unique and shown.trangThai.nunique() >= 2
    assert (final.ngayHoanThanh.dt.date <= date(2025, 6, 30)).all()
    pa_ = read_resource(demo_dir, "phan-anh").to_pandas()
    fin = pa_[pa_["_hetHieuLuc"].isna()]
    per_month = fin.groupby(fin.ngayTiepNhan.dt.strftime("%Y-%m")).size()
    assert per_month.min() >= 150 and per_month.max() <= 600
    rated = fin.danhGia.dropna()
    assert len(rated) > 50 and rated.between(1, 5).all()
    assert fin.kenh.nunique() == 5 and fin.hanXuLy.notna().any()
    assert pa_.groupby("maPhanAnh").size().max() >= 3


def test_parquet_parts_exist_per_resource(demo_dir: Path) -> None:
    for res in ("ho-so", "van-ban", "phan-anh"):
        files = list((demo_dir / "agency" / res).glob("part-*.parquet"))
        assert len(files) == 1 and pq.ParquetFile(files[0]).metadata.num_rows > 1000


def test_province_scale_writes_synthetic_units(tmp_path: Path) -> None:
    out = tmp_path / "p"
    summary = generate(out, "province", seed=2, span=(Month(2024, 3), Month(2024, 3)),
                       today=date(2024, 5, 1), intake=False, jobs=2)
    assert summary.districts == 18 and 200 <= summary.communes <= 280
    with (out / "org_units.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert all(r["org_unit_id"].startswith("sim-") for r in rows)
    assert not (out / "manifest.csv").exists()
    parts = list((out / "agency" / "ho-so").glob("part-*.parquet"))
    assert len(parts) == 18
    assert summary.records["ho-so"] > 20 * 1500 * 0.6


def test_cli_writes_a_world(tmp_path: Path, capsys, monkeypatch) -> None:
    from cli.main import main

    assert main(["demo-data", "--out", str(tmp_path / "w"), "--months", "1",
                 "--start", "2024-06", "--no-agency", "--today", "2024-08-01"]) == 0
    out = capsys.readouterr().out
    assert "intake files:" in out and (tmp_path / "w" / "manifest.csv").exists()
    assert "(today 2024-08-01)" in out
    meta = json.loads((tmp_path / "w" / "meta.json").read_text(encoding="utf-8"))
    assert meta["today"] == "2024-08-01"
    assert meta["clock_default"] == "2024-06-30T23:59:59+07:00"
    assert main(["demo-data", "--out", str(tmp_path / "w"), "--months", "1"]) == 2
    # A span past yesterday is refused; IOC_TODAY is the default of --today.
    monkeypatch.setenv("IOC_TODAY", "2026-12-15")
    assert main(["demo-data", "--out", str(tmp_path / "x"), "--start", "2027-01"]) == 2
    assert main(["demo-data", "--out", str(tmp_path / "x"), "--start", "2026-12",
                 "--today", "2026-12-01"]) == 2
    assert "2026-11" in capsys.readouterr().err
    assert not (tmp_path / "x" / "meta.json").exists()
    with pytest.raises(SystemExit):
        main(["demo-data", "--out", str(tmp_path / "x"), "--today", "15/12/2026"])


def test_defaults_reach_yesterday() -> None:
    """The default span runs from January 2024 to the month of yesterday."""
    from demo.generate import parse_span

    assert parse_span(None, None, None, date(2026, 12, 15)) == (Month(2024, 1), Month(2026, 12))
    # On the first of a month, yesterday is in the month before.
    assert parse_span(None, None, None, date(2026, 12, 1)) == (Month(2024, 1), Month(2026, 11))
    assert parse_span("2024-03", None, 2, date(2026, 12, 15)) == (Month(2024, 3), Month(2024, 4))
    assert parse_span(None, "2025-06", None, date(2026, 12, 15))[1] == Month(2025, 6)
    with pytest.raises(ValueError):
        parse_span("2026-11", None, 3, date(2026, 12, 15))
    with pytest.raises(ValueError):
        parse_span("2020-12", None, 1, date(2026, 12, 15))


def test_merged_commune_closes_its_dossiers(demo_dir: Path) -> None:
    """Hiệp Hòa (20758) and Hiệp Thuận (20761) ended on 2024-12-31: their dossiers — the ones
    received under their codes while they existed — were all closed by then. 20761 is never
    used again; 20758 is Quế Tân's from 2025-01-01 (a code means a unit only with a date)."""
    d = _dossier_finals(demo_dir)
    end = date(2024, 12, 31)
    codes = d.maDonVi.isin(["20758", "20761"])
    old = d[codes & (d.ngayTiepNhan.dt.date <= end)]
    assert len(old) > 100
    assert (old.ngayKetThucXuLy.dt.date <= end).all()
    assert not (d[d.maDonVi == "20761"].ngayTiepNhan.dt.date > end).any()
    assert (d[d.maDonVi == "20758"].ngayTiepNhan.dt.date > end).any()



def test_a_district_is_the_same_in_another_interpreter(tmp_path: Path) -> None:
    """Workers are separate interpreters (other hash seeds): a district must not depend on it."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from demo.generate import _district_task

    m, today = Month(2025, 7), date(2025, 8, 12)
    here, there = tmp_path / "here", tmp_path / "there"
    rows_here, info_here = _district_task(("province", 5, 3, m, m, str(here), True, True, today))
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        rows_there, info_there = pool.submit(
            _district_task, ("province", 5, 3, m, m, str(there), True, True, today)).result()
    assert rows_here and info_here == info_there
    assert [{**r} for r in rows_here] == rows_there
    assert _tree(here) == _tree(there)
