-- Every school in every semester as the education office reported it on GD-01 (version in
-- force), for drill-through. Schools are public institutions: no personal data here.
-- A school code is unique in the file of the unit that sent it (the district's education
-- office, from 2025-HK1 each commune), not across a province: the key names the sender.
with

schools as (
    select * from {{ ref('int_gd01_current_schools') }}
),

semesters as (
    select * from {{ ref('dim_hoc_ky') }}
),

units as (
    select * from {{ ref('dim_don_vi') }}
),

final as (
    select
        schools.semester_period::text as semester_period,
        semesters.school_year::text as school_year,
        semesters.semester_number::int as semester_number,
        semesters.start_date::date as period_start,
        semesters.end_date::date as period_end,
        schools.submitted_by::text as submitted_by,
        schools.school_code::text as school_code,
        schools.school_name::text as school_name,
        schools.school_level::text as school_level,
        schools.org_unit_id::text as org_unit_id,
        {{ unit_columns() }},
        schools.classes::bigint as classes,
        schools.pupils::bigint as pupils,
        schools.girls::bigint as girls,
        schools.minority_pupils::bigint as minority_pupils,
        schools.dropouts::bigint as dropouts,
        schools.teachers::bigint as teachers,
        schools.solid_classrooms::bigint as solid_classrooms,
        schools.national_standard::boolean as national_standard,
        schools.file_id::bigint as file_id
    from schools
    left join semesters on schools.semester_period = semesters.semester_period
    left join units on schools.org_unit_id = units.org_unit_id
    left join {{ ref('dim_don_vi') }} as current_unit
        on units.current_org_unit_id = current_unit.org_unit_id
)

select * from final
