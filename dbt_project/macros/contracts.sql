{#- A contracted model ends with `{{ contract_select('final') }}`: every column its YAML
    contract names, in the contract's order, cast to the type the contract declares. A
    column's type is thus written once, in the YAML, and the model's SQL selects plain
    columns (a column the contract does not name is left out).
    A plain select stands in where the contract is not at hand: when nothing executes (dbt
    parsing the project, sqlfluff linting it), and in a unit test, whose node has no columns
    and whose context has no graph to find the tested model's in. A unit test compares the
    columns its `expect` names, cast to the types the query returns; the contract's types are
    checked by every build. -#}
{% macro contract_select(relation) -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set columns = model.columns.values() | list -%}
        {%- if not columns -%}
            {{ exceptions.raise_compiler_error(
                "contract_select: " ~ model.name ~ " has no columns in its YAML contract"
            ) }}
        {%- endif %}
    select
        {%- for column in columns %}
        {{ adapter.quote(column.name) }}::{{ column.data_type }} as {{ adapter.quote(column.name) }}
            {{- "," if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    {%- else -%}
    select * from {{ relation }}
    {%- endif -%}
{%- endmacro %}
