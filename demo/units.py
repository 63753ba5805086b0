"""The units of the demo world: who reports, who handles dossiers, and what their territory is like.

`district` is the territory `dbt_project/seeds/org_units.csv` describes, with the demo's
parameters of its communes in `demo/areas.csv`: the district, its communes and agencies
until the 2025 reform, then the area (khu vực) that took its place and the communes formed on
2025-07-01. No unit is named in this code: the district is the parent of the communes listed in
`areas.csv`, the area is its successor, and who merged into whom is the seed's `successor_id`.

`province`, `city` and `national` are synthetic: provinces named `Tỉnh Mô Phỏng NN` (the city:
`Thành phố Mô Phỏng 01`, a province-level city), ids starting with
`sim-`, api codes starting with `S`, and a note saying so on every row of the `org_units.csv`
written beside them. They go through the same reforms: about a third of the districts merge two
communes on 2025-01-01, and on 2025-07-01 every district becomes an area whose communes merge
about three into one (the new commune keeps the code of one of them, as in the real reform).

A unit's statistics come from its *areas*: pieces of territory that evolve continuously, so
that a commune formed by a merger carries on the figures of its predecessors.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path

from demo.rng import rnd
from ioc.settings import PROJECT_ROOT

SEED_ORG_UNITS = PROJECT_ROOT / "dbt_project" / "seeds" / "org_units.csv"
AREA_PARAMETERS = Path(__file__).with_name("areas.csv")
ORG_UNIT_COLUMNS = [
    "org_unit_id", "name", "unit_type", "parent_id", "gso_code", "api_code",
    "valid_from", "valid_to", "successor_id", "note",
]
# The level codes of the reference data (`unit_type`) the demo needs to tell units apart.
PROVINCE, DISTRICT, AREA, COMMUNE, TOWNLET, AGENCY = (
    "tinh", "huyen", "khu_vuc", "xa", "thi_tran", "co_quan")
COMMUNE_TYPES = (COMMUNE, TOWNLET)
AGENCY_CATALOGUE = Path(__file__).with_name("agencies.csv")


@dataclass(frozen=True)
class AgencyRole:
    """A district agency's role (the last part of its api code, `512.GDDT` → `GDDT`): the name
    of synthetic agencies, the symbol on its outgoing documents, its monthly dossiers per
    60,000 inhabitants of the district, documents in and out per month (for 60,000), the form
    it submits."""

    role: str
    name: str
    document_symbol: str
    dossiers_per_60k: float
    documents_in: float
    documents_out: float
    submits: str


def load_agency_roles(path: Path = AGENCY_CATALOGUE) -> dict[str, AgencyRole]:
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["role"]: AgencyRole(r["role"], r["name"], r["document_symbol"],
                                      float(r["dossiers_per_60k"]), float(r["documents_in"]),
                                      float(r["documents_out"]), r["submits"])
                for r in csv.DictReader(fh)}


AGENCY_ROLES = load_agency_roles()
SCHOOLS_ROLE = next(r.role for r in AGENCY_ROLES.values() if r.submits == "GD-01")
MERGER_2025 = date(2025, 1, 1)
REFORM = date(2025, 7, 1)
"""Two-level local government: districts abolished, communes merged (Resolution 202/2025/QH15)."""
SYNTHETIC_START = date(2020, 2, 1)


@dataclass(frozen=True)
class Unit:
    org_unit_id: str
    name: str
    unit_type: str
    parent_id: str
    gso_code: str
    api_code: str
    valid_from: date
    valid_to: date | None
    successor_id: str
    note: str

    @property
    def is_commune(self) -> bool:
        return self.unit_type in COMMUNE_TYPES

    @property
    def short_name(self) -> str:
        for prefix in ("Thị trấn ", "Xã ", "Phường ", "Huyện ", "Khu vực ", "Tỉnh ",
                       "Thành phố "):
            if self.name.startswith(prefix):
                return self.name[len(prefix):]
        return self.name

    @property
    def kind_word(self) -> str:
        return {TOWNLET: "thị trấn", COMMUNE: "xã"}.get(self.unit_type, "")

    @property
    def role(self) -> str:
        """An agency's role: the last part of its api code (`512.GDDT` → `GDDT`)."""
        return self.api_code.rsplit(".", 1)[-1] if self.unit_type == AGENCY else ""

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or self.valid_to >= day)

    def valid_between(self, first: date, last: date) -> bool:
        return self.valid_from <= last and (self.valid_to is None or self.valid_to >= first)

    def row(self) -> dict[str, str]:
        return {
            "org_unit_id": self.org_unit_id, "name": self.name, "unit_type": self.unit_type,
            "parent_id": self.parent_id, "gso_code": self.gso_code, "api_code": self.api_code,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else "",
            "successor_id": self.successor_id, "note": self.note,
        }


