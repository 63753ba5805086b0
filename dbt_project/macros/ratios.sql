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
