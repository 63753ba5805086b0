{#- A join on a composite key: `left.column = right.column` for each of `columns`, e.g.
    `on {{ same_key('latest', 'previous_month', kpi_row_key) }} and …`. -#}
{% macro same_key(left, right, columns) -%}
    {%- for column in columns -%}
        {{ left }}.{{ column }} = {{ right }}.{{ column }}{{ ' and ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
