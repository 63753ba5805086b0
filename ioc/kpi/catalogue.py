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
                "một biểu thức trên một dòng của mart, không hàm gộp (aggregate), truy vấn con "
                f"hay chú thích (nơi đọc nó tự cộng lại): {value!r}"
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
            raise ValueError(f"mã chỉ gồm chữ thường, chữ số và _: {value!r}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Kpi:
        if self.kind == "count":
            if self.denominator is not None or self.scale != 1:
                raise ValueError("một số đếm (count) không có mẫu số và có scale 1")
        elif self.denominator is None:
            raise ValueError(f"một chỉ số loại {self.kind} cần mẫu số (denominator)")
        if self.kind == "rate" and self.scale != 100:
            raise ValueError("một tỷ lệ (rate) là phần trăm (scale 100)")
        if self.ranking is not None and not self.higher_is_better:
            raise ValueError("chỉ chỉ số càng cao càng tốt mới được xếp hạng (điểm × giá trị "
                             "÷ ngưỡng)")
        if self.ranking is not None and self.kind != "rate":
            raise ValueError("chỉ tỷ lệ (rate) mới được xếp hạng")
        if (self.example.denominator is None) != (self.denominator is None):
            raise ValueError("ví dụ (example) có mẫu số khi và chỉ khi chỉ số có mẫu số")
        if self.coverage_form and self.data != "bieu_mau":
            raise ValueError("coverage_form chỉ dùng cho giá trị lấy từ biểu mẫu báo cáo")
        if self.data == "bieu_mau" and not self.coverage_form and self.domain != "bao_cao":
            raise ValueError("giá trị lấy từ biểu mẫu báo cáo phải nêu coverage_form")
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
            raise ValueError(f"mã chỉ số khai báo hai lần: {twice}")
        for kpi in self.kpis:
            if kpi.source.source not in self.sources:
                raise ValueError(
                    f"{kpi.code}: nguồn không có trong sources: {kpi.source.source!r}")
            if kpi.domain not in self.domains:
                raise ValueError(
                    f"{kpi.code}: lĩnh vực không có trong domains: {kpi.domain!r}")
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
            lines.append(f"{name}: {where}: {_message(err)}")
        raise error("\n".join(lines)) from None


# pydantic's messages of the mistakes people make in these files, said in Vietnamese (any
# other keeps pydantic's English text); `{…}` are the error's context
PYDANTIC_VI = {
    "extra_forbidden": "khóa không có trong lược đồ (viết sai tên?)",
    "missing": "thiếu (bắt buộc)",
    "literal_error": "phải là {expected}",
    "union_tag_invalid": "loại {tag} không có; chỉ có {expected_tags}",
    "union_tag_not_found": "thiếu khóa {discriminator}",
    "string_type": "phải là chuỗi",
    "int_type": "phải là số nguyên",
    "int_parsing": "phải là số nguyên",
    "decimal_parsing": "phải là số",
    "decimal_type": "phải là số",
    "float_parsing": "phải là số",
    "bool_type": "phải là true hoặc false",
    "bool_parsing": "phải là true hoặc false",
    "list_type": "phải là danh sách",
    "dict_type": "phải là một bảng (mapping)",
    "model_type": "phải là một bảng (mapping)",
    "model_attributes_type": "phải là một bảng (mapping)",
    "too_short": "cần ít nhất {min_length} phần tử",
    "greater_than": "phải lớn hơn {gt}",
    "greater_than_equal": "phải từ {ge} trở lên",
}


def _message(err: dict) -> str:
    """One pydantic error as users read it: our validators' own text (already Vietnamese),
    or pydantic's in Vietnamese."""
    if err["type"] in ("value_error", "assertion_error"):
        return str(err["ctx"]["error"]) if "error" in err.get("ctx", {}) else err["msg"]
    template = PYDANTIC_VI.get(err["type"])
    if template is None:
        return err["msg"]
    try:
        return template.format(**err.get("ctx", {}))
    except KeyError:
        return err["msg"]


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
