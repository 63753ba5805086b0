"""Blank templates made from the contracts (`ioc template`, ingest/template.py): filled in the
cells left open, recalculated as Excel does on save (LibreOffice), they are accepted by the
intake unchanged — for every form, every unit that ever sends it (communes, townships, the
district office, the communes merged away, the reform's new communes) and a template without
a unit dropped in a unit's folder."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from ingest.intake.contracts import load_contracts
from ingest.intake.engine import check_paths
from ingest.intake.reference import form_submitters, org_units
from ingest.template import (
    INSTRUCTIONS_SHEET,
    TemplateError,
    build,
    default_period,
    recent_periods,
    submits,
)
from ioc.settings import PROJECT_ROOT
from tests.intake.builders import HCC_ROWS, KTXH_VALUES
from tests.support.office import recalculate
from tests.upload.fill import fill

TODAY = date(2026, 12, 15)
NOW = datetime(2026, 12, 15, 3, 0, tzinfo=UTC)
NEW_COMMUNES = {"xa-hiep-duc", "xa-viet-an", "xa-phuoc-tra-2025"}


def _latest_period(form: str, unit_id: str):
    return next(p for p in recent_periods(form, TODAY, 500) if submits(unit_id, form, p))


def _cases() -> list[tuple[str, str | None, str, str]]:
    """(form, unit or None, period, folder): every unit that ever sends each form, for its
    latest period; and one template without a unit per form, in a unit's folder."""
    cases = []
    for form in load_contracts():
        rules = form_submitters()[form]
        senders = sorted(u.org_unit_id for u in org_units().values()
                         if any(r.admits(u, None) for r in rules))
        for unit_id in senders:
            try:
                period = _latest_period(form, unit_id)
            except StopIteration:
                continue  # a commune that ended before the form came to communes
            cases.append((form, unit_id, period.code, unit_id))
        period = default_period(form, TODAY)
        folder = next(u for u in senders if submits(u, form, period))
        cases.append((form, None, period.code, folder))
    return cases


CASES = _cases()


def test_the_cases_cover_every_form_unit_type_and_the_new_communes() -> None:
    forms = {c[0] for c in CASES}
    assert forms == set(load_contracts())
    types = {org_units()[c[1]].unit_type for c in CASES if c[1]}
    assert {"xa", "thi_tran", "co_quan"} <= types
    for form in ("KTXH-01", "YT-01", "HCC-06", "GD-01"):
        assert {c[1] for c in CASES if c[0] == form} >= NEW_COMMUNES, form
    assert ("GD-01", "phong-gddt", "2025-HK1", "phong-gddt") not in CASES  # the office ended
    assert ("GD-01", "phong-gddt", "2024-HK2", "phong-gddt") in CASES
    assert ("KTXH-01", "tt-tan-an", "2020-01", "tt-tan-an") in CASES  # merged away in 2020


def test_filled_templates_are_accepted_unchanged_for_every_form_and_unit(tmp_path: Path) -> None:
    filled = []
    for i, (form, unit_id, period, _folder) in enumerate(CASES):
        blank = build(form, unit_id, period, today=TODAY)
        filled.append(fill(blank.data, tmp_path / "filled" / f"{i:03d}" / blank.filename))
    assert len({p.name for p in filled}) == len(filled)
    out = recalculate(filled, tmp_path / "recalculated")  # one LibreOffice run for all
    intake = tmp_path / "intake"
    files = []
    for (_form, _unit, _period, folder), path in zip(CASES, out, strict=True):
        target = intake / folder / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
        files.append(target)
    results = check_paths(files, intake_root=intake, now=NOW)
    refused = {r.file: r.errors for r in results if r.status != "accepted"}
    assert refused == {}
    for (form, unit_id, period, folder), r in zip(CASES, results, strict=True):
        assert (r.form, r.org_unit_id, r.period) == (form, unit_id or folder, period)
        assert r.warnings == [], (r.file, r.warnings)
        if form == "KTXH-01":
            assert {x["indicator_code"]: x["value"] for x in r.records} == {
                code: Decimal(str(month)) for code, _n, _u, _p, month, _y in KTXH_VALUES}
        elif form == "YT-01":
            assert len(r.records) == 11
        elif form == "HCC-06":  # the totals are the template's formulas, computed on save
            got = {x["field"]: (x["received_total"], x["resolved_total"], x["pending_total"])
                   for x in r.records}
            assert got == {row[1]: (row[2], row[6], row[10]) for row in HCC_ROWS}
        else:  # two schools on each level's sheet, each in the unit's own area
            assert len(r.records) == 6
            assert {x["level"] for x in r.records} == {"Mầm non", "Tiểu học", "THCS"}
            if unit_id and org_units()[unit_id].is_commune:
                assert {x["org_unit_id"] for x in r.records} == {unit_id}


