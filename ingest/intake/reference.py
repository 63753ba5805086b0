"""Reference data the checks need: org units (with validity), their levels, who submits which
form, and indicators, all from the dbt seeds.

The seeds in `dbt_project/seeds/` are the project's single copy of the reference data; the
intake engine reads them directly so a file is judged against the same lists the marts use.
Nothing here knows a unit or a level by name: what a level is (its rank, whether it is a
commune-level unit, the words people write before a name) is data in `unit_levels.csv`, so
another district, city or province is a change of the seeds, not of this code.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path

from ingest.intake.text import fold

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
# Units below this rank (provinces, districts, areas) never submit a form: their names in a
# header block ("UBND TỈNH …" above "UBND XÃ …") do not name the submitting unit.
REPORTING_RANK = 3
COMMUNE_LEVEL = "commune_level"  # the submitter group of form_submitters.csv


@dataclass(frozen=True)
class UnitLevel:
    code: str
    name: str
    rank: int
    is_commune_level: bool
    prefixes: tuple[str, ...]  # folded words written before a name
    id_prefixes: tuple[str, ...]  # parallel to the written prefixes, for new unit ids


@cache
def unit_levels(seeds: Path = SEEDS) -> dict[str, UnitLevel]:
    with (seeds / "unit_levels.csv").open(encoding="utf-8") as fh:
        out = {}
        for r in csv.DictReader(fh):
            written = [w for w in r["written_prefixes"].split("|") if w.strip()]
            ids = [w for w in r["id_prefixes"].split("|") if w.strip()]
            out[r["level_code"]] = UnitLevel(
                r["level_code"], r["level_name"], int(r["rank"]),
                r["is_commune_level"].strip().lower() in ("true", "yes", "1"),
                tuple(fold(w) for w in written), tuple(ids))
        return out


def _level(unit_type: str) -> UnitLevel | None:
    return unit_levels().get(unit_type)


@dataclass(frozen=True)
class OrgUnit:
    org_unit_id: str
    name: str
    unit_type: str
    valid_from: date
    valid_to: date | None
    successor_id: str | None
    parent_id: str | None = None

    def overlaps(self, start: date, end: date) -> bool:
        """True when the unit existed on at least one day of [start, end]."""
        return self.valid_from <= end and (self.valid_to is None or self.valid_to >= start)

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or self.valid_to >= day)

    @property
    def level(self) -> UnitLevel | None:
        return _level(self.unit_type)

    @property
    def rank(self) -> int:
        level = self.level
        return level.rank if level else REPORTING_RANK

    @property
    def is_commune(self) -> bool:
        """A commune-level unit (xã, phường, thị trấn, đặc khu: `unit_levels.csv`)."""
        level = self.level
        return bool(level and level.is_commune_level)

    @property
    def bare_name(self) -> str:
        """Folded name without its level word: `Xã A` → `a`, `Thị trấn B` → `b`."""
        folded = fold(self.name)
        for prefix in self.level.prefixes if self.level else ():
            if folded.startswith(prefix + " "):
                return folded[len(prefix) + 1:]
        return folded

    @property
    def written_names(self) -> tuple[str, ...]:
        """Folded ways the unit is written in a header block: its level's words before its
        bare name (`xa a`; `thi tran b`, `tt b`), or its whole name when its level has none."""
        bare = self.bare_name
        prefixes = self.level.prefixes if self.level else ()
        if not prefixes:
            return (fold(self.name),)
        return tuple(dict.fromkeys(f"{p} {bare}" for p in prefixes))


@dataclass(frozen=True)
class Indicator:
    code: str
    form: str
    group: str
    name: str
    unit: str
    kind: str  # flow | stock
    area_rollup: str  # sum | none: whether the values of merged units add up (dim_chi_tieu)
    required: bool
    min: Decimal | None
    max: Decimal | None


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _dec(text: str) -> Decimal | None:
    return Decimal(text) if text.strip() else None


@cache
def org_units(seeds: Path = SEEDS) -> dict[str, OrgUnit]:
    with (seeds / "org_units.csv").open(encoding="utf-8") as fh:
        return {
            r["org_unit_id"]: OrgUnit(
                r["org_unit_id"], r["name"], r["unit_type"],
                _date(r["valid_from"]) or date.min, _date(r["valid_to"]), r["successor_id"] or None,
                r["parent_id"] or None,
            )
            for r in csv.DictReader(fh)
        }


@cache
def indicators(seeds: Path = SEEDS) -> dict[str, Indicator]:
    with (seeds / "indicators.csv").open(encoding="utf-8") as fh:
        return {
            r["code"]: Indicator(
                r["code"], r["form"], r["group"], r["name"], r["unit"], r["kind"],
                r["area_rollup"], r["required"].strip().lower() in ("yes", "true", "1"),
                _dec(r["min"]), _dec(r["max"]),
            )
            for r in csv.DictReader(fh)
        }


def indicators_of(form: str) -> dict[str, Indicator]:
    return {c: i for c, i in indicators().items() if i.form == form}


def units_named_in(text: str, min_rank: int = REPORTING_RANK) -> set[str]:
    """Org units of rank `min_rank` or more whose written name appears in `text` (as whole
    words, diacritics ignored).

    Only names whose first word is a word of the text are compared: a country's ten thousand
    communes are not all tried against every header cell of every file."""
    folded = fold(text)  # words separated by one space
    padded = f" {folded} "
    index = _names_by_first_word(min_rank)
    return {unit_id for word in set(folded.split(" ")) for name, unit_id in index.get(word, ())
            if f" {name} " in padded}


@cache
def _names_by_first_word(min_rank: int) -> dict[str, tuple[tuple[str, str], ...]]:
    """Written names (with their unit) by first word; cached like the unit list itself."""
    index: dict[str, list[tuple[str, str]]] = {}
    for unit in org_units().values():
        if unit.rank >= min_rank:
            for name in unit.written_names:
                index.setdefault(name.split(" ", 1)[0], []).append((name, unit.org_unit_id))
    return {word: tuple(names) for word, names in index.items()}


@cache
def _commune_prefix() -> re.Pattern[str]:
    """The level words people write before a commune's name, longest first (from the seed)."""
    words = {p for level in unit_levels().values() if level.is_commune_level
             for p in level.prefixes}
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"^(?:{alternatives})\s+") if alternatives else re.compile(r"^(?!)")


