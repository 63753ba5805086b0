"""The units of the demo world: who reports, who handles dossiers, and what their territory is like.

`district` is Hiệp Đức as `dbt_project/seeds/org_units.csv` describes it. `province` and
`national` are synthetic: provinces named `Tỉnh Mô Phỏng NN`, ids starting with `sim-`, api
codes starting with `S`, and a note saying so on every row of the `org_units.csv` written
beside them. A unit's statistics come from its *areas*: pieces of territory that evolve
continuously, so that a commune formed by a merger (Quế Tân = Hiệp Hòa + Hiệp Thuận) carries
on the figures of its predecessors.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ioc.demo.rng import rnd
from ioc.settings import PROJECT_ROOT

SEED_ORG_UNITS = PROJECT_ROOT / "dbt_project" / "seeds" / "org_units.csv"
ORG_UNIT_COLUMNS = [
    "org_unit_id", "name", "unit_type", "parent_id", "gso_code", "api_code",
    "valid_from", "valid_to", "successor_id", "note",
]
AGENCY_KEYS = [
    "vp-ubnd", "phong-tu-phap", "phong-tnmt", "phong-ldtbxh", "phong-gddt", "phong-y-te",
    "phong-kt-ht", "phong-noi-vu", "phong-tckh", "phong-vhtt", "chi-nhanh-vpdk",
]
AGENCY_NAMES = {
    "vp-ubnd": ("Văn phòng HĐND và UBND huyện", "VP"),
    "phong-tu-phap": ("Phòng Tư pháp", "TP"),
    "phong-tnmt": ("Phòng Tài nguyên và Môi trường", "TNMT"),
    "phong-ldtbxh": ("Phòng Lao động - Thương binh và Xã hội", "LDTBXH"),
    "phong-gddt": ("Phòng Giáo dục và Đào tạo", "GDDT"),
    "phong-y-te": ("Phòng Y tế", "YT"),
    "phong-kt-ht": ("Phòng Kinh tế và Hạ tầng", "KTHT"),
    "phong-noi-vu": ("Phòng Nội vụ", "NV"),
    "phong-tckh": ("Phòng Tài chính - Kế hoạch", "TCKH"),
    "phong-vhtt": ("Phòng Văn hóa và Thông tin", "VHTT"),
    "chi-nhanh-vpdk": ("Chi nhánh Văn phòng đăng ký đất đai", "VPDK"),
}
SPAN_LIMIT = (date(2020, 2, 1), date(2025, 6, 30))
"""Every unit of the demo world is valid inside these dates (district abolished 2025-07-01)."""


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
        return self.unit_type in ("xa", "thi_tran")

    @property
    def short_name(self) -> str:
        for prefix in ("Thị trấn ", "Xã ", "Phường "):
            if self.name.startswith(prefix):
                return self.name[len(prefix):]
        return self.name

    @property
    def kind_word(self) -> str:
        return {"thi_tran": "thị trấn", "xa": "xã"}.get(self.unit_type, "")

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
    """One district: the unit of work (one process generates one district at a time)."""

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
    """Plants every defect kind at least once (Hiệp Đức; the first district of a synthetic
    province), so that short spans of big worlds are not mostly defects."""

    def active_communes(self, first: date, last: date) -> list[Unit]:
        return [u for u in self.communes if u.valid_between(first, last)]

    def population(self) -> int:
        return sum(a.population for a in self.areas.values())


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


# Hiệp Đức's communes: population, upland, town, minority share, poor and near-poor rates,
# new-rural criteria met, annual-crop hectares, forest planting. Illustrative, not official.
HIEP_DUC_AREAS = {
    "tt-tan-binh": (9800, False, True, 0.01, 0.04, 0.03, 17, 420, False),
    "xa-hiep-hoa": (4600, False, False, 0.01, 0.09, 0.06, 16, 610, False),
    "xa-hiep-thuan": (5120, False, False, 0.01, 0.14, 0.07, 15, 820, True),
    "xa-que-tho": (8900, False, False, 0.005, 0.05, 0.04, 19, 900, False),
    "xa-binh-lam": (8200, False, False, 0.01, 0.07, 0.05, 18, 860, False),
    "xa-song-tra": (3400, True, False, 0.85, 0.38, 0.12, 11, 260, True),
    "xa-phuoc-tra": (2800, True, False, 0.92, 0.45, 0.12, 9, 180, True),
    "xa-phuoc-gia": (2400, True, False, 0.90, 0.42, 0.13, 10, 170, True),
    "xa-que-luu": (5100, False, False, 0.02, 0.10, 0.06, 16, 700, True),
    "xa-thang-phuoc": (3900, False, False, 0.08, 0.18, 0.08, 14, 480, True),
    "xa-binh-son": (3100, True, False, 0.70, 0.33, 0.11, 12, 240, True),
}


def district_world(seed: int) -> World:
    """Hiệp Đức from the project's seed file, with the demo parameters of its communes."""
    units = load_seed_units()
    by_id = {u.org_unit_id: u for u in units}
    huyen = by_id["huyen-hiep-duc"]
    communes = [u for u in units if u.is_commune and u.parent_id == huyen.org_unit_id]
    agencies = {u.org_unit_id: u for u in units if u.unit_type == "co_quan"}
    areas = {aid: Area(aid, *params) for aid, params in HIEP_DUC_AREAS.items()}
    commune_areas = {
        "tt-tan-binh": ("tt-tan-binh",),
        "xa-que-tan": ("xa-hiep-hoa", "xa-hiep-thuan"),
        # Abolished in 2020: they only appear as stray files in old folders.
        "tt-tan-an": ("tt-tan-binh",),
        "xa-que-binh": ("tt-tan-binh",),
    }
    for u in communes:
        commune_areas.setdefault(u.org_unit_id, (u.org_unit_id,))
    segment = {}
    for u in communes:
        g = u.gso_code or "20790"
        segment[u.org_unit_id] = f"000.{g[:2]}.{g[-2:]}.H49"
    for k, key in enumerate(AGENCY_KEYS):
        segment[key] = f"000.00.{k + 1:02d}.H49"
    d = District(
        index=0, code=huyen.api_code, synthetic=False, unit=huyen,
        province=by_id[huyen.parent_id], communes=communes, agencies=agencies, areas=areas,
        commune_areas=commune_areas, id_segment=segment,
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
    return pairs[:n]


def synthetic_world(scale: str, seed: int) -> World:
    """A synthetic province (18 districts, ~240 communes) or country (~3,300 communes)."""
    if scale == "province":
        n_provinces, district_counts = 1, [18]
    elif scale == "national":
        r = rnd(seed, "national-shape")
        n_provinces = 34
        district_counts = [r.choice([6, 7, 7, 8, 8, 8, 9]) for _ in range(n_provinces)]
    else:
        raise ValueError(f"unknown scale {scale!r}")
    start, end = SPAN_LIMIT
    merge_day, last_before = date(2025, 1, 1), date(2024, 12, 31)
    units: list[Unit] = []
    districts: list[District] = []
    for p in range(1, n_provinces + 1):
        pcode = f"S{p:02d}"
        province = Unit(
            f"sim-tinh-{p:02d}", f"Tỉnh Mô Phỏng {p:02d}", "tinh", "", "", pcode, start, end,
            "", SYNTHETIC_NOTE,
        )
        units.append(province)
        n_districts = district_counts[p - 1]
        sizes = [rnd(seed, "district-size", p, d).randint(10, 16)
                 for d in range(1, n_districts + 1)]
        names = _names(seed, f"p{p}", n_districts + sum(sizes) + n_districts)
        name_iter = iter(names)
        for d in range(1, n_districts + 1):
            r = rnd(seed, "district", p, d)
            dcode = f"S{p:02d}{d:02d}"
            huyen = Unit(
                f"sim-huyen-{p:02d}-{d:02d}", f"Huyện {next(name_iter)}", "huyen",
                province.org_unit_id, "", dcode, start, end, "", SYNTHETIC_NOTE,
            )
            communes, areas, commune_areas, segment = [], {}, {}, {}
            n_comm = sizes[d - 1]
            merge = r.random() < 0.35 and n_comm >= 4
            merged_pair = sorted(r.sample(range(2, n_comm + 1), 2)) if merge else []
            successor_id = f"sim-xa-{p:02d}-{d:02d}-{n_comm + 1:02d}" if merge else ""
            for c in range(1, n_comm + 1):
                town = c == 1
                uid = f"sim-{'tt' if town else 'xa'}-{p:02d}-{d:02d}-{c:02d}"
                nm = next(name_iter)
                in_merge = c in merged_pair
                u = Unit(
                    uid, f"{'Thị trấn' if town else 'Xã'} {nm}", "thi_tran" if town else "xa",
                    huyen.org_unit_id, "", f"S{p:02d}{d:02d}{c:02d}", start,
                    last_before if in_merge else end, successor_id if in_merge else "",
                    SYNTHETIC_NOTE,
                )
                communes.append(u)
                commune_areas[uid] = (uid,)
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
                u = Unit(
                    successor_id, f"Xã {nm}", "xa", huyen.org_unit_id, "",
                    f"S{p:02d}{d:02d}{n_comm + 1:02d}", merge_day, end, "",
                    f"{SYNTHETIC_NOTE}; merged from {a.org_unit_id} and {b.org_unit_id}",
                )
                communes.append(u)
                commune_areas[successor_id] = (a.org_unit_id, b.org_unit_id)
                segment[successor_id] = f"000.{d:02d}.{n_comm + 1:02d}.{pcode}"
            agencies = {}
            for k, key in enumerate(AGENCY_KEYS):
                aname, acode = AGENCY_NAMES[key]
                aid = f"sim-{key}-{p:02d}-{d:02d}"
                agencies[key] = Unit(
                    aid, aname, "co_quan", huyen.org_unit_id, "", f"{dcode}.{acode}", start, end,
                    "", SYNTHETIC_NOTE + ("; submits form GD-01" if key == "phong-gddt" else ""),
                )
                segment[key] = f"000.{d:02d}.{80 + k:02d}.{pcode}"
            units.append(huyen)
            units.extend(communes)
            units.extend(agencies.values())
            districts.append(District(
                index=len(districts), code=dcode, synthetic=True, unit=huyen, province=province,
                communes=communes, agencies=agencies, areas=areas, commune_areas=commune_areas,
                id_segment=segment, showcase=d == 1,
            ))
    return World(scale, seed, districts, units)


def build_world(scale: str, seed: int) -> World:
    if scale == "district":
        return district_world(seed)
    return synthetic_world(scale, seed)


def agency_of(district: District, key: str) -> Unit:
    """A district agency by its key (`phong-gddt`, ...), for real and synthetic districts."""
    if key in district.agencies:
        return district.agencies[key]
    for u in district.agencies.values():
        if u.org_unit_id.startswith(f"sim-{key}-") or u.org_unit_id == key:
            return u
    raise KeyError(key)
