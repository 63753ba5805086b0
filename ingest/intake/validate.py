"""Judge one file: recognise its form, unit and period, read its rows, check everything.

`check_bytes` is pure: bytes, the file's name and folder, "now" and (optionally) a way to
look up earlier accepted months go in; an `Outcome` with records and every problem comes out.
Nothing here touches the disk or the warehouse, so every rule is testable on its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import PurePath
from typing import Any

from ingest.intake import periods as periods_mod
from ingest.intake.contracts import Contract, load_contracts
from ingest.intake.headers import HeaderMatch, find_header
from ingest.intake.layouts import check_indicators, read_indicators, read_rows
from ingest.intake.periods import Period
from ingest.intake.problems import Problems
from ingest.intake.readers import Book, Sheet, Unreadable, read_book
from ingest.intake.reference import (
    SubmitterRule,
    form_submitters,
    indicators_of,
    org_units,
    successor_in,
    units_named_in,
)
from ingest.intake.text import display, fold

HEADER_BLOCK_ROWS = 15

# (contract, org_unit_id, period) → {indicator code: sum of earlier accepted months} or None
HistoryLookup = Callable[[Contract, str, Period], "dict[str, Decimal] | None"]


@dataclass(frozen=True)
class FileContext:
    """What the path says about a file: its name, its unit's folder, period-like subfolders."""

    name: str
    folder_unit: str | None = None
    folder_periods: frozenset[Period] = frozenset()


@dataclass
class Outcome:
    form: str | None = None
    org_unit_id: str | None = None
    period: str | None = None
    table: str | None = None
    records: Sequence[dict[str, Any]] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)

    @property
    def accepted(self) -> bool:
        return not self.problems.errors


def context_for(path: PurePath, intake_root: PurePath | None = None) -> FileContext:
    """Unit folder and period subfolders of `path` (under `intake_root` when given)."""
    units = org_units()
    parts: list[str] = []
    if intake_root is not None:
        try:
            parts = list(path.relative_to(intake_root).parts[:-1])
        except ValueError:
            parts = []
    if not parts:
        parents = list(path.parents)[:4]
        names = [p.name for p in parents]
        for i, name in enumerate(names):
            if name in units:
                parts = list(reversed(names[: i + 1]))
                break
    unit = parts[0] if parts and parts[0] in units else None
    folder_periods: set[Period] = set()
    for sub in parts[1:]:
        folder_periods |= periods_mod.in_name(sub)
    return FileContext(path.name, unit, frozenset(folder_periods))


# --- form recognition ---------------------------------------------------------------------------

_FORM_LABEL = re.compile(r"\b(?:bieu|mau)\b")


def _code_pattern(code: str) -> re.Pattern[str]:
    body = r"\s*".join(re.escape(p) for p in code.split())
    return re.compile(rf"(?<![a-z0-9]){body}(?![0-9])")


def _top_text(sheet: Sheet, rows: int = HEADER_BLOCK_ROWS) -> list[str]:
    return [fold(v) for row in sheet.rows[:rows] for v in row if isinstance(v, str)]


def recognise(book: Book, name: str, contracts: dict[str, Contract]
              ) -> tuple[Contract | None, str]:
    """The form of a file and how it was recognised: code in content > title > name > columns."""
    sheets = [s for s in book.sheets if s.visible] or book.sheets
    texts = [t for s in sheets for t in _top_text(s)]
    # a form code counts where a form code is written: "Biểu số: KTXH-01", "Mẫu YT-01", or a
    # cell holding just the code — not an indicator code such as YT01 in the table
    by_code = [c for c in contracts.values()
               if any(_code_pattern(k).search(t) and (_FORM_LABEL.search(t) or
                                                      _code_pattern(k).fullmatch(t))
                      for t in texts for k in c.codes)]
    if len(by_code) == 1:
        return by_code[0], "code"
    by_title = [c for c in contracts.values()
                if any(f" {k} " in f" {t} " for t in texts for k in c.title_keywords)]
    if len(by_title) == 1:
        return by_title[0], "title"
    folded_name = fold(name)
    by_name = [c for c in contracts.values() if any(_code_pattern(k).search(folded_name)
                                                     for k in c.codes)]
    if len(by_name) == 1:
        return by_name[0], "name"
    candidates = by_code or by_title or list(contracts.values())
    best, best_key = None, ()
    for contract in candidates:
        for sheet in sheets:
            match = find_header(sheet, contract)
            if match is None:
                continue
            key = (not match.missing_required, _indicator_evidence(sheet, match, contract),
                   match.score, match.score / len(contract.columns))
            if key > best_key and not match.missing_required:
                best, best_key = contract, key
    return best, "columns"


