-- KTXH-01 indicators mapped onto the latest structure: per latest unit × indicator × month,
-- the reported values of the unit and all its predecessors (Hiệp Hòa + Hiệp Thuận → Quế
-- Tân before 2025). Area roll-up as indicators.csv says: `sum` adds the units; `none` keeps
-- a value only when a single unit reported it (criteria met cannot be added). Year to date
-- is recomputed from the mapped months (flows summed, stocks the month's value).
with

reported as (
    select * from {{ ref('fct_chi_tieu_thang') }}
),

indicators as (
    select * from {{ ref('dim_chi_tieu') }}
),

units as (
    select * from {{ ref('dim_don_vi') }}
),

mapped as (
    select
        reported.latest_org_unit_id as org_unit_id,
        reported.period_month,
        reported.indicator_code,
        count(*) as units_reported,
        string_agg(reported.org_unit_id, ', ' order by reported.org_unit_id) as reported_by,
        case
            when min(reported.area_rollup) = 'sum' then sum(reported.value)
            when count(*) = 1 then min(reported.value)
        end as value,
        case
            when min(reported.area_rollup) = 'sum' then sum(reported.plan_year)
            when count(*) = 1 then min(reported.plan_year)
        end as plan_year
    from reported
    group by reported.latest_org_unit_id, reported.period_month, reported.indicator_code
),

with_ytd as (
    select
        mapped.*,
        indicators.kind,
        case
            when indicators.kind = 'flow'
                then sum(mapped.value) over (
                        partition by
                            mapped.org_unit_id,
                            mapped.indicator_code,
                            date_trunc('year', mapped.period_month)
                        order by mapped.period_month
                        rows between unbounded preceding and current row
                    )
            else mapped.value
        end as ytd_value
    from mapped
    inner join indicators on mapped.indicator_code = indicators.indicator_code
),

final as (
    select
        with_ytd.org_unit_id::text as org_unit_id,
        units.org_unit_name::text as org_unit_name,
        units.district_id::text as district_id,
        with_ytd.period_month::date as period_month,
        with_ytd.indicator_code::text as indicator_code,
        indicators.indicator_name::text as indicator_name,
        indicators.indicator_group::text as indicator_group,
        indicators.unit::text as unit,
        with_ytd.kind::text as kind,
        indicators.area_rollup::text as area_rollup,
        with_ytd.value::numeric as value,
        with_ytd.ytd_value::numeric as ytd_value,
        with_ytd.plan_year::numeric as plan_year,
        {{ pct('with_ytd.ytd_value', 'with_ytd.plan_year', 1) }} as pct_of_plan,
        with_ytd.units_reported::int as units_reported,
        with_ytd.reported_by::text as reported_by
    from with_ytd
    inner join indicators on with_ytd.indicator_code = indicators.indicator_code
    left join units on with_ytd.org_unit_id = units.org_unit_id
)

select * from final
