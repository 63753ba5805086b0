"""Fill a blank template the way a person does in Excel: only the cells left open, with
plausible values; then `tests.support.office.recalculate` computes its formulas as Excel
would on save.

Where each column is, is found the way the intake finds it (its header finder on the
template), so the filler depends on the contract, not on cell addresses. Every cell it writes
must be unlocked in the template: what staff need to fill is open, the rest is not.
"""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

import openpyxl
from openpyxl.worksheet.worksheet import Worksheet

from ingest.intake.contracts import Contract, load_contracts
from ingest.intake.headers import find_header
from ingest.intake.readers import read_book
from ingest.intake.reference import indicators_of, org_units
from ingest.template import INSTRUCTIONS_SHEET
from tests.intake.builders import HCC_ROWS, KTXH_VALUES, YT_VALUES

# code -> (plan, month, ytd): values every commune could report (in range, rules hold)
INDICATOR_VALUES = {code: (plan, month, ytd) for code, _n, _u, plan, month, ytd in KTXH_VALUES}
INDICATOR_VALUES.update({code: (None, month, None) for code, _n, _u, month in YT_VALUES})
# HCC-06: the typed-in columns of a row (the totals are formulas)
HCC_TYPED = ("carried_over", "received_online", "received_direct", "resolved_early",
             "resolved_on_time", "resolved_late", "pending_in_time", "pending_late")
HCC_INDEX = {"carried_over": 3, "received_online": 4, "received_direct": 5,
             "resolved_early": 7, "resolved_on_time": 8, "resolved_late": 9,
             "pending_in_time": 11, "pending_late": 12}


def _set(ws: Worksheet, row: int, col: int, value) -> None:
    """Write a cell staff may write (0-based row and column)."""
    cell = ws.cell(row + 1, col + 1)
    assert cell.protection.locked is False, f"{ws.title}!{cell.coordinate} is locked"
    cell.value = value


def fill(template: bytes, out: Path, *, schools: int = 2, broken: dict | None = None) -> Path:
    """`template` filled in and saved to `out` (formulas without results, as openpyxl saves).

    `broken`: {indicator code or column name: value} written instead of the plausible value
    (a report with mistakes)."""
    broken = broken or {}
    book = read_book(template, ".xlsx")
    contract = _contract_of(template)
    wb = openpyxl.load_workbook(io.BytesIO(template))
    for sheet in book.sheets:
        if sheet.name == INSTRUCTIONS_SHEET or not sheet.visible:
            continue
        match = find_header(sheet, contract)
        assert match is not None and not match.missing_required, sheet.name
        ws = wb[sheet.name]
        if contract.layout == "indicators":
            _fill_indicators(ws, sheet, match, contract, broken)
        elif contract.form == "HCC-06":
            _fill_hcc(ws, sheet, match, broken)
        else:
            _fill_schools(ws, sheet, match, contract, schools, broken)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def _contract_of(template: bytes) -> Contract:
    wb = openpyxl.load_workbook(io.BytesIO(template), read_only=True)
    first = wb.worksheets[0]
    text = " ".join(str(c) for row in first.iter_rows(max_row=6, values_only=True)
                    for c in row if c)
    wb.close()
    (form,) = [f for f in load_contracts() if f"Biểu số: {f}" in text]
    return load_contracts()[form]


def _fill_indicators(ws, sheet, match, contract: Contract, broken: dict) -> None:
    code_col = match.columns[contract.code_column]
    catalogue = indicators_of(contract.form)
    columns = {"plan_year": 0, contract.value_column: 1, "ytd": 2}
    for r in range(match.first_data_row, len(sheet.rows)):
        code = sheet.cell(r, code_col)
        if code not in catalogue:
            continue
        values = INDICATOR_VALUES[code]
        for name, i in columns.items():
            if name in match.columns and values[i] is not None:
                value = broken.get(code, values[i]) if name == contract.value_column else values[i]
                _set(ws, r, match.columns[name], value)


def _fill_hcc(ws, sheet, match, broken: dict) -> None:
    field_col = match.columns["field"]
    rows = {row[1]: row for row in HCC_ROWS}
    for r in range(match.first_data_row, len(sheet.rows)):
        field = sheet.cell(r, field_col)
        if field in rows:
            for name in HCC_TYPED:
                _set(ws, r, match.columns[name], broken.get(name, rows[field][HCC_INDEX[name]]))


def _fill_schools(ws, sheet, match, contract: Contract, count: int, broken: dict) -> None:
    """`count` schools on each level's sheet; the commune is chosen from the drop-down where
    the template has one (a district office), filled in by the template for a commune."""
    unit_line = str(sheet.cell(0, 0) or "")
    communes = sorted(u.name for u in org_units().values() if u.is_commune)
    level = sheet.name
    prefix = {"Mầm non": "MN", "Tiểu học": "TH", "THCS": "CS"}[level]
    commune_col = match.columns["org_unit_id"]
    for k in range(count):
        r = match.first_data_row + k
        code = f"{prefix}{k + 1:02d}"
        values = {
            "school_code": code,
            "school_name": f"Trường {level} số {k + 1}",
            "classes": 6 + k, "pupils": 150 + 10 * k, "girls": 70 + k,
            "minority_pupils": 5, "dropouts": 0, "teachers": 12 + k,
            "solid_classrooms": 6, "national_standard": "Có" if k % 2 == 0 else "Không",
        }
        if k == 1:
            values["level"] = level  # the first school leaves it to the sheet's name
        values.update(broken)
        for name, value in values.items():
            _set(ws, r, match.columns[name], value)
        cell = ws.cell(r + 1, commune_col + 1)
        if cell.protection.locked is False:  # a district office picks the school's commune
            _set(ws, r, commune_col, _commune_choice(ws, cell, communes))
        else:
            assert str(cell.value).startswith("=IF(COUNTA("), (unit_line, cell.value)


def _commune_choice(ws: Worksheet, cell, communes: list[str]) -> str:
    """The first commune the cell's drop-down offers (its list, inline or on a sheet)."""
    for dv in ws.data_validations.dataValidation:
        if cell.coordinate in dv.sqref and dv.type == "list":
            source = dv.formula1.strip('"')
            if "!" not in source:
                return source.split(",")[0]
            sheet_name, ref = source.lstrip("=").rsplit("!", 1)
            ls = ws.parent[sheet_name.strip("'")]
            first = ref.replace("$", "").split(":")[0]
            return ls[first].value
    raise AssertionError(f"no drop-down on {ws.title}!{cell.coordinate} ({communes[:3]}…)")


def decimal(value) -> Decimal:
    return Decimal(str(value))
