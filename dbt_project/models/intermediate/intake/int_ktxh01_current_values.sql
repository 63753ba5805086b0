-- KTXH-01 values of the version in force for each unit and month (corrections replace
-- earlier versions; the earlier rows stay in raw for history): the generic indicator values
-- (int_chi_tieu__current_values) of the form, with what only KTXH-01 reports beside each
-- value (the year's plan, the year to date as reported), from its row in the file.
with

final as (
    select
        values_.*,
        ktxh_rows.plan_year,
        ktxh_rows.ytd_reported
    from {{ ref('int_chi_tieu__current_values') }} as values_
    inner join {{ ref('stg_intake__ktxh01_value') }} as ktxh_rows
        using (file_id, source_sheet, source_row)
    where values_.form_code = 'KTXH-01'
)

select * from final  -- noqa: AM04
