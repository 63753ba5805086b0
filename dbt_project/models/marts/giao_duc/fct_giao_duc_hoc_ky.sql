-- Schools per commune × level × semester (GD-01), with the parts of every rate, in both
-- views of history (structure_view: each school under the commune it stood in as reported;
-- today's structure, under the commune that holds that commune's place today):
--   minority share = minority pupils / pupils;  dropout rate = dropouts in the semester /
--   pupils;  pupils per teacher = pupils / teachers;  national standard = schools meeting
--   the national standard / schools.
with

schools as (
    select * from {{ ref('fct_truong_hoc') }}
),

summed as (
    select
        semester_period,
        org_unit_id,
        school_level,
        count(*) as schools,
        count(*) filter (where national_standard) as schools_national_standard,
        sum(classes) as classes,
        sum(pupils) as pupils,
        sum(girls) as girls,
        sum(minority_pupils) as minority_pupils,
        sum(dropouts) as dropouts,
        sum(teachers) as teachers,
        sum(solid_classrooms) as solid_classrooms
    from schools
    group by semester_period, org_unit_id, school_level
),

both_views as (
    {{ in_both_structures('summed', ['semester_period', 'school_level'], [
        'schools', 'schools_national_standard', 'classes', 'pupils', 'girls',
        'minority_pupils', 'dropouts', 'teachers', 'solid_classrooms']) }}
),

final as (
    select
        summed.*,
        {{ unit_name_columns() }},
        semesters.school_year,
        semesters.semester_number,
        semesters.start_date as period_start,
        semesters.end_date as period_end,
        date_trunc('month', semesters.end_date)::date as period_month,
        {{ pct('summed.girls', 'summed.pupils') }} as girls_share,
        {{ pct('summed.minority_pupils', 'summed.pupils') }} as minority_share,
        {{ pct('summed.dropouts', 'summed.pupils') }} as dropout_rate,
        {{ ratio('summed.pupils', 'summed.teachers') }} as pupils_per_teacher,
        {{ pct('summed.schools_national_standard', 'summed.schools') }}
            as national_standard_share,
        {{ view_columns('summed', units_reported='source_units') }}
    from both_views as summed
    left join {{ ref('dim_hoc_ky') }} as semesters
        on summed.semester_period = semesters.semester_period
    left join {{ ref('dim_don_vi') }} as units on summed.org_unit_id = units.org_unit_id
)

{{ contract_select('final') }}
