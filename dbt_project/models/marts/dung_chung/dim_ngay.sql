-- Days (ngày) with Vietnamese working days: weekends and public holidays (Tết included) are
-- days off, the Saturdays worked in exchange for a bridge day are working days. Deadlines in
-- working days use `working_day_seq`: the number of working days up to and including the
-- day, so "n working days after d" is the working day whose seq is seq(d) + n, and the
-- working days in (a, b] are seq(b) − seq(a).
with

days as (
    select generate_series(
        date '{{ var("calendar_start") }}',
        date '{{ var("calendar_end") }}',
        interval '1 day'
    )::date as date_day
),

flagged as (
    select
        days.date_day,
        extract(isodow from days.date_day)::int as iso_weekday,
        holidays.name as holiday_name,
        coalesce(holidays.kind = 'holiday', false) as is_holiday,
        coalesce(holidays.name like '%Lunar New Year%', false) as is_tet,
        case
            when holidays.kind = 'weekend_workday' then true
            when holidays.kind = 'holiday' then false
            else extract(isodow from days.date_day) < 6
        end as is_working_day
    from days
    left join {{ ref('vn_holidays') }} as holidays on days.date_day = holidays.holiday_date
),

final as (
    select
        date_day,
        extract(year from date_day)::int as year,
        extract(quarter from date_day)::int as quarter,
        extract(month from date_day)::int as month,
        extract(day from date_day)::int as day_of_month,
        date_trunc('month', date_day)::date as period_month,
        to_char(date_day, 'YYYY-MM')::text as period,
        iso_weekday,
        (iso_weekday >= 6)::boolean as is_weekend,
        is_holiday,
        is_tet,
        holiday_name,
        is_working_day,
        sum(case when is_working_day then 1 else 0 end)
            over (order by date_day rows between unbounded preceding and current row)::int
            as working_day_seq,
        case
            when extract(month from date_day) >= 9
                then extract(year from date_day)::int
            when extract(month from date_day) <= 5
                then extract(year from date_day)::int - 1
        end as school_year_start,
        case
            when extract(month from date_day) >= 9
                then extract(year from date_day)::int || '-HK1'
            when extract(month from date_day) = 1
                then (extract(year from date_day)::int - 1) || '-HK1'
            when extract(month from date_day) between 2 and 5
                then (extract(year from date_day)::int - 1) || '-HK2'
        end as semester_period
    from flagged
)

{{ contract_select('final') }}
