{#- Schemas are named exactly as configured (mart_kinh_te_xa_hoi, staging, ...), without the
    target-schema prefix dbt adds by default: dashboards and grants rely on fixed names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
