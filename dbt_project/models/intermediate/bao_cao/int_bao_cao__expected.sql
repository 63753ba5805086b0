-- Which unit must submit which form for which period: every unit that exists during the
-- period (on at least one of its days, as intake checks it) and that a rule of
-- form_submitters.csv admits for it (a group — `commune_level`: every commune-level unit — or
-- one unit, for periods starting within the rule's dates), for every period that has ended by
-- the report forms' as-of moment A (int_thoi_diem__nguon), from the first period the form was
-- ever accepted for (so the platform's start-up months are not counted as missing). Whether
-- the deadline has passed at A — whether the report is owed yet — is fct_nop_bao_cao's.
with

moment as (
    select {{ local_date('as_of') }} as as_of_day
    from {{ ref('int_thoi_diem__bieu_mau') }}
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
    from {{ ref('dim_bieu_mau') }} as forms
    inner join first_periods on forms.form_code = first_periods.form_code
    cross join moment
    cross join
        lateral generate_series(
            date_trunc('month', first_periods.first_start),
            date_trunc('month', moment.as_of_day::timestamp) - interval '1 month',
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
    from {{ ref('dim_bieu_mau') }} as forms
    inner join first_periods on forms.form_code = first_periods.form_code
    cross join moment
    inner join {{ ref('dim_hoc_ky') }} as semesters
        on
            first_periods.first_start <= semesters.start_date
            and moment.as_of_day > semesters.end_date
    where forms.period_kind = 'semester'
),

periods as (
    select * from monthly_periods
    union all
    select * from semester_periods
),

final as (
    select distinct
        units.org_unit_id,
        periods.form_code,
        periods.period,
        periods.period_start,
        periods.period_end,
        (periods.period_end + forms.due_days_after_period_end)::date as due_date
    from periods
    inner join {{ ref('dim_bieu_mau') }} as forms on periods.form_code = forms.form_code
    inner join {{ ref('form_submitters') }} as submitters
        on
            periods.form_code = submitters.form_code
            and (submitters.period_from is null or periods.period_start >= submitters.period_from)
            and (submitters.period_to is null or periods.period_start <= submitters.period_to)
    inner join {{ ref('dim_don_vi') }} as units
        on
            periods.period_end >= units.valid_from
            and coalesce(units.valid_to, date '9999-12-31') >= periods.period_start
            and (
                submitters.org_unit_id = units.org_unit_id
                or (submitters.submitter_group = 'commune_level' and units.is_commune)
            )
)

select * from final
