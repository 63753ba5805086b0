-- GD-01 school rows of the version in force for each semester.
with

files as (
    select * from {{ ref('int_intake__current_files') }}
    where form_code = 'GD-01'
),

final as (
    select
        files.period as semester_period,
        files.org_unit_id as submitted_by,
        schools.school_code,
        schools.school_name,
        schools.school_level,
        schools.org_unit_id,
        schools.classes,
        schools.pupils,
        schools.girls,
        schools.minority_pupils,
        schools.dropouts,
        schools.teachers,
        schools.solid_classrooms,
        schools.national_standard,
        files.file_id
    from {{ ref('stg_intake__gd01_school') }} as schools
    inner join files on schools.file_id = files.file_id
)

select * from final
