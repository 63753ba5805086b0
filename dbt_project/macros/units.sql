{#- The org unit an agency record belongs to: the unit whose api_code it carries and that was
    valid on `on_date`; when none was valid that day (a record stamped with an old code), the
    most recent unit with that code. api_codes are reused across mergers (Tân An → Tân Bình
    keep 20755), so the code alone is not enough. Use as
    `left join lateral {{ org_unit_at('x.ma_don_vi', 'x.received_date') }} as unit on true`. -#}
{% macro org_unit_at(api_code, on_date) -%}
    (
        select units.org_unit_id
        from {{ ref('dim_don_vi') }} as units
        where units.api_code = {{ api_code }}
        order by
            ({{ on_date }} between units.valid_from
                and coalesce(units.valid_to, date '9999-12-31')) desc,
            units.valid_from desc
        limit 1
    )
{%- endmacro %}
