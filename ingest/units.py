"""`ioc units build|check`: an area's unit list from the official lists, and ours checked
against them (docs/another-place.md).

The platform knows its place only through `dbt_project/seeds/org_units.csv`. This command
writes that file for another area from two packages that carry the official lists in their
wheels (nothing is downloaded):

- `vietnam-provinces` — every province and commune-level unit after the 2025 reform, with
  its official code;
- `vietnamadminunits` — the units before the reform (63 provinces, their districts and
  communes, with codes) and which new unit replaced each old one.

`build` takes a former district (its official code) and the name of the IOC's area, and
writes: the former province and district, their communes as they were on the day before
the reform (each with its successor), the province after the reform, the area, and the new
communes that took the district's communes in. Levels and id prefixes come from
`unit_levels.csv`. Earlier mergers (before the packages' legacy list) and district agencies
are not in the packages: add them by hand if their history is loaded.

`check` compares the project's unit list with the packages: names and codes of the units
after the reform and of the units that ended with it, and every such unit's successor.

The packages are a dependency group (`units`), not a runtime dependency: only these two
commands import them, and only when they run.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from ingest.intake.reference import SEEDS, UnitLevel, unit_levels
from ingest.intake.text import fold

REFORM = date(2025, 7, 1)  # two-level local government (Nghị quyết 202/2025/QH15)
COLUMNS = ["org_unit_id", "name", "unit_type", "parent_id", "gso_code", "api_code",
           "valid_from", "valid_to", "successor_id", "note"]


class UnitsError(RuntimeError):
    """The official lists could not answer (unknown code, missing package)."""


def _packages():
    try:
        import vietnam_provinces
        import vietnamadminunits
        from vietnamadminunits.database import query
    except ImportError as exc:  # a production install without the `units` group
        raise UnitsError(
            f"{exc.name} is not installed: `uv sync --group units` (or `make install`)"
        ) from None
    return vietnam_provinces, vietnamadminunits, query


# --- levels and ids from unit_levels.csv ----------------------------------------------------


def level_of(name: str, rank: int) -> tuple[UnitLevel, str]:
    """The level of rank `rank` whose written word starts `name`, and the id prefix for it."""
    folded = fold(name)
    best: tuple[int, UnitLevel, str] | None = None
    for level in unit_levels().values():
        if level.rank != rank:
            continue
        for word, prefix in zip(level.prefixes, level.id_prefixes, strict=False):
            if (folded == word or folded.startswith(word + " ")) and (
                    best is None or len(word) > best[0]):
                best = (len(word), level, prefix)
    if best is None:
        raise UnitsError(f"no level of rank {rank} in unit_levels.csv is written like {name!r}")
    return best[1], best[2]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")


def unit_id(name: str, rank: int) -> str:
    level, prefix = level_of(name, rank)
    bare = fold(name)
    for word in level.prefixes:
        if bare.startswith(word + " "):
            bare = bare[len(word) + 1:]
            break
    return f"{prefix}-{_slug(bare)}"


# --- the official lists ---------------------------------------------------------------------


@dataclass(frozen=True)
class Official:
    name: str
    code: str


def legacy_district(district_code: str) -> tuple[Official, Official, list[Official]]:
    """(province, district, its communes) on the day before the reform."""
    _, _, query = _packages()
    code = re.sub(r"\D", "", district_code)
    rows = query("select province, provinceCode, district, districtCode, ward, wardCode "
                 f"from admin_units_legacy where districtCode = '{code}' order by wardCode")
    if not rows:
        raise UnitsError(f"no district with code {district_code} in vietnamadminunits")
    first = rows[0]
    return (Official(first["province"], first["provinceCode"]),
            Official(first["district"], first["districtCode"]),
            [Official(r["ward"], r["wardCode"]) for r in rows if r["ward"]])


def successor(province: Official, district: Official, ward: Official) -> tuple[Official, Official]:
    """(new province, new commune) that took `ward` in, from vietnamadminunits' converter."""
    _, units_pkg, _ = _packages()
    new = units_pkg.convert_address(f"{ward.name}, {district.name}, {province.name}")
    if not new.ward_code:
        raise UnitsError(f"vietnamadminunits knows no successor of {ward.name}")
    return Official(new.province, str(new.province_code)), Official(new.ward, str(new.ward_code))


