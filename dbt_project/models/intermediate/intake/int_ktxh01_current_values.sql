-- KTXH-01 values of the version in force for each unit and month (corrections replace
-- earlier versions; the earlier rows stay in raw for history): the generic indicator values
-- (int_chi_tieu__current_values) of the form, with what only KTXH-01 reports beside each
-- value (the year's plan, the year to date as reported), from its row in the file.
with

values_ as (
    select * from {{ ref('int_chi_tieu__current_values') }}
    where form_code = 'KTXH-01'
),

final as (
    select
        values_.org_unit_id,
        values_.period_month,
        values_.indicator_code,
        values_.value,
        ktxh_rows.plan_year,
        ktxh_rows.ytd_reported,
        values_.file_id,
        values_.arrived_at
    from values_
    inner join {{ ref('stg_intake__ktxh01_value') }} as ktxh_rows
        on
            values_.file_id = ktxh_rows.file_id
            and values_.source_sheet = ktxh_rows.source_sheet
            and values_.source_row = ktxh_rows.source_row
)

select * from final
