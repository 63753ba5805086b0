{#- A pre-hook that keeps the planner from nested loops for the model's build (SET LOCAL: its
    own transaction only). For a model over a chain of views whose row estimates collapse to
    one row (a join on several columns of the intake's views, a filter on a CASE of a regular
    expression): believing one row, PostgreSQL nests a loop that re-runs an aggregate for
    each of tens of thousands of real rows. fct_ngoai_le on a city's year of reports: 220 s
    with the nested loop, 0.17 s with hash joins, the same 1,337 rows (docs/performance.md,
    "Cost of growth"). -#}
{% macro without_nested_loops() -%}
    set local enable_nestloop = off
{%- endmacro %}
