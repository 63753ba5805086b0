"""Dashboard latency: every chart's query on the marts, and the same question asked of the
staging layer (the baseline that shows what the marts buy).

Each chart's saved query (`superset/assets/charts/*.yaml`, `query_context`) is turned into the
SQL Superset's PostgreSQL engine would send for it: the dataset's table, the query's columns
(time grains as `DATE_TRUNC`), its saved metrics' expressions, filters, ordering, row limit
and offset (a server-paginated table's row count too). Charts and datasets are read at run
time, so charts added later are measured without changing this file.

The baseline runs the same SQL with every mart table it reads replaced by that model's own
SQL (compiled by dbt with `--full-refresh`), recursively, as common table expressions: the
question answered from the staging views over the raw tables, as it would be without marts.

Run by bench.run; `python -m bench.dashboards '<json args>'` (working directory and
PYTHONPATH: the project copy the pipeline ran from) measures one warehouse.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bench.common import PROJECT_ROOT, child_args, emit, percentile

GRAINS = {"PT1S": "second", "PT1M": "minute", "PT1H": "hour", "P1D": "day", "P1W": "week",
          "P1M": "month", "P3M": "quarter", "P1Y": "year"}
OPERATORS = {"==": "=", "!=": "<>", ">": ">", "<": "<", ">=": ">=", "<=": "<=",
             "LIKE": "LIKE", "ILIKE": "ILIKE"}


@dataclass
class Dataset:
    schema: str
    table: str
    sql: str | None
    metrics: dict[str, str] = field(default_factory=dict)
    # calculated columns: name → SQL expression (Superset puts the expression in the query)
    expressions: dict[str, str] = field(default_factory=dict)
    temporal: frozenset[str] = frozenset()  # is_dttm columns: the only ones a time grain applies to

    def column(self, name: str) -> str:
        expr = self.expressions.get(name)
        return f"({expr})" if expr else _ident(name)

    def source(self) -> str:
        if self.sql:
            return f"({self.sql}) AS virtual_table"
        return f"{_ident(self.schema)}.{_ident(self.table)}"


@dataclass
class ChartQuery:
    chart: str
    viz: str
    index: int
    dataset: str
    sql: str | None
    problem: str | None = None


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def load_datasets(root: Path = PROJECT_ROOT) -> dict[str, Dataset]:
    out = {}
    for path in sorted((root / "superset" / "assets" / "datasets").rglob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        out[spec["uuid"]] = Dataset(
            spec.get("schema") or "public", spec["table_name"], spec.get("sql"),
            {m["metric_name"]: m["expression"] for m in spec.get("metrics") or []},
            {c["column_name"]: c["expression"] for c in spec.get("columns") or []
             if c.get("expression")},
            frozenset(c["column_name"] for c in spec.get("columns") or [] if c.get("is_dttm")))
    return out


def chart_queries(root: Path = PROJECT_ROOT) -> list[ChartQuery]:
    """Every query of every chart, as SQL (or the reason it could not be built)."""
    datasets = load_datasets(root)
    out = []
    for path in sorted((root / "superset" / "assets" / "charts").glob("*.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
        name, viz = spec.get("slice_name") or path.stem, spec.get("viz_type", "?")
        ds = datasets.get(spec.get("dataset_uuid"))
        if not spec.get("query_context") or ds is None:
            out.append(ChartQuery(name, viz, 0, "?", None, "no query_context or dataset"))
            continue
        context = json.loads(spec["query_context"])
        for i, query in enumerate(context.get("queries") or []):
            try:
                sql = build_sql(query, ds)
                out.append(ChartQuery(name, viz, i, f"{ds.schema}.{ds.table}", sql))
            except (KeyError, ValueError, TypeError) as exc:
                out.append(ChartQuery(name, viz, i, f"{ds.schema}.{ds.table}", None,
                                      f"{type(exc).__name__}: {exc}"))
    return out


def _column(col: Any, ds: Dataset) -> tuple[str, str]:
    if isinstance(col, str):
        return ds.column(col), col
    expr = col["sqlExpression"]
    if col.get("isColumnReference") and re.fullmatch(r"\w+", expr):
        expr = ds.column(expr)
    grain = col.get("timeGrain")
    if grain and (not col.get("isColumnReference") or col["sqlExpression"] in ds.temporal):
        expr = f"DATE_TRUNC('{GRAINS[grain]}', {expr})"
    return expr, col.get("label") or col["sqlExpression"]


def _metric(metric: Any, ds: Dataset) -> tuple[str, str]:
    if isinstance(metric, str):
        return ds.metrics[metric], metric
    if metric.get("expressionType") == "SQL":
        return metric["sqlExpression"], metric.get("label") or metric["sqlExpression"]
    column = metric["column"]["column_name"]
    expr = f"{metric['aggregate']}({ds.column(column)})"
    return expr, metric.get("label") or expr


def _filter(flt: dict[str, Any], ds: Dataset) -> str | None:
    col, op, val = ds.column(flt["col"]) if isinstance(flt["col"], str) else \
        flt["col"]["sqlExpression"], flt["op"], flt.get("val")
    if op == "TEMPORAL_RANGE":
        if val in (None, "No filter", ""):
            return None
        raise ValueError(f"time range {val!r}")
    if op in ("IS NULL", "IS NOT NULL"):
        return f"{col} {op}"
    if op in ("IN", "NOT IN"):
        values = val if isinstance(val, list) else [val]
        return f"{col} {op} ({', '.join(_literal(v) for v in values)})"
    return f"{col} {OPERATORS[op]} {_literal(val)}"


def build_sql(query: dict[str, Any], ds: Dataset) -> str:
    columns = [_column(c, ds) for c in query.get("columns") or []]
    metrics = [_metric(m, ds) for m in query.get("metrics") or []]
    select = [f"{e} AS {_ident(label)}" for e, label in columns + metrics]
    where = [w for w in (_filter(f, ds) for f in query.get("filters") or []) if w]
    extras = query.get("extras") or {}
    if extras.get("where"):
        where.append(f"({extras['where']})")
    sql = f"SELECT {', '.join(select) or '*'} FROM {ds.source()}"
    if where:
        sql += " WHERE " + " AND ".join(where)
    if metrics and columns:
        sql += " GROUP BY " + ", ".join(e for e, _ in columns)
    if extras.get("having"):
        sql += f" HAVING {extras['having']}"
    labels = {label: expr for expr, label in metrics}
    order = []
    for item, ascending in query.get("orderby") or []:
        if isinstance(item, str):
            expr = labels.get(item) or (ds.metrics.get(item) if metrics else None) or \
                ds.column(item)
        else:
            expr = _metric(item, ds)[0]
        order.append(f"{expr} {'ASC' if ascending else 'DESC'}")
    if order:
        sql += " ORDER BY " + ", ".join(order)
    sql += f" LIMIT {int(query.get('row_limit') or 10000)}"
    if query.get("row_offset"):
        sql += f" OFFSET {int(query['row_offset'])}"
    if query.get("is_rowcount"):  # as Superset wraps it: the limited query, counted
        return f"SELECT COUNT(*) AS rowcount FROM ({sql}) AS rowcount_qry"
    return sql


# --- the baseline: marts replaced by their own SQL ----------------------------------------------

def _relation_pattern(schema: str, name: str) -> re.Pattern[str]:
    return re.compile(rf'(?:"\w+"\.)?"{re.escape(schema)}"\."{re.escape(name)}"'
                      rf'|(?<![\w."]){re.escape(schema)}\.{re.escape(name)}(?![\w"])')


def materialised_models(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Mart tables (and any other table or incremental model) with their compiled SQL."""
    out = {}
    for node in manifest["nodes"].values():
        if node.get("resource_type") != "model":
            continue
        if node["config"].get("materialized") not in ("table", "incremental"):
            continue
        code = node.get("compiled_code")
        if not code:
            continue
        parts = [p.strip('"') for p in (node.get("relation_name") or "").split(".")]
        schema, name = (parts[-2], parts[-1]) if len(parts) >= 2 else (
            node["schema"], node.get("alias") or node["name"])
        out[node["unique_id"]] = {
            "cte": f"__{node['name']}", "code": code.strip().rstrip(";"),
            "pattern": _relation_pattern(schema, name),
        }
    return out


