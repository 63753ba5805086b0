"""The benchmark harness's own logic (no database, no timing): chart queries become the SQL
Superset would send, the staging baseline inlines every mart, the report renders."""

from __future__ import annotations

import json

from bench.common import percentile
from bench.dashboards import Dataset, build_sql, chart_queries, staging_sql
from bench.dashboards import materialised_models as models_of
from bench.report import BEGIN, END, render

DS = Dataset("mart_y_te", "fct_y_te_thang", None,
             {"luot_kham": "SUM(visits)", "ty_le": "SUM(a) / NULLIF(SUM(b), 0)"},
             {"thang_vn": "to_char(period_month, 'MM/YYYY')"}, frozenset({"period_month"}))


def test_chart_query_sql() -> None:
    query = {
        "columns": [{"sqlExpression": "period_month", "isColumnReference": True,
                     "timeGrain": "P1M", "label": "period_month"}, "org_unit_name"],
        "metrics": ["luot_kham"],
        "filters": [{"col": "period_month", "op": "TEMPORAL_RANGE", "val": "No filter"},
                    {"col": "unit_level", "op": "==", "val": "xa"},
                    {"col": "kpi_code", "op": "IN", "val": ["a", "b'c"]}],
        "orderby": [["luot_kham", False]], "row_limit": 100, "extras": {"where": ""},
    }
    assert build_sql(query, DS) == (
        'SELECT DATE_TRUNC(\'month\', "period_month") AS "period_month", "org_unit_name" AS '
        '"org_unit_name", SUM(visits) AS "luot_kham" FROM "mart_y_te"."fct_y_te_thang" WHERE '
        "\"unit_level\" = 'xa' AND \"kpi_code\" IN ('a', 'b''c') GROUP BY DATE_TRUNC('month', "
        '"period_month"), "org_unit_name" ORDER BY SUM(visits) DESC LIMIT 100')
    # Superset counts the limited query (helpers.get_sqla_query: limit, then the wrapper)
    count = build_sql({"columns": ["a"], "is_rowcount": True, "row_limit": 5,
                       "orderby": [["a", False]]}, DS)
    assert count == ('SELECT COUNT(*) AS rowcount FROM (SELECT "a" AS "a" FROM '
                     '"mart_y_te"."fct_y_te_thang" ORDER BY "a" DESC LIMIT 5) AS rowcount_qry')


def test_calculated_columns_and_time_grains_as_superset_sends_them() -> None:
    """A calculated column is its expression wherever it is used; a time grain applies to
    temporal columns only (a bar chart's unit axis may carry one, Superset ignores it)."""
    query = {
        "columns": [{"sqlExpression": "org_unit_name", "isColumnReference": True,
                     "timeGrain": "P1M", "label": "org_unit_name"}, "thang_vn"],
        "metrics": [{"expressionType": "SIMPLE", "aggregate": "MAX",
                     "column": {"column_name": "thang_vn"}, "label": "m"}],
        "filters": [{"col": "thang_vn", "op": "==", "val": "01/2025"}],
        "orderby": [["thang_vn", True]], "row_limit": 10,
    }
    assert build_sql(query, DS) == (
        'SELECT "org_unit_name" AS "org_unit_name", (to_char(period_month, \'MM/YYYY\')) AS '
        '"thang_vn", MAX((to_char(period_month, \'MM/YYYY\'))) AS "m" FROM '
        '"mart_y_te"."fct_y_te_thang" WHERE (to_char(period_month, \'MM/YYYY\')) = \'01/2025\' '
        'GROUP BY "org_unit_name", (to_char(period_month, \'MM/YYYY\')) ORDER BY '
        "(to_char(period_month, 'MM/YYYY')) ASC LIMIT 10")


def test_every_committed_chart_has_sql() -> None:
    queries = chart_queries()
    assert queries and all(q.sql for q in queries), [q.problem for q in queries if not q.sql]


