-- Every problem that made the intake refuse a file: one row per refused file × error, with
-- the reason grouped through the seed `refusal_reasons` (by the error's `code`; a code the
-- seed does not know is `khac`, other). Where it was found (sheet, row, column) and the
-- message the commune received are kept; the cell value is not (it is in the message when
-- it matters, and the archive keeps the file).
with

refused as (
    select * from {{ ref('stg_intake__file_manifest') }}
    where status = 'rejected'
),

errors as (
    select
        refused.file_id,
        refused.org_unit_id,
        refused.form_code,
        refused.period,
        refused.arrived_at,
        refused.arrived_date,
        problem.ordinality as error_index,
        problem.item ->> 'code' as code,
        problem.item ->> 'sheet' as sheet,
        problem.item ->> 'row' as row_number,
        problem.item ->> 'column' as column_name,
        problem.item ->> 'message' as message
    from refused
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(refused.errors) = 'array' then refused.errors else '[]' end
    ) with ordinality as problem (item, ordinality)
),

final as (
    select
        errors.file_id,
        errors.error_index,
        errors.org_unit_id,
        units.org_unit_name,
        units.district_id,
        units.current_org_unit_id,
        units.current_org_unit_name,
        current_unit.district_id as current_district_id,
        errors.form_code,
        errors.period,
        errors.arrived_at,
        date_trunc('month', errors.arrived_date)::date as period_month,
        errors.code as reason_code,
        coalesce(reasons.reason_group, 'khac')::text as reason_group,
        coalesce(reasons.reason_group_name, 'Lý do khác')::text as reason_group_name,
        errors.sheet,
        errors.row_number,
        errors.column_name,
        errors.message
    from errors
    left join {{ ref('refusal_reasons') }} as reasons on errors.code = reasons.code
    left join {{ ref('dim_don_vi') }} as units on errors.org_unit_id = units.org_unit_id
    left join {{ ref('dim_don_vi') }} as current_unit
        on units.current_org_unit_id = current_unit.org_unit_id
)

{{ contract_select('final') }}
