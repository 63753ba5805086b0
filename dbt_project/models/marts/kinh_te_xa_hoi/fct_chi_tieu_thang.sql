-- One row per commune × KTXH-01 indicator × month, as reported (version in force).
-- Year to date: flows are summed from January; stocks take the month's own value (the last
-- value of the period), never a sum over months.
with

reported as (
    select * from {{ ref('int_ktxh01_current_values') }}
),

indicators as (
    select * from {{ ref('dim_chi_tieu') }}
),

units as (
    select * from {{ ref('dim_don_vi') }}
),

with_ytd as (
    select
        reported.*,
        indicators.kind,
        case
            when indicators.kind = 'flow'
                then sum(reported.value) over (
                        partition by
                            reported.org_unit_id,
                            reported.indicator_code,
                            date_trunc('year', reported.period_month)
                        order by reported.period_month
                        rows between unbounded preceding and current row
                    )
            else reported.value
        end as ytd_value
    from reported
    inner join indicators on reported.indicator_code = indicators.indicator_code
),

final as (
    select
        with_ytd.org_unit_id::text as org_unit_id,
        units.org_unit_name::text as org_unit_name,
        with_ytd.period_month::date as period_month,
        extract(year from with_ytd.period_month)::int as year,
        extract(month from with_ytd.period_month)::int as month,
        with_ytd.indicator_code::text as indicator_code,
        indicators.indicator_name::text as indicator_name,
        indicators.indicator_group::text as indicator_group,
        indicators.unit::text as unit,
        with_ytd.kind::text as kind,
        with_ytd.value::numeric as value,
        with_ytd.ytd_value::numeric as ytd_value,
        with_ytd.plan_year::numeric as plan_year,
        {{ pct('with_ytd.ytd_value', 'with_ytd.plan_year', 1) }} as pct_of_plan,
        with_ytd.file_id::bigint as file_id,
        with_ytd.ytd_reported::numeric as ytd_reported,
        indicators.month_rollup::text as month_rollup,
        indicators.area_rollup::text as area_rollup,
        units.latest_org_unit_id::text as latest_org_unit_id,
        units.latest_org_unit_name::text as latest_org_unit_name,
        units.district_id::text as district_id
    from with_ytd
    inner join indicators on with_ytd.indicator_code = indicators.indicator_code
    left join units on with_ytd.org_unit_id = units.org_unit_id
)

select * from final
