-- Which unit must submit which form for which period: every unit valid at the end of the
-- period whose type (communes for KTXH-01, YT-01, HCC-06) or id (phong-gddt for GD-01) the
-- form names, for every period that has ended, from the first period the form was ever
-- accepted for (so the platform's start-up months are not counted as missing).
with

forms as (
    select * from {{ ref('dim_bieu_mau') }}
),

units as (
    select * from {{ ref('dim_don_vi') }}
),

semesters as (
    select * from {{ ref('dim_hoc_ky') }}
),

first_periods as (
    select
        form_code,
        min(period_start) as first_start
    from {{ ref('stg_intake__file_manifest') }}
    where status = 'accepted' and period_start is not null
    group by form_code
),

monthly_periods as (
    select
        forms.form_code,
        to_char(months.month_start, 'YYYY-MM') as period,
        months.month_start::date as period_start,
        (months.month_start + interval '1 month - 1 day')::date as period_end
    from forms
    inner join first_periods on forms.form_code = first_periods.form_code
    cross join
        lateral generate_series(
            date_trunc('month', first_periods.first_start),
            date_trunc('month', {{ as_of_date() }}::timestamp) - interval '1 month',
            interval '1 month'
        ) as months (month_start)
    where forms.period_kind = 'month'
),

semester_periods as (
    select
        forms.form_code,
        semesters.semester_period as period,
        semesters.start_date as period_start,
        semesters.end_date as period_end
    from forms
    inner join first_periods on forms.form_code = first_periods.form_code
    inner join semesters
        on
            first_periods.first_start <= semesters.start_date
            and semesters.end_date < {{ as_of_date() }}
    where forms.period_kind = 'semester'
),

periods as (
    select * from monthly_periods
    union all
    select * from semester_periods
),

final as (
    select
        units.org_unit_id,
        periods.form_code,
        periods.period,
        periods.period_start,
        periods.period_end,
        (periods.period_end + forms.due_days_after_period_end)::date as due_date
    from periods
    inner join forms on periods.form_code = forms.form_code
    inner join units
        on
            periods.period_end >= units.valid_from
            and coalesce(units.valid_to, date '9999-12-31') >= periods.period_end
            and (
                units.unit_type = any(string_to_array(forms.submitter_unit_types, '|'))
                or units.org_unit_id = any(string_to_array(forms.submitter_org_unit_ids, '|'))
            )
)

select * from final