def _indicator_evidence(sheet: Sheet, match: HeaderMatch, contract: Contract,
                        rows: int = 200) -> int:
    """How many rows under the header hold an indicator code or name of this form."""
    if contract.layout != "indicators":
        return 0
    codes = set(indicators_of(contract.form))
    names = {fold(i.name) for i in indicators_of(contract.form).values()}
    columns = [match.columns[c] for c in (contract.code_column, contract.name_column)
               if c in match.columns]
    found = 0
    for row in sheet.rows[match.first_data_row: match.first_data_row + rows]:
        cells = [row[c] for c in columns if c < len(row) and isinstance(row[c], str)]
        if any(c.strip().upper() in codes or fold(c) in names for c in cells):
            found += 1
    return found


# --- unit and period ----------------------------------------------------------------------------

def _block_cells(sheet: Sheet, match: HeaderMatch | None) -> list[str]:
    stop = match.row if match else min(HEADER_BLOCK_ROWS, len(sheet.rows))
    return [display(v) for row in sheet.rows[:stop] for v in row if isinstance(v, str)]


_ID_RUN = re.compile(r"[a-z0-9-]+")


def _ids_in_name(name: str) -> set[str]:
    """Unit ids written in a file name, not as part of a longer run of `[a-z0-9-]`.

    An id made of those characters only occurs that way exactly when it is a whole run, so
    runs are looked up in the unit list (one regex per unit per file does not scale to a
    country); any other id is still searched for."""
    low = name.lower()
    found = {run for run in _ID_RUN.findall(low) if run in org_units()}
    for unit_id in _other_ids():
        if re.search(rf"(?<![a-z0-9-]){re.escape(unit_id)}(?![a-z0-9-])", low):
            found.add(unit_id)
    return found


@cache
def _other_ids() -> tuple[str, ...]:
    """Ids not made of `[a-z0-9-]` only (none in the seeds); cached like the unit list."""
    return tuple(u for u in org_units() if not _ID_RUN.fullmatch(u))


def _unit_label(unit_id: str) -> str:
    unit = org_units().get(unit_id)
    return f"{unit.name} ({unit_id})" if unit else unit_id


_ADDRESSEE = re.compile(r"^(?:kinh gui|noi nhan|gui)\b")


def _valid_in(units: set[str], period: Period | None) -> set[str]:
    """The units of `units` that existed during `period`, or all of them when none did: two
    units of one name (an old commune and the new one named after it) are told apart by the
    period, and a unit that no longer existed is still named (to say who replaced it)."""
    if period is None or len(units) < 2:
        return units
    known = org_units()
    valid = {u for u in units if u in known and known[u].overlaps(period.start, period.end)}
    return valid or units


