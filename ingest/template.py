"""Blank report templates made from the form contracts (`ioc template`, the upload page).

`build(form, unit_id, period)` writes an .xlsx that the intake accepts once it is filled in:
- the header block names the unit (`UBND <LEVEL> <NAME>` in capitals, or an agency's own
  name) and the period in the title (`tháng 10 năm 2024`, `học kỳ I năm học 2024-2025`),
  with `Biểu số:`;
- the header row holds each contract column under its first header alias (HCC-06's
  two-level header from the contract's `template: header_groups`); an indicator form lists
  every indicator of `indicators.csv` in order with its code, name and unit, under group rows;
- every cell but the ones staff fill is locked (sheet protection without a password);
  number cells accept only numbers in range (the indicator's plausible min–max of
  `indicators.csv`, the column's `min`/`max`), lists (school level, Có/Không, the communes of
  the area) are drop-downs;
- totals are formulas: a row's total when a rule of the contract says `total == a + b + c`,
  the `Tổng cộng` row as column sums; written with their cached results (empty, 0), so a blank
  template reads as blank;
- a last sheet `Hướng dẫn` says in Vietnamese how to fill and send it, with the deadline,
  the rules and the ranges (generated from the same contract and seeds).

Nothing here reads a file or the warehouse beyond the contracts and the seeds; the text
written comes from them only, always as strings (never as formulas).
"""

from __future__ import annotations

import ast
import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

import xlsxwriter
import yaml
from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell

from ingest.intake import periods as periods_mod
from ingest.intake.contracts import Column, Contract, load_contracts
from ingest.intake.periods import Period
from ingest.intake.problems import Problems
from ingest.intake.reference import (
    SEEDS,
    OrgUnit,
    form_submitters,
    indicators_of,
    org_units,
)
from ingest.intake.validate import check_unit_for_form

INSTRUCTIONS_SHEET = "Hướng dẫn"
LISTS_SHEET = "Danh mục"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFAULT_BLANK_ROWS = 20
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")
_FORMULA_START = ("=", "+", "-", "@")


class TemplateError(ValueError):
    """The template asked for does not exist (unknown form, unit or period, or a unit that
    does not send this form for that period); the message is in Vietnamese."""


@dataclass(frozen=True)
class Blank:
    """A template: its bytes and what it is for."""

    form: str
    unit_id: str | None
    period: str
    data: bytes

    @property
    def filename(self) -> str:
        """`<form>_<org_unit_id>_<period>.xlsx`: the intake reads unit and period from it too."""
        parts = [self.form, *([self.unit_id] if self.unit_id else []), self.period]
        return "_".join(parts) + ".xlsx"


# --- reference ---------------------------------------------------------------------------------

@cache
def _due_days(seeds=SEEDS) -> dict[str, int]:
    with (seeds / "forms.csv").open(encoding="utf-8") as fh:
        return {r["form_code"]: int(r["due_days_after_period_end"]) for r in csv.DictReader(fh)}


def due_date(form: str, period: Period) -> date:
    """The last day to send the report (`forms.csv`: days after the period ends)."""
    return period.end + timedelta(days=_due_days().get(form, 0))


def period_label(period: Period) -> str:
    """`tháng 10 năm 2024`, `học kỳ I năm học 2024-2025` (how titles name a period)."""
    if period.kind == "semester":
        half = "I" if period.code.endswith("1") else "II"
        return f"học kỳ {half} năm học {period.year}-{period.year + 1}"
    return f"tháng {period.month} năm {period.year}"


def _containing(kind: str, day: date) -> Period:
    """The month or semester that `day` falls in (between semesters: the one just before)."""
    if kind == "month":
        return periods_mod.month(day.year, day.month)
    for year in (day.year, day.year - 1):
        for half in (2, 1):
            p = periods_mod.semester(year, half)
            if p.start <= day:
                return p
    raise AssertionError("unreachable")


def _previous(period: Period) -> Period | None:
    """The period before (None before the year 2000, where periods stop)."""
    if period.kind == "month":
        day = period.start - timedelta(days=1)
        return periods_mod.month(day.year, day.month)
    year, half = period.year, int(period.code[-1])
    return periods_mod.semester(year, 1) if half == 2 else periods_mod.semester(year - 1, 2)


