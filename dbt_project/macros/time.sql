{#- Dates and times as Vietnam sees them. Asia/Ho_Chi_Minh has had no daylight saving since
    1975, so these are exact; every "which day/month" question goes through them. -#}

{% macro local_date(ts) -%}
    (({{ ts }}) at time zone 'Asia/Ho_Chi_Minh')::date
{%- endmacro %}

{% macro local_month(ts) -%}
    date_trunc('month', ({{ ts }}) at time zone 'Asia/Ho_Chi_Minh')::date
{%- endmacro %}

{#- The first instant of the month after `month_start` (a date), as timestamptz. -#}
{% macro month_end_ts(month_start) -%}
    ((({{ month_start }}) + interval '1 month')::timestamp at time zone 'Asia/Ho_Chi_Minh')
{%- endmacro %}

{#- "Today" for statuses that depend on it; `--vars '{as_of_date: 2025-07-15}'` pins it. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', '') -%}
        date '{{ var("as_of_date") }}'
    {%- else -%}
        (now() at time zone 'Asia/Ho_Chi_Minh')::date
    {%- endif -%}
{%- endmacro %}