def test_without_recalculation_the_totals_are_missing_and_the_file_is_refused(
        tmp_path: Path) -> None:
    """Why the tests recalculate: a program's save leaves the formulas without results."""
    blank = build("HCC-06", "xa-binh-lam", "2024-10", today=TODAY)
    path = fill(blank.data, tmp_path / "intake" / "xa-binh-lam" / blank.filename)
    [r] = check_paths([path], intake_root=tmp_path / "intake", now=NOW)
    assert r.status == "rejected"
    assert {e["code"] for e in r.errors} == {"rule_broken", "total_mismatch"}


def test_a_blank_template_is_recognised_and_asks_for_data(tmp_path: Path) -> None:
    """Unfilled, the template is the right form, unit and period, and nothing else is wrong:
    the answer lists what to fill."""
    for form, unit_id, period in (("KTXH-01", "xa-hiep-thuan", "2024-10"),
                                  ("HCC-06", "xa-viet-an", "2026-11"),
                                  ("GD-01", "xa-phuoc-tra-2025", "2025-HK2")):
        blank = build(form, unit_id, period, today=TODAY)
        path = tmp_path / "intake" / unit_id / blank.filename
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(blank.data)
        [r] = check_paths([path], intake_root=tmp_path / "intake", now=NOW)
        assert (r.form, r.org_unit_id, r.period) == (form, unit_id, period)
        codes = {e["code"] for e in r.errors}
        assert codes == ({"empty_required"} if form == "KTXH-01" else {"no_data"}), r.errors