def staging_sql(sql: str, models: dict[str, dict[str, Any]]) -> str:
    """`sql` with every materialised model it reads computed inline, down to the views."""
    order: list[str] = []
    open_: set[str] = set()  # models being visited: a model naming itself (in a comment,
    # or an incremental model reading its own table) is no dependency

    def visit(text: str) -> None:
        for uid, model in models.items():
            if uid not in order and uid not in open_ and model["pattern"].search(text):
                open_.add(uid)
                visit(model["code"])
                open_.discard(uid)
                if uid not in order:
                    order.append(uid)

    visit(sql)
    if not order:
        return sql

    def rewrite(text: str) -> str:
        for uid in order:
            text = models[uid]["pattern"].sub(models[uid]["cte"], text)
        return text

    ctes = ",\n".join(f"{models[u]['cte']} AS (\n{rewrite(models[u]['code'])}\n)" for u in order)
    return f"WITH {ctes}\n{rewrite(sql)}"


# A baseline query that takes seconds (the staging layer at province scale recomputes whole
# marts) is run until SLOW_BUDGET_MS is spent, at least once, its first run counted.
SLOW_MS = 2_000
SLOW_BUDGET_MS = 20_000


# --- measurement (child side) -------------------------------------------------------------------

def _time(conn, sql: str, runs: int, timeout_ms: int) -> dict[str, Any]:
    import psycopg

    conn.execute(f"set statement_timeout = {timeout_ms}")
    times: list[float] = []
    rows = None
    try:
        for i in range(runs + 1):  # the first run warms caches up
            start = time.perf_counter()
            rows = len(conn.execute(sql).fetchall())
            elapsed = (time.perf_counter() - start) * 1000
            if i:
                times.append(elapsed)
            elif elapsed > SLOW_MS:  # a query of seconds: caches matter little, each run counts
                times.append(elapsed)
                runs = min(runs, max(1, int(SLOW_BUDGET_MS // elapsed))) - 1
            if len(times) > runs:
                break
    except psycopg.errors.QueryCanceled:
        conn.rollback()
        return {"timeout_ms": timeout_ms, "runs": len(times)}
    return {"p50_ms": round(percentile(times, 50), 2), "p95_ms": round(percentile(times, 95), 2),
            "runs": len(times), "rows": rows}


def measure(args: dict[str, Any]) -> dict[str, Any]:
    import psycopg

    from ioc.dbt_runner import BUILD_TARGET, run_dbt

    run_dbt(["compile", "--full-refresh", "--quiet"])
    manifest = json.loads((BUILD_TARGET / "manifest.json").read_text())
    models = materialised_models(manifest)
    results = []
    per_dataset = args.get("baseline_sample") == "per_dataset"
    baselined: set[str] = set()
    with psycopg.connect(args["db"], autocommit=True) as conn:
        for q in chart_queries(Path(args.get("assets_root") or PROJECT_ROOT)):
            entry: dict[str, Any] = {"chart": q.chart, "viz": q.viz, "query": q.index,
                                     "dataset": q.dataset}
            if q.sql is None:
                entry["error"] = q.problem
                results.append(entry)
                continue
            try:
                entry["marts"] = _time(conn, q.sql, args["runs"], args["timeout_ms"])
                if per_dataset and q.dataset in baselined:
                    entry["staging_sampled_out"] = True
                    results.append(entry)
                    continue
                baselined.add(q.dataset)
                baseline = staging_sql(q.sql, models)
                entry["staging"] = _time(conn, baseline, args["baseline_runs"],
                                         args["baseline_timeout_ms"])
            except psycopg.Error as exc:
                entry["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"
            results.append(entry)
    return summarise(results, args)


def summarise(results: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    measured = [r for r in results if "marts" in r and "p95_ms" in r["marts"]]
    def worst(key: str) -> float | None:
        values = [r[key]["p95_ms"] for r in results if key in r and "p95_ms" in r[key]]
        timeouts = [r for r in results if key in r and "timeout_ms" in r[key]]
        if timeouts:
            return float(max(r[key]["timeout_ms"] for r in timeouts))
        return max(values) if values else None

    slowest = sorted(measured, key=lambda r: -r["marts"]["p95_ms"])[:5]
    return {
        "queries": len(results), "measured": len(measured),
        "errors": [r for r in results if "error" in r],
        "p95_ms_max": worst("marts"),
        "p50_ms_max": max((r["marts"]["p50_ms"] for r in measured), default=None),
        "p95_ms_baseline_max": worst("staging"),
        "baseline_timeouts": sum(1 for r in results if "timeout_ms" in r.get("staging", {})),
        "baseline_measured": sum(1 for r in results if "staging" in r),
        "baseline_sample": args.get("baseline_sample", "all"),
        "slowest": [{"chart": r["chart"], "p95_ms": r["marts"]["p95_ms"],
                     "staging_p95_ms": r.get("staging", {}).get("p95_ms")} for r in slowest],
        "charts": results, "runs": args["runs"], "baseline_runs": args["baseline_runs"],
    }


if __name__ == "__main__":
    emit(measure(child_args()))
