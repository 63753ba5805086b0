"""Form contracts: one YAML file per form in `ingest/contracts/`, loaded into dataclasses.

A contract says how to recognise the form, where unit and period come from, which columns
the header row has (with every alias staff use), each column's type, the rules between
values and which raw table receives the rows. Adding a form is adding a YAML file; see
docs/adding-a-form.md. `_common.yaml` holds defaults every contract inherits (footer words).
Who submits a form is reference data (`dbt_project/seeds/form_submitters.csv`), not here.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from ingest.intake.text import fold
from ingest.schemas import CatalogueError, CommonSpec, ContractSpec, check

CONTRACTS_DIR = Path(__file__).resolve().parents[1] / "contracts"
COLUMN_TYPES = ("text", "code", "number", "integer", "boolean", "choice", "commune")
SQL_TYPES = {
    "text": "text", "code": "text", "number": "numeric", "integer": "bigint",
    "boolean": "boolean", "choice": "text", "commune": "text",
}


class ContractError(ValueError):
    """A contract file is malformed (a programming error, reported when contracts load)."""


@dataclass(frozen=True)
class Column:
    name: str
    headers: tuple[tuple[str, ...], ...]  # folded alias paths ("group > sub" → 2 parts)
    type: str = "text"
    required: bool = False  # the header must be present
    not_empty: bool = False  # every data row needs a value
    min: Decimal | None = None
    max: Decimal | None = None
    empty_as_zero: bool = False
    choices: dict[str, str] = field(default_factory=dict)  # folded spelling → stored value
    true_words: frozenset[str] = frozenset()
    false_words: frozenset[str] = frozenset()
    from_sheet_name: bool = False  # a choice column may be given by the sheet's name
    db_column: str | None = None  # name in the raw table (default: name)
    label: str = ""  # how the column is called in messages

    @property
    def sql_type(self) -> str:
        return SQL_TYPES[self.type]


@dataclass(frozen=True)
class Rule:
    expression: str
    message: str
    tree: ast.Expression
    names: tuple[str, ...]
    code: Any = None  # the compiled expression


@dataclass(frozen=True)
class Contract:
    form: str
    title: str
    period_kind: str  # month | semester
    codes: tuple[str, ...]  # folded form codes ("ktxh 01")
    title_keywords: tuple[str, ...]  # folded
    sheets: str  # first | all
    layout: str  # indicators | rows
    table: str
    columns: dict[str, Column]
    load: tuple[str, ...]  # columns stored, in order
    rules: tuple[Rule, ...]
    footer_markers: tuple[str, ...]
    footer_patterns: tuple[str, ...]
    # indicators layout
    code_column: str | None = None
    name_column: str | None = None
    value_column: str | None = None
    indicator_aliases: dict[str, str] = field(default_factory=dict)  # folded name → code
    ytd_column: str | None = None
    ytd_tolerance: Decimal = Decimal("0.01")
    # rows layout
    key: str | None = None
    row_label: tuple[str, ...] = ()  # columns naming a row in answers (default: the key)
    total_labels: tuple[str, ...] = ()
    total_label_columns: tuple[str, ...] = ()
    total_sums: tuple[str, ...] = ()
    min_rows: int = 1
    source: Path | None = None
    due_days: int = 5  # days after the period's end (dbt_project/seeds/forms.csv)
    domain: str = "chi_tieu"  # the marts' domain (forms.csv)


def _alias_path(text: str) -> tuple[str, ...]:
    return tuple(fold(part) for part in str(text).split(">") if fold(part))


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _column(name: str, spec: dict[str, Any]) -> Column:
    ctype = spec.get("type", "text")
    if ctype not in COLUMN_TYPES:
        raise ContractError(f"column {name}: unknown type {ctype!r}")
    headers = tuple(_alias_path(h) for h in spec.get("header", []))
    if not headers:
        raise ContractError(f"column {name}: no header aliases")
    choices: dict[str, str] = {}
    for stored, spellings in (spec.get("choices") or {}).items():
        for s in [stored, *(spellings or [])]:
            choices[fold(s)] = stored
    return Column(
        name=name,
        headers=headers,
        type=ctype,
        required=bool(spec.get("required", False)),
        not_empty=bool(spec.get("not_empty", False)),
        min=_decimal(spec.get("min")),
        max=_decimal(spec.get("max")),
        empty_as_zero=bool(spec.get("empty_as_zero", False)),
        choices=choices,
        true_words=frozenset(fold(w) for w in spec.get("true_values", [])),
        false_words=frozenset(fold(w) for w in spec.get("false_values", [])),
        from_sheet_name=bool(spec.get("from_sheet_name", False)),
        db_column=spec.get("db_column"),
        label=str(spec.get("label") or spec["header"][0]).replace(">", "/"),
    )


_ALLOWED = (ast.Expression, ast.Compare, ast.BinOp, ast.Add, ast.Sub, ast.Name, ast.Load,
            ast.Constant, ast.LtE, ast.Lt, ast.GtE, ast.Gt, ast.Eq, ast.UnaryOp, ast.USub)


def _rule(spec: dict[str, Any]) -> Rule:
    expression = spec["check"]
    tree = ast.parse(expression, mode="eval")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED):
            raise ContractError(f"rule {expression!r}: {type(node).__name__} not allowed")
    names = tuple(dict.fromkeys(n.id for n in ast.walk(tree) if isinstance(n, ast.Name)))
    for node in ast.walk(tree):  # numbers compare exactly: constants become Decimals
        if isinstance(node, ast.Constant) and not isinstance(node.value, int | float):
            raise ContractError(f"rule {expression!r}: only numbers may be constants")
    code = compile(_decimal_constants(tree), f"<rule {expression}>", "eval")
    return Rule(expression, spec["message"], tree, names, code)


def _decimal_constants(tree: ast.Expression) -> ast.Expression:
    """`XH06 <= 19` compares a Decimal with 19; float constants would be inexact, so every
    constant is wrapped as Decimal('…') in the compiled code."""

    class Wrap(ast.NodeTransformer):
        def visit_Constant(self, node: ast.Constant) -> ast.AST:
            return ast.Call(ast.Name("_D", ast.Load()), [ast.Constant(str(node.value))], [])

    new = ast.fix_missing_locations(Wrap().visit(ast.parse(ast.unparse(tree), mode="eval")))
    return new


def evaluate(rule: Rule, values: dict[str, Any]) -> bool | None:
    """True/False for the rule on `values`; None when one of its values is missing.

    The expression was checked to hold only names, numbers, + - and comparisons, so it is
    compiled once and evaluated without builtins.
    """
    args = {}
    for name in rule.names:
        value = values.get(name)
        if value is None:
            return None
        args[name] = value
    return bool(eval(rule.code, {"__builtins__": {}, "_D": Decimal}, args))


def _checked(path: Path, spec: Any, model: Any) -> dict[str, Any]:
    """`spec` checked against its typed shape (ingest/schemas.py): unknown or misspelt keys
    and wrong values are refused naming the file and the key. Returns the plain data (only
    the keys the file wrote), which the builders below read."""
    try:
        check(model, spec, path)
    except CatalogueError as exc:
        raise ContractError(str(exc)) from None
    return spec or {}


def _load_one(path: Path, common: dict[str, Any]) -> Contract:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(spec, dict) and "submitted_by" in spec:
        raise ContractError(
            f"{path.name}: who submits a form is reference data, not part of its contract: "
            "list it in dbt_project/seeds/form_submitters.csv")
    spec = _checked(path, spec, ContractSpec)
    columns = {name: _column(name, s or {}) for name, s in (spec.get("columns") or {}).items()}
    recognise = spec.get("recognise") or {}
    footer = {**(common.get("footer") or {}), **(spec.get("footer") or {})}
    layout = spec.get("layout")
    if layout not in ("indicators", "rows"):
        raise ContractError(f"{path.name}: layout must be 'indicators' or 'rows'")
    load = tuple(spec.get("load") or [])
    for name in load:
        if name not in columns:
            raise ContractError(f"{path.name}: load names unknown column {name}")
    kwargs: dict[str, Any] = {}
    if layout == "indicators":
        ind = spec.get("indicators") or {}
        aliases: dict[str, str] = {}
        for code, names in (ind.get("aliases") or {}).items():
            for n in names:
                aliases[fold(n)] = code
        ytd = ind.get("ytd_check") or {}
        kwargs.update(
            code_column=ind.get("code_column"), name_column=ind.get("name_column"),
            value_column=ind["value_column"], indicator_aliases=aliases,
            ytd_column=ytd.get("column"),
            ytd_tolerance=Decimal(str(ytd.get("tolerance", "0.01"))),
        )
    else:
        total = spec.get("total_row") or {}
        kwargs.update(
            key=spec.get("key"),
            row_label=tuple(spec.get("row_label") or ([spec["key"]] if spec.get("key") else [])),
            total_labels=tuple(fold(x) for x in total.get("labels", [])),
            total_label_columns=tuple(total.get("label_columns", [])),
            total_sums=tuple(total.get("sums", [])),
            min_rows=int(spec.get("min_rows", 1)),
        )
    return Contract(
        form=spec["form"],
        title=spec.get("title", spec["form"]),
        period_kind=spec.get("period", "month"),
        due_days=int(spec.get("due_days", 5)),
        domain=spec.get("domain", "chi_tieu"),
        codes=tuple(fold(c) for c in recognise.get("codes", [spec["form"]])),
        title_keywords=tuple(fold(k) for k in recognise.get("title_keywords", [])),
        sheets=spec.get("sheets", "first"),
        layout=layout,
        table=spec["table"],
        columns=columns,
        load=load,
        rules=tuple(_rule(r) for r in spec.get("rules", [])),
        footer_markers=tuple(fold(m) for m in footer.get("markers", [])),
        footer_patterns=tuple(footer.get("patterns", [])),
        source=path,
        **kwargs,
    )


@cache
def load_contracts(directory: Path = CONTRACTS_DIR) -> dict[str, Contract]:
    """Every contract in `directory`, by form code (files starting with `_` are shared defaults)."""
    common_path = directory / "_common.yaml"
    common = yaml.safe_load(common_path.read_text(encoding="utf-8")) if common_path.exists() else {}
    common = _checked(common_path, common, CommonSpec)
    out: dict[str, Contract] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        contract = _load_one(path, common or {})
        out[contract.form] = contract
    return out
