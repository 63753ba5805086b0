-- GD-01 school rows of the version in force for each semester.
-- The staging rows as they are (their columns are the staging model's), with the file's
-- unit and period.
with

final as (
    select
        schools.*,
        files.period as semester_period,
        files.org_unit_id as submitted_by
    from {{ ref('stg_intake__gd01_school') }} as schools
    inner join {{ ref('int_intake__current_files') }} as files
        on schools.file_id = files.file_id and files.form_code = 'GD-01'
)

select * from final  -- noqa: AM04