def recent_periods(form: str, today: date, count: int = 12) -> list[Period]:
    """The `count` latest periods of the form that have ended by `today`, newest first."""
    contract = _contract(form)
    period: Period | None = _containing(contract.period_kind, today)
    if period.end >= today:
        period = _previous(period)
    out = []
    while period is not None and len(out) < count:
        out.append(period)
        period = _previous(period)
    return out


def default_period(form: str, today: date) -> Period:
    """The latest period of the form that has ended by `today` (what is owed next)."""
    return recent_periods(form, today, 1)[0]


def parse_period(form: str, text: str) -> Period:
    contract = _contract(form)
    period = periods_mod.parse_code(text.strip())
    if period is None:
        raise TemplateError(f"Kỳ báo cáo \"{text}\" không đúng dạng (YYYY-MM hoặc YYYY-HK1/HK2).")
    if period.kind != contract.period_kind:
        wanted = "tháng (YYYY-MM)" if contract.period_kind == "month" else "học kỳ (YYYY-HK1/HK2)"
        raise TemplateError(f"Biểu {form} báo cáo theo {wanted}, không theo kỳ {period.code}.")
    return period


def submits(unit_id: str, form: str, period: Period) -> bool:
    """True when the unit existed during the period and sends this form for it."""
    unit = org_units().get(unit_id)
    rules = form_submitters().get(form, ())
    return bool(unit and unit.overlaps(period.start, period.end)
                and any(rule.admits(unit, period.start) for rule in rules))


def forms_of(unit_id: str) -> list[str]:
    """The forms the unit sends for at least one period (in contract order)."""
    unit = org_units().get(unit_id)
    if unit is None:
        return []
    return [form for form in load_contracts()
            if any(rule.admits(unit, None) and unit.overlaps(rule.period_from or date.min,
                                                             rule.period_to or date.max)
                   for rule in form_submitters().get(form, ()))]


def _contract(form: str) -> Contract:
    contract = load_contracts().get(form)
    if contract is None:
        known = ", ".join(load_contracts())
        raise TemplateError(f"Không có biểu mẫu \"{form}\" (các biểu: {known}).")
    return contract


@cache
def _spec(form: str) -> dict[str, Any]:
    """The contract's YAML as written (raw header texts, choice and yes/no words, `template:`)."""
    contract = load_contracts()[form]
    return yaml.safe_load(contract.source.read_text(encoding="utf-8")) if contract.source else {}


# --- text ---------------------------------------------------------------------------------------

def _text(value: object) -> str:
    """Text for a cell, from the contracts and seeds only; never something a sheet would run."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        raise TemplateError(f"Giá trị \"{text}\" trong danh mục bắt đầu như một công thức.")
    return text


def unit_line(unit: OrgUnit | None) -> str:
    """The issuing unit as the header block writes it: `UBND ` and the unit's name in
    capitals for a commune-level unit, the agency's own name in capitals otherwise."""
    if unit is None:
        return "ĐƠN VỊ: ................................"
    return f"UBND {unit.name.upper()}" if unit.is_commune else unit.name.upper()


def _number(value: Decimal | None) -> str:
    """`20.000`, `12,5`: a number as Vietnamese staff write it."""
    if value is None:
        return ""
    text = f"{int(value):,}" if value == value.to_integral_value() else f"{value:,}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# --- layout -------------------------------------------------------------------------------------

@dataclass
class _Col:
    name: str
    label: str
    width: float
    column: Column
    group: str | None = None
    formula: list[str] = field(default_factory=list)  # a row total: the columns it adds up


def _columns(contract: Contract) -> list[_Col]:
    spec = (_spec(contract.form).get("template") or {})
    labels = spec.get("labels") or {}
    groups = {col: group for group, cols in (spec.get("header_groups") or {}).items()
              for col in cols}
    raw = _spec(contract.form).get("columns") or {}
    out = []
    for name, column in contract.columns.items():
        first = str((raw.get(name) or {}).get("header", [column.label])[0])
        label = labels.get(name) or first.split(">")[-1].strip()
        out.append(_Col(name, label, _width(contract, name, column), column, groups.get(name)))
    derived = _row_totals(contract)
    for col in out:
        col.formula = derived.get(col.name, [])
    return out


def _width(contract: Contract, name: str, column: Column) -> float:
    if name == "stt":
        return 6
    if name in (contract.name_column, "school_name", "field"):
        return 46
    if name == contract.code_column or name == "school_code":
        return 11
    if column.type in ("number", "integer"):
        return 14
    if column.type == "commune":
        return 22
    return 16


