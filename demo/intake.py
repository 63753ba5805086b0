"""The intake folder of a district: which files arrive, when, in what shape, and what is wrong.

For every report slot (unit × form × period) the planner decides the story: on time or late,
corrected later, dropped twice, refused first for a defect and sent again, or misreported
(HCC-06 disagreeing with the dossier system). Every defect kind of docs/forms-contract.md
occurs at least once per district; beyond that they occur at low rates. Each file gets a row
in the manifest saying what is true about it, so tests and dashboards can check the intake
engine against the truth.
"""

from __future__ import annotations

import hashlib
import os
import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from demo import forms
from demo.agency import HCC_COLUMNS
from demo.calendar import TZ, Month, Semester, WorkCalendar, end_of_day, monthly_due
from demo.rng import rnd
from demo.units import TOWNLET, District, Unit
from demo.values import INDICATORS, school_rows, unit_month_values, year_plan, ytd
from demo.vocab import FIELD_ORDER, person_name

MANIFEST_COLUMNS = [
    "path", "org_unit_id", "form_code", "period", "arrived_at", "due_date", "submission", "kind",
    "expected_status", "late", "defect", "reason", "defect_sheet", "defect_cell", "misreport",
    "size_bytes", "sha256",
]
CONTENT_DEFECTS = {
    "unknown_indicator": ("KTXH-01", "YT-01"),
    "missing_required": ("KTXH-01", "YT-01"),
    "not_a_number": ("KTXH-01", "YT-01"),
    "negative_value": ("KTXH-01", "YT-01"),
    "out_of_range": ("KTXH-01", "YT-01"),
    "duplicate_indicator": ("KTXH-01", "YT-01"),
    "cross_rule": ("KTXH-01", "YT-01"),
    "hcc_row_identity": ("HCC-06",),
    "hcc_total_mismatch": ("HCC-06",),
    "gd_unknown_commune": ("GD-01",),
    "gd_duplicate_school": ("GD-01",),
    "gd_count_exceeds_pupils": ("GD-01",),
    "gd_negative_count": ("GD-01",),
    "corrupt_workbook": ("KTXH-01", "YT-01", "HCC-06", "GD-01"),
    "empty_file": ("KTXH-01", "YT-01", "HCC-06", "GD-01"),
    "period_mismatch": ("KTXH-01", "YT-01", "HCC-06"),
    "period_not_ended": ("KTXH-01", "YT-01", "HCC-06"),
}
STRAY_DEFECTS = ("unit_mismatch", "unit_not_valid", "wrong_extension", "unrecognised_form")
REQUIRED = [
    ("unknown_indicator", "KTXH-01"), ("missing_required", "YT-01"),
    ("not_a_number", "KTXH-01"), ("negative_value", "KTXH-01"), ("out_of_range", "YT-01"),
    ("duplicate_indicator", "KTXH-01"), ("cross_rule", "KTXH-01"), ("cross_rule", "YT-01"),
    ("hcc_row_identity", "HCC-06"), ("hcc_total_mismatch", "HCC-06"),
    ("gd_unknown_commune", "GD-01"), ("gd_duplicate_school", "GD-01"),
    ("gd_count_exceeds_pupils", "GD-01"), ("gd_negative_count", "GD-01"),
    ("corrupt_workbook", "KTXH-01"), ("empty_file", "YT-01"), ("period_mismatch", "HCC-06"),
    ("period_not_ended", "KTXH-01"),
]
DEFECT_TEXT = {
    "unknown_indicator": "chỉ tiêu không có trong danh mục",
    "missing_required": "thiếu chỉ tiêu bắt buộc",
    "not_a_number": "giá trị không phải là số",
    "negative_value": "giá trị âm",
    "out_of_range": "giá trị ngoài khoảng hợp lý",
    "duplicate_indicator": "một chỉ tiêu xuất hiện hai lần với giá trị khác nhau",
    "cross_rule": "vi phạm quy tắc giữa các chỉ tiêu",
    "hcc_row_identity": "số liệu trong dòng không khớp (tổng nhận, đã giải quyết, đang giải quyết)",
    "hcc_total_mismatch": "dòng Tổng cộng không bằng tổng các dòng",
    "gd_unknown_commune": "xã, thị trấn không có trong danh mục",
    "gd_duplicate_school": "mã trường bị trùng",
    "gd_count_exceeds_pupils": "số học sinh nữ/dân tộc thiểu số/bỏ học lớn hơn số học sinh",
    "gd_negative_count": "số liệu âm",
    "corrupt_workbook": "tệp Excel bị hỏng, không mở được",
    "empty_file": "tệp rỗng",
    "period_mismatch": "kỳ báo cáo trong nội dung khác kỳ trong tên tệp",
    "period_not_ended": "kỳ báo cáo chưa kết thúc",
    "unit_mismatch": "đơn vị trong nội dung khác thư mục nộp",
    "unit_not_valid": "đơn vị không có hiệu lực trong kỳ báo cáo",
    "wrong_extension": "định dạng tệp không được chấp nhận",
    "unrecognised_form": "không nhận ra biểu mẫu",
}
RATES = {"late_upland": 0.08, "late": 0.03, "late_first": 0.5, "correction": 0.04,
         "duplicate": 0.01, "defect": 0.012, "misreport": 0.04, "stray": 0.004}
FORM_WORD = {"KTXH-01": ("KTXH", "KT-XH"), "YT-01": ("YT", "y tế"), "HCC-06": ("HCC06", "TTHC"),
             "GD-01": ("GD01", "trường học")}


@dataclass
class Slot:
    unit: Unit
    form: str
    period: str
    month: Month | None = None
    semester: Semester | None = None
    due: date = date.min
    late: bool = False
    defects: list[str] = field(default_factory=list)
    strays: list[str] = field(default_factory=list)
    correction: bool = False
    duplicate: bool = False
    misreport: bool = False
    stray_unit: Unit | None = None
    """The old unit whose folder a `unit_not_valid` stray goes to (after a merger)."""

    @property
    def label(self) -> str:
        return f"{self.unit.org_unit_id}|{self.form}|{self.period}"


@dataclass
class FileOut:
    folder: str
    name: str
    data: bytes
    arrived: datetime
    form: str
    period: str
    due: date
    kind: str
    status: str
    defect: str = ""
    reason: str = ""
    sheet: str = ""
    cell: str = ""
    misreport: str = ""


