"""Read the data rows under a header, by layout, into records — collecting every problem.

Two layouts cover the forms:
- `indicators` (KTXH-01, YT-01): one row per indicator of indicators.csv, found by code or,
  when the code column is missing or empty, by name; group rows and the footer are skipped;
- `rows` (HCC-06, GD-01): one row per entity (field, school) with typed columns, a unique key,
  rules between the values of a row and an optional total row checked against column sums.
These functions are pure: a `Sheet` in, records and `Problems` out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ingest.intake.contracts import Column, Contract, evaluate
from ingest.intake.headers import HeaderMatch, is_numbering_row
from ingest.intake.problems import Problems
from ingest.intake.readers import Sheet
from ingest.intake.reference import (
    Indicator,
    commune_by_name,
    indicators_of,
    org_units,
    successor_in,
)
from ingest.intake.text import (
    NotANumber,
    column_letter,
    display,
    fold,
    is_blank,
    parse_number,
    strip_accents,
)


@dataclass
class DataRow:
    sheet: str
    row: int  # Excel row number
    cells: dict[str, Any]
    hidden: bool
    source: Sheet | None = None  # for `as_written`: the sheet and the header's columns
    columns: dict[str, int] | None = None

    def as_written(self, name: str) -> str | None:
        """The cell of column `name` as written in the file (`Sheet.as_written`)."""
        if self.source is None or self.columns is None or name not in self.columns:
            return None
        return self.source.as_written(self.row - 1, self.columns[name])


# Raw-table column holding the number cells of a row as written in the file: a JSON object
# {raw column: text}, beside the parsed numbers (`store.AS_WRITTEN`).
AS_WRITTEN = "as_written"


def written_cells(row: DataRow, contract: Contract, names: Sequence[str]) -> str | None:
    """The JSON of `AS_WRITTEN` for the number columns `names` of a row (None if all empty)."""
    if row.source is None or row.columns is None:
        return None
    texts = {}
    at, columns, index = row.source.as_written, row.columns, row.row - 1
    for name in names:
        text = at(index, columns[name]) if name in columns else None
        if text is not None:
            texts[contract.columns[name].db_column or name] = text
    return _dumps(texts) if texts else None


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def column_name(match: HeaderMatch, contract: Contract, name: str) -> str:
    """`F (Thực hiện tháng)` — the letter and the header as written in the file."""
    col = match.columns[name]
    label = match.labels.get(col) or contract.columns[name].label
    return f"{column_letter(col)} ({label})"


@lru_cache(maxsize=64)
def _footer_regexes(markers: tuple[str, ...], patterns: tuple[str, ...]
                    ) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    marker = (re.compile("^(?:" + "|".join(re.escape(m) for m in markers) + ")(?: |$)")
              if markers else None)
    pattern = re.compile("|".join(f"(?:{p})" for p in patterns)) if patterns else None
    return marker, pattern


FOOTER_MAX_CELLS = 4  # signature rows are sparse; a fuller row is data, not a footer


def _is_footer(values: list[Any], contract: Contract) -> bool:
    filled = [v for v in values if v is not None]
    if len(filled) > FOOTER_MAX_CELLS:
        return False
    marker, pattern = _footer_regexes(contract.footer_markers, contract.footer_patterns)
    for v in filled:
        if not isinstance(v, str):
            continue
        if marker is not None and marker.match(fold(v)):
            return True
        if pattern is not None and pattern.search(strip_accents(v)):
            return True
    return False


def data_rows(sheet: Sheet, match: HeaderMatch, contract: Contract) -> Iterator[DataRow]:
    """Rows under the header until the footer (signature block) or the end of the sheet."""
    start = match.first_data_row
    if start < len(sheet.rows) and is_numbering_row(sheet.rows[start]):
        start += 1
    for index in range(start, len(sheet.rows)):
        values = sheet.rows[index]
        if all(is_blank(v) for v in values):
            continue
        if _is_footer(values, contract):
            return
        cells = {name: sheet.cell(index, col) for name, col in match.columns.items()}
        yield DataRow(sheet.name, index + 1, cells, (index + 1) in sheet.hidden_rows,
                      sheet, match.columns)


MAX_NUMBER = Decimal(10) ** 15  # beyond any real count or amount; keeps bigint/numeric safe


class _Cells:
    """Typed reading of one row's cells, reporting each bad cell with its address."""

    def __init__(self, problems: Problems, contract: Contract, match: HeaderMatch, row: DataRow):
        self.problems, self.contract, self.match, self.row = problems, contract, match, row
        self.subject = ""  # "KT02 (Chi ngân sách xã): " once the row's indicator is known
        self.key: str | None = None  # the row as staff know it, in every problem of the row

    def say(self, text: str) -> str:
        return f"{self.subject}{text[0].lower()}{text[1:]}" if self.subject else text

    def where(self, name: str, value: Any) -> dict[str, Any]:
        return {"sheet": self.row.sheet, "row": self.row.row, "key": self.key,
                "column": column_name(self.match, self.contract, name), "value": display(value)}

    def number(self, name: str) -> Decimal | None:
        column = self.contract.columns[name]
        raw = self.row.cells.get(name)
        try:
            value = parse_number(raw)
        except NotANumber:
            self.problems.error(
                "not_a_number", self.say(f"Ô phải là một số nhưng đang ghi \"{display(raw)}\"."),
                hint="Chỉ ghi con số (ví dụ 1.234,5), không kèm chữ hay đơn vị.",
                **self.where(name, raw))
            return None
        if value is None and column.empty_as_zero:
            return Decimal(0)
        if value is None:
            return None
        if abs(value) >= MAX_NUMBER:
            self.problems.error(
                "out_of_range", self.say(f"Số {display(raw)} quá lớn, không thể là số liệu thật."),
                hint="Kiểm tra lại số liệu (thừa chữ số?).", **self.where(name, raw))
            return None
        if column.type == "integer" and value != value.to_integral_value():
            self.problems.error(
                "not_an_integer",
                self.say(f"Ô phải là số nguyên nhưng đang ghi \"{display(raw)}\"."),
                hint="Số lượng (hồ sơ, học sinh, lớp…) phải là số nguyên.", **self.where(name, raw))
            return None
        if value < 0 and (column.min is None or column.min >= 0):
            self.problems.error(
                "negative", self.say(f"Số liệu không được âm (đang ghi {display(raw)})."),
                hint="Kiểm tra lại số liệu; nếu không có phát sinh thì ghi 0.",
                **self.where(name, raw))
            return None
        if (column.min is not None and value < column.min) or (
            column.max is not None and value > column.max
        ):
            self.problems.error(
                "out_of_range",
                f"Giá trị {display(raw)} nằm ngoài khoảng cho phép "
                f"({display(column.min)}–{display(column.max)}).", **self.where(name, raw))
            return None
        return int(value) if column.type == "integer" else value

    def text(self, name: str) -> str | None:
        raw = self.row.cells.get(name)
        if is_blank(raw):
            return None
        return " ".join(display(raw).split())