def _row_totals(contract: Contract) -> dict[str, list[str]]:
    """`total == a + b + c` rules of a rows form, as formulas: each column derived once, from
    columns typed in (a later rule on a derived column stays a check)."""
    numeric = {n for n, c in contract.columns.items() if c.type in ("number", "integer")}
    if contract.layout != "rows":
        return {}
    derived: dict[str, list[str]] = {}
    for rule in contract.rules:
        node = rule.tree.body
        if not (isinstance(node, ast.Compare) and len(node.ops) == 1
                and isinstance(node.ops[0], ast.Eq) and isinstance(node.left, ast.Name)):
            continue
        parts = _added_names(node.comparators[0])
        total = node.left.id
        if (parts and total in numeric and total not in derived and len(parts) > 1
                and all(p in numeric and p not in derived and p != total for p in parts)):
            derived[total] = parts
    return derived


def _added_names(node: ast.AST) -> list[str] | None:
    if isinstance(node, ast.Name):
        return [node.id]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _added_names(node.left), _added_names(node.right)
        return left + right if left is not None and right is not None else None
    return None


# --- the workbook -------------------------------------------------------------------------------

class _Writer:
    def __init__(self, contract: Contract, unit: OrgUnit | None, period: Period):
        self.contract, self.unit, self.period = contract, unit, period
        self.buffer = io.BytesIO()
        self.book = xlsxwriter.Workbook(self.buffer, {"in_memory": True})
        self.book.set_properties({"title": _text(f"{contract.form} - {contract.title}"),
                                  "subject": _text(period_label(period)),
                                  "comments": "ioc template"})
        f = self.book.add_format
        border = {"border": 1, "valign": "vcenter", "font_name": "Times New Roman", "font_size": 12}
        self.fmt = {
            "unit": f({"bold": True, "font_name": "Times New Roman", "font_size": 12}),
            "nation": f({"bold": True, "align": "center", "font_name": "Times New Roman",
                         "font_size": 12}),
            "motto": f({"bold": True, "italic": True, "align": "center",
                        "font_name": "Times New Roman", "font_size": 12}),
            "code": f({"italic": True, "font_name": "Times New Roman", "font_size": 12}),
            "title": f({"bold": True, "align": "center", "font_name": "Times New Roman",
                        "font_size": 14}),
            "subtitle": f({"bold": True, "italic": True, "align": "center",
                           "font_name": "Times New Roman", "font_size": 12}),
            "head": f({**border, "bold": True, "align": "center", "text_wrap": True,
                       "bg_color": "#D9E2F3"}),
            "static": f({**border, "text_wrap": True}),
            "static_center": f({**border, "align": "center"}),
            "group": f({**border, "bold": True}),
            "input_text": f({**border, "locked": False, "bg_color": "#FFF9DB",
                             "text_wrap": True}),
            "input_number": f({**border, "locked": False, "bg_color": "#FFF9DB",
                               "num_format": "#,##0.##"}),
            "input_integer": f({**border, "locked": False, "bg_color": "#FFF9DB",
                                "num_format": "#,##0"}),
            "formula": f({**border, "bold": True, "bg_color": "#EDEDED", "num_format": "#,##0.##"}),
            "formula_text": f({**border, "bg_color": "#EDEDED"}),
            "total_label": f({**border, "bold": True, "bg_color": "#EDEDED"}),
            "footer": f({"bold": True, "align": "center", "font_name": "Times New Roman",
                         "font_size": 12}),
            "footer_note": f({"italic": True, "align": "center", "font_name": "Times New Roman",
                              "font_size": 12}),
            "help_title": f({"bold": True, "font_size": 14}),
            "help_head": f({"bold": True, "font_size": 12}),
            "help": f({"text_wrap": True, "valign": "top", "font_size": 12}),
        }
        self.lists: list[tuple[str, list[str]]] = []
        self.list_sheet = None

    # -- cells

    def text(self, ws, row: int, col: int, value: object, fmt: str) -> None:
        ws.write_string(row, col, _text(value), self.fmt[fmt])

    def blank(self, ws, row: int, col: int, fmt: str) -> None:
        ws.write_blank(row, col, None, self.fmt[fmt])

    # -- sheets

    def header_block(self, ws, width: int) -> int:
        """Rows 1–7: unit and nation lines, form code, title with the period. Returns the
        first row after it."""
        c = self.contract
        left_end = max(2, width // 2 - 1)
        ws.merge_range(0, 0, 0, left_end, _text(unit_line(self.unit)), self.fmt["unit"])
        ws.merge_range(0, left_end + 1, 0, width - 1, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                       self.fmt["nation"])
        ws.merge_range(1, left_end + 1, 1, width - 1, "Độc lập - Tự do - Hạnh phúc",
                       self.fmt["motto"])
        ws.merge_range(3, 0, 3, left_end, _text(f"Biểu số: {c.form}"), self.fmt["code"])
        ws.merge_range(4, 0, 4, width - 1, _text(c.title.upper()), self.fmt["title"])
        period = period_label(self.period)
        ws.merge_range(5, 0, 5, width - 1, _text(period[0].upper() + period[1:]),
                       self.fmt["subtitle"])
        return 7

    def header_row(self, ws, row: int, cols: list[_Col]) -> int:
        """The header (two rows when the contract groups columns). Returns the first data row."""
        two = any(col.group for col in cols)
        if not two:
            for i, col in enumerate(cols):
                self.text(ws, row, i, col.label, "head")
                ws.set_column(i, i, col.width)
            ws.set_row(row, 36)
            return row + 1
        i = 0
        while i < len(cols):
            col = cols[i]
            ws.set_column(i, i, col.width)
            if not col.group:
                ws.merge_range(row, i, row + 1, i, _text(col.label), self.fmt["head"])
                i += 1
                continue
            j = i
            while j + 1 < len(cols) and cols[j + 1].group == col.group:
                j += 1
            if j > i:
                ws.merge_range(row, i, row, j, _text(col.group), self.fmt["head"])
            else:
                self.text(ws, row, i, col.group, "head")
            for k in range(i, j + 1):
                self.text(ws, row + 1, k, cols[k].label, "head")
                ws.set_column(k, k, cols[k].width)
            i = j + 1
        ws.set_row(row, 30)
        ws.set_row(row + 1, 48)
        return row + 2

    def footer(self, ws, row: int, width: int) -> None:
        right = max(width // 2, 1)
        ws.merge_range(row + 1, right, row + 1, width - 1,
                       "............., ngày ...... tháng ...... năm ..........",
                       self.fmt["footer_note"])
        left_end = max(right - 1, 0)
        ws.merge_range(row + 2, 0, row + 2, left_end, "NGƯỜI LẬP BIỂU", self.fmt["footer"])
        ws.merge_range(row + 2, right, row + 2, width - 1, "THỦ TRƯỞNG ĐƠN VỊ",
                       self.fmt["footer"])
        ws.merge_range(row + 3, 0, row + 3, left_end, "(Ký, ghi rõ họ tên)",
                       self.fmt["footer_note"])
        ws.merge_range(row + 3, right, row + 3, width - 1, "(Ký, ghi rõ họ tên, đóng dấu)",
                       self.fmt["footer_note"])

    def protect(self, ws) -> None:
        ws.protect("", {"format_columns": True, "format_rows": True, "insert_rows": True,
                        "select_locked_cells": True, "select_unlocked_cells": True})

    def new_sheet(self, name: str):
        ws = self.book.add_worksheet(name)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.hide_gridlines(0)
        return ws

    # -- validation

    def number_rule(self, column: Column, low: Decimal | None, high: Decimal | None,
                    title: str, what: str) -> dict[str, Any]:
        integer = column.type == "integer"
        if low is None:
            low = column.min if column.min is not None else Decimal(0)
        if high is None:
            high = column.max
        rule: dict[str, Any] = {"validate": "integer" if integer else "decimal",
                                "ignore_blank": True}
        kind = "số nguyên" if integer else "số"
        if high is not None:
            rule.update(criteria="between", minimum=_plain(low), maximum=_plain(high))
            allowed = f"{kind} từ {_number(low)} đến {_number(high)}"
        else:
            rule.update(criteria=">=", value=_plain(low))
            allowed = f"{kind} từ {_number(low)} trở lên"
        rule.update(input_title=title[:32], input_message=f"{what}: {allowed}."[:255],
                    error_title="Số liệu không hợp lệ"[:32],
                    error_message=f"{what}: chỉ nhận {allowed}."[:255])
        return rule

    def list_rule(self, values: Sequence[str], title: str, what: str) -> dict[str, Any]:
        values = [_text(v) for v in values]
        inline = ",".join(values)
        if len(inline) <= 250 and not any("," in v for v in values):
            source: Any = values
        else:
            source = self._list_range(values)
        return {"validate": "list", "source": source, "ignore_blank": True,
                "input_title": title[:32], "input_message": f"{what}: chọn trong danh sách."[:255],
                "error_title": "Giá trị không có trong danh sách"[:32],
                "error_message": f"{what}: chỉ chọn một giá trị trong danh sách."[:255]}

    def _list_range(self, values: Sequence[str]) -> str:
        """A long list goes to a hidden sheet (the intake never reads hidden sheets)."""
        if self.list_sheet is None:
            self.list_sheet = self.book.add_worksheet(LISTS_SHEET)
            self.list_sheet.hide()
        col = len(self.lists)
        self.lists.append(("", list(values)))
        for i, v in enumerate(values):
            self.list_sheet.write_string(i, col, v)
        letter = xl_col_to_name(col)
        return f"='{LISTS_SHEET}'!${letter}$1:${letter}${len(values)}"

    # -- layouts

    def indicators(self) -> None:
        c = self.contract
        cols = _columns(c)
        ws = self.new_sheet(c.form)
        row = self.header_block(ws, len(cols))
        first = row = self.header_row(ws, row, cols)
        catalogue = indicators_of(c.form)
        groups: dict[str, list] = {}
        for ind in catalogue.values():
            groups.setdefault(ind.group, []).append(ind)
        n = 0
        for g, (group, items) in enumerate(groups.items()):
            for i, col in enumerate(cols):
                if col.name == "stt":
                    self.text(ws, row, i, _ROMAN[g] if g < len(_ROMAN) else "", "group")
                elif col.name == c.name_column:
                    self.text(ws, row, i, group.upper(), "group")
                else:
                    self.blank(ws, row, i, "group")
            row += 1
            for ind in items:
                n += 1
                for i, col in enumerate(cols):
                    name = col.name
                    if name == "stt":
                        ws.write_number(row, i, n, self.fmt["static_center"])
                    elif name == c.code_column:
                        self.text(ws, row, i, ind.code, "static_center")
                    elif name == c.name_column:
                        self.text(ws, row, i, ind.name, "static")
                    elif name == "unit":
                        self.text(ws, row, i, ind.unit, "static_center")
                    elif col.column.type in ("number", "integer"):
                        fmt = "input_integer" if col.column.type == "integer" else "input_number"
                        self.blank(ws, row, i, fmt)
                        low, high = ((ind.min, ind.max) if name == c.value_column
                                     else (None, None))
                        need = " (bắt buộc)" if ind.required and name == c.value_column else ""
                        ws.data_validation(row, i, row, i, self.number_rule(
                            col.column, low, high, f"{ind.code} - {col.label}",
                            f"{ind.name} ({ind.unit}){need}"))
                    else:
                        self.blank(ws, row, i, "input_text")
                row += 1
        ws.freeze_panes(first, 0)
        self.footer(ws, row, len(cols))
        self.protect(ws)

    def rows(self) -> None:
        c = self.contract
        cols = _columns(c)
        spec = _spec(c.form).get("template") or {}
        by_sheet = [None]
        level = next((n for n, col in c.columns.items()
                      if col.type == "choice" and col.from_sheet_name), None)
        if c.sheets == "all" and level:
            by_sheet = list(dict.fromkeys(c.columns[level].choices.values()))
        suggested = [str(s) for s in spec.get("rows") or []]
        blank_rows = int(spec.get("blank_rows") or DEFAULT_BLANK_ROWS)
        for sheet_value in by_sheet:
            ws = self.new_sheet(sheet_value or c.form)
            row = self.header_block(ws, len(cols))
            first = row = self.header_row(ws, row, cols)
            count = max(blank_rows, len(suggested) + 5)
            letters = {col.name: xl_col_to_name(i) for i, col in enumerate(cols)}
            label_cols = [n for n in (c.row_label or ((c.key,) if c.key else ())) if n in letters]
            for k in range(count):
                for i, col in enumerate(cols):
                    self.rows_cell(ws, row, i, col, k, suggested, letters, label_cols,
                                   sheet_value)
                row += 1
            last = row - 1
            self.total_row(ws, row, cols, first, last)
            ws.freeze_panes(first, 0)
            self.footer(ws, row + 1, len(cols))
            self.protect(ws)

    def rows_cell(self, ws, row: int, i: int, col: _Col, k: int, suggested: list[str],
                  letters: dict[str, str], label_cols: list[str], sheet_value) -> None:
        c, name, column = self.contract, col.name, col.column
        excel_row = row + 1
        if name == "stt":
            ws.write_number(row, i, k + 1, self.fmt["static_center"])
        elif col.formula:
            refs = [f"{letters[p]}{excel_row}" for p in col.formula]
            ws.write_formula(row, i, f'=IF(COUNT({",".join(refs)})=0,"",{"+".join(refs)})',
                             self.fmt["formula"], "")
        elif column.type in ("number", "integer"):
            fmt = "input_integer" if column.type == "integer" else "input_number"
            self.blank(ws, row, i, fmt)
            ws.data_validation(row, i, row, i, self.number_rule(column, None, None, col.label,
                                                                col.label))
        elif column.type == "commune" and self.unit is not None and self.unit.is_commune:
            # a commune reports its own area: its name fills in once a row is started
            refs = ",".join(f"{letters[n]}{excel_row}" for n in label_cols)
            name_text = _text(self.unit.name).replace('"', '""')
            ws.write_formula(row, i, f'=IF(COUNTA({refs})=0,"","{name_text}")',
                             self.fmt["formula_text"], "")
        elif column.type == "commune":
            self.blank(ws, row, i, "input_text")
            ws.data_validation(row, i, row, i, self.list_rule(
                [u.name for u in self._communes()], col.label, col.label))
        elif column.type == "choice":
            self.blank(ws, row, i, "input_text")
            values = list(dict.fromkeys(column.choices.values()))
            what = col.label + (f" (để trống: {sheet_value})" if sheet_value else "")
            ws.data_validation(row, i, row, i, self.list_rule(values, col.label, what))
        elif column.type == "boolean":
            self.blank(ws, row, i, "input_text")
            raw = (_spec(c.form).get("columns") or {}).get(name) or {}
            words = [str(raw.get("true_values", ["Có"])[0]), str(raw.get("false_values",
                                                                        ["Không"])[0])]
            ws.data_validation(row, i, row, i, self.list_rule(words, col.label, col.label))
        elif name == (c.row_label or (c.key,))[0] and k < len(suggested):
            self.text(ws, row, i, suggested[k], "input_text")
        else:
            self.blank(ws, row, i, "input_text")

    def total_row(self, ws, row: int, cols: list[_Col], first: int, last: int) -> None:
        c = self.contract
        sums = set(c.total_sums) or {col.name for col in cols
                                     if col.column.type in ("number", "integer")}
        widths = {col.name: col.width for col in cols}
        label_col = max((n for n in c.total_label_columns if n in widths and n != "stt"),
                        key=lambda n: widths[n], default=None)
        labels = (_spec(c.form).get("total_row") or {}).get("labels") or ["Tổng cộng"]
        for i, col in enumerate(cols):
            if col.name == label_col:
                self.text(ws, row, i, str(labels[0]), "total_label")
            elif col.name in sums:
                ws.write_formula(row, i, f"=SUM({xl_rowcol_to_cell(first, i)}:"
                                 f"{xl_rowcol_to_cell(last, i)})", self.fmt["formula"], 0)
            else:
                self.blank(ws, row, i, "total_label")

    def _communes(self) -> list[OrgUnit]:
        """The communes a row may name: those of the unit's area (its parent's), or every
        commune-level unit, that existed during the period."""
        p = self.period
        parent = self.unit.parent_id if self.unit else None
        units = [u for u in org_units().values() if u.is_commune and u.overlaps(p.start, p.end)
                 and (parent is None or u.parent_id == parent)]
        return sorted(units, key=lambda u: u.name)

    def instructions(self) -> None:
        c, p = self.contract, self.period
        ws = self.book.add_worksheet(INSTRUCTIONS_SHEET)
        ws.set_column(0, 0, 110)
        lines: list[tuple[str, str]] = [
            (f"HƯỚNG DẪN ĐIỀN BIỂU {c.form}", "help_title"),
            (c.title, "help_head"),
            (f"Đơn vị: {self.unit.name} (thư mục nộp: {self.unit.org_unit_id})"
             if self.unit else "Đơn vị: ghi tên đơn vị ở dòng đầu biểu.", "help"),
            (f"Kỳ báo cáo: {period_label(p)}. Hạn nộp: hết ngày "
             f"{due_date(c.form, p):%d/%m/%Y}.", "help"),
            ("", "help"),
            ("Cách điền", "help_head"),
            ("1. Chỉ điền vào các ô nền vàng nhạt. Các ô còn lại (tên đơn vị, kỳ báo cáo, tiêu "
             "đề cột, mã và tên chỉ tiêu, các ô tổng) đã được khóa để biểu luôn đúng mẫu.", "help"),
            ("2. Ghi số, không ghi chữ vào ô số liệu; dấu phẩy là dấu thập phân (ví dụ 412,5). "
             "Số liệu không phát sinh ghi 0. Excel báo lỗi khi gõ số ngoài khoảng cho phép.",
             "help"),
            ("3. Ô có danh sách (mũi tên bên phải ô) thì chọn trong danh sách.", "help"),
            ("4. Các ô tổng (nền xám) tự tính bằng công thức; không cần gõ.", "help"),
            ("5. Không đổi tên trang tính, không xóa hay đổi tên cột, không sửa dòng đầu biểu. "
             "Lưu tệp dạng Excel (.xlsx).", "help"),
            ("6. Nộp tệp trên trang \"Nộp báo cáo\" (đăng nhập bằng tài khoản xem báo cáo của "
             "đơn vị) hoặc chép vào thư mục nộp báo cáo của đơn vị. Sau vài giây có kết quả: "
             "biên nhận, hoặc danh sách lỗi (trang tính, dòng, cột, cách sửa). Sửa xong thì "
             "nộp lại; bản nộp sau thay bản trước.", "help"),
        ]
        if c.layout == "rows":
            what = "trường" if c.sheets == "all" else "dòng"
            lines.append((f"7. Mỗi {what} ghi một dòng; dòng để trống không được đọc. Cần thêm "
                          "dòng thì chèn dòng ở giữa bảng (trên dòng Tổng cộng).", "help"))
        if c.rules:
            lines += [("", "help"), ("Quy tắc kiểm tra (tệp sai quy tắc bị từ chối)", "help_head")]
            lines += [(f"• {rule.message}", "help") for rule in c.rules]
        if c.layout == "indicators":
            lines += [("", "help"),
                      ("Chỉ tiêu và khoảng số liệu hợp lý của một đơn vị trong một kỳ",
                       "help_head")]
            for ind in indicators_of(c.form).values():
                need = "bắt buộc" if ind.required else "không bắt buộc"
                lines.append((f"• {ind.code} {ind.name} ({ind.unit}): {_number(ind.min)} – "
                              f"{_number(ind.max)}; {need}", "help"))
        for i, (line, fmt) in enumerate(lines):
            if line:
                self.text(ws, i, 0, line, fmt)
        ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})

    def close(self) -> bytes:
        self.book.close()
        return self.buffer.getvalue()


def build(form: str, unit_id: str | None = None, period: str | Period | None = None, *,
          today: date | None = None) -> Blank:
    """The blank template of `form` for `unit_id` (optional) and `period` (default: the
    latest period ended by `today`). Raises TemplateError, in Vietnamese, for a form, unit or
    period that does not exist or a unit that does not send this form for that period."""
    contract = _contract(form)
    if period is None:
        when = default_period(form, today or date.today())
    elif isinstance(period, Period):
        when = period
    else:
        when = parse_period(form, period)
    unit = None
    if unit_id:
        unit = org_units().get(unit_id)
        if unit is None:
            raise TemplateError(f"Không có đơn vị \"{unit_id}\" trong danh mục đơn vị.")
        problems = Problems()
        check_unit_for_form(unit_id, contract, when, problems)
        if problems.errors:
            p = problems.errors[0]
            raise TemplateError(p.message + (f" {p.hint}" if p.hint else ""))
    writer = _Writer(contract, unit, when)
    if contract.layout == "indicators":
        writer.indicators()
    else:
        writer.rows()
    writer.instructions()
    return Blank(contract.form, unit_id, when.code, writer.close())
