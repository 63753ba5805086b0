-- Household and population rates per commune × month from KTXH-01, with their parts:
--   poor rate = XH03 / XH02, near-poor rate = XH04 / XH02, clean water = XH07 / XH02,
--   health insurance = XH08 / XH01.
-- The bases of the optional indicators (XH07, XH08) count only where the numerator was
-- reported, so sum(part)/sum(base) over any set of communes is the right roll-up.
with

reported as (
    select * from {{ ref('fct_chi_tieu_thang') }}
    where indicator_code in ('XH01', 'XH02', 'XH03', 'XH04', 'XH07', 'XH08')
),

units as (
    select * from {{ ref('dim_don_vi') }}
),

pivoted as (
    select
        org_unit_id,
        period_month,
        max(value) filter (where indicator_code = 'XH01') as population,
        max(value) filter (where indicator_code = 'XH02') as households,
        max(value) filter (where indicator_code = 'XH03') as poor_households,
        max(value) filter (where indicator_code = 'XH04') as near_poor_households,
        max(value) filter (where indicator_code = 'XH07') as clean_water_households,
        max(value) filter (where indicator_code = 'XH08') as insured_people
    from reported
    group by org_unit_id, period_month
),

final as (
    select
        pivoted.org_unit_id::text as org_unit_id,
        units.org_unit_name::text as org_unit_name,
        units.latest_org_unit_id::text as latest_org_unit_id,
        units.district_id::text as district_id,
        pivoted.period_month::date as period_month,
        pivoted.population::numeric as population,
        pivoted.households::numeric as households,
        pivoted.poor_households::numeric as poor_households,
        pivoted.near_poor_households::numeric as near_poor_households,
        pivoted.clean_water_households::numeric as clean_water_households,
        case
            when pivoted.clean_water_households is not null then pivoted.households
        end::numeric as clean_water_base_households,
        pivoted.insured_people::numeric as insured_people,
        case
            when pivoted.insured_people is not null then pivoted.population
        end::numeric as insured_base_population,
        {{ pct('pivoted.poor_households', 'pivoted.households') }} as poor_rate,
        {{ pct('pivoted.near_poor_households', 'pivoted.households') }} as near_poor_rate,
        {{ pct('pivoted.clean_water_households', 'pivoted.households') }} as clean_water_rate,
        {{ pct('pivoted.insured_people', 'pivoted.population') }} as insurance_rate
    from pivoted
    left join units on pivoted.org_unit_id = units.org_unit_id
)

select * from final