def _cells(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_header_locked_inputs_open_ranges_and_lists() -> None:
    wb = _cells(build("KTXH-01", "xa-hiep-thuan", "2024-10", today=TODAY).data)
    ws = wb["KTXH-01"]
    assert ws.protection.sheet is True and not ws.protection.password
    assert ws["A1"].value == "UBND XÃ HIỆP THUẬN" and ws["A1"].protection.locked
    assert ws["A6"].value == "Tháng 10 năm 2024"
    header = [c.value for c in ws[8]]
    assert header == ["STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Kế hoạch năm",
                      "Thực hiện tháng", "Lũy kế từ đầu năm", "Ghi chú"]
    assert all(c.protection.locked for c in ws[8])
    kt01 = next(r for r in ws.iter_rows(min_row=9) if r[1].value == "KT01")
    assert [c.protection.locked for c in kt01] == [True] * 4 + [False] * 4
    value_cell = kt01[5].coordinate
    [rule] = [dv for dv in ws.data_validations.dataValidation if value_cell in dv.sqref]
    assert (rule.type, rule.operator or "between", rule.formula1, rule.formula2) == (
        "decimal", "between", "0", "20000")
    assert "Thu ngân sách" in rule.prompt and "bắt buộc" in rule.prompt
    assert wb.sheetnames == ["KTXH-01", INSTRUCTIONS_SHEET]
    help_text = "\n".join(str(c.value) for c in wb[INSTRUCTIONS_SHEET]["A"] if c.value)
    assert "Hạn nộp: hết ngày 05/11/2024" in help_text and "xa-hiep-thuan" in help_text
    assert "XH03" in help_text and "KT01 Thu ngân sách nhà nước trên địa bàn" in help_text

    gd = _cells(build("GD-01", "phong-gddt", "2024-HK1", today=TODAY).data)
    assert gd.sheetnames[:3] == ["Mầm non", "Tiểu học", "THCS"]
    ws = gd["Tiểu học"]
    lists = {dv.formula1 for dv in ws.data_validations.dataValidation if dv.type == "list"}
    assert '"Có,Không"' in lists and '"Mầm non,Tiểu học,THCS"' in lists
    communes = next(f for f in lists if "Hiệp Thuận" in f)
    assert "Xã Hiệp Đức" not in communes  # formed in 2025: not a commune of 2024-HK1
    totals = next(r for r in ws.iter_rows() if r[2].value == "Tổng cộng")
    assert str(totals[6].value).startswith("=SUM(")

    hcc = _cells(build("HCC-06", "xa-binh-lam", "2024-10", today=TODAY).data)["HCC-06"]
    row = next(r for r in hcc.iter_rows() if r[1].value == "Hộ tịch")
    assert row[2].value == '=IF(COUNT(D10,E10,F10)=0,"",D10+E10+F10)' and row[2].protection.locked
    assert row[6].value == '=IF(COUNT(H10,I10,J10)=0,"",H10+I10+J10)'
    assert row[10].value == '=IF(COUNT(L10,M10)=0,"",L10+M10)'
    assert row[3].protection.locked is False and row[1].protection.locked is False


def test_a_commune_after_the_reform_gets_its_own_name_and_no_choice_of_commune() -> None:
    wb = _cells(build("GD-01", "xa-phuoc-tra-2025", "2025-HK1", today=TODAY).data)
    ws = wb["THCS"]
    assert ws["A1"].value == "UBND XÃ PHƯỚC TRÀ"
    first = next(r for r in ws.iter_rows(min_row=8) if r[0].value == 1)
    assert first[4].value == '=IF(COUNTA(B9,C9)=0,"","Xã Phước Trà")'
    assert first[4].protection.locked


@pytest.mark.parametrize(("form", "unit", "period", "message"), [
    ("KTXH-02", None, None, "Không có biểu mẫu \"KTXH-02\""),
    ("KTXH-01", "xa-khong-co", "2024-10", "Không có đơn vị \"xa-khong-co\""),
    ("KTXH-01", "xa-hiep-thuan", "2025-03", "nay thuộc Xã Quế Tân (xa-que-tan)"),
    ("GD-01", "phong-gddt", "2025-HK1", "Xã Hiệp Đức, Xã Phước Trà, Xã Việt An"),
    ("GD-01", "xa-hiep-thuan", "2024-HK1", "không phải đơn vị nộp biểu GD-01"),
    ("KTXH-01", "phong-gddt", "2024-10", "không phải đơn vị nộp biểu KTXH-01"),
    ("KTXH-01", "xa-hiep-duc", "2024-HK1", "báo cáo theo tháng"),
    ("KTXH-01", "xa-hiep-duc", "10/2024", "không đúng dạng"),
])
def test_templates_that_do_not_exist_are_refused_in_vietnamese(form, unit, period,
                                                                message) -> None:
    with pytest.raises(TemplateError, match=message.replace("(", r"\(").replace(")", r"\)")):
        build(form, unit, period, today=TODAY)


def test_catalogue_text_that_would_run_as_a_formula_is_refused(monkeypatch) -> None:
    """Text comes from the contracts and seeds only and is written as text; a value that a
    sheet would run (=, +, -, @ first) stops the template instead."""
    from ingest.intake import reference
    from ingest.template import _text

    assert _text("Xã Hiệp Đức") == "Xã Hiệp Đức"
    for bad in ("=HYPERLINK(\"x\")", "+1", "-1+1", "@SUM(1)"):
        with pytest.raises(TemplateError):
            _text(bad)
    kt01 = reference.indicators()["KT01"]
    monkeypatch.setitem(reference.indicators(), "KT01",
                        type(kt01)(**{**kt01.__dict__, "name": "=cmd|' /C calc'!A0"}))
    with pytest.raises(TemplateError, match="công thức"):
        build("KTXH-01", "xa-hiep-duc", "2026-11", today=TODAY)
    # everything written is a string cell: no formula but the template's own totals
    wb = _cells(build("HCC-06", "xa-hiep-duc", "2026-11", today=TODAY).data)
    formulas = {c.value.split("(")[0] for ws in wb for row in ws.iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")}
    assert formulas == {"=IF", "=SUM"}


def test_ioc_template_writes_the_file(tmp_path: Path) -> None:
    ioc = PROJECT_ROOT / ".venv" / "bin" / "ioc"
    out = subprocess.run([str(ioc), "template", "YT-01", "--unit", "xa-viet-an", "--period",
                          "2026-10", "--out", str(tmp_path)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    written = tmp_path / "YT-01_xa-viet-an_2026-10.xlsx"
    assert written.exists() and str(written) in out.stdout
    bad = subprocess.run([str(ioc), "template", "YT-01", "--unit", "xa-hiep-thuan", "--period",
                          "2026-10", "--out", str(tmp_path)], capture_output=True, text=True,
                         timeout=120)
    assert bad.returncode == 2 and "nay thuộc Xã Hiệp Đức" in bad.stderr
    dflt = subprocess.run([str(ioc), "template", "GD-01", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=120,
                          env={"PATH": "/usr/bin:/bin", "IOC_TODAY": "2026-12-15",
                               "HOME": str(tmp_path)})
    assert dflt.returncode == 0, dflt.stderr
    assert (tmp_path / "GD-01_2025-HK2.xlsx").exists()