def new_unit(code: str) -> Official:
    """A commune-level unit after the reform, from vietnam-provinces."""
    provinces, _, _ = _packages()
    try:
        ward = provinces.Ward.from_code(provinces.WardCode(int(code)))
    except ValueError as exc:
        raise UnitsError(f"vietnam-provinces has no unit {code}") from exc
    return Official(ward.name, str(int(ward.code)))


def new_province(code: str) -> Official:
    provinces, _, _ = _packages()
    province = provinces.Province.from_code(provinces.ProvinceCode(int(code)))
    return Official(province.name, str(int(province.code)))


# --- build ----------------------------------------------------------------------------------


def build(district_code: str, area: str, since: date) -> list[dict[str, str]]:
    """The unit list of the area that was district `district_code` before the reform."""
    provinces, _, _ = _packages()
    old_province, old_district, wards = legacy_district(district_code)
    ended = (REFORM - timedelta(days=1)).isoformat()
    mapping = {w: successor(old_province, old_district, w) for w in wards}
    province_codes = {p.code for p, _ in mapping.values()}
    if len(province_codes) != 1:
        raise UnitsError(f"the communes of {old_district.name} went to several provinces")
    province = new_province(province_codes.pop())
    communes = sorted({new_unit(c.code) for _, c in mapping.values()}, key=lambda u: u.code)
    source_new = f"vietnam-provinces {provinces.__version__}"
    source_old = "vietnamadminunits (list before the 2025 reform)"

    old_ids = {w: unit_id(w.name, 3) for w in wards}
    province_id, area_id = unit_id(province.name, 1), unit_id(area, 2)
    old_province_id = unit_id(old_province.name, 1)
    old_district_id = unit_id(old_district.name, 2)
    new_ids = {}
    for commune in communes:
        uid = unit_id(commune.name, 3)
        new_ids[commune] = f"{uid}-{REFORM.year}" if uid in old_ids.values() else uid

    def row(**values: str) -> dict[str, str]:
        return {c: values.get(c, "") for c in COLUMNS}

    rows = [
        row(org_unit_id=old_province_id, name=old_province.name,
            unit_type=level_of(old_province.name, 1)[0].code, gso_code=old_province.code,
            api_code=old_province.code, valid_from=since.isoformat(), valid_to=ended,
            successor_id=province_id if province_id != old_province_id else "",
            note=source_old),
        row(org_unit_id=old_district_id, name=old_district.name,
            unit_type=level_of(old_district.name, 2)[0].code, parent_id=old_province_id,
            gso_code=old_district.code, api_code=old_district.code,
            valid_from=since.isoformat(), valid_to=ended, successor_id=area_id,
            note=source_old),
    ]
    for ward in wards:
        _, commune = mapping[ward]
        rows.append(row(
            org_unit_id=old_ids[ward], name=ward.name, unit_type=level_of(ward.name, 3)[0].code,
            parent_id=old_district_id, gso_code=ward.code, api_code=ward.code,
            valid_from=since.isoformat(), valid_to=ended,
            successor_id=new_ids[new_unit(commune.code)], note=source_old))
    if province_id != old_province_id:
        rows.append(row(org_unit_id=province_id, name=province.name,
                        unit_type=level_of(province.name, 1)[0].code, gso_code=province.code,
                        api_code=province.code, valid_from=REFORM.isoformat(), note=source_new))
    rows.append(row(org_unit_id=area_id, name=area, unit_type=level_of(area, 2)[0].code,
                    parent_id=province_id, valid_from=REFORM.isoformat(),
                    note=f"the IOC's area: the territory of the former {old_district.name}"))
    for commune in communes:
        rows.append(row(
            org_unit_id=new_ids[commune], name=commune.name,
            unit_type=level_of(commune.name, 3)[0].code, parent_id=area_id,
            gso_code=commune.code, api_code=commune.code, valid_from=REFORM.isoformat(),
            note=source_new))
    ids = [r["org_unit_id"] for r in rows]
    if len(ids) != len(set(ids)):
        raise UnitsError(f"two units would get the same id: {sorted(ids)}")
    return rows


_FORMULA = ("=", "+", "-", "@")


