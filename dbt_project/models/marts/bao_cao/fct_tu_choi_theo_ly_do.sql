-- Refused files per unit × form × month of arrival × reason group: how many files were
-- refused for that reason and how many problems of that kind they had. A file refused for
-- two kinds of reasons counts under both. Both views of history (structure_view): under the
-- unit that sent the file, and under the unit that holds its place today.
with

placed as (
    select
        'as_reported' as structure_view,
        errors.org_unit_id as view_org_unit_id,
        errors.*
    from {{ ref('fct_loi_tu_choi') }} as errors
    union all
    select
        'current_structure' as structure_view,
        errors.current_org_unit_id as view_org_unit_id,
        errors.*
    from {{ ref('fct_loi_tu_choi') }} as errors
),

final as (
    select
        coalesce(placed.view_org_unit_id, '(không xác định)')::text as org_unit_id,
        coalesce(min(units.org_unit_name), 'Không xác định được đơn vị')::text as org_unit_name,
        min(units.district_id)::text as district_id,
        coalesce(placed.form_code, '(không xác định)')::text as form_code,
        placed.period_month,
        placed.reason_group,
        min(placed.reason_group_name)::text as reason_group_name,
        count(distinct placed.file_id)::bigint as refused_files,
        count(*)::bigint as problems,
        placed.structure_view,
        {{ structure_view_name('placed.structure_view') }} as structure_view_name,
        min(units.district_name)::text as district_name,
        min(units.province_name)::text as province_name
    from placed
    left join {{ ref('dim_don_vi') }} as units on placed.view_org_unit_id = units.org_unit_id
    group by
        placed.structure_view,
        coalesce(placed.view_org_unit_id, '(không xác định)'),
        coalesce(placed.form_code, '(không xác định)'),
        placed.period_month,
        placed.reason_group
)

{{ contract_select('final') }}
