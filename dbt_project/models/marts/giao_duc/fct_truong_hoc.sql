-- Every school in every semester as the education office reported it on GD-01 (version in
-- force), for drill-through. Schools are public institutions: no personal data here.
-- A school code is unique in the file of the unit that sent it (the district's education
-- office, from 2025-HK1 each commune), not across a province: the key names the sender.
with

final as (
    select
        schools.*,
        semesters.school_year,
        semesters.semester_number,
        semesters.start_date as period_start,
        semesters.end_date as period_end,
        {{ unit_columns() }}
    from {{ ref('int_gd01_current_schools') }} as schools
    left join {{ ref('dim_hoc_ky') }} as semesters
        on schools.semester_period = semesters.semester_period
    left join {{ ref('dim_don_vi') }} as units on schools.org_unit_id = units.org_unit_id
    left join {{ ref('dim_don_vi') }} as current_unit
        on units.current_org_unit_id = current_unit.org_unit_id
)

{{ contract_select('final') }}