class IntakeWriter:
    """Plans and writes the intake files of one district; returns manifest rows.

    Files that would arrive at or after `end` (the world's end: the start of "today") have not
    arrived yet and are left out; everything decided before them stays the same, so a world
    generated a day later holds the same files plus that day's."""

    def __init__(self, seed: int, district: District, span: tuple[Month, Month], out: Path,
                 cal: WorkCalendar, hcc: dict[tuple[str, str], dict[str, dict[str, int]]],
                 semesters: list[Semester], end: datetime | None = None) -> None:
        self.seed, self.d, self.span, self.out, self.cal = seed, district, span, out, cal
        self.hcc = hcc
        self.semesters = semesters
        self.end = end
        self.files: list[FileOut] = []
        self.features = forced_features(seed, district, span)

    # ------------------------------------------------------------------------ planning
    def slots(self) -> list[Slot]:
        first, last = self.span
        out = []
        m = first
        while m <= last:
            for u in self.d.communes:
                if not u.valid_between(m.first, m.last):
                    continue
                for form in ("KTXH-01", "YT-01", "HCC-06"):
                    out.append(Slot(u, form, str(m), month=m, due=monthly_due(m)))
            m = m.next()
        for sem in self.semesters:
            # The district's education office while it exists; from 2025-HK1 every commune
            # for the schools in its area.
            for unit in self.d.school_submitters(sem.first_month.first):
                out.append(Slot(unit, "GD-01", sem.period, semester=sem, due=sem.due))
        return out

    def _first_month(self, s: Slot) -> bool:
        """A report of the first month of a commune formed by a merger."""
        u = s.unit
        return (s.month is not None and u.org_unit_id in self.d.predecessors
                and s.month == Month(u.valid_from.year, u.valid_from.month))

    def plan(self) -> list[Slot]:
        slots = self.slots()
        for s in slots:
            r = rnd(self.seed, "slot", s.label)
            upland = self.d.upland(s.unit) if s.unit.is_commune else False
            s.late = r.random() < (RATES["late_upland"] if upland else RATES["late"])
            s.correction = r.random() < RATES["correction"]
            s.duplicate = r.random() < RATES["duplicate"]
            s.misreport = s.form == "HCC-06" and r.random() < RATES["misreport"]
            if r.random() < RATES["defect"]:
                kinds = [k for k, fs in CONTENT_DEFECTS.items() if s.form in fs]
                s.defects.append(r.choice(kinds))
            if s.form != "GD-01" and r.random() < RATES["stray"]:
                s.strays.append(r.choice(["unit_mismatch", "wrong_extension", "unrecognised_form"]))
            if self._first_month(s) and not s.late:
                # A new commune's first month: new staff, new seals, reports come in late.
                s.late = rnd(self.seed, "first-month", s.label).random() < RATES["late_first"]
        self._transitions(slots)
        r = rnd(self.seed, "plan", self.d.code)
        # Every defect kind is planted in the first year of the span, so that a world
        # generated a day later plants them in the same files.
        window = self.span[0].add(11)
        early = [s for s in slots if (s.month or s.semester.last_month) <= window]
        by_form: dict[str, list[Slot]] = {}
        for s in early:
            by_form.setdefault(s.form, []).append(s)
        monthly = [s for s in early if s.form != "GD-01"]

        def pick(cands: list[Slot]) -> Slot | None:
            if not cands:
                return None
            fresh = [s for s in cands if not s.defects and not s.strays]
            return r.choice(fresh or cands)

        if not self.d.showcase:
            return slots
        for kind, form in REQUIRED:
            cands = by_form.get(form, [])
            if not cands:
                cands = [s for s in early if s.form in CONTENT_DEFECTS[kind]]
            s = pick(cands)
            if s is not None and not (kind in s.defects and kind != "cross_rule"):
                s.defects.append(kind)
        for kind in STRAY_DEFECTS:
            cands = [x for x in monthly if x.form != "HCC-06" or kind != "unit_mismatch"]
            if kind == "unit_not_valid":
                merged = [x for x in cands if _merged_away(self.d, x.month) is not None]
                cands = merged or cands
            s = pick(cands)
            if s is not None:
                s.strays.append(kind)
        for attr, forms_ok in (("duplicate", None), ("correction", None), ("late", None),
                               ("misreport", ("HCC-06",))):
            if not any(getattr(s, attr) for s in early):
                cands = [s for s in early if forms_ok is None or s.form in forms_ok]
                if cands:
                    setattr(r.choice(cands), attr, True)
        return slots

    def _transitions(self, slots: list[Slot]) -> None:
        """What happens around a merger, in every district that shows it:
        - a new commune's first month: at least one of its reports arrives late;
        - the month after: a clerk of one of the old communes still files a report in the
          old folder, as the old commune, for a period after it ended (refused, naming the
          commune that replaced it) — the new commune's own report arrives as usual.
        (The old communes' reports for their last month arrive after they ended, in their old
        folders, and are accepted: a unit reports for the periods in which it existed.)"""
        firsts: dict[str, list[Slot]] = {}
        for s in slots:
            if self._first_month(s):
                firsts.setdefault(s.unit.org_unit_id, []).append(s)
        for uid, group in firsts.items():
            if not any(s.late for s in group):
                group.sort(key=lambda s: s.form)
                rnd(self.seed, "first-month-late", uid).choice(group).late = True
        if not self.d.showcase:
            return
        for day in sorted({self.d.by_id[u].valid_from for u in firsts}):
            second = Month(day.year, day.month).next()
            cands = [s for s in slots if s.month == second and s.form != "HCC-06"
                     and s.unit.valid_from == day and s.unit.org_unit_id in self.d.predecessors
                     and not s.strays]
            if not cands:
                continue
            cands.sort(key=lambda s: s.label)
            r = rnd(self.seed, "old-folder", self.d.code, day)
            s = r.choice(cands)
            s.strays.append("unit_not_valid")
            s.stray_unit = self.d.by_id[r.choice(sorted(self.d.predecessors[s.unit.org_unit_id]))]

    # ------------------------------------------------------------------------ content
    def _signature(self, unit: Unit, form: str, signed: date) -> Signature:
        up = self.d.upland(unit)
        prep = person_name(rnd(self.seed, "staff", unit.org_unit_id, form), up)
        head = person_name(rnd(self.seed, "head", unit.org_unit_id, form), up)
        title = {"YT-01": "TRƯỞNG TRẠM"}.get(form, "CHỦ TỊCH")
        if form == "GD-01" and not unit.is_commune:
            title = "TRƯỞNG PHÒNG"
        place = unit.short_name if unit.is_commune else _district_place(self.d)
        return Signature(place, signed, prep, title, head)

    def indicator_lines(self, unit: Unit, form: str, m: Month, style: forms.Style) -> list:
        vals = unit_month_values(self.seed, self.d, unit, m)
        prev_m = m.add(-12)
        prev = unit_month_values(self.seed, self.d, unit, prev_m) \
            if unit.valid_between(prev_m.first, prev_m.last) else None
        plan = year_plan(self.seed, self.d, unit, m.year) if form == "KTXH-01" else {}
        r = rnd(self.seed, "notes", unit.org_unit_id, form, m)
        lines = []
        for code, ind in INDICATORS.items():
            if ind.form != form:
                continue
            y = ytd(self.seed, self.d, unit, m, code) if form == "KTXH-01" else None
            base = None
            if y is not None and ind.kind == "flow":
                base = round(y - vals[code], 1)
            note = ""
            if style.notes_text and r.random() < 0.12:
                note = r.choice(["Ước thực hiện", "Số liệu sơ bộ", "Cập nhật theo báo cáo thôn",
                                 "Tăng do tái đàn", "Theo số liệu ngành dọc"])
            lines.append(forms.Line(
                code=code, name=ind.name, unit=ind.unit, group=ind.group,
                plan=plan.get(code), value=vals[code], ytd=y,
                prev=prev[code] if prev else None, note=note,
                ytd_base=base if ind.kind == "flow" else None,
            ))
        return lines

    # ------------------------------------------------------------------------ writing
    def run(self) -> list[dict]:
        slots = self.plan()
        for s in slots:
            if s.form == "GD-01":
                self._gd_slot(s)
            else:
                self._monthly_slot(s)
        return self._flush()

    def _arrival(self, r: random.Random, after: date, before: date) -> datetime:
        days = [d for d in self.cal.days[self.cal.index_on_or_after(after):
                                         self.cal.index_on_or_after(before + timedelta(days=1))]]
        day = r.choice(days) if days else before
        hour = r.uniform(7.5, 17.5) if r.random() < 0.9 else r.uniform(19.0, 22.5)
        return datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=hour)

    def _schedule(self, s: Slot, r: random.Random, period_end: date) -> datetime:
        if s.late:
            return self._arrival(r, s.due + timedelta(days=1), s.due + timedelta(days=20))
        start = period_end + timedelta(days=1)
        if s.form == "GD-01":
            start = period_end + timedelta(days=3)
        return self._arrival(r, start, s.due)

    def _monthly_slot(self, s: Slot) -> None:
        m = s.month
        assert m is not None
        r = rnd(self.seed, "slot-files", s.label)
        feature = self.features.get((s.unit.org_unit_id, s.form))
        style = indicator_style(self.seed, s.unit, s.form, m, feature) if s.form != "HCC-06" \
            else hcc_style(self.seed, s.unit, m, feature)
        t = self._schedule(s, r, m.last)
        kind = "original"
        if "period_not_ended" in s.defects:
            early = self._arrival(r, m.last - timedelta(days=6), m.last - timedelta(days=1))
            self._emit(s, style, r, "period_not_ended", early, "original")
            kind = "resubmission"
        for defect in s.defects:
            if defect == "period_not_ended":
                continue
            self._emit(s, style, r, defect, t, kind)
            kind = "resubmission"
            t = t + timedelta(days=r.randint(1, 4), minutes=r.randint(-120, 120))
        main = self._emit(s, style, r, "", t, kind, version=1 if s.correction else 0)
        if s.duplicate:
            dup = FileOut(main.folder, _dup_name(main.name), main.data,
                          main.arrived + timedelta(minutes=r.randint(5, 180)), s.form, s.period,
                          s.due, "duplicate", "duplicate",
                          reason="tệp giống hệt tệp đã nộp trước đó")
            self.files.append(dup)
        if s.correction:
            t2 = main.arrived + timedelta(days=r.randint(2, 12), minutes=r.randint(-90, 90))
            self._emit(s, style, r, "", t2, "correction", version=2)
        for stray in s.strays:
            self._stray(s, stray, r, main.arrived)

    def _emit(self, s: Slot, style: forms.Style, r: random.Random, defect: str, when: datetime,
              kind: str, version: int = 0) -> FileOut:
        """Write one submission of a slot: with a planted defect, or as v1 (to be corrected),
        v2 (the correction), or the single good version (version 0)."""
        m = s.month
        signed = max(when.date() - timedelta(days=r.choice([0, 0, 0, 1, 2])),
                     (m.last + timedelta(days=1)) if m else when.date())
        if defect == "period_not_ended":
            signed = when.date()
        sig = self._signature(s.unit, s.form, signed)
        use_csv = style.csv_encoding != "" and defect != "corrupt_workbook"
        reason, sheet, cell, misreport = "", "", "", ""
        if s.form == "HCC-06":
            data, layout, reason, cell, misreport = self._hcc_file(s, style, r, sig, defect,
                                                                   version)
            sheet = layout.sheet
        else:
            data, layout, reason, cell = self._indicator_file(s, style, r, sig, defect, version,
                                                              use_csv)
            sheet = layout.sheet
        if version == 1:
            reason = reason or "phiên bản đầu, sẽ được sửa"
        name = file_name(self.seed, s, use_csv, kind, defect)
        if defect == "corrupt_workbook":
            data = data[: max(200, len(data) // 2)]
            sheet, cell = "", ""
        elif defect == "empty_file":
            data = b""
            sheet, cell = "", ""
        elif defect in ("period_mismatch", "period_not_ended"):
            sheet, cell = "", ""
            if defect == "period_mismatch":
                reason = (f"Tên tệp ghi kỳ {m.prev()} nhưng nội dung là kỳ {m}")
            else:
                reason = f"Nộp ngày {when:%d/%m/%Y}, trước khi kỳ {m} kết thúc"
        status = "rejected" if defect else "accepted"
        text = DEFECT_TEXT.get(defect, "")
        f = FileOut(s.unit.org_unit_id, name, data, when, s.form, s.period, s.due, kind, status,
                    defect, f"{text}: {reason}" if defect and reason else (text or reason),
                    sheet, cell, misreport)
        self.files.append(f)
        return f

    def _indicator_file(self, s, style, r, sig, defect, version, use_csv):
        m = s.month
        lines = self.indicator_lines(s.unit, s.form, m, style)
        reason, cell = "", ""
        if version == 1:
            lines, reason = _perturb(lines, r, s.form)
        target = None
        if defect in ("unknown_indicator", "missing_required", "not_a_number", "negative_value",
                      "out_of_range", "duplicate_indicator", "cross_rule"):
            lines, reason, target = _indicator_defect(defect, lines, r, s.form, style)
        if use_csv:
            data, layout = forms.render_indicator_csv(lines, style, s.form)
        else:
            unit_line = forms.unit_header(s.form, s.unit.name, s.unit.kind_word,
                                          s.unit.short_name, style.unit_variant)
            title = forms.month_title(s.form, m, style.title_variant)
            data, layout = forms.render_indicator_xlsx(s.form, unit_line, title, lines, sig,
                                                       style, r)
        if target is not None:
            idx, col = target
            row = layout.rows.get(idx)
            letter = layout.cols.get(col) or layout.cols.get("name", "")
            if row:
                cell = f"{letter}{row}" if not use_csv else f"dòng {row}, cột {letter}"
                reason = f"{reason} (sheet {layout.sheet or 'CSV'}, ô {cell})" if not use_csv \
                    else f"{reason} ({cell})"
        return data, layout, reason, cell

    def _hcc_file(self, s, style, r, sig, defect, version):
        m = s.month
        counts = self.hcc.get((s.unit.org_unit_id, str(m)), {})
        fields = [f for f in FIELD_ORDER if f in counts]
        for f in ("Hộ tịch", "Chứng thực", "Đất đai", "Lao động - Thương binh và Xã hội"):
            if f not in fields:
                fields.append(f)
        fields.sort(key=FIELD_ORDER.index)
        rows = [[counts.get(f, {}).get(c, 0) for c in HCC_COLUMNS] for f in fields]
        misreport, reason, cell = "", "", ""
        if s.misreport:
            i = rnd(self.seed, "misreport", s.label).randrange(len(rows))
            k = rnd(self.seed, "misreport-k", s.label).randint(2, 9)
            rows[i] = _hcc_shift(rows[i], k)
            misreport = (f"{fields[i]}: báo cáo {rows[i][3]} hồ sơ tiếp nhận trực tiếp, hệ thống "
                         f"ghi {rows[i][3] - k} (chênh {k})")
        if version == 1:
            i = r.randrange(len(rows))
            k = r.randint(1, 6)
            rows[i] = _hcc_shift(rows[i], k)
            reason = (f"phiên bản đầu: {fields[i]} nhận trực tiếp {rows[i][3]}, "
                      f"sửa thành {rows[i][3] - k}")
        total = [sum(col) for col in zip(*rows, strict=True)]
        target = None
        if defect == "hcc_row_identity":
            i = r.randrange(len(rows))
            rows[i] = list(rows[i])
            rows[i][0] += r.randint(1, 5)
            total = [sum(col) for col in zip(*rows, strict=True)]
            reason = (f"dòng '{fields[i]}': Tổng số {rows[i][0]} khác Kỳ trước + Trực tuyến + "
                      f"Trực tiếp = {sum(rows[i][1:4])}")
            target = (i, "c0")
        elif defect == "hcc_total_mismatch":
            k = r.randint(2, 8)
            total = _hcc_shift(total, k)
            reason = f"Tổng cộng nhận trực tiếp {total[3]}, tổng các dòng là {total[3] - k}"
            target = ("total", "c3")
        unit_line = forms.unit_header("HCC-06", s.unit.name, s.unit.kind_word, s.unit.short_name,
                                      style.unit_variant)
        title = forms.month_title("HCC-06", m, style.title_variant)
        data, layout = forms.render_hcc_xlsx(unit_line, title, list(zip(fields, rows, strict=True)),
                                             total, sig, style, r)
        if target is not None:
            cell = f"{layout.cols[target[1]]}{layout.rows[target[0]]}"
            reason = f"{reason} (sheet {layout.sheet}, ô {cell})"
        return data, layout, reason, cell, misreport

    def _gd_slot(self, s: Slot) -> None:
        sem = s.semester
        assert sem is not None
        r = rnd(self.seed, "slot-files", s.label)
        style = gd_style(self.seed, s.unit, sem)
        t = self._schedule(s, r, sem.last_month.last)
        kind = "original"
        for defect in s.defects:
            if defect in ("period_not_ended", "period_mismatch"):
                continue
            self._gd_emit(s, style, r, defect, t, kind)
            kind = "resubmission"
            t = t + timedelta(days=r.randint(1, 4), minutes=r.randint(-120, 120))
        main = self._gd_emit(s, style, r, "", t, kind, version=1 if s.correction else 0)
        if s.duplicate:
            self.files.append(FileOut(main.folder, _dup_name(main.name), main.data,
                                      main.arrived + timedelta(minutes=r.randint(5, 180)), s.form,
                                      s.period, s.due, "duplicate", "duplicate",
                                      reason="tệp giống hệt tệp đã nộp trước đó"))
        if s.correction:
            t2 = main.arrived + timedelta(days=r.randint(2, 12))
            self._gd_emit(s, style, r, "", t2, "correction", version=2)

    def _gd_emit(self, s, style, r, defect, when, kind, version=0) -> FileOut:
        sem = s.semester
        rows = school_rows(self.seed, self.d, sem)
        if s.unit.is_commune:  # a commune reports the schools in its area
            rows = [sr for sr in rows if sr.commune.org_unit_id == s.unit.org_unit_id]
        fr = rnd(self.seed, "gd-text", s.label)
        std_style = fr.choice(["cokhong", "cokhong", "x"])
        lines = []
        for sr in rows:
            lines.append(forms.GdLine(
                sr.code, sr.name, sr.level, _commune_text(fr, sr.commune),
                [sr.classes, sr.pupils, sr.girls, sr.minority, sr.dropouts, sr.teachers,
                 sr.solid_rooms],
                ("Có" if sr.standard else "Không") if std_style == "cokhong" else
                ("x" if sr.standard else ""),
            ))
        reason = ""
        if version == 1:
            i = r.randrange(len(lines))
            old = lines[i].values[1]
            lines[i].values = list(lines[i].values)
            lines[i].values[1] = old + r.randint(3, 15)
            reason = (f"phiên bản đầu: {lines[i].code} số học sinh {lines[i].values[1]}, "
                      f"sửa thành {old}")
        target = None
        if defect == "gd_unknown_commune":
            i = r.randrange(len(lines))
            known = {u.short_name for u in self.d.communes}
            bad = next(n for n in ("Hiệp Hưng", "Phước Hòa", "Quế Phong", "Bình Khương", "Tân Lập")
                       if n not in known)
            lines[i].commune_text = f"xã {bad}"
            reason = f"trường {lines[i].code} ghi 'xã {bad}'"
            target = (i, "commune")
        elif defect == "gd_duplicate_school":
            i = r.randrange(1, len(lines))
            j = r.randrange(i)
            reason = f"mã {lines[j].code} dùng cho cả '{lines[j].name}' và '{lines[i].name}'"
            lines[i].code = lines[j].code
            target = (i, "code")
        elif defect == "gd_count_exceeds_pupils":
            i = r.randrange(len(lines))
            lines[i].values = list(lines[i].values)
            lines[i].values[2] = lines[i].values[1] + r.randint(1, 20)
            reason = (f"trường {lines[i].code}: {lines[i].values[2]} học sinh nữ > "
                      f"{lines[i].values[1]} học sinh")
            target = (i, "girls")
        elif defect == "gd_negative_count":
            i = r.randrange(len(lines))
            lines[i].values = list(lines[i].values)
            lines[i].values[4] = -r.randint(1, 3)
            reason = f"trường {lines[i].code}: số học sinh bỏ học {lines[i].values[4]}"
            target = (i, "dropouts")
        signed = max(when.date() - timedelta(days=r.choice([0, 0, 1])),
                     sem.last_month.last + timedelta(days=1))
        sig = self._signature(s.unit, "GD-01", signed)
        per_level = rnd(self.seed, "gd-sheets", s.label).random() < 0.75
        unit_line = forms.unit_header("GD-01", s.unit.name, s.unit.kind_word,
                                      s.unit.short_name, style.unit_variant) \
            if s.unit.is_commune else forms.EDUCATION_OFFICE
        data, layout = forms.render_gd_xlsx(forms.semester_title(sem), lines, sig, style,
                                            per_level, r, unit_line)
        sheet, cell = layout.sheet, ""
        if target is not None:
            sheet, row = layout.rows[target[0]]
            cell = f"{layout.cols[target[1]]}{row}"
            reason = f"{reason} (sheet {sheet}, ô {cell})"
        if defect == "corrupt_workbook":
            data, sheet, cell = data[: max(200, len(data) // 2)], "", ""
        elif defect == "empty_file":
            data, sheet, cell = b"", "", ""
        name = file_name(self.seed, s, False, kind, defect)
        text = DEFECT_TEXT.get(defect, "")
        f = FileOut(s.unit.org_unit_id, name, data, when, "GD-01", s.period, s.due, kind,
                    "rejected" if defect else "accepted", defect,
                    f"{text}: {reason}" if defect and reason else (text or reason), sheet, cell)
        self.files.append(f)
        return f

    def _stray(self, s: Slot, kind: str, r: random.Random, near: datetime) -> None:
        m = s.month
        when = self._arrival(r, near.date(), near.date() + timedelta(days=3))
        if kind == "wrong_extension":
            title = forms.month_title(s.form, m, 0)
            data = forms.pdf_bytes(f"{s.form} {s.unit.org_unit_id} {m}")
            name = Path(file_name(self.seed, s, False, "original", "")).stem + " (scan).pdf"
            self.files.append(FileOut(s.unit.org_unit_id, name, data, when, s.form, s.period,
                                      s.due, "stray", "rejected", kind,
                                      f"{DEFECT_TEXT[kind]}: bản chụp PDF của '{title}'"))
        elif kind == "unrecognised_form":
            unit_line = forms.unit_header("KTXH-01", s.unit.name, s.unit.kind_word,
                                          s.unit.short_name, 0)
            names = [person_name(rnd(self.seed, "roster", s.label, i)) for i in range(5)]
            data = forms.render_unrelated_xlsx(unit_line, names, when.date())
            self.files.append(FileOut(s.unit.org_unit_id, "Danh sach truc le.xlsx", data, when,
                                      "", s.period, s.due, "stray", "rejected", kind,
                                      f"{DEFECT_TEXT[kind]}: danh sách trực lễ"))
        elif kind == "unit_mismatch":
            others = [u for u in self.d.communes if u.org_unit_id != s.unit.org_unit_id
                      and u.valid_between(m.first, m.last)]
            if not others:
                return
            other = r.choice(others)
            fake = Slot(other, s.form, s.period, month=m, due=s.due)
            style = hcc_style(self.seed, other, m) if s.form == "HCC-06" else \
                indicator_style(self.seed, other, s.form, m)
            style.csv_encoding = ""
            f = self._emit(fake, style, r, "", when, "stray")
            f.folder = s.unit.org_unit_id
            f.status, f.defect = "rejected", kind
            f.reason = (f"{DEFECT_TEXT[kind]}: báo cáo của {other.name} "
                        f"nằm trong thư mục {s.unit.org_unit_id}")
            f.sheet, f.cell = "", "A1"
        elif kind == "unit_not_valid":
            invalid = s.stray_unit or _invalid_unit(self.d, m)
            if invalid is None:
                return
            fake = Slot(invalid, s.form, s.period, month=m, due=s.due)
            style = hcc_style(self.seed, invalid, m) if s.form == "HCC-06" else \
                indicator_style(self.seed, invalid, s.form, m)
            style.csv_encoding = ""
            f = self._emit(fake, style, r, "", when, "stray")
            f.status, f.defect = "rejected", kind
            until = f"{invalid.valid_to:%d/%m/%Y}" if invalid.valid_to else "nay"
            f.reason = (f"{DEFECT_TEXT[kind]}: {invalid.name} có hiệu lực từ "
                        f"{invalid.valid_from:%d/%m/%Y} đến {until}, báo cáo kỳ {m}")
            successor = self.d.successor(invalid)
            if successor is not None and invalid.valid_to and invalid.valid_to < m.first:
                f.reason += f"; nay thuộc {successor.name}"

    def _flush(self) -> list[dict]:
        rows = []
        used: set[str] = set()
        count: dict[tuple[str, str, str], int] = {}
        for f in sorted(self.files, key=lambda f: (f.arrived, f.folder, f.name)):
            if self.end is not None and f.arrived >= self.end:
                break  # not arrived yet
            name = f.name
            rel = f"intake/{f.folder}/{name}"
            n = 2
            while rel in used:
                stem, _, ext = name.rpartition(".")
                rel = f"intake/{f.folder}/{stem} ({n}).{ext}"
                n += 1
            used.add(rel)
            path = self.out / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(f.data)
            ts = f.arrived.timestamp()
            os.utime(path, (ts, ts))
            key = (f.folder, f.form, f.period)
            count[key] = count.get(key, 0) + 1
            rows.append({
                "path": rel, "org_unit_id": f.folder, "form_code": f.form, "period": f.period,
                "arrived_at": f.arrived.replace(microsecond=0).isoformat(),
                "due_date": f.due.isoformat(), "submission": count[key], "kind": f.kind,
                "expected_status": f.status,
                "late": "yes" if f.arrived > end_of_day(f.due) else "no",
                "defect": f.defect, "reason": f.reason, "defect_sheet": f.sheet,
                "defect_cell": f.cell, "misreport": f.misreport, "size_bytes": len(f.data),
                "sha256": hashlib.sha256(f.data).hexdigest(),
            })
        return rows


# ------------------------------------------------------------------------------ helpers
def _district_place(d: District) -> str:
    return d.unit.short_name


def _commune_text(r: random.Random, u: Unit) -> str:
    if u.unit_type == TOWNLET:
        return r.choice([u.short_name, f"TT {u.short_name}", f"Thị trấn {u.short_name}"])
    return r.choice([u.short_name, f"xã {u.short_name}", f"Xã {u.short_name}"])


def _hcc_shift(row: list, k: int) -> list:
    """Add k dossiers received directly and resolved early: the row stays consistent."""
    row = list(row)
    for i in (0, 3, 4, 5):
        row[i] += k
    return row


def _merged_away(d: District, m: Month) -> Unit | None:
    """A commune merged into another shortly before month m (staff still use its folder)."""
    for u in d.communes:
        if u.valid_to and u.valid_to < m.first and u.successor_id and \
                (m.first - u.valid_to).days < 400:
            return u
    return None


def _invalid_unit(d: District, m: Month) -> Unit | None:
    """A unit not valid in month m whose folder could still receive a file."""
    u = _merged_away(d, m)
    if u is not None:
        return u
    for u in d.communes:
        if u.valid_from > m.last:
            return u
    for u in d.communes:
        if u.valid_to and u.valid_to < m.first:
            return u
    return None


def _dup_name(name: str) -> str:
    stem, _, ext = name.rpartition(".")
    return f"{stem} (1).{ext}"


def file_name(seed: int, s: Slot, use_csv: bool, kind: str, defect: str) -> str:
    """File names as staff type them; CSV keeps the standard name (unit and period come from it)."""
    ext = "csv" if use_csv else "xlsx"
    period = s.period
    if defect == "period_mismatch" and s.month is not None:
        period = str(s.month.prev())
    std = f"{s.form}_{s.unit.org_unit_id}_{period}"
    habit = rnd(seed, "naming", s.unit.org_unit_id, s.form).random()
    if use_csv or defect == "period_mismatch" or habit < 0.55:
        stem = std
    elif s.form == "GD-01":
        sem = s.semester
        stem = f"Thống kê trường học HK{sem.half} {sem.year}-{sem.year + 1}"
    else:
        m = s.month
        short, word = FORM_WORD[s.form]
        stem = (f"Báo cáo {word} tháng {m.month} năm {m.year}" if habit < 0.8
                else f"BC_{short}_T{m.month:02d}_{m.year}")
    suffix = {"correction": " (sửa)", "resubmission": "_gui lai"}.get(kind, "")
    if kind == "resubmission" and stem == std:
        suffix = "_v2"
    return f"{stem}{suffix}.{ext}"


def _perturb(lines: list, r: random.Random, form: str) -> tuple[list, str]:
    """A first version with one or two wrong numbers (typed in the wrong row, a missing digit)."""
    lines = [forms.Line(**vars(ln)) for ln in lines]
    safe = ["KT01", "KT02", "KT09", "XH05", "XH08", "KT06", "KT07"] if form == "KTXH-01" \
        else ["YT07", "YT08", "YT10", "YT11", "YT09"]
    changed = []
    for code in r.sample(safe, 2 if r.random() < 0.3 else 1):
        ln = next(x for x in lines if x.code == code)
        if not isinstance(ln.value, float):
            continue
        ind = INDICATORS[code]
        old = ln.value
        new = old * r.choice([0.9, 1.1, 0.5]) if old >= 10 else old + r.randint(1, 4)
        low, high = float(ind.min), float(ind.max)
        new = round(min(max(new, low), high), 1 if code in ("KT01", "KT02", "KT09") else 0)
        if new == old:
            new = old + 1
        ln.value = float(new)
        if ln.ytd is not None:
            ln.ytd = float(round(ln.ytd + (new - old), 1)) if ind.kind == "flow" else float(new)
        changed.append(f"{code} {forms.vn_number(new)} (đúng: {forms.vn_number(old)})")
    return lines, "phiên bản đầu có số sai: " + ", ".join(changed)


def _indicator_defect(defect: str, lines: list, r: random.Random, form: str, style: forms.Style):
    lines = [forms.Line(**vars(ln)) for ln in lines]
    by = {ln.code: i for i, ln in enumerate(lines)}
    kt = form == "KTXH-01"
    if defect == "unknown_indicator":
        code, name, unit = ("KT10", "Diện tích nuôi trồng thủy sản", "ha") if kt else \
            ("YT12", "Số lượt khám y học cổ truyền", "lượt")
        last = max(i for i, ln in enumerate(lines) if ln.group == lines[-1].group)
        lines.insert(last + 1, forms.Line(code, name, unit, lines[-1].group,
                                          value=float(r.randint(1, 40))))
        has_code = "code" in style.columns or style.csv_encoding
        what = f"mã {code}" if has_code else f"tên '{name}'"
        return lines, f"{what} không có trong danh mục", (last + 1, "code" if has_code else "name")
    if defect == "missing_required":
        code = "XH03" if kt else "YT05"
        i = by[code]
        if r.random() < 0.5:
            del lines[i]
            return lines, f"thiếu dòng {code} ({INDICATORS[code].name})", None
        lines[i].value = None
        if lines[i].ytd is not None:
            lines[i].ytd = None
        return lines, f"{code} ({INDICATORS[code].name}) để trống", (i, "value")
    if defect == "not_a_number":
        code = r.choice(["KT01", "XH02", "XH05"] if kt else ["YT01", "YT05", "YT07"])
        i = by[code]
        lines[i].value = r.choice(["không có", "12a", "#N/A", "chưa có số liệu", "x"])
        return lines, f"{code} có giá trị '{lines[i].value}'", (i, "value")
    if defect == "negative_value":
        code = "KT05" if kt else "YT08"
        i = by[code]
        lines[i].value = -float(r.randint(1, 12))
        if lines[i].ytd is not None:
            lines[i].ytd = lines[i].value
        return lines, f"{code} = {forms.vn_number(lines[i].value)}", (i, "value")
    if defect == "out_of_range":
        code = "KT01" if kt else "YT07"
        i = by[code]
        ind = INDICATORS[code]
        lines[i].value = float(ind.max * r.randint(2, 12) + r.randint(1, 99))
        if lines[i].ytd is not None:
            lines[i].ytd = round(lines[i].ytd + lines[i].value, 1)
        return lines, (f"{code} = {forms.vn_number(lines[i].value)} ngoài khoảng "
                       f"{forms.vn_number(float(ind.min))}–"
                       f"{forms.vn_number(float(ind.max))}"), (i, "value")
    if defect == "duplicate_indicator":
        code = "XH05" if kt else "YT11"
        i = by[code]
        dup = forms.Line(**vars(lines[i]))
        dup.value = float(lines[i].value) + r.randint(2, 9)
        dup.ytd = None
        lines.insert(i + 1, dup)
        return lines, (f"{code} hai lần: {forms.vn_number(lines[i].value)} và "
                       f"{forms.vn_number(dup.value)}"), (i + 1, "value")
    if defect == "cross_rule":
        if kt:
            i2, i3, i4 = by["XH02"], by["XH03"], by["XH04"]
            lines[i3].value = float(lines[i2].value - lines[i4].value + r.randint(5, 60))
            lines[i3].ytd = lines[i3].value if lines[i3].ytd is not None else None
            return lines, (f"XH03 + XH04 = {forms.vn_number(lines[i3].value + lines[i4].value)} "
                           f"> XH02 = {forms.vn_number(lines[i2].value)}"), (i3, "value")
        i1, i2 = by["YT01"], by["YT02"]
        lines[i2].value = float(lines[i1].value + r.randint(5, 80))
        return lines, (f"YT02 = {forms.vn_number(lines[i2].value)} > YT01 = "
                       f"{forms.vn_number(lines[i1].value)}"), (i2, "value")
    raise ValueError(defect)


# ------------------------------------------------------------------------------ styles
KTXH_FEATURES = ["twolevel", "formulas", "name_first", "extra_prev", "plan_last"]
INDICATOR_FEATURES = [
    "csv_cp1258", "csv_utf8_semicolon", "csv_utf8_comma", "nfd", "nodiac", "linebreak", "upper",
    "spacing", "vn_text", "spaces", "hidden_row", "notes_after", "hidden_first", "no_code",
    "no_stt", "blank_groups", "header_gap3", "top_blank",
]
HCC_FEATURES = ["formulas", "linebreak", "upper", "nfd", "mixed", "notes_after", "hidden_first",
                "header_gap3"]


def forced_features(seed: int, d: District, span: tuple[Month, Month]) -> dict:
    """Every normal variation of the contract at least once per district: each listed variation
    is given to one (commune, form) whose clerk then always writes that way."""
    first, last = span
    communes = [u.org_unit_id for u in d.communes if u.valid_between(first.first, last.last)]
    r = rnd(seed, "variations", d.code)
    out: dict[tuple[str, str], str] = {}
    for form, feats in (("KTXH-01", KTXH_FEATURES), ("HCC-06", HCC_FEATURES)):
        order = list(communes)
        r.shuffle(order)
        for uid, feat in zip(order, feats, strict=False):
            out[(uid, form)] = feat
    pairs = [(u, f) for u in communes for f in ("KTXH-01", "YT-01") if (u, f) not in out]
    r.shuffle(pairs)
    for pair, feat in zip(pairs, INDICATOR_FEATURES, strict=False):
        out[pair] = feat
    return out


def _apply_feature(s: forms.Style, feature: str | None, kt: bool) -> None:
    if not feature:
        return
    csvs = {"csv_cp1258": ("cp1258", ";"), "csv_utf8_semicolon": ("utf-8-sig", ";"),
            "csv_utf8_comma": ("utf-8", ",")}
    if feature in csvs:
        s.csv_encoding, s.csv_delimiter = csvs[feature]
        return
    s.csv_encoding = ""
    std = ("stt", "code", "name", "unit", "plan", "value", "ytd", "note") if kt else \
        ("stt", "code", "name", "unit", "value", "note")
    if feature in ("twolevel", "nodiac", "linebreak", "upper", "spacing"):
        s.header_variant = feature
        if feature == "twolevel":
            s.columns = std
    elif feature in ("vn_text", "spaces", "mixed"):
        s.numbers = feature
    elif feature == "formulas":
        s.formulas, s.numbers = True, "num"
    elif feature == "nfd":
        s.nfd = True
    elif feature == "hidden_row":
        s.hide_row_code = "KT05" if kt else "YT09"
    elif feature == "notes_after":
        s.notes_sheet = "after"
    elif feature == "hidden_first":
        s.notes_sheet = "hidden_first"
    elif feature == "blank_groups":
        s.blank_between_groups = True
    elif feature == "header_gap3":
        s.header_gap, s.top_blank = 3, 1
    elif feature == "top_blank":
        s.top_blank = 1
    else:
        s.header_variant = "standard" if s.header_variant == "twolevel" else s.header_variant
        cols = list(std)
        if feature == "no_code":
            cols.remove("code")
        elif feature == "no_stt":
            cols.remove("stt")
        elif feature == "name_first":
            cols[1], cols[2] = cols[2], cols[1]
        elif feature == "extra_prev":
            cols.insert(4, "prev")
        elif feature == "plan_last":
            cols.remove("plan")
            cols.insert(-1, "plan")
        s.columns = tuple(cols)


def indicator_style(seed: int, unit: Unit, form: str, m: Month,
                    feature: str | None = None) -> forms.Style:
    """One clerk's habits for a form, with the occasional change from month to month."""
    r = rnd(seed, "style", unit.org_unit_id, form)
    kt = form == "KTXH-01"
    s = forms.Style()
    if r.random() < 0.15:
        enc = r.choices([("cp1258", ";"), ("utf-8-sig", ";"), ("utf-8", ",")], [60, 25, 15])[0]
        s.csv_encoding, s.csv_delimiter = enc
        s.csv_ytd = r.random() < 0.5
    std = ("stt", "code", "name", "unit", "plan", "value", "ytd", "note") if kt else \
        ("stt", "code", "name", "unit", "value", "note")
    variants = [std]
    if kt:
        variants += [
            ("stt", "name", "unit", "plan", "value", "ytd", "note"),
            ("stt", "name", "code", "unit", "plan", "value", "ytd", "note"),
            ("stt", "code", "name", "unit", "prev", "plan", "value", "ytd", "note"),
            ("stt", "code", "name", "unit", "value", "ytd", "plan", "note"),
            ("code", "name", "unit", "plan", "value", "ytd", "note"),
        ]
        weights = [50, 8, 8, 12, 8, 14]
    else:
        variants += [
            ("stt", "name", "unit", "value", "note"),
            ("stt", "name", "code", "unit", "value", "note"),
            ("stt", "code", "name", "unit", "prev", "value", "note"),
            ("code", "name", "unit", "value", "note"),
        ]
        weights = [60, 10, 10, 10, 10]
    s.columns = r.choices(variants, weights)[0]
    hv = ["standard", "upper", "nodiac", "linebreak", "spacing"] + (["twolevel"] if kt else [])
    s.header_variant = r.choices(hv, [55, 10, 8, 12, 7] + ([8] if kt else []))[0]
    if s.header_variant == "twolevel":
        s.columns = std
    s.nfd = r.random() < 0.12
    s.numbers = r.choices(["num", "mixed", "vn_text", "spaces"], [70, 10, 12, 8])[0]
    s.formulas = kt and r.random() < 0.2
    s.blank_between_groups = r.random() < 0.25
    if r.random() < 0.1:
        s.hide_row_code = "KT05" if kt else "YT09"
    s.notes_sheet = r.choices(["none", "after", "hidden_first"], [75, 17, 8])[0]
    s.sheet_name = r.choice(["Sheet1", "Sheet", "KTXH" if kt else "YTE", "Báo cáo", "BC"])
    s.number_format = r.random() < 0.4
    s.notes_text = r.random() < 0.3
    s.top_blank = 1 if r.random() < 0.2 else 0
    s.header_gap = r.choice([0, 0, 0, 1, 2])
    s.form_code_line = r.random() < 0.75
    s.title_variant = r.choice([0, 0, 0, 1, 1, 2, 3, 4])
    s.unit_variant = r.choice([0, 0, 0, 0, 1, 2])
    f = rnd(seed, "style-file", unit.org_unit_id, form, m)
    if f.random() < 0.08:
        s.header_gap = f.choice([0, 1, 2, 3])
    if f.random() < 0.05:
        s.title_variant = f.randint(0, 4)
    if f.random() < 0.03:
        s.nfd = not s.nfd
    _apply_feature(s, feature, kt)
    return s


def hcc_style(seed: int, unit: Unit, m: Month, feature: str | None = None) -> forms.Style:
    r = rnd(seed, "style", unit.org_unit_id, "HCC-06")
    s = forms.Style()
    s.header_variant = r.choices(["standard", "upper", "linebreak", "nodiac"], [70, 10, 15, 5])[0]
    s.nfd = r.random() < 0.1
    s.numbers = r.choices(["num", "mixed"], [92, 8])[0]
    s.formulas = r.random() < 0.3
    s.notes_sheet = r.choices(["none", "after", "hidden_first"], [80, 14, 6])[0]
    s.sheet_name = r.choice(["Sheet", "Sheet1", "HCC06", "Biểu 06"])
    s.top_blank = 1 if r.random() < 0.15 else 0
    s.header_gap = r.choice([0, 0, 0, 1, 2])
    s.form_code_line = r.random() < 0.8
    s.title_variant = r.choice([0, 0, 1, 3])
    s.unit_variant = r.choice([0, 0, 0, 1, 2])
    f = rnd(seed, "style-file", unit.org_unit_id, "HCC-06", m)
    if f.random() < 0.08:
        s.header_gap = f.choice([0, 1, 2, 3])
    _apply_feature(s, feature, False)
    return s


def gd_style(seed: int, unit: Unit, sem: Semester) -> forms.Style:
    r = rnd(seed, "style", unit.org_unit_id, "GD-01")
    s = forms.Style()
    s.header_variant = r.choices(["standard", "upper", "linebreak"], [75, 10, 15])[0]
    s.nfd = r.random() < 0.15
    s.numbers = r.choices(["num", "mixed"], [90, 10])[0]
    s.notes_sheet = r.choices(["none", "after"], [80, 20])[0]
    s.sheet_name = r.choice(["Trường học", "GD01", "Sheet1"])
    s.header_gap = r.choice([0, 0, 1])
    s.form_code_line = r.random() < 0.85
    f = rnd(seed, "style-file", unit.org_unit_id, "GD-01", sem.period)
    if f.random() < 0.2:
        s.header_gap = f.choice([0, 1, 2])
    return s


Signature = forms.Signature