# --- indicators layout -------------------------------------------------------------------------

_BULLET = re.compile(r"^(?:[-+*•]+|\d{1,2}[.)]|[a-z][.)])\s*")
_GROUP_MARK = re.compile(r"^(?:[ivx]+|[a-z])\.?$")


def _indicator_names(contract: Contract) -> dict[str, str]:
    names = {fold(i.name): code for code, i in indicators_of(contract.form).items()}
    names.update(contract.indicator_aliases)
    return names


def _name_key(text: str) -> str:
    folded = fold(text)
    raw = strip_accents(text).strip()
    if _BULLET.match(raw):
        folded = fold(_BULLET.sub("", raw))
    return folded


@dataclass
class IndicatorValue:
    code: str
    sheet: str
    row: int
    values: dict[str, Any]
    written: str | None = None  # AS_WRITTEN of the row


def read_indicators(
    sheet: Sheet, match: HeaderMatch, contract: Contract, problems: Problems
) -> list[IndicatorValue]:
    """Indicator rows of one sheet (before the file-level checks in `check_indicators`)."""
    catalogue = indicators_of(contract.form)
    names = _indicator_names(contract)
    numeric = [n for n in contract.load if contract.columns[n].type in ("number", "integer")]
    texts = [n for n in contract.load if n not in numeric and n != contract.code_column]
    out: list[IndicatorValue] = []
    has_code = contract.code_column in match.columns
    has_name = contract.name_column in match.columns
    for row in data_rows(sheet, match, contract):
        cells = _Cells(problems, contract, match, row)
        code_raw = cells.text(contract.code_column) if has_code else None
        name_raw = cells.text(contract.name_column) if has_name else None
        has_numbers = any(not is_blank(row.cells.get(n)) for n in numeric if n in match.columns)
        code: str | None = None
        if code_raw:
            candidate = re.sub(r"\s+", "", code_raw).upper()
            if candidate in catalogue:
                code = candidate
            elif _GROUP_MARK.match(code_raw.lower()) and not has_numbers:
                continue
            else:
                problems.error(
                    "unknown_indicator", f"Mã chỉ tiêu \"{code_raw}\" không có trong biểu "
                    f"{contract.form}.",
                    hint="Dùng đúng mã chỉ tiêu của biểu mẫu (ví dụ KT01); không tự thêm chỉ tiêu.",
                    **cells.where(contract.code_column, code_raw))
                continue
        elif name_raw:
            code = names.get(_name_key(name_raw))
            if code is None:
                if not has_numbers:
                    continue  # a group row such as "I | KINH TẾ"
                problems.error(
                    "unknown_indicator_name",
                    f"Không nhận ra chỉ tiêu \"{name_raw}\" trong biểu {contract.form}.",
                    hint="Ghi tên chỉ tiêu đúng như biểu mẫu hoặc thêm cột Mã chỉ tiêu.",
                    **cells.where(contract.name_column, name_raw))
                continue
        else:
            if has_numbers:
                where = cells.where(numeric[0], None) if numeric[0] in match.columns else {}
                problems.error(
                    "row_without_indicator",
                    "Dòng có số liệu nhưng không có mã hay tên chỉ tiêu.",
                    hint="Ghi mã hoặc tên chỉ tiêu cho dòng này, hoặc xóa số liệu thừa.",
                    **{**where, "column": None, "value": None})
            continue
        values: dict[str, Any] = {}
        indicator = catalogue[code]
        cells.subject = f"{code} ({indicator.name}): "
        cells.key = indicator_key(indicator)
        for name in numeric:
            if name in match.columns:
                values[name] = _indicator_number(cells, name, indicator, contract)
            else:
                values[name] = None
        for name in texts:
            values[name] = cells.text(name) if name in match.columns else None
        out.append(IndicatorValue(code, row.sheet, row.row, values,
                                  written_cells(row, contract, numeric)))
    return out


