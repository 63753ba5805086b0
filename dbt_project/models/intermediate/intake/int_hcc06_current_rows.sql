-- HCC-06 rows of the version in force for each commune and month (one per field).
-- The staging rows as they are (their columns are the staging model's), with the file's
-- unit and period.
with

final as (
    select
        files.org_unit_id,
        files.period_month,
        rows_.*
    from {{ ref('stg_intake__hcc06_row') }} as rows_
    inner join {{ ref('int_intake__current_files') }} as files
        on rows_.file_id = files.file_id and files.form_code = 'HCC-06'
)

select * from final  -- noqa: AM04
