{#- The org unit an agency record belongs to: the unit that held the api_code the record
    carries on `on_date` (its receipt date). Official codes are reused — a unit formed by a
    merger takes the code of one unit merged into it — so a code means a unit only together
    with a date. When no unit held the code that day (a record stamped with a stale code), the
    latest unit that held it before that day, else the earliest after. Use as
    `left join lateral {{ org_unit_at('x.ma_don_vi', 'x.received_date') }} as unit on true`. -#}
{% macro org_unit_at(api_code, on_date) -%}
    (
        select units.org_unit_id
        from {{ ref('dim_don_vi') }} as units
        where units.api_code = {{ api_code }}
        order by
            ({{ on_date }} between units.valid_from
                and coalesce(units.valid_to, date '9999-12-31')) desc,
            (units.valid_from <= {{ on_date }}) desc,
            case when units.valid_from <= {{ on_date }} then units.valid_from end desc,
            units.valid_from asc
        limit 1
    )
{%- endmacro %}

{#- A row's unit in the unit catalogue (`units`: dim_don_vi joined on the row's org_unit_id)
    and the district of the unit that holds its place today (`current_unit`: dim_don_vi
    joined on units.current_org_unit_id). Types: the mart's contract (contract_select). -#}
{% macro unit_columns() -%}
        {{ unit_name_columns() }},
        units.current_org_unit_id,
        units.current_org_unit_name,
        current_unit.district_id as current_district_id
{%- endmacro %}

{#- The unit columns of a mart per unit that selects its rows' own columns (`rows.*`, with
    org_unit_id) and joins dim_don_vi as `units` on the row's unit: the unit's name, the
    latest unit it became and its district. -#}
{% macro unit_name_columns() -%}
        units.org_unit_name,
        units.latest_org_unit_id,
        units.district_id
{%- endmacro %}