def indicator_key(indicator: Indicator) -> str:
    return f"Chỉ tiêu {indicator.code} ({indicator.name})"


def row_key(row: DataRow, contract: Contract) -> str | None:
    """`Lĩnh vực: Đất đai`, `Mã trường: TH001 (Trường Tiểu học số 1)`: what names the row."""
    values = [(name, " ".join(display(row.cells.get(name)).split()))
              for name in contract.row_label if not is_blank(row.cells.get(name))]
    if not values:
        return None
    (first, text), rest = values[0], [v for _, v in values[1:]]
    label = contract.columns[first].label
    return f"{label}: {text}" + (f" ({', '.join(rest)})" if rest else "")


def _indicator_number(cells: _Cells, name: str, indicator: Indicator, contract: Contract
                      ) -> Decimal | None:
    value = cells.number(name)
    if value is None or name != contract.value_column:
        return value
    raw = cells.row.cells.get(name)
    low, high = indicator.min, indicator.max
    if (low is not None and value < low) or (high is not None and value > high):
        cells.problems.error(
            "out_of_range",
            f"{indicator.code} ({indicator.name}): giá trị {display(raw)} {indicator.unit} nằm "
            f"ngoài khoảng hợp lý {display(low)}–{display(high)} của một xã trong một tháng.",
            hint="Kiểm tra lại đơn vị tính và số liệu (thừa/thiếu chữ số).",
            **cells.where(name, raw))
        return None
    return value


