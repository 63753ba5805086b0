"""The KPI catalogue: every headline KPI declared once, in `catalogue/kpis.yaml`.

A KPI is a ratio of two sums over one mart (or a plain sum, for counts): its numerator and
denominator are SQL expressions over the columns of that mart, summed over whatever rows a
chart or a roll-up selects. Everything that shows or computes a KPI is generated from here
or checked against it:

- dbt: `dbt_project/macros/kpi_catalogue.sql` (`ioc kpi build`), which the parts model
  `int_kpi__phan_so` loops over, and `mart_tong_quan.dim_chi_so` (names, sources, targets,
  ranking points);
- Superset: one metric per KPI on its mart's dataset and on `fct_kpi_thang`, and one tile per
  KPI on the overview (`ioc_superset.assets_builder`);
- docs: `docs/kpi-definitions.md`.

The YAML is typed: an unknown or misspelt key, a duplicate code, a ranking on a KPI where
lower is better, … fail when the catalogue loads, naming the file and the key.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ioc.settings import PROJECT_ROOT

CATALOGUE_FILE = PROJECT_ROOT / "catalogue" / "kpis.yaml"

CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# what a numerator or denominator may be: an SQL expression over one mart's columns, summed
# by whoever reads it — no aggregate, no subquery, no statement separator
FORBIDDEN_SQL = re.compile(r"(?i)\b(select|sum|avg|count|min|max|from|union)\b|;|--|/\*")
DATA_SOURCES = ("ho_so", "van_ban", "phan_anh", "bieu_mau")


class CatalogueError(ValueError):
    """The catalogue file is malformed; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    """A legal or official text a KPI is defined by."""

    title: str
    short: str  # how a table cell cites it, e.g. "QĐ 766/QĐ-TTg"


class Citation(_Strict):
    source: str  # a key of `sources`
    detail: str = ""  # group, article, form column


class Part(_Strict):
    sql: str  # an SQL expression over the KPI's mart, summed per selection
    words: str  # the same in words, for the docs

    @field_validator("sql")
    @classmethod
    def _summable(cls, value: str) -> str:
        if FORBIDDEN_SQL.search(value):
            raise ValueError(
                "an expression over one row of the mart, without aggregates, subqueries or "
                f"comments (whoever reads it sums it): {value!r}"
            )
        return " ".join(value.split())


class Ranking(_Strict):
    """766's point rule: points × min(1, value ÷ threshold)."""

    points: Decimal = Field(gt=0)
    threshold: Decimal = Field(gt=0)
    basis: Literal["theo_766", "tam_dat"]
    reference: str = ""  # the row of 766's scoring table, or why the data team chose it


class Example(_Strict):
    """A case worked by hand: the docs show it; `unit_test` names the dbt unit test that
    pins the same numbers."""

    text: str
    numerator: Decimal
    denominator: Decimal | None = None
    unit_test: str


class Tile(_Strict):
    title: str
    subtitle: str


