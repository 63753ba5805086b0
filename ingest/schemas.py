"""Typed shapes of the source catalogue's files: form contracts (`ingest/contracts/*.yaml`)
and the agency mapping (`ingest/agency/mapping.yaml`).

Each file is checked against these models before anything reads it: an unknown or misspelt
key (`requried: true`), a value of the wrong kind or a word outside a closed list is refused
with a message naming the file, the key and what was expected — a contract that half-works
silently is worse than one that does not load. The loaders (`ingest.intake.contracts`,
`ingest.agency.mapping`) then build their own runtime objects from the checked data.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

Number = int | float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- form contracts -------------------------------------------------------------------------


class ColumnSpec(_Strict):
    header: list[str] = Field(min_length=1)
    type: Literal["text", "code", "number", "integer", "boolean", "choice", "commune"] = "text"
    required: bool = False
    not_empty: bool = False
    min: Number | None = None
    max: Number | None = None
    empty_as_zero: bool = False
    choices: dict[str, list[str] | None] | None = None
    true_values: list[str] = []
    false_values: list[str] = []
    from_sheet_name: bool = False
    db_column: str | None = Field(default=None, pattern=r"^[a-z_][a-z0-9_]*$")
    label: str | None = None


class RecogniseSpec(_Strict):
    codes: list[str] | None = None
    title_keywords: list[str] = []


class RuleSpec(_Strict):
    check: str
    message: str


class FooterSpec(_Strict):
    markers: list[str] = []
    patterns: list[str] = []


class YtdCheckSpec(_Strict):
    column: str
    tolerance: Number = 0.01


class IndicatorsSpec(_Strict):
    code_column: str | None = None
    name_column: str | None = None
    value_column: str
    aliases: dict[str, list[str]] = {}
    ytd_check: YtdCheckSpec | None = None


class TotalRowSpec(_Strict):
    labels: list[str] = []
    label_columns: list[str] = []
    sums: list[str] = []


class TemplateSpec(_Strict):
    """How `ioc template` lays out the blank form (ingest/template.py)."""

    blank_rows: int | None = Field(default=None, ge=1)
    header_groups: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    rows: list[str] = []


class ContractSpec(_Strict):
    form: str = Field(pattern=r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)*$")
    title: str = Field(min_length=1)
    period: Literal["month", "semester"] = "month"
    # Reference data derived from the contract (dbt_project/seeds/forms.csv).
    due_days: int = Field(default=5, ge=0, le=120)  # days after the period's end
    domain: str = Field(default="chi_tieu", pattern=r"^[a-z_]+$")
    recognise: RecogniseSpec = RecogniseSpec()
    sheets: Literal["first", "all"] = "first"
    layout: Literal["indicators", "rows"]
    table: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    columns: dict[str, ColumnSpec] = Field(min_length=1)
    load: list[str] = Field(min_length=1)
    indicators: IndicatorsSpec | None = None
    rules: list[RuleSpec] = []
    footer: FooterSpec | None = None
    key: str | None = None
    row_label: list[str] | None = None
    total_row: TotalRowSpec | None = None
    min_rows: int = Field(default=1, ge=0)
    template: TemplateSpec | None = None


class CommonSpec(_Strict):
    footer: FooterSpec = FooterSpec()


# --- agency mapping -------------------------------------------------------------------------


class RequestSpec(_Strict):
    since: str = "capNhatTu"
    page: str = "trang"
    page_size: str = "soBanGhi"


class ResponseSpec(_Strict):
    records: str = "duLieu"
    page: str = "trang"
    pages: str = "tongSoTrang"
    total: str = "tongSoBanGhi"


class UnitCodesSpec(_Strict):
    translate: dict[str, str] = {}
    file: str | None = None


_IDENT = r"^[a-z_][a-z0-9_]*$"


class ResourceSpec(_Strict):
    path: str = Field(pattern=r"^/")
    table: str = Field(pattern=_IDENT)
    key: str
    cursor: str
    unit_code_columns: list[str] = []
    fields: dict[str, str] = Field(min_length=1)
    personal: dict[str, str] = {}
    free_text: list[str] = []
    description: str | None = None


class MappingSpec(_Strict):
    request: RequestSpec = RequestSpec()
    response: ResponseSpec = ResponseSpec()
    unit_codes: UnitCodesSpec = UnitCodesSpec()
    resources: dict[str, ResourceSpec]  # empty: a deployment without agency sources


# --- messages -------------------------------------------------------------------------------

_EXPECTED = {
    "extra_forbidden": "không có khóa này (unknown key) — các khóa được phép: {allowed}",
    "missing": "thiếu khóa bắt buộc (required key missing)",
    "literal_error": "giá trị {value!r} không hợp lệ — phải là {expected}",
    "string_pattern_mismatch": "giá trị {value!r} không đúng dạng {pattern}",
}


def _allowed(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """The keys allowed where an unknown key was found (walking the model by `loc`)."""
    current: Any = model
    name_next = False  # the previous key was a dict of models: this part is a name
    for part in loc[:-1]:
        if isinstance(part, int) or current is None:
            continue
        if name_next:
            name_next = False
            continue
        info = current.model_fields.get(str(part))
        current = _inner_model(info.annotation) if info else None
        name_next = info is not None and "dict[" in str(info.annotation)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return ", ".join(current.model_fields)
    return "?"


def _inner_model(annotation: Any) -> Any:
    """The model inside `X | None`, `dict[str, X]`, `list[X]`; else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def describe(exc: ValidationError, model: type[BaseModel], where: str) -> str:
    """One line per problem: `<file>: khóa columns.value.requried: …`."""
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(gốc)"
        template = _EXPECTED.get(err["type"])
        ctx = err.get("ctx") or {}
        if template:
            text = template.format(allowed=_allowed(model, tuple(err["loc"])),
                                   value=err.get("input"), expected=ctx.get("expected", ""),
                                   pattern=ctx.get("pattern", ""))
        else:
            text = f"{err['msg']} (giá trị {err.get('input')!r})"
        lines.append(f"{where}: khóa {key}: {text}")
    return "\n".join(lines)


def check(model: type[BaseModel], data: Any, path: Path | str) -> Any:
    """`data` as `model`, or ValueError naming the file, each key and what was expected."""
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        raise CatalogueError(describe(exc, model, Path(path).name)) from None


class CatalogueError(ValueError):
    """A catalogue file (contract or mapping) does not have the expected shape."""