def write_csv(rows: list[dict[str, str]], out) -> None:
    """The unit list as CSV. Its values come from the official lists, never from a file or
    the warehouse; still, a value a spreadsheet would run as a formula is refused."""
    for row in rows:
        for column, value in row.items():
            if value and value.startswith(_FORMULA):
                raise UnitsError(f"{row.get('org_unit_id')}: {column} starts like a formula: "
                                 f"{value!r}")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)


# --- check ----------------------------------------------------------------------------------


def check(org_units_csv: Path = SEEDS / "org_units.csv") -> list[str]:
    """Differences between a unit list and the official lists (empty: it agrees).

    Compared: every commune-level unit (and province) valid from the reform on — name and
    code against vietnam-provinces; every commune-level unit that ended with the reform —
    name and code against the list before it, and its successor against the converter."""
    with open(org_units_csv, encoding="utf-8", newline="") as fh:
        units = {u["org_unit_id"]: u for u in csv.DictReader(fh)}
    levels = unit_levels()
    last_day = (REFORM - timedelta(days=1)).isoformat()
    problems: list[str] = []
    for uid, unit in sorted(units.items()):
        level = levels.get(unit["unit_type"])
        if level is None or not unit["gso_code"]:
            continue
        if unit["valid_from"] >= REFORM.isoformat() and level.is_commune_level:
            official = new_unit(unit["gso_code"])
            if fold(official.name) != fold(unit["name"]):
                problems.append(f"{uid}: {unit['name']} ≠ {official.name} ({official.code})")
        elif unit["valid_from"] >= REFORM.isoformat() and level.rank == 1:
            official = new_province(unit["gso_code"])
            if fold(official.name) != fold(unit["name"]):
                problems.append(f"{uid}: {unit['name']} ≠ {official.name}")
        elif unit["valid_to"] == last_day and level.is_commune_level:
            parent = units.get(unit["parent_id"])
            if parent is None:
                continue
            province, district, wards = legacy_district(parent["gso_code"])
            official = next((w for w in wards if w.code == unit["gso_code"]), None)
            if official is None or fold(official.name) != fold(unit["name"]):
                problems.append(f"{uid}: {unit['name']} ({unit['gso_code']}) not in "
                                f"{district.name} before the reform")
                continue
            _, new = successor(province, district, official)
            heir = units.get(unit["successor_id"])
            if heir is None or heir["gso_code"] != new.code:
                problems.append(f"{uid}: successor {unit['successor_id']} but the official "
                                f"conversion says {new.name} ({new.code})")
    return problems


# --- command line ---------------------------------------------------------------------------


def _build(args: argparse.Namespace) -> int:
    try:
        rows = build(args.district_code, args.area, date.fromisoformat(args.since))
    except UnitsError as exc:
        print(f"ioc units build: {exc}", file=sys.stderr)
        return 2
    if args.out == "-":
        write_csv(rows, sys.stdout)
    else:
        with open(args.out, "w", encoding="utf-8", newline="") as fh:
            write_csv(rows, fh)
        print(f"{len(rows)} units → {args.out}")
    return 0


def _check(args: argparse.Namespace) -> int:
    try:
        problems = check(Path(args.org_units))
    except UnitsError as exc:
        print(f"ioc units check: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    print("agrees with the official lists" if not problems else f"{len(problems)} differences")
    return 1 if problems else 0


def register(sub) -> None:
    parser = sub.add_parser("units", help="an area's unit list from the official lists")
    units = parser.add_subparsers(dest="units_command", required=True)
    b = units.add_parser("build", help="write org_units.csv for the area of a former district")
    b.add_argument("--district-code", required=True,
                   help="official code of the former district (before 2025-07-01), e.g. 512")
    b.add_argument("--area", required=True,
                   help="name of the IOC's area after the reform, written with its level word "
                        "from unit_levels.csv")
    b.add_argument("--since", default="2000-01-01",
                   help="valid_from of the units before the reform (default 2000-01-01)")
    b.add_argument("--out", default="-", help="file to write (default: standard output)")
    b.set_defaults(func=_build)
    c = units.add_parser("check", help="compare a unit list with the official lists")
    c.add_argument("--org-units", default=str(SEEDS / "org_units.csv"))
    c.set_defaults(func=_check)