def check_indicators(
    found: list[IndicatorValue], contract: Contract, problems: Problems,
    match_by_sheet: dict[str, HeaderMatch], prior_sums: dict[str, Decimal] | None,
) -> list[dict[str, Any]]:
    """File-level checks of an indicator form; returns the records to load."""
    catalogue = indicators_of(contract.form)
    value_col = contract.value_column
    first: dict[str, IndicatorValue] = {}
    for item in found:
        seen = first.get(item.code)
        if seen is None:
            first[item.code] = item
            continue
        match = match_by_sheet[item.sheet]
        differs = any(seen.values.get(k) != item.values.get(k) for k in contract.load
                      if k != contract.code_column)
        report = problems.error if differs else problems.warn
        report(
            "duplicate_indicator" if differs else "repeated_indicator",
            f"Chỉ tiêu {item.code} xuất hiện hai lần (dòng {seen.row} và dòng {item.row})"
            + (" với số liệu khác nhau." if differs else " với cùng số liệu; chỉ lấy một lần."),
            hint="Mỗi chỉ tiêu chỉ ghi một dòng." if differs else None,
            sheet=item.sheet, row=item.row, key=indicator_key(catalogue[item.code]),
            column=column_name(match, contract, value_col) if value_col in match.columns else None,
            value=display(item.values.get(value_col)))
    for code, indicator in catalogue.items():
        if not indicator.required:
            continue
        item = first.get(code)
        if item is None:
            problems.error(
                "missing_indicator",
                f"Thiếu chỉ tiêu bắt buộc {code} ({indicator.name}).",
                hint="Thêm dòng chỉ tiêu này vào biểu và ghi số liệu (ghi 0 nếu không phát sinh).",
                key=indicator_key(indicator))
        elif item.values.get(value_col) is None and _cell_was_empty(item, value_col, problems):
            match = match_by_sheet[item.sheet]
            problems.error(
                "empty_required",
                f"Chỉ tiêu bắt buộc {code} ({indicator.name}) chưa có số liệu.",
                hint="Ghi số liệu của tháng (ghi 0 nếu không phát sinh).",
                sheet=item.sheet, row=item.row, key=indicator_key(indicator),
                column=column_name(match, contract, value_col), value="")
    values = {code: item.values.get(value_col) for code, item in first.items()}
    for rule in contract.rules:
        if evaluate(rule, values) is False:
            anchor = first[rule.names[0]]
            match = match_by_sheet[anchor.sheet]
            problems.error(
                "rule_broken", rule.message, sheet=anchor.sheet, row=anchor.row,
                key=indicator_key(catalogue[anchor.code]),
                column=column_name(match, contract, value_col),
                value=", ".join(f"{n}={display(values[n])}" for n in rule.names),
                hint="Kiểm tra lại các số liệu liên quan.")
    if contract.ytd_column and prior_sums is not None:
        for code, item in first.items():
            indicator = catalogue[code]
            ytd, value = item.values.get(contract.ytd_column), item.values.get(value_col)
            if indicator.kind != "flow" or ytd is None or value is None or code not in prior_sums:
                continue
            expected = prior_sums[code] + value
            if abs(ytd - expected) > contract.ytd_tolerance * max(abs(expected), Decimal(1)):
                match = match_by_sheet[item.sheet]
                problems.warn(
                    "ytd_mismatch",
                    f"{code}: lũy kế từ đầu năm {display(ytd)} khác tổng các tháng đã nhận "
                    f"(kể cả tháng này) là {display(expected)}.",
                    hint="Kiểm tra lại số lũy kế hoặc số liệu các tháng trước.",
                    sheet=item.sheet, row=item.row, key=indicator_key(indicator),
                    column=column_name(match, contract, contract.ytd_column),
                    value=display(ytd))
    return [
        {"indicator_code": code, **{k: item.values.get(k) for k in contract.load
                                    if k != contract.code_column},
         "source_sheet": item.sheet, "source_row": item.row, AS_WRITTEN: item.written}
        for code, item in first.items()
    ]


