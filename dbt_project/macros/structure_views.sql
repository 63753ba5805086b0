{#- Two views of history (docs/warehouse.md, "Two views of history"):

    as_reported        each figure under the unit that reported it;
    current_structure  the figures of every unit put together under the unit that holds its
                       place today (model int_don_vi__hien_nay: successor_id followed through
                       every merger; district agencies that ended → the area).

    `in_both_structures` turns a relation of additive parts per unit (counts, sums, numerators
    and denominators) into the rows of both views: the relation as it is, tagged
    `as_reported`, and the same parts summed per today's unit, tagged `current_structure`.
    Rates are computed after it, from the parts of either view, so a rate across a merger is
    recomputed from the summed parts, never averaged. `keys` are the other grouping columns
    (month, field, …), `sums` the additive columns; `source_units` counts the reporting units
    a row puts together (1 as reported). -#}
{% macro in_both_structures(relation, keys, sums, unit='org_unit_id') -%}
    select
        'as_reported'::text as structure_view,
        reported.{{ unit }} as org_unit_id,
        {%- for key in keys %}
        reported.{{ key }},
        {%- endfor %}
        {%- for column in sums %}
        reported.{{ column }},
        {%- endfor %}
        1::bigint as source_units
    from {{ relation }} as reported
    union all
    select
        'current_structure'::text as structure_view,
        coalesce(today_unit.current_org_unit_id, reported.{{ unit }}) as org_unit_id,
        {%- for key in keys %}
        reported.{{ key }},
        {%- endfor %}
        {%- for column in sums %}
        sum(reported.{{ column }}) as {{ column }},
        {%- endfor %}
        count(distinct reported.{{ unit }})::bigint as source_units
    from {{ relation }} as reported
    left join {{ ref('int_don_vi__hien_nay') }} as today_unit
        on reported.{{ unit }} = today_unit.org_unit_id
    group by
        coalesce(today_unit.current_org_unit_id, reported.{{ unit }})
        {%- for key in keys %},
        reported.{{ key }}
        {%- endfor %}
{%- endmacro %}

{#- The Vietnamese name of a view, for dashboard filters. -#}
{% macro structure_view_name(view) -%}
    case {{ view }}
        when 'as_reported' then 'Như đã báo cáo'
        when 'current_structure' then 'Theo cấu trúc hiện nay'
    end::text
{%- endmacro %}