class Kpi(_Strict):
    code: str
    name: str
    domain: str
    source: Citation
    data: Literal["ho_so", "van_ban", "phan_anh", "bieu_mau"]
    model: str  # the mart the parts are summed over (one row per view × unit × month × …)
    kind: Literal["rate", "ratio", "count"]
    population: str = ""  # what is counted, in words (rates of one population)
    numerator: Part
    denominator: Part | None = None
    scale: Decimal = Decimal(1)
    unit: str
    higher_is_better: bool
    format: str = ",.1f"
    target: Decimal | None = None  # default target when the seed kpi_targets has none
    ranking: Ranking | None = None
    coverage_form: str | None = None  # the report form whose units the value covers
    year_to_date: bool = False
    example: Example
    tile: Tile | None = None  # the overview's tile (none: shown on its domain dashboard only)
    notes: str = ""

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not CODE.match(value):
            raise ValueError(f"a code is lower case letters, digits and _: {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Kpi:
        if self.kind == "count":
            if self.denominator is not None or self.scale != 1:
                raise ValueError("a count has no denominator and scale 1")
        elif self.denominator is None:
            raise ValueError(f"a {self.kind} needs a denominator")
        if self.kind == "rate" and self.scale != 100:
            raise ValueError("a rate is a percentage (scale 100)")
        if self.ranking is not None and not self.higher_is_better:
            raise ValueError("only a KPI where higher is better can rank (points × value ÷ "
                             "threshold)")
        if self.ranking is not None and self.kind != "rate":
            raise ValueError("only rates rank")
        if (self.example.denominator is None) != (self.denominator is None):
            raise ValueError("the example has a denominator exactly when the KPI has one")
        if self.coverage_form and self.data != "bieu_mau":
            raise ValueError("coverage is counted for values built from report forms only")
        if self.data == "bieu_mau" and not self.coverage_form and self.domain != "bao_cao":
            raise ValueError("a value built from report forms names its coverage_form")
        return self

    @property
    def metric_sql(self) -> str:
        """The KPI over any selection of its mart's rows (Superset metric, sum/sum)."""
        if self.denominator is None:
            return f"SUM({self.numerator.sql})"
        return (f"{self.scale} * SUM({self.numerator.sql}) / "
                f"NULLIF(SUM({self.denominator.sql}), 0)")

    def value_of(self, numerator: Decimal, denominator: Decimal | None) -> Decimal | None:
        """The value as the marts compute it (2 decimals; no value over an empty population)."""
        if self.denominator is None:
            return numerator
        if not denominator:
            return None
        return (self.scale * numerator / denominator).quantize(Decimal("0.01"))


class Domain(_Strict):
    name: str  # Vietnamese, as dashboards title it
    order: int


def declared_twice(codes: list[str]) -> list[str]:
    """The codes that stand more than once in `codes`, sorted (the alert catalogue too)."""
    return sorted({c for c in codes if codes.count(c) > 1})


class Catalogue(_Strict):
    version: Literal[1]
    sources: dict[str, Source]
    domains: dict[str, Domain]
    kpis: list[Kpi]

    @model_validator(mode="after")
    def _references(self) -> Catalogue:
        twice = declared_twice([k.code for k in self.kpis])
        if twice:
            raise ValueError(f"KPI codes declared twice: {twice}")
        for kpi in self.kpis:
            if kpi.source.source not in self.sources:
                raise ValueError(f"{kpi.code}: unknown source {kpi.source.source!r}")
            if kpi.domain not in self.domains:
                raise ValueError(f"{kpi.code}: unknown domain {kpi.domain!r}")
        return self

    def kpi(self, code: str) -> Kpi:
        for kpi in self.kpis:
            if kpi.code == code:
                return kpi
        raise KeyError(code)

    def by_model(self, model: str) -> list[Kpi]:
        return [k for k in self.kpis if k.model == model]


M = TypeVar("M", bound=BaseModel)


def parse(text: str, name: str = "catalogue/kpis.yaml") -> Catalogue:
    return validate_yaml(text, name, Catalogue, CatalogueError)


def validate_yaml(text: str, name: str, model: type[M], error: type[Exception]) -> M:
    """A YAML file (a catalogue, the report schedule, the recipients file) read into its
    typed model; every problem raised as one `error` whose lines name the file and the place
    (list items by their `code`, else their position). What users read is Vietnamese."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise error(f"{name}: không phải YAML hợp lệ: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = _path(data, err["loc"])
            lines.append(f"{name}: {where}: {err['msg']}")
        raise error("\n".join(lines)) from None


def _path(data: object, loc: tuple) -> str:
    """`kpis[3].numerator.sqll` → `kpis[hcc_dung_han].numerator.sqll` (items by code)."""
    parts = []
    node = data
    for key in loc:
        if isinstance(key, int) and isinstance(node, list):
            item = node[key] if key < len(node) else None
            code = item.get("code") if isinstance(item, dict) else None
            parts.append(f"[{code or key}]")
            node = item
        elif isinstance(node, dict) and key in node:
            parts.append(f".{key}")
            node = node[key]
        elif isinstance(node, dict) and node.get("kind") == key:
            continue  # the discriminator pydantic inserts into the location
        else:
            parts.append(f".{key}")
            node = None
    return "".join(parts).lstrip(".")


@cache
def load(path: Path = CATALOGUE_FILE) -> Catalogue:
    return parse(path.read_text(encoding="utf-8"), path.relative_to(PROJECT_ROOT).as_posix()
                 if path.is_relative_to(PROJECT_ROOT) else str(path))
