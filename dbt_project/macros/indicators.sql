{#- Indicator-list forms (KTXH-01, YT-01 and any form added by its contract): the values of
    the generic mart (mart_chi_tieu.fct_chi_tieu_thang) and of the specialised ones
    (mart_kinh_te_xa_hoi) in both views of history. -#}

{#- Reported indicator values in both views of history (docs/warehouse.md, "Two views of
    history"):
      as_reported        each unit's values as reported (version in force);
      current_structure  the values of the units that hold today's unit's place
                         (int_don_vi__hien_nay) put together: `rolled` columns add up for
                         `sum` indicators (dim_chi_tieu.area_rollup), and keep a value only
                         when one unit reported it for the others (a rate or a count of
                         criteria cannot be added); `single` columns (the file, a figure only
                         its unit can state) only when one unit reported it.
    `relation` has one row per reported value with org_unit_id, indicator_code and `keys`
    (the other grouping columns: form, month, …; form_code among them matches the indicator
    on its form too). Each row says how many units it puts together (units_reported) and
    which (reported_by). -#}
{% macro indicator_both_views(relation, keys, rolled=['value'], single=['file_id']) -%}
    {%- set rows -%}
        (
            select
                reported.*,
                coalesce(today_units.current_org_unit_id, reported.org_unit_id)
                    as today_org_unit_id,
                coalesce(indicators.area_rollup, 'none') as area_rollup
            from {{ relation }} as reported
            left join {{ ref('dim_chi_tieu') }} as indicators
                on
                    reported.indicator_code = indicators.indicator_code
                    {%- if 'form_code' in keys %}
                    and reported.form_code = indicators.form_code
                    {%- endif %}
            left join {{ ref('int_don_vi__hien_nay') }} as today_units
                on reported.org_unit_id = today_units.org_unit_id
        )
    {%- endset %}
    select
        'as_reported'::text as structure_view,
        org_unit_id,
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        {%- for column in rolled + single %}
        {{ column }},
        {%- endfor %}
        1 as units_reported,
        org_unit_id as reported_by
    from {{ relation }}
    union all
    select
        'current_structure'::text as structure_view,
        today_org_unit_id as org_unit_id,
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        {%- for column in rolled %}
        case
            when min(area_rollup) = 'sum' then sum({{ column }})
            when count(*) = 1 then min({{ column }})
        end as {{ column }},
        {%- endfor %}
        {%- for column in single %}
        case when count(*) = 1 then min({{ column }}) end as {{ column }},
        {%- endfor %}
        count(*) as units_reported,
        string_agg(org_unit_id, ', ' order by org_unit_id) as reported_by
    from {{ rows }} as rows_
    group by today_org_unit_id{% for key in keys %}, {{ key }}{% endfor %}
{%- endmacro %}

{#- Year to date of an indicator value in `relation` (rows per structure_view × `unit` ×
    indicator_code × period_month, joined to dim_chi_tieu as `indicators`): a flow is summed
    over its own view's months since January, a stock takes the month's own value, never a
    sum over months. -#}
{% macro year_to_date(relation, unit='org_unit_id') -%}
    case
        when indicators.kind = 'flow'
            then sum({{ relation }}.value) over (
                    partition by
                        {{ relation }}.structure_view,
                        {{ relation }}.{{ unit }},
                        {{ relation }}.indicator_code,
                        date_trunc('year', {{ relation }}.period_month)
                    order by {{ relation }}.period_month
                    rows between unbounded preceding and current row
                )
        else {{ relation }}.value
    end
{%- endmacro %}

{#- An indicator-list form's rows (`relation`: org_unit_id, period_month, indicator_code,
    value) turned into one row per unit × month with one column per indicator: `columns`
    maps each indicator code to its column's name; `more` are further aggregate expressions
    (`max(file_id) as file_id`, …) before them. -#}
{% macro indicator_pivot(relation, columns, more=[]) -%}
    select
        org_unit_id,
        period_month,
        {%- for expression in more %}
        {{ expression }},
        {%- endfor %}
        {%- for code, name in columns.items() %}
        max(value) filter (where indicator_code = '{{ code }}') as {{ name }}
        {{- ',' if not loop.last }}
        {%- endfor %}
    from {{ relation }}
    group by org_unit_id, period_month
{%- endmacro %}

{#- The staging of an indicator-list form's own table (raw_intake.<table>): its rows as
    loaded, the indicator code normalised, the value a number; `extra` are the form's own
    columns (SQL expressions with their names), before the note. -#}
{% macro indicator_form_rows(table, extra=[]) -%}
with

source as (
    select * from {{ source('raw_intake', table) }}
),

renamed as (
    select
        file_id,
        source_sheet,
        source_row,
        upper(trim(indicator_code)) as indicator_code,
        value::numeric as value,
        -- the value cell's text as written in the file (null for rows loaded before it was kept)
        (as_written ->> 'value')::text as value_as_written,
        {%- for expression in extra %}
        {{ expression }},
        {%- endfor %}
        note
    from source
)

select * from renamed
{%- endmacro %}

{#- A value counted only where another is known (`reported` not null): the base of a rate
    whose numerator not every unit reports, or a count that needs the population. -#}
{% macro if_reported(value, reported) -%}
    case when {{ reported }} is not null then {{ value }} end
{%- endmacro %}

{#- The year and month of a month column, as the indicator marts name them. -#}
{% macro year_and_month(month) -%}
        extract(year from {{ month }})::int as year,
        extract(month from {{ month }})::int as month
{%- endmacro %}
