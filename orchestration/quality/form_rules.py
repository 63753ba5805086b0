"""The forms' rules, re-checked on the data at rest.

The intake engine refuses a file that breaks a rule of its contract; this check reads the
current version of every accepted file back from the warehouse and evaluates the very same
rules (`ingest/contracts/*.yaml`), so a hand edit, a bad migration or a bug in the loader
shows up in Dagster instead of on a leader's dashboard.
"""

from collections import defaultdict
from dataclasses import dataclass

import dagster as dg
import psycopg
from psycopg import sql

from ingest import catalogue
from ingest.intake.contracts import evaluate, load_contracts
from orchestration.resources import WarehouseResource


@dataclass(frozen=True)
class Violation:
    file_id: int
    where: str  # indicator set or the row's key
    rule: str


def violations(conninfo: str, form: str) -> list[Violation]:
    """Every rule of `form`'s contract broken by a current accepted file."""

    contract = load_contracts()[form]
    if not contract.rules:
        return []
    table = sql.Identifier("raw_intake", contract.table)
    current = sql.SQL(
        "select t.* from {} t join raw_intake.file_manifest m using (file_id) "
        "where m.is_current and m.status = 'accepted' order by t.file_id, t.source_row"
    ).format(table)
    found: list[Violation] = []
    with psycopg.connect(conninfo) as conn:
        if (
            conn.execute("select to_regclass(%s)", (f"raw_intake.{contract.table}",)).fetchone()[0]
            is None
        ):
            return []
        cur = conn.execute(current)
        names = [c.name for c in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur]
    if contract.layout == "indicators":
        per_file: dict[int, dict[str, object]] = defaultdict(dict)
        for row in rows:
            per_file[row["file_id"]][row["indicator_code"]] = row[contract.value_column]
        for file_id, values in per_file.items():
            for rule in contract.rules:
                if evaluate(rule, values) is False:
                    found.append(Violation(file_id, "", rule.expression))
    else:
        for row in rows:
            for rule in contract.rules:
                if evaluate(rule, row) is False:
                    found.append(
                        Violation(row["file_id"], str(row.get(contract.key)), rule.expression)
                    )
    return found


FORM_TABLES = catalogue.form_tables()  # from the catalogue of sources (ingest/catalogue.py)


def _build(form: str, table: str) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw_intake", table]),
        name=f"quy_tac_bieu_{table}",
        description=f"Các quy tắc giữa các số liệu của biểu {form} vẫn đúng trên dữ liệu đã nạp.",
    )
    def _check(warehouse: WarehouseResource) -> dg.AssetCheckResult:
        found = violations(warehouse.conninfo(), form)
        return dg.AssetCheckResult(
            passed=not found,
            metadata={
                "violations": len(found),
                "sample": "; ".join(f"file {v.file_id} {v.where} {v.rule}" for v in found[:10]),
            },
        )

    return _check


form_rule_checks = [_build(form, table) for form, table in FORM_TABLES.items()]