@dataclass(frozen=True)
class Area:
    """A piece of territory with the parameters its statistics are drawn around."""

    area_id: str
    population: int
    upland: bool
    town: bool
    minority: float
    poor_rate: float
    near_poor_rate: float
    ntm: int
    crop_ha: float
    forest: bool


@dataclass
class District:
    """One district's territory: the unit of work (one process generates one at a time).

    Before the 2025 reform it is the district `unit` with its `agencies`; from then on the
    area `area_unit` (khu vực) that replaced it, whose communes answer to `city`."""

    index: int
    code: str
    synthetic: bool
    unit: Unit
    province: Unit
    communes: list[Unit]
    agencies: dict[str, Unit]
    areas: dict[str, Area]
    commune_areas: dict[str, tuple[str, ...]]
    id_segment: dict[str, str] = field(default_factory=dict)
    showcase: bool = True
    """Plants every defect kind at least once (the real district; the first district of a
    synthetic province), so that short spans of big worlds are not mostly defects."""
    area_unit: Unit | None = None
    city: Unit | None = None
    predecessors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Commune id → the communes merged into it (in the seed's order)."""

    def active_communes(self, first: date, last: date) -> list[Unit]:
        return [u for u in self.communes if u.valid_between(first, last)]

    def population(self) -> int:
        return sum(a.population for a in self.areas.values())

    def commune_population(self, unit: Unit) -> int:
        return sum(self.areas[a].population for a in self.commune_areas[unit.org_unit_id])

    def upland(self, unit: Unit) -> bool:
        return any(self.areas[a].upland for a in self.commune_areas.get(unit.org_unit_id, ()))

    @cached_property
    def by_id(self) -> dict[str, Unit]:
        return {u.org_unit_id: u for u in [*self.communes, *self.agencies.values()]}

    def province_on(self, day: date) -> Unit:
        """The province-level unit the territory belongs to on `day` (the city after 2025)."""
        if self.city is not None and self.city.valid_on(day):
            return self.city
        return self.province

    def successor(self, unit: Unit) -> Unit | None:
        return self.by_id.get(unit.successor_id)

    def devolved(self, unit: Unit) -> bool:
        """A commune of the two-level government: the district is gone while it exists, so it
        receives the dossiers and documents district agencies handled before."""
        return unit.is_commune and self.unit.valid_to is not None and \
            unit.valid_from > self.unit.valid_to

    def school_submitters(self, first_day: date) -> list[Unit]:
        """Who sends GD-01 for a semester starting on `first_day`: the district's education
        office while it exists, else every commune for the schools in its area."""
        office = self.agencies.get(SCHOOLS_ROLE)
        if office is not None and office.valid_on(first_day):
            return [office]
        return [u for u in self.communes if u.valid_on(first_day)]


@dataclass
class World:
    scale: str
    seed: int
    districts: list[District]
    units: list[Unit]

    def unit(self, org_unit_id: str) -> Unit:
        for u in self.units:
            if u.org_unit_id == org_unit_id:
                return u
        raise KeyError(org_unit_id)

    def write_org_units(self, path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=ORG_UNIT_COLUMNS, lineterminator="\n")
            w.writeheader()
            for u in self.units:
                w.writerow(u.row())


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def load_seed_units(path: Path = SEED_ORG_UNITS) -> list[Unit]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    return [
        Unit(
            r["org_unit_id"], r["name"], r["unit_type"], r["parent_id"], r["gso_code"],
            r["api_code"], _date(r["valid_from"]) or date(1900, 1, 1), _date(r["valid_to"]),
            r["successor_id"], r["note"],
        )
        for r in rows
    ]


def load_area_parameters(path: Path = AREA_PARAMETERS) -> dict[str, Area]:
    """The demo's parameters of the seed's communes: population, upland, town, minority share,
    poor and near-poor rates, new-rural criteria met, annual-crop hectares, forest planting.
    Illustrative, not official."""
    with path.open(encoding="utf-8", newline="") as fh:
        return {
            r["org_unit_id"]: Area(
                r["org_unit_id"], int(r["population"]), r["upland"] == "yes",
                r["town"] == "yes", float(r["minority"]), float(r["poor_rate"]),
                float(r["near_poor_rate"]), int(r["ntm"]), float(r["crop_ha"]),
                r["forest"] == "yes",
            )
            for r in csv.DictReader(fh)
        }


def area_chains(communes: list[Unit], leaves: set[str]) -> dict[str, tuple[str, ...]]:
    """Which areas each commune is made of, from the successor chain: a commune with its own
    parameters is one area; a commune formed by mergers is the areas of the communes merged
    into it; a commune abolished before the areas' history (merged into a leaf) is its
    successor's area."""
    ids = {u.org_unit_id for u in communes}
    preds: dict[str, list[str]] = {}
    for u in communes:
        if u.successor_id in ids:
            preds.setdefault(u.successor_id, []).append(u.org_unit_id)
    by_id = {u.org_unit_id: u for u in communes}
    out: dict[str, tuple[str, ...]] = {}

    def up(uid: str) -> tuple[str, ...]:
        if uid in leaves:
            return (uid,)
        if uid in preds:
            return tuple(a for p in preds[uid] for a in down(p))
        nxt = by_id[uid].successor_id
        return up(nxt) if nxt in ids else ()

    def down(uid: str) -> tuple[str, ...]:
        if uid in leaves:
            return (uid,)
        return tuple(a for p in preds.get(uid, []) for a in down(p))

    for u in communes:
        out[u.org_unit_id] = up(u.org_unit_id)
    return out


def _predecessors(communes: list[Unit]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for u in communes:
        if u.successor_id:
            out.setdefault(u.successor_id, []).append(u.org_unit_id)
    return {k: tuple(v) for k, v in out.items()}


def _segment_prefix(province: Unit) -> str:
    return f"H{province.api_code}" if province.api_code.isdigit() else province.api_code


def district_world(seed: int) -> World:
    """The seed file's district with the demo parameters of its communes, across both reforms."""
    units = load_seed_units()
    by_id = {u.org_unit_id: u for u in units}
    areas = load_area_parameters()
    parents = {by_id[a].parent_id for a in areas}
    if len(parents) != 1:
        raise ValueError(f"{AREA_PARAMETERS.name}: the communes must share one district")
    huyen = by_id[parents.pop()]
    area_unit = by_id.get(huyen.successor_id)
    parent_ids = {huyen.org_unit_id} | ({area_unit.org_unit_id} if area_unit else set())
    communes = [u for u in units if u.is_commune and u.parent_id in parent_ids]
    agencies = {u.role: u for u in units
                if u.unit_type == AGENCY and u.parent_id == huyen.org_unit_id}
    province = by_id[huyen.parent_id]
    city = by_id.get(area_unit.parent_id) if area_unit else None
    commune_areas = area_chains(communes, set(areas))
    segment = {}
    for u in communes:
        g = u.gso_code or "20790"
        owner = city if city is not None and u.valid_from >= REFORM else province
        segment[u.org_unit_id] = f"000.{g[:2]}.{g[-2:]}.{_segment_prefix(owner)}"
    for k, unit in enumerate(agencies.values()):
        segment[unit.org_unit_id] = f"000.00.{k + 1:02d}.{_segment_prefix(province)}"
    d = District(
        index=0, code=huyen.api_code, synthetic=False, unit=huyen, province=province,
        communes=communes, agencies=agencies, areas=areas, commune_areas=commune_areas,
        id_segment=segment, area_unit=area_unit, city=city,
        predecessors=_predecessors(communes),
    )
    return World("district", seed, [d], units)


SYLLABLES = [
    "An", "Bình", "Phú", "Tân", "Hòa", "Thạnh", "Đông", "Tây", "Sơn", "Lộc", "Phước", "Hưng",
    "Long", "Thuận", "Mỹ", "Trung", "Hiệp", "Quế", "Thăng", "Đại", "Hương", "Cẩm", "Tam",
    "Duy", "Xuân", "Thanh", "Hải", "Vĩnh", "Nghĩa", "Đức", "Kim", "Lâm", "Minh", "Ninh",
    "Phong", "Quang", "Thịnh", "Tiên", "Trà", "Yên",
]
SYNTHETIC_NOTE = "synthetic (demo data), not a real unit"


def _names(seed: int, label: str, n: int) -> list[str]:
    r = rnd(seed, "names", label)
    pairs = [f"{a} {b}" for a in SYLLABLES for b in SYLLABLES if a != b]
    r.shuffle(pairs)
    if n > len(pairs):
        raise ValueError(f"{n} names asked, {len(pairs)} available")
    return pairs[:n]


def _groups(n: int, r) -> list[int]:
    """Sizes of the new communes of the 2025 reform: about three old communes each."""
    k = max(1, round(n / 3.0))
    sizes = [n // k] * k
    for i in range(n - sum(sizes)):
        sizes[i] += 1
    r.shuffle(sizes)
    return sizes


# A centrally-run city of the reform's size (Đà Nẵng after 2025-07-01: 94 communes and wards)
CITY_DISTRICTS = 23


def synthetic_world(scale: str, seed: int) -> World:
    """A synthetic province (18 districts, ~240 communes before the reform, ~75 after), city
    (a province-level city of 23 districts, ~300 communes before the reform, ~95 after: the
    size of today's Đà Nẵng) or country (34 provinces, ~700 districts, ~10,000 communes before
    the reform, ~3,300 after: the country's shape on each side of 2025-07-01)."""
    if scale == "province":
        n_provinces, district_counts = 1, [18]
    elif scale == "city":
        n_provinces, district_counts = 1, [CITY_DISTRICTS]
    elif scale == "national":
        r = rnd(seed, "national-shape")
        n_provinces = 34
        district_counts = [r.choice([18, 20, 21, 22, 24, 26]) for _ in range(n_provinces)]
    else:
        raise ValueError(f"unknown scale {scale!r}")
    start = SYNTHETIC_START
    last_before, reform_eve = MERGER_2025 - timedelta(days=1), REFORM - timedelta(days=1)
    units: list[Unit] = []
    districts: list[District] = []
    for p in range(1, n_provinces + 1):
        pcode = f"S{p:02d}"
        province = Unit(
            f"sim-tinh-{p:02d}",
            f"{'Thành phố' if scale == 'city' else 'Tỉnh'} Mô Phỏng {p:02d}", PROVINCE, "", "",
            pcode, start, None,
            "", SYNTHETIC_NOTE,
        )
        units.append(province)
        n_districts = district_counts[p - 1]
        sizes = [rnd(seed, "district-size", p, d).randint(10, 16)
                 for d in range(1, n_districts + 1)]
        names = _names(seed, f"p{p}", 2 * n_districts + sum(sizes) + n_districts
                       + sum(s // 2 + 1 for s in sizes))
        name_iter = iter(names)
        for d in range(1, n_districts + 1):
            r = rnd(seed, "district", p, d)
            dcode = f"S{p:02d}{d:02d}"
            dname = next(name_iter)
            area_id = f"sim-kv-{p:02d}-{d:02d}"
            huyen = Unit(
                f"sim-huyen-{p:02d}-{d:02d}", f"Huyện {dname}", DISTRICT,
                province.org_unit_id, "", dcode, start, reform_eve, area_id,
                f"{SYNTHETIC_NOTE}; abolished on {REFORM} (two-level local government)",
            )
            area_unit = Unit(
                area_id, f"Khu vực {dname}", AREA, province.org_unit_id, "", "", REFORM, None,
                "", f"{SYNTHETIC_NOTE}; the former district's territory after {REFORM}",
            )
            communes, areas, segment = [], {}, {}
            n_comm = sizes[d - 1]
            merge = r.random() < 0.35 and n_comm >= 4
            merged_pair = sorted(r.sample(range(2, n_comm + 1), 2)) if merge else []
            pair_successor = f"sim-xa-{p:02d}-{d:02d}-{n_comm + 1:02d}" if merge else ""
            for c in range(1, n_comm + 1):
                town = c == 1
                uid = f"sim-{'tt' if town else 'xa'}-{p:02d}-{d:02d}-{c:02d}"
                nm = next(name_iter)
                in_merge = c in merged_pair
                u = Unit(
                    uid, f"{'Thị trấn' if town else 'Xã'} {nm}", TOWNLET if town else COMMUNE,
                    huyen.org_unit_id, "", f"S{p:02d}{d:02d}{c:02d}", start,
                    last_before if in_merge else reform_eve, pair_successor if in_merge else "",
                    SYNTHETIC_NOTE,
                )
                communes.append(u)
                segment[uid] = f"000.{d:02d}.{c:02d}.{pcode}"
                ra = rnd(seed, "area", uid)
                upland = (not town) and ra.random() < 0.3
                pop = int(ra.uniform(8000, 15000) if town else (
                    ra.uniform(2000, 5000) if upland else ra.uniform(3500, 11000)))
                areas[uid] = Area(
                    uid, pop, upland, town,
                    ra.uniform(0.6, 0.95) if upland else ra.uniform(0.0, 0.05),
                    ra.uniform(0.28, 0.48) if upland else ra.uniform(0.03, 0.15),
                    ra.uniform(0.09, 0.14) if upland else ra.uniform(0.03, 0.08),
                    ra.randint(8, 13) if upland else ra.randint(14, 19),
                    ra.uniform(150, 320) if upland else ra.uniform(350, 950),
                    upland or ra.random() < 0.4,
                )
            if merge:
                a, b = (communes[i - 1] for i in merged_pair)
                nm = next(name_iter)
                # The merged commune takes the code of the first of the two (codes are reused).
                communes.append(Unit(
                    pair_successor, f"Xã {nm}", COMMUNE, huyen.org_unit_id, "", a.api_code,
                    MERGER_2025, reform_eve, "",
                    f"{SYNTHETIC_NOTE}; merged from {a.org_unit_id} and {b.org_unit_id}",
                ))
                segment[pair_successor] = f"000.{d:02d}.{n_comm + 1:02d}.{pcode}"
            # 2025-07-01: the communes of the day before merge about three into one.
            eve = [u for u in communes if u.valid_on(reform_eve)]
            rr = rnd(seed, "reform", p, d)
            order = list(eve)
            rr.shuffle(order)
            sizes_new = _groups(len(order), rr)
            olds: list[Unit] = []
            news: list[Unit] = []
            at = 0
            for k, size in enumerate(sizes_new, start=1):
                group = order[at: at + size]
                at += size
                nid = f"sim-xa-{p:02d}-{d:02d}-m{k:02d}"
                keeper = min(group, key=lambda u: u.org_unit_id)
                news.append(Unit(
                    nid, f"Xã {next(name_iter)}", COMMUNE, area_id, "", keeper.api_code, REFORM,
                    None, "", f"{SYNTHETIC_NOTE}; formed on {REFORM} from "
                    + " + ".join(u.org_unit_id for u in group)
                    + f"; kept {keeper.org_unit_id}'s code",
                ))
                segment[nid] = f"000.{d:02d}.{50 + k:02d}.{pcode}"
                for u in group:
                    olds.append(_with(u, successor_id=nid))
            moved = {u.org_unit_id: u for u in olds}
            communes = [moved.get(u.org_unit_id, u) for u in communes] + news
            agencies = {}
            for k, (role, spec) in enumerate(AGENCY_ROLES.items()):
                aid = f"sim-{role.lower()}-{p:02d}-{d:02d}"
                agencies[role] = Unit(
                    aid, spec.name, AGENCY, huyen.org_unit_id, "", f"{dcode}.{role}", start,
                    reform_eve, area_id,
                    SYNTHETIC_NOTE + ("; submits form GD-01" if role == SCHOOLS_ROLE else ""),
                )
                segment[aid] = f"000.{d:02d}.{80 + k:02d}.{pcode}"
            units.append(huyen)
            units.append(area_unit)
            units.extend(communes)
            units.extend(agencies.values())
            districts.append(District(
                index=len(districts), code=dcode, synthetic=True, unit=huyen, province=province,
                communes=communes, agencies=agencies, areas=areas,
                commune_areas=area_chains(communes, set(areas)), id_segment=segment,
                showcase=d == 1, area_unit=area_unit, city=None,
                predecessors=_predecessors(communes),
            ))
    return World(scale, seed, districts, units)


def _with(u: Unit, **changes) -> Unit:
    return Unit(**{**vars(u), **changes})


def build_world(scale: str, seed: int) -> World:
    if scale == "district":
        return district_world(seed)
    return synthetic_world(scale, seed)


def agency_of(district: District, role: str) -> Unit:
    """A district agency by its role (`GDDT`, ...), for real and synthetic districts."""
    return district.agencies[role]