def resolve_unit(cells: list[str], ctx: FileContext, problems: Problems,
                 period: Period | None = None) -> str | None:
    named: set[str] = set()
    for text in cells:
        if not _ADDRESSEE.match(fold(text)):
            named |= units_named_in(text)
    if ctx.folder_unit not in named:
        named = _valid_in(named, period)
    in_name = _ids_in_name(ctx.name)
    folder = ctx.folder_unit
    if named:
        if folder and folder in named:
            return folder
        if folder:
            problems.error(
                "unit_mismatch",
                f"Biểu ghi đơn vị {', '.join(sorted(_unit_label(u) for u in named))} nhưng được "
                f"nộp vào thư mục của {_unit_label(folder)}.",
                hint="Nộp tệp vào đúng thư mục của đơn vị mình, hoặc sửa tên đơn vị trên biểu.",
                value=", ".join(sorted(named)))
            return folder
        if len(named) > 1:
            problems.error("unit_ambiguous",
                           f"Phần đầu biểu ghi nhiều đơn vị: {', '.join(sorted(named))}.",
                           value=", ".join(sorted(named)))
            return None
        unit = next(iter(named))
        if in_name and unit not in in_name:
            problems.error("unit_mismatch",
                           f"Biểu ghi đơn vị {_unit_label(unit)} nhưng tên tệp ghi "
                           f"{', '.join(sorted(in_name))}.", value=", ".join(sorted(in_name)))
        return unit
    if in_name:
        if folder and folder not in in_name:
            problems.error(
                "unit_mismatch",
                f"Tên tệp ghi đơn vị {', '.join(sorted(in_name))} nhưng tệp nằm trong thư mục "
                f"của {_unit_label(folder)}.",
                hint="Nộp tệp vào đúng thư mục của đơn vị mình.", value=ctx.name)
            return folder
        if folder:
            return folder
        if len(in_name) == 1:
            return next(iter(in_name))
    if folder:
        return folder
    problems.error("unknown_unit", "Không xác định được đơn vị báo cáo.",
                   hint="Ghi tên đơn vị ở góc trên bên trái của biểu (ví dụ: UBND XÃ …) "
                        "và nộp vào thư mục của đơn vị.")
    return None


def resolve_period(cells: list[str], ctx: FileContext, contract: Contract, problems: Problems
                   ) -> Period | None:
    in_content: set[Period] = set()
    for text in cells:
        in_content |= periods_mod.in_text(text)
    in_name = periods_mod.in_name(PurePath(ctx.name).stem)
    if len(in_content) > 1:
        problems.error("period_ambiguous",
                       "Phần đầu biểu ghi nhiều kỳ báo cáo khác nhau: "
                       f"{', '.join(sorted(p.code for p in in_content))}.",
                       value=", ".join(sorted(p.code for p in in_content)))
        return None
    content = next(iter(in_content), None)
    named = next(iter(in_name), None) if len(in_name) == 1 else None
    if content and in_name and content not in in_name:
        problems.error(
            "period_mismatch",
            f"Tiêu đề biểu ghi kỳ {content.code} nhưng tên tệp ghi kỳ "
            f"{', '.join(sorted(p.code for p in in_name))}.",
            hint="Sửa tiêu đề hoặc tên tệp cho đúng kỳ báo cáo.", value=ctx.name)
        return None
    period = content or named
    if period is None and len(ctx.folder_periods) == 1:
        period = next(iter(ctx.folder_periods))
    if period is None:
        problems.error(
            "unknown_period", "Không xác định được kỳ báo cáo.",
            hint="Ghi kỳ báo cáo trong tiêu đề (ví dụ: tháng 10 năm 2024) hoặc trong tên tệp "
                 "(ví dụ: KTXH-01_2024-10.xlsx).")
        return None
    if period.kind != contract.period_kind:
        wanted = "tháng" if contract.period_kind == "month" else "học kỳ"
        problems.error("wrong_period_kind",
                       f"Biểu {contract.form} báo cáo theo {wanted}, "
                       f"nhưng kỳ ghi là {period.code}.",
                       value=period.code)
        return None
    return period


