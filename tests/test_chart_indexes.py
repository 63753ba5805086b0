"""Issue 21: the indexes made for particular charts (`extra_index` post-hooks of the marts,
dbt_project/macros/indexes.sql) match those charts, so a chart edited later does not leave
its index serving nothing (and the list sorting the whole mart again at national scale).

A partial index is used only when the chart's filter implies its predicate and it reads the
page in the chart's order: the same column and values, and the chart's order as the index's
key. A covering index serves a chart only if the chart reads nothing but its columns.

The indexes are read from the marts' post-hooks as dbt parsed them (target/manifest.json,
which `make test` rebuilds whenever a model or macro changes): a mart may write its hook
itself or have a macro write it (case_mart_config)."""

from __future__ import annotations

import ast
import json
import re

from ioc.dbt_runner import TARGET_DIR
from ioc.settings import PROJECT_ROOT
from ioc_superset import assets_builder

MARTS = PROJECT_ROOT / "dbt_project" / "models" / "marts"
MANIFEST = TARGET_DIR / "manifest.json"
CALL = re.compile(
    r"extra_index\(this, (\[[^\]]*\]), '(\w+)'((?:,\s*\w+=(?:\[[^\]]*\]|'\w+'))*)\)")


def _indexes() -> list[dict]:
    found = []
    nodes = json.loads(MANIFEST.read_text(encoding="utf-8"))["nodes"].values()
    for node in nodes:
        if node["resource_type"] != "model" or "/marts/" not in f"/{node['path']}":
            continue
        for hook in node["config"].get("post-hook") or []:
            for cols, tag, rest in CALL.findall(hook["sql"]):
                kwargs = {k: ast.literal_eval(v) for k, v in
                          re.findall(r"(\w+)=(\[[^\]]*\]|'\w+')", rest)}
                found.append({"table": node["name"], "columns": ast.literal_eval(cols),
                              "tag": tag, **kwargs})
    return found


def _contract_columns(table: str) -> set[str]:
    import yaml

    for path in MARTS.rglob(f"{table}.yml"):
        for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            if model["name"] == table:
                return {c["name"] for c in model.get("columns") or []}
    raise AssertionError(f"no contract YAML for {table}")


def test_every_extra_index_serves_a_chart():
    spec = assets_builder.load_spec()
    indexes = _indexes()
    assert {i["table"] for i in indexes} >= {"fct_ho_so", "fct_van_ban", "fct_phan_anh",
                                              "fct_kpi_thang"}
    for index in indexes:
        charts = [c for c in spec.charts.values()
                  if spec.datasets[c["dataset"]]["table"] == index["table"]]
        served = []
        for chart in charts:
            filters = chart.get("filters") or []
            if "column" in index:
                wanted = {"column": index["column"], "op": "IN"}
                hit = [f for f in filters if {k: f.get(k) for k in wanted} == wanted
                       and set(f["value"]) == set(index["values"])]
                order = [col for col, _ in chart.get("order_by") or []]
                if hit and order == index["columns"]:
                    served.append(chart["title"])
            else:
                columns = set(index["columns"]) | set(index.get("include") or [])
                read = {f["column"] for f in filters}
                calculated = spec.datasets[chart["dataset"]].get("columns") or {}
                for name in chart.get("groupby") or []:
                    sql = (calculated.get(name) or {}).get("sql")
                    sql = sql and re.sub(r"'(?:[^']|'')*'", "''", sql)  # names, not literals
                    # a calculated column (a link) reads the mart's columns its SQL names
                    read |= ({c for c in _contract_columns(index["table"])
                              if re.search(rf"\b{c}\b", sql)} if sql else {name})
                if read and read <= columns | {"period_month"} and (
                        chart.get("metrics") or chart.get("metric")):
                    served.append(chart["title"])
        assert served, f"{index['table']} index {index['tag']} serves no chart"