def _cell_was_empty(item: IndicatorValue, column: str, problems: Problems) -> bool:
    """True unless the cell already got its own error (not a number, out of range)."""
    return not any(p.sheet == item.sheet and p.row == item.row for p in problems.errors)


# --- rows layout -------------------------------------------------------------------------------

def _choice(column: Column, text: str) -> str | None:
    return column.choices.get(fold(text))


def read_rows(
    sheet: Sheet, match: HeaderMatch, contract: Contract, problems: Problems,
    period_start: date | None, period_end: date | None, seen_keys: dict[str, tuple[str, int]],
) -> Sequence[dict[str, Any]]:
    """Entity rows of one sheet: typed, per-row rules, unique key, total row checked."""
    reader = RowReader(sheet, match, contract, problems, period_start, period_end, seen_keys)
    for row in data_rows(sheet, match, contract):
        reader.row(row)
    return reader.finish()


class RowReader:
    """The checks of the rows layout, one row at a time (`row`), then the total rows
    (`finish`). Records go to `self.records`."""

    def __init__(self, sheet: Sheet, match: HeaderMatch, contract: Contract, problems: Problems,
                 period_start: date | None, period_end: date | None,
                 seen_keys: MutableMapping[str, tuple[str, int]]):
        self.sheet, self.match, self.contract, self.problems = sheet, match, contract, problems
        self.period_start, self.period_end, self.seen_keys = period_start, period_end, seen_keys
        self.records: list[dict[str, Any]] = []
        self.totals: list[tuple[DataRow, _Cells]] = []
        self.numeric = {n for n, c in contract.columns.items()
                        if c.type in ("number", "integer") and n in match.columns}
        self.mapped = [n for n in match.columns if n != "stt"]

    def row(self, row: DataRow) -> None:
        contract, match, problems = self.contract, self.match, self.problems
        filled = [n for n in self.mapped if not is_blank(row.cells[n])]
        if not filled:
            return
        cells = _Cells(problems, contract, match, row)
        if _is_total(row, contract):
            cells.key = "Dòng tổng cộng"
            self.totals.append((row, cells))
            return
        cells.key = row_key(row, contract)
        if len(filled) <= 1 and not self.numeric.intersection(filled):
            return  # a section heading ("I. MẦM NON") inside the table
        record: dict[str, Any] = {}
        for name in contract.load:
            record[name] = _typed(cells, contract, match, name, self.sheet, self.period_start,
                                  self.period_end)
        for rule in contract.rules:
            if evaluate(rule, record) is False:
                first = rule.names[0]
                col = column_name(match, contract, first) if first in match.columns else None
                problems.error(
                    "rule_broken", rule.message, sheet=row.sheet, row=row.row, column=col,
                    key=cells.key,
                    value=", ".join(f"{contract.columns[n].label}={display(record[n])}"
                                    for n in rule.names),
                    hint="Kiểm tra lại các số liệu trên dòng này.")
        seen_keys = self.seen_keys
        if contract.key and record.get(contract.key) is not None:
            key = fold(record[contract.key])
            if key in seen_keys:
                where_sheet, where_row = seen_keys[key]
                problems.error(
                    "duplicate_key",
                    f"\"{record[contract.key]}\" xuất hiện hai lần (trang \"{where_sheet}\" "
                    f"dòng {where_row} và dòng này).",
                    hint="Mỗi dòng phải có mã/tên riêng; gộp hoặc sửa dòng trùng.",
                    **cells.where(contract.key, record[contract.key]))
            else:
                seen_keys[key] = (row.sheet, row.row)
        record["source_sheet"], record["source_row"] = row.sheet, row.row
        record[AS_WRITTEN] = written_cells(
            row, contract, [n for n in contract.load if n in self.numeric])
        self.records.append(record)

    def column_sum(self, name: str) -> Any:
        return sum((r[name] or 0) for r in self.records)

    def finish(self) -> Any:
        for row, cells in self.totals:
            for name in self.contract.total_sums:
                if name not in self.match.columns:
                    continue
                stated = cells.number(name)
                summed = self.column_sum(name)
                if stated is not None and stated != summed:
                    self.problems.error(
                        "total_mismatch",
                        f"Dòng tổng cộng ghi {display(stated)} nhưng cộng các dòng được "
                        f"{display(summed)}.",
                        hint="Sửa dòng tổng cộng hoặc số liệu các dòng cho khớp.",
                        **cells.where(name, row.cells.get(name)))
        return self.records