def check_unit_for_form(unit_id: str, contract: Contract, period: Period | None,
                        problems: Problems,
                        submitters: dict[str, tuple[SubmitterRule, ...]] | None = None) -> None:
    """The unit exists, submits this form for this period (`form_submitters.csv`), and
    existed during the period; a unit that had ended is told which unit replaced it."""
    unit = org_units().get(unit_id)
    if unit is None:
        problems.error("unknown_unit", f"Đơn vị \"{unit_id}\" không có trong danh mục.",
                       value=unit_id)
        return
    rules = (submitters if submitters is not None else form_submitters()).get(contract.form, ())
    if period is not None and not unit.overlaps(period.start, period.end):
        successor = successor_in(unit, period.start)
        if successor is not None:
            if any(rule.admits(successor, period.start) for rule in rules):
                hint = (f"Báo cáo kỳ {period.code} do {successor.name} nộp, trong thư mục "
                        f"{successor.org_unit_id} của đơn vị này.")
            else:  # e.g. a district office whose form passed to the communes of its area
                heirs = sorted(
                    u.name for u in org_units().values()
                    if u.parent_id == successor.org_unit_id
                    and u.overlaps(period.start, period.end)
                    and any(rule.admits(u, period.start) for rule in rules))
                hint = (f"Biểu {contract.form} kỳ {period.code} do {', '.join(heirs)} nộp, "
                        "mỗi đơn vị trong thư mục của mình." if heirs else
                        "Kiểm tra lại kỳ báo cáo và thư mục nộp.")
            problems.error(
                "unit_not_valid",
                f"{unit.name} ({unit_id}) không còn tồn tại trong kỳ {period.code}: "
                f"đã sáp nhập, nay thuộc {successor.name} ({successor.org_unit_id}).",
                hint=hint, value=unit_id)
        else:
            problems.error(
                "unit_not_valid",
                f"{unit.name} ({unit_id}) không tồn tại trong kỳ {period.code}.",
                hint="Kiểm tra lại kỳ báo cáo và thư mục nộp.", value=unit_id)
        return
    if not any(rule.admits(unit, period.start if period else None) for rule in rules):
        when = f" cho kỳ {period.code}" if period is not None else ""
        problems.error(
            "unit_not_submitter",
            f"{unit.name} không phải đơn vị nộp biểu {contract.form}{when}.",
            hint="Kiểm tra lại biểu mẫu và thư mục nộp.", value=unit_id)


def _check_own_area(unit_id: str, contract: Contract, records: Sequence[dict[str, Any]],
                    problems: Problems, limit: int = 20) -> None:
    """A commune reports for its own area: a row whose commune column (GD-01's "Xã, thị
    trấn") names another commune is refused (the other commune reports it)."""
    unit = org_units().get(unit_id)
    columns = [n for n, c in contract.columns.items() if c.type == "commune"]
    if unit is None or not unit.is_commune or not columns:
        return
    found = 0
    for record in records:
        for name in columns:
            other = record.get(name)
            if other is None or other == unit_id:
                continue
            found += 1
            if found <= limit:
                label = org_units()[other].name if other in org_units() else other
                problems.error(
                    "outside_own_area",
                    f"Dòng này thuộc {label}, không thuộc địa bàn của {unit.name}.",
                    hint=f"Mỗi xã, phường chỉ báo cáo các trường trên địa bàn mình; "
                         f"{label} tự nộp báo cáo của mình.",
                    sheet=record.get("source_sheet"), row=record.get("source_row"),
                    column=contract.columns[name].label, value=label)
    if found > limit:
        problems.error("outside_own_area",
                       f"Còn {found - limit} dòng khác thuộc địa bàn đơn vị khác.")


def _guess_from_path(ctx: FileContext, contracts: dict[str, Contract]) -> Outcome:
    """What the path alone says (folder unit, form code and period in the name): kept for
    a file refused before its content could tell, so its manifest row and answer say more."""
    out = Outcome(org_unit_id=ctx.folder_unit)
    folded = fold(ctx.name)
    forms = [c.form for c in contracts.values()
             if any(_code_pattern(k).search(folded) for k in c.codes)]
    out.form = forms[0] if len(forms) == 1 else None
    named = periods_mod.in_name(PurePath(ctx.name).stem) or set(ctx.folder_periods)
    out.period = next(iter(named)).code if len(named) == 1 else None
    return out


# --- the whole file -----------------------------------------------------------------------------

def _hidden_warning(sheets: list[Sheet], records: Sequence[dict[str, Any]],
                    problems: Problems) -> None:
    """Hidden rows are read like any other (Excel's own sums include them): say so."""
    for sheet in sheets:
        if not sheet.hidden_rows:
            continue
        read = {r["source_row"] for r in records if r.get("source_sheet") == sheet.name}
        rows = sorted(read & sheet.hidden_rows)
        if rows:
            problems.warn(
                "hidden_rows",
                f"Các dòng đang bị ẩn vẫn được đọc như số liệu: {', '.join(map(str, rows[:20]))}"
                + ("…" if len(rows) > 20 else "") + ".",
                hint="Nếu các dòng ẩn không phải số liệu, hãy xóa chúng khỏi biểu.",
                sheet=sheet.name, row=rows[0])


