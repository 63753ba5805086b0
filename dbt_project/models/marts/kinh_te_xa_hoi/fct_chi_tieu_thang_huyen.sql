-- KTXH-01 indicators per rank-2 unit (district before the 2025 reform, the IOC's area after
-- it) × indicator × month, in both views of history (structure_view: as reported, the
-- communes under the district they belonged to; today's structure, under today's area).
-- Indicators with area_rollup `sum`
-- add their communes' values; `none` (e.g. XH06, criteria met) has no district value, only
-- the count of communes that reported. Year to date of a flow is the sum of the district's
-- months since January (so a commune merged mid-year still counts before its merger); of a
-- stock, the month's district value. The district's annual plan is the sum of each
-- commune's latest plan reported so far that year (a commune that skipped a month still has
-- its plan counted).
{#- A district's row in a view of history and a month. -#}
{%- set district_month = ['structure_view', 'district_id', 'period_month'] %}
with

valid_communes as (
    -- communes valid at the end of each month that has reports, with today's unit
    select
        months.period_month,
        units.org_unit_id,
        units.district_id,
        units.current_org_unit_id
    from (select distinct period_month from {{ ref('fct_chi_tieu_thang') }}) as months
    inner join {{ ref('dim_don_vi') }} as units
        on
            units.is_commune
            and units.valid_from <= (months.period_month + interval '1 month - 1 day')::date
            and coalesce(units.valid_to, date '9999-12-31')
            >= (months.period_month + interval '1 month - 1 day')::date
),

expected as (
    -- as reported: the communes of the month per district; today's structure: today's
    -- communes those communes make up, per today's area
    select
        'as_reported' as structure_view,
        period_month,
        district_id,
        count(*) as communes_expected
    from valid_communes
    group by period_month, district_id
    union all
    select
        'current_structure' as structure_view,
        valid_communes.period_month,
        today_unit.district_id,
        count(distinct valid_communes.current_org_unit_id) as communes_expected
    from valid_communes
    inner join {{ ref('dim_don_vi') }} as today_unit
        on valid_communes.current_org_unit_id = today_unit.org_unit_id
    where today_unit.is_commune
    group by valid_communes.period_month, today_unit.district_id
),

district_months as (
    select
        reported.structure_view,
        reported.district_id,
        reported.period_month,
        reported.indicator_code,
        count(reported.value) as communes_reported,
        case when min(reported.area_rollup) = 'sum' then sum(reported.value) end as value
    from {{ ref('fct_chi_tieu_thang') }} as reported
    where reported.district_id is not null
    group by
        reported.structure_view,
        reported.district_id,
        reported.period_month,
        reported.indicator_code
),

latest_plans as (
    select distinct on (
        district_months.structure_view,
        district_months.district_id,
        district_months.period_month,
        district_months.indicator_code,
        reported.org_unit_id
    )
        district_months.structure_view,
        district_months.district_id,
        district_months.period_month,
        district_months.indicator_code,
        reported.plan_year
    from district_months
    inner join {{ ref('fct_chi_tieu_thang') }} as reported
        on {{ same_key(
            'district_months', 'reported', ['structure_view', 'district_id', 'indicator_code']
        ) }}
            and date_trunc('year', reported.period_month)
            = date_trunc('year', district_months.period_month)
            and district_months.period_month >= reported.period_month
            and reported.plan_year is not null
            and reported.area_rollup = 'sum'
    order by
        district_months.structure_view asc,
        district_months.district_id asc,
        district_months.period_month asc,
        district_months.indicator_code asc,
        reported.org_unit_id asc,
        reported.period_month desc
),

plans as (
    select
        structure_view,
        district_id,
        period_month,
        indicator_code,
        sum(plan_year) as plan_year
    from latest_plans
    group by structure_view, district_id, period_month, indicator_code
),

with_ytd as (
    select
        district_months.*,
        plans.plan_year,
        indicators.kind,
        {{ year_to_date('district_months', unit='district_id') }} as ytd_value
    from district_months
    inner join {{ ref('dim_chi_tieu') }} as indicators
        on district_months.indicator_code = indicators.indicator_code
    left join plans
        on {{ same_key('district_months', 'plans', district_month + ['indicator_code']) }}
),

final as (
    select
        with_ytd.district_id as org_unit_id,
        units.org_unit_name,
        with_ytd.period_month,
        with_ytd.indicator_code,
        indicators.indicator_name,
        indicators.indicator_group,
        indicators.unit,
        with_ytd.kind,
        indicators.area_rollup,
        with_ytd.value,
        with_ytd.ytd_value,
        with_ytd.plan_year,
        {{ pct('with_ytd.ytd_value', 'with_ytd.plan_year', 1) }} as pct_of_plan,
        with_ytd.communes_reported,
        coalesce(expected.communes_expected, 0)::int as communes_expected,
        with_ytd.structure_view,
        {{ structure_view_name('with_ytd.structure_view') }} as structure_view_name,
        units.province_name
    from with_ytd
    inner join {{ ref('dim_chi_tieu') }} as indicators
        on with_ytd.indicator_code = indicators.indicator_code
    left join {{ ref('dim_don_vi') }} as units on with_ytd.district_id = units.org_unit_id
    left join expected
        on {{ same_key('with_ytd', 'expected', district_month) }}
)

{{ contract_select('final') }}