def _is_total(row: DataRow, contract: Contract) -> bool:
    for name in contract.total_label_columns:
        if fold(row.cells.get(name)) in contract.total_labels:
            return True
    return False


def _typed(cells: _Cells, contract: Contract, match: HeaderMatch, name: str, sheet: Sheet,
           start: date | None, end: date | None) -> Any:
    column = contract.columns[name]
    problems = cells.problems
    if name not in match.columns:
        if column.type == "choice" and column.from_sheet_name:
            value = _choice(column, sheet.name)
            if value is None:
                problems.error(
                    "missing_column",
                    f"Không có cột \"{column.label}\" và tên trang tính \"{sheet.name}\" không "
                    "cho biết giá trị.", sheet=sheet.name, row=cells.row.row)
            return value
        return None
    raw = cells.row.cells.get(name)
    value = cells.number(name) if column.type in ("number", "integer") else cells.text(name)
    if value is None:
        if column.type == "boolean" and is_blank(raw):
            return False
        if column.not_empty and is_blank(raw) and not (
            column.type == "choice" and column.from_sheet_name and _choice(column, sheet.name)
        ):
            problems.error("empty_cell", f"Ô \"{column.label}\" không được để trống.",
                           hint="Ghi đầy đủ thông tin cho dòng này.", **cells.where(name, raw))
        elif column.type == "choice" and column.from_sheet_name:
            return _choice(column, sheet.name)
        return None
    if column.type == "choice":
        stored = _choice(column, value)
        if stored is None:
            allowed = ", ".join(dict.fromkeys(column.choices.values()))
            problems.error("bad_choice", f"\"{value}\" không phải một giá trị hợp lệ ({allowed}).",
                           **cells.where(name, raw))
        return stored
    if column.type == "boolean":
        key = fold(value)
        if key in column.true_words:
            return True
        if key in column.false_words or key == "":
            return False
        problems.error("bad_boolean", f"\"{value}\" phải là Có hoặc Không.",
                       hint="Ghi \"Có\" hoặc \"Không\" (hoặc đánh dấu x nếu có).",
                       **cells.where(name, raw))
        return None
    if column.type == "commune":
        unit = commune_by_name(value, start or date.min, end or date.max)
        former = commune_by_name(value, date.min, date.max) if unit is None else None
        if former is not None:
            successor = successor_in(former, start or date.max)
            now_part = f", nay thuộc {successor.name}" if successor else ""
            problems.error(
                "unknown_commune",
                f"{former.name} không còn tồn tại trong kỳ báo cáo{now_part}.",
                hint="Ghi tên xã, phường hiện hành nơi trường đặt trụ sở.",
                **cells.where(name, raw))
            return None
        if unit is None:
            problems.error(
                "unknown_commune", f"Không nhận ra xã, phường \"{value}\" trong danh mục đơn vị.",
                hint="Ghi tên xã, phường đúng như danh mục đơn vị"
                     + _commune_example(start or date.min, end or date.max) + ".",
                **cells.where(name, raw))
            return None
        return unit.org_unit_id
    return value


def _commune_example(start: date, end: date) -> str:
    """` (ví dụ: A, xã B)`: two communes of the period as people write them, from the list."""
    names = sorted(u.name for u in org_units().values()
                   if u.is_commune and u.overlaps(start, end))[:2]
    return f" (ví dụ: {', '.join(names)})" if names else ""
