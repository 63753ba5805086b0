"""Reference data the checks need: org units (with validity) and indicators, from the dbt seeds.

The seeds in `dbt_project/seeds/` are the project's single copy of the reference data; the
intake engine reads them directly so a file is judged against the same lists the marts use.
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
COMMUNE_TYPES = ("xa", "thi_tran")
_UNIT_PREFIXES = {
    "xa": ("xa",),
    "thi_tran": ("thi tran", "tt"),
}


@dataclass(frozen=True)
class OrgUnit:
    org_unit_id: str
    name: str
    unit_type: str
    valid_from: date
    valid_to: date | None
    successor_id: str | None

    def overlaps(self, start: date, end: date) -> bool:
        """True when the unit existed on at least one day of [start, end]."""
        return self.valid_from <= end and (self.valid_to is None or self.valid_to >= start)

    @property
    def bare_name(self) -> str:
        """Folded name without its type word: `Xã Hiệp Thuận` → `hiep thuan`."""
        folded = fold(self.name)
        for prefix in _UNIT_PREFIXES.get(self.unit_type, ()):
            if folded.startswith(prefix + " "):
                return folded[len(prefix) + 1:]
        return folded

    @property
    def written_names(self) -> tuple[str, ...]:
        """Folded ways the unit is written in a header block (`xa hiep thuan`, `tt tan binh`)."""
        bare = self.bare_name
        prefixes = _UNIT_PREFIXES.get(self.unit_type)
        if not prefixes:
            return (fold(self.name),)
        return tuple(f"{p} {bare}" for p in prefixes)


@dataclass(frozen=True)
class Indicator:
    code: str
    form: str
    group: str
    name: str
    unit: str
    kind: str  # flow | stock
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
            )
            for r in csv.DictReader(fh)
        }


@cache
def indicators(seeds: Path = SEEDS) -> dict[str, Indicator]:
    with (seeds / "indicators.csv").open(encoding="utf-8") as fh:
        return {
            r["code"]: Indicator(
                r["code"], r["form"], r["group"], r["name"], r["unit"], r["kind"],
                r["required"].strip().lower() in ("yes", "true", "1"),
                _dec(r["min"]), _dec(r["max"]),
            )
            for r in csv.DictReader(fh)
        }


def indicators_of(form: str) -> dict[str, Indicator]:
    return {c: i for c, i in indicators().items() if i.form == form}


def units_named_in(text: str, types_excluded: tuple[str, ...] = ("tinh", "huyen")) -> set[str]:
    """Org units whose written name appears in `text` (as whole words, diacritics ignored).

    Only names whose first word is a word of the text are compared: a country's ten thousand
    communes are not all tried against every header cell of every file."""
    folded = fold(text)  # words separated by one space
    padded = f" {folded} "
    index = _names_by_first_word(types_excluded)
    return {unit_id for word in set(folded.split(" ")) for name, unit_id in index.get(word, ())
            if f" {name} " in padded}


@cache
def _names_by_first_word(types_excluded: tuple[str, ...]) -> dict[str, tuple[tuple[str, str], ...]]:
    """Written names (with their unit) by first word; cached like the unit list itself."""
    index: dict[str, list[tuple[str, str]]] = {}
    for unit in org_units().values():
        if unit.unit_type not in types_excluded:
            for name in unit.written_names:
                index.setdefault(name.split(" ", 1)[0], []).append((name, unit.org_unit_id))
    return {word: tuple(names) for word, names in index.items()}


_COMMUNE_PREFIX = re.compile(r"^(?:xa|thi tran|tt|phuong)\s+")


@lru_cache(maxsize=4096)
def commune_by_name(text: str, start: date, end: date) -> OrgUnit | None:
    """A commune written as people write it (`Hiệp Thuận`, `xã Hiệp Thuận`, `TT Tân Bình`),
    among communes that existed during [start, end]."""
    key = _COMMUNE_PREFIX.sub("", fold(text))
    if not key:
        return None
    matches = [
        u for u in org_units().values()
        if u.unit_type in COMMUNE_TYPES and u.bare_name == key and u.overlaps(start, end)
    ]
    return matches[0] if len(matches) == 1 else None


def unit_label(unit_id: str | None) -> str:
    """`Xã Hiệp Thuận (xa-hiep-thuan)`: a unit as staff read it, with its folder name."""
    if not unit_id:
        return "(chưa xác định)"
    unit = org_units().get(unit_id)
    return f"{unit.name} ({unit_id})" if unit else unit_id