def check_bytes(data: bytes, ctx: FileContext, *, now: datetime,
                history: HistoryLookup | None = None,
                contracts: dict[str, Contract] | None = None,
                submitters: dict[str, tuple[SubmitterRule, ...]] | None = None) -> Outcome:
    """Everything about one file, every problem collected; never raises on bad content."""
    contracts = contracts or load_contracts()
    out = _guess_from_path(ctx, contracts)
    problems = out.problems
    extension = PurePath(ctx.name).suffix
    try:
        book = read_book(data, extension)
    except Unreadable as exc:
        problems.error(exc.code, exc.reason, hint=exc.hint)
        return out
    contract, _how = recognise(book, ctx.name, contracts)
    if contract is None:
        problems.error(
            "unknown_form", "Không nhận ra biểu mẫu của tệp này.",
            hint="Dùng đúng biểu mẫu đã ban hành (KTXH-01, YT-01, HCC-06, GD-01), giữ "
                 "nguyên dòng tiêu đề cột và ghi \"Biểu số: …\" ở phần đầu.")
        return out
    out.form, out.table = contract.form, contract.table
    sheets = [s for s in book.sheets if s.visible] or book.sheets
    used: list[tuple[Sheet, HeaderMatch]] = []
    best_incomplete: tuple[Sheet, HeaderMatch] | None = None
    for sheet in sheets:
        match = find_header(sheet, contract)
        if match is None:
            continue
        if match.missing_required:
            if best_incomplete is None or match.score > best_incomplete[1].score:
                best_incomplete = (sheet, match)
            continue
        used.append((sheet, match))
    if not used:
        if best_incomplete:
            sheet, match = best_incomplete
            missing = [contract.columns[n].label for n in match.missing_required]
            problems.error(
                "missing_column",
                f"Dòng tiêu đề cột thiếu cột: {', '.join(missing)}.",
                hint="Giữ nguyên các cột của biểu mẫu; không xóa hay đổi tên cột.",
                sheet=sheet.name, row=match.row + 1)
        else:
            problems.error(
                "no_header", f"Không tìm thấy dòng tiêu đề cột của biểu {contract.form} "
                f"trong {HEADER_BLOCK_ROWS} dòng đầu.",
                hint="Giữ nguyên dòng tiêu đề cột của biểu mẫu (STT, Mã chỉ tiêu, Chỉ tiêu…).")
        return out
    if contract.sheets == "first":
        if len(used) > 1:
            problems.warn("extra_sheets",
                          f"Chỉ đọc trang tính \"{used[0][0].name}\"; các trang khác "
                          f"({', '.join(s.name for s, _ in used[1:])}) không được đọc.",
                          sheet=used[1][0].name)
        used = used[:1]
    cells = [c for sheet, match in used for c in _block_cells(sheet, match)]
    period = resolve_period(cells, ctx, contract, problems)
    unit = resolve_unit(cells, ctx, problems, period)
    if unit:
        check_unit_for_form(unit, contract, period, problems, submitters)
    if period and not period.ended(now):
        problems.error(
            "period_not_ended", f"Kỳ báo cáo {period.code} chưa kết thúc.",
            hint=f"Gửi báo cáo sau ngày {period.end:%d/%m/%Y}.", value=period.code)
    out.org_unit_id, out.period = unit, period.code if period else None
    matches = {sheet.name: match for sheet, match in used}
    if contract.layout == "indicators":
        found = []
        for sheet, match in used:
            found.extend(read_indicators(sheet, match, contract, problems))
        prior = None
        if history is not None and unit and period and not problems.errors:
            prior = history(contract, unit, period)
        out.records = check_indicators(found, contract, problems, matches, prior)
    else:
        seen: dict[str, tuple[str, int]] = {}
        parts = []
        for sheet, match in used:
            parts.append(read_rows(sheet, match, contract, problems,
                                   period.start if period else None,
                                   period.end if period else None, seen))
        out.records = [r for p in parts for r in p]
        if len(out.records) < contract.min_rows:
            problems.error("no_data", "Biểu không có dòng số liệu nào.",
                           hint="Nhập số liệu vào biểu rồi gửi lại.")
        if unit:
            _check_own_area(unit, contract, out.records, problems)
    _hidden_warning([sheet for sheet, _ in used], out.records, problems)
    return out
