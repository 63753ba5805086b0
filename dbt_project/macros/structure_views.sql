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

{#- A district's parts (rank-2 unit: district before the 2025 reform, the IOC's area after
    it) summed from its units' rows in `model` (one row per unit × `keys` in each view of
    history, with district_id): `sums` add up; `more` are further aggregate expressions
    (`min(x) as x`, a filtered sum, …); `counted` names the count of unit rows, if wanted.
    Each row carries the district as its unit (org_unit_id, org_unit_name), its name and
    province (district_name, province_name, from dim_don_vi) and the view's name. Rates are
    recomputed from these sums afterwards, never averaged. -#}
{% macro district_parts(model, keys, sums, more=[], counted=none) -%}
    select
        parts.*,
        parts.district_id as org_unit_id,
        units.org_unit_name,
        units.org_unit_name as district_name,
        units.province_name,
        {{ structure_view_name('parts.structure_view') }} as structure_view_name
    from (
        select
            structure_view,
            district_id,
            {%- for key in keys %}
            {{ key }},
            {%- endfor %}
            {%- if counted %}
            count(*) as {{ counted }},
            {%- endif %}
            {%- for expression in more %}
            {{ expression }},
            {%- endfor %}
            {%- for column in sums %}
            sum({{ column }}) as {{ column }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ ref(model) }}
        where district_id is not null
        group by structure_view, district_id{% for key in keys %}, {{ key }}{% endfor %}
    ) as parts
    left join {{ ref('dim_don_vi') }} as units on parts.district_id = units.org_unit_id
{%- endmacro %}

{#- The closing columns of a mart in both views of history that selects its rows' own columns
    (`rel.*`, with structure_view) and joins dim_don_vi as `units` on the row's unit: the
    view's name, the unit's district and province, and, with `units_reported` (the column
    counting them), how many units a row puts together. -#}
{% macro view_columns(rel, units_reported=none) -%}
        {{ structure_view_name(rel ~ '.structure_view') }} as structure_view_name,
        units.district_name,
        units.province_name
        {%- if units_reported %},
        {{ rel }}.{{ units_reported }} as units_reported
        {%- endif %}
{%- endmacro %}