def test_staging_baseline_inlines_marts_recursively() -> None:
    manifest = {"nodes": {
        "model.ioc.fct_y_te_thang": {
            "resource_type": "model", "unique_id": "model.ioc.fct_y_te_thang",
            "name": "fct_y_te_thang", "schema": "mart_y_te", "config": {"materialized": "table"},
            "relation_name": '"db"."mart_y_te"."fct_y_te_thang"',
            # a model that names itself (here in a comment) is no dependency of itself
            "compiled_code": '-- "mart_y_te"."fct_y_te_thang": one row per unit and month\n'
                             'select * from "db"."mart_dung_chung"."dim_xa" join '
                             '"db"."staging"."stg_yt" using (x);'},
        "model.ioc.dim_xa": {
            "resource_type": "model", "unique_id": "model.ioc.dim_xa", "name": "dim_xa",
            "schema": "mart_dung_chung", "config": {"materialized": "table"},
            "relation_name": '"db"."mart_dung_chung"."dim_xa"',
            "compiled_code": 'select * from "db"."seeds"."org_units"'},
        "model.ioc.stg_yt": {
            "resource_type": "model", "unique_id": "model.ioc.stg_yt", "name": "stg_yt",
            "schema": "staging", "config": {"materialized": "view"},
            "relation_name": '"db"."staging"."stg_yt"', "compiled_code": "select 1"},
    }}
    sql = staging_sql('SELECT 1 FROM "mart_y_te"."fct_y_te_thang"', models_of(manifest))
    assert sql.index("__dim_xa AS") < sql.index("__fct_y_te_thang AS")
    assert 'FROM __fct_y_te_thang' in sql and "from __dim_xa join" in sql
    assert '"staging"."stg_yt"' in sql and '"mart_' not in sql


def test_percentile_and_report() -> None:
    assert percentile([1, 2, 3, 4, 5], 50) == 3 and percentile([10], 95) == 10
    results = {"machine": {"cpus": 2}, "targets": {"xlsx_vs_naive": {
        "target": 5.0, "measured": 9.4, "met": True}}, "ingest": {"csv": {"by_rows": {
            "100000": {"rows_per_s": 131160, "copy_floor_rows_per_s": 594966,
                       "vs_copy_floor": 0.22}}}}}
    text = render(json.loads(json.dumps(results)))
    assert text.startswith(BEGIN) and text.rstrip().endswith(END)
    assert "| 100 000 | .csv | 131 160 |" in text and "| met |" in text


def test_render_stage_logic_and_tables() -> None:
    """The Chromium stage's user choice, its p95s per dashboard, and the two new tables."""
    from bench.render import commune_role, summarise

    rules = [
        {"role": "Xã A", "clause": "org_unit_id = 'a'", "valid": "1985-12-31 .. 2025-06-30",
         "successor": "c"},
        {"role": "Xã B", "clause": "org_unit_id = 'b'", "valid": "2025-07-01 .."},
        {"role": "Xã C", "clause": "org_unit_id IN ('a', 'c', 'd')", "valid": "2025-07-01 .."},
    ]
    assert commune_role(rules) == "Xã C"  # today's structure, widest row scope
    samples = [{"dashboard": "Y tế", "user": u, "state": st, "s": s, "header_s": s / 2}
               for u, st, s in [("leader", "cold", 3.0), ("leader", "cold", 5.0),
                                ("leader", "warm", 1.0), ("commune", "cold", 2.0),
                                ("commune", "warm", 1.5), ("commune", "warm", 2.5)]]
    table = summarise(samples)["Y tế"]
    assert table["leader_cold"]["n"] == 2 and table["leader_cold"]["p50_s"] == 4.0
    # the part before the first chart: the header's own median
    assert table["leader_cold"]["header_p50_s"] == 2.0
    assert table["commune_warm"]["header_p50_s"] == 1.0
    assert table["cold_p95_s"] == table["leader_cold"]["p95_s"] > 4.0
    assert table["warm_p95_s"] == table["commune_warm"]["p95_s"] > 2.0
    results = {"pipeline": {"district": {
        "full_s": 60.0, "incremental_s": 40.0, "world": {"units": 27, "months": 36},
        "nights": [{"steps": {"intake_files": 1.5, "ioc_dbt_assets": 35.0}}],
        "warehouse": {"total_mb": 321.0, "schemas_mb": {"raw_agency": 100.0, "raw_intake": 20,
                                                         "mart_y_te": 5.0, "staging": 0}},
        "load_average": {"median": 1.2}}},
        "dashboards": {"province": {"render_p95_s": {"Y tế": table}}}}
    text = render(json.loads(json.dumps(results)))
    assert "| district | 27 | 36 | 972 | 60.0 s | 40.0 s | 1.5 s / 35.0 s | 321 MiB | " \
           "120 / 5 MiB | 1.2 |" in text
    assert f"| province | Y tế | {table['cold_p95_s']:.2f} s |" in text