@lru_cache(maxsize=4096)
def commune_by_name(text: str, start: date, end: date) -> OrgUnit | None:
    """A commune written as people write it (its name with or without its level word, or the
    level's short form: `A`, `xã A`, `TT B`), among communes that existed during [start, end].
    Two units of the same name (an old commune and the new one named after it) are told
    apart by their validity dates; a name that still fits two is not guessed."""
    key = _commune_prefix().sub("", fold(text))
    if not key:
        return None
    matches = [
        u for u in org_units().values()
        if u.is_commune and u.bare_name == key and u.overlaps(start, end)
    ]
    return matches[0] if len(matches) == 1 else None


def unit_label(unit_id: str | None) -> str:
    """`<unit name> (<org_unit_id>)`: a unit as staff read it, with its folder name."""
    if not unit_id:
        return "(chưa xác định)"
    unit = org_units().get(unit_id)
    return f"{unit.name} ({unit_id})" if unit else unit_id


def successor_in(unit: OrgUnit, day: date) -> OrgUnit | None:
    """The unit that had taken `unit`'s place by `day`: its successors followed, merger after
    merger, to the first one valid on `day` (or the last one when none is); None when the
    unit has no successor."""
    units = org_units()
    seen = {unit.org_unit_id}
    current = units.get(unit.successor_id or "")
    last = None
    while current is not None and current.org_unit_id not in seen:
        last = current
        if current.valid_on(day) or (current.valid_from > day):
            return current
        seen.add(current.org_unit_id)
        current = units.get(current.successor_id or "")
    return last


@dataclass(frozen=True)
class SubmitterRule:
    form: str
    group: str | None  # COMMUNE_LEVEL, or None when the rule names one unit
    org_unit_id: str | None
    period_from: date | None
    period_to: date | None

    def admits(self, unit: OrgUnit, period_start: date | None) -> bool:
        if self.period_from and period_start and period_start < self.period_from:
            return False
        if self.period_to and period_start and period_start > self.period_to:
            return False
        if self.org_unit_id:
            return unit.org_unit_id == self.org_unit_id
        return self.group == COMMUNE_LEVEL and unit.is_commune


@cache
def form_submitters(seeds: Path = SEEDS) -> dict[str, tuple[SubmitterRule, ...]]:
    """Who submits which form for which periods (`form_submitters.csv`), by form code."""
    out: dict[str, list[SubmitterRule]] = {}
    with (seeds / "form_submitters.csv").open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            out.setdefault(r["form_code"], []).append(SubmitterRule(
                r["form_code"], r["submitter_group"].strip() or None,
                r["org_unit_id"].strip() or None,
                _date(r["period_from"]), _date(r["period_to"])))
    return {form: tuple(rules) for form, rules in out.items()}


def submitters_of(form: str, period_start: date | None) -> list[OrgUnit]:
    """Units that submit `form` for a period starting on `period_start` (valid or not)."""
    rules = form_submitters().get(form, ())
    return [u for u in org_units().values() if any(r.admits(u, period_start) for r in rules)]


def ioc_area(day: date) -> OrgUnit | None:
    """The area the IOC watches on `day`: the deepest unit valid that day above every
    commune-level unit valid that day (their lowest common ancestor)."""
    units = org_units()
    communes = [u for u in units.values() if u.is_commune and u.valid_on(day)]
    if not communes:
        return None

    def ancestors(unit: OrgUnit) -> list[str]:
        chain, seen = [], set()
        parent = units.get(unit.parent_id or "")
        while parent is not None and parent.org_unit_id not in seen:
            chain.append(parent.org_unit_id)
            seen.add(parent.org_unit_id)
            parent = units.get(parent.parent_id or "")
        return chain

    common = ancestors(communes[0])
    for unit in communes[1:]:
        theirs = set(ancestors(unit))
        common = [a for a in common if a in theirs]
    return units[common[0]] if common else None
