-- School semesters (học kỳ): HK1 September–January and HK2 February–May of school year
-- YYYY–YYYY+1, identified as intake writes them (`2024-HK1`).
with

years as (
    select generate_series(
        extract(year from date '{{ var("calendar_start") }}')::int - 1,
        extract(year from date '{{ var("calendar_end") }}')::int - 1
    ) as school_year_start
),

halves as (
    select
        years.school_year_start,
        half.semester_number
    from years
    cross join (values (1), (2)) as half (semester_number)
),

final as (
    select
        (school_year_start || '-HK' || semester_number)::text as semester_period,
        school_year_start,
        (school_year_start || '-' || (school_year_start + 1))::text as school_year,
        semester_number,
        (
            'Học kỳ ' || case when semester_number = 1 then 'I' else 'II' end
            || ' năm học ' || school_year_start || '-' || (school_year_start + 1)
        )::text as semester_name,
        case
            when semester_number = 1 then make_date(school_year_start, 9, 1)
            else make_date(school_year_start + 1, 2, 1)
        end as start_date,
        case
            when semester_number = 1 then make_date(school_year_start + 1, 1, 31)
            else make_date(school_year_start + 1, 5, 31)
        end as end_date
    from halves
)

{{ contract_select('final') }}
