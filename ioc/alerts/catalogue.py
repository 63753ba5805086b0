"""The alert catalogue: thresholds and reminders, declared once in `catalogue/alerts.yaml`.

Typed like the KPI catalogue (ioc/kpi/catalogue.py): an unknown or misspelt key, a KPI the
KPI catalogue does not declare, a duplicate code, … fail when the file loads, naming the file
and the key.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ioc.kpi import catalogue as kpi_catalogue
from ioc.settings import PROJECT_ROOT

CATALOGUE_FILE = PROJECT_ROOT / "catalogue" / "alerts.yaml"
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
SLUG = re.compile(r"^[a-z][a-z0-9-]*$")
# what a rule's code, dashboard and recipient roles must look like
NAMES = {
    "code": (CODE, "mã chỉ gồm chữ thường, chữ số và _"),
    "dashboard": (SLUG, "slug của dashboard chỉ gồm chữ thường, chữ số và -"),
    "to": (CODE, "vai trò chỉ gồm chữ thường, chữ số và _"),
}
UNIT_ROLE = "don_vi"
"""The recipient role meaning "the unit the message is about"."""


class AlertCatalogueError(ValueError):
    """The alert catalogue is malformed; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Rule(_Strict):
    code: str
    title: str  # Vietnamese: the message's subject
    dashboard: str  # slug of the dashboard the message links to, filtered to the unit
    to: list[str] = Field(min_length=1)  # recipient roles

    @field_validator("code", "dashboard", "to")
    @classmethod
    def _names(cls, value: str | list[str], info: ValidationInfo) -> str | list[str]:
        pattern, what = NAMES[info.field_name]
        for name in value if isinstance(value, list) else [value]:
            if not pattern.match(name):
                raise ValueError(f"{what}: {name!r}")
        return value


class KpiAbove(_Rule):
    """A KPI above a threshold in a unit, in the KPI's latest displayed month."""

    kind: Literal["chi_so_vuot_nguong"]
    kpi: str
    threshold: Decimal


class BelowTarget(_Rule):
    """A KPI below its target for `months` complete months running, in a unit."""

    kind: Literal["duoi_muc_tieu"]
    kpis: list[str] = Field(min_length=1)
    months: int = Field(ge=1, le=12)


class Outlier(_Rule):
    """A value the outlier mart flags, in the last `within_months` months."""

    kind: Literal["ngoai_le"]
    direction: Literal["cao", "thap", "ca_hai"] = "cao"
    within_months: int = Field(ge=1, le=12)


class MissingReport(_Rule):
    """A report not received `days_after_deadline` days after its deadline."""

    kind: Literal["thieu_bao_cao"]
    days_after_deadline: int = Field(ge=0)
    within_days: int = Field(ge=1)


Rule = Annotated[KpiAbove | BelowTarget | Outlier | MissingReport, Field(discriminator="kind")]


class Reminders(_Strict):
    working_days_before: int = Field(ge=1, le=10)
    days_after: int = Field(ge=1, le=30)
    dashboard: str
    to: list[str] = Field(min_length=1)


class AlertCatalogue(_Strict):
    version: Literal[1]
    alerts: list[Rule]
    reminders: Reminders

    @model_validator(mode="after")
    def _references(self) -> AlertCatalogue:
        twice = kpi_catalogue.declared_twice([rule.code for rule in self.alerts])
        if twice:
            raise ValueError(f"mã cảnh báo khai báo hai lần: {twice}")
        kpis = {k.code: k for k in kpi_catalogue.load().kpis}
        for rule in self.alerts:
            named = [rule.kpi] if isinstance(rule, KpiAbove) else (
                rule.kpis if isinstance(rule, BelowTarget) else [])
            for code in named:
                if code not in kpis:
                    raise ValueError(
                        f"{rule.code}: chỉ số không có trong catalogue/kpis.yaml: {code!r}")
            if isinstance(rule, BelowTarget):
                for code in rule.kpis:
                    if kpis[code].kind == "count":
                        raise ValueError(
                            f"{rule.code}: {code} là số đếm, không có chỉ tiêu (target)")
        return self

    def dashboards(self) -> set[str]:
        return {rule.dashboard for rule in self.alerts} | {self.reminders.dashboard}


def parse(text: str, name: str = "catalogue/alerts.yaml") -> AlertCatalogue:
    return kpi_catalogue.validate_yaml(text, name, AlertCatalogue, AlertCatalogueError)


@cache
def load(path: Path = CATALOGUE_FILE) -> AlertCatalogue:
    return parse(path.read_text(encoding="utf-8"), path.relative_to(PROJECT_ROOT).as_posix()
                 if path.is_relative_to(PROJECT_ROOT) else str(path))
