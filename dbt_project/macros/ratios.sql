{#- Rates are always computed from their parts, here and in every roll-up, never averaged. -#}

{#- A percentage 0–100, null when the denominator is zero or missing. -#}
{% macro pct(numerator, denominator, digits=2) -%}
    case
        when ({{ denominator }}) > 0
            then round(100.0 * ({{ numerator }}) / ({{ denominator }}), {{ digits }})
    end::numeric
{%- endmacro %}

{#- A plain ratio (pupils per teacher, cases per 100,000 with scale=100000). -#}
{% macro ratio(numerator, denominator, scale=1, digits=2) -%}
    case
        when ({{ denominator }}) > 0
            then round({{ scale }} * ({{ numerator }})::numeric / ({{ denominator }}), {{ digits }})
    end::numeric
{%- endmacro %}

{#- A KPI's value from its parts, as every model computes it (catalogue/kpis.yaml): a count is
    its numerator; a rate or ratio is numerator × scale / denominator, 2 decimals, no value
    when the denominator is zero or missing — never 0 % or 100 % over an empty population. -#}
{% macro kpi_value(kind, numerator, denominator, scale) -%}
    case
        when ({{ kind }}) = 'count' then round(({{ numerator }})::numeric, 2)
        else {{ ratio(numerator, denominator, scale) }}
    end::numeric
{%- endmacro %}

{#- A Python/Jinja value as an SQL literal (dim_chi_so's rows from the catalogue). -#}
{% macro sql_literal(value) -%}
    {%- if value is none -%}null
    {%- elif value is sameas true -%}true
    {%- elif value is sameas false -%}false
    {%- elif value is number -%}{{ value }}
    {%- else -%}'{{ value | string | replace("'", "''") }}'
    {%- endif -%}
{%- endmacro %}
