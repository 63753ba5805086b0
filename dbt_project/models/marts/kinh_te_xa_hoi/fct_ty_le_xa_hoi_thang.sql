-- Household and population rates per unit × month from KTXH-01, with their parts, in both
-- views of history (structure_view):
--   poor rate = XH03 / XH02, near-poor rate = XH04 / XH02, clean water = XH07 / XH02,
--   health insurance = XH08 / XH01.
-- The parts are taken per reporting unit (the bases of the optional indicators XH07, XH08
-- count only where the numerator was reported), then summed per today's unit for the
-- current structure: a rate across a merger is sum(part) / sum(base), never an average.
with

reported as (
    select * from {{ ref('fct_chi_tieu_thang') }}
    where
        structure_view = 'as_reported'
        and indicator_code in ('XH01', 'XH02', 'XH03', 'XH04', 'XH07', 'XH08')
),

pivoted as (
    {{ indicator_pivot('reported', {
        'XH01': 'population', 'XH02': 'households', 'XH03': 'poor_households',
        'XH04': 'near_poor_households', 'XH07': 'clean_water_households',
        'XH08': 'insured_people',
    }) }}
),

parts as (
    select
        *,
        {{ if_reported('households', 'clean_water_households') }} as clean_water_base_households,
        {{ if_reported('population', 'insured_people') }} as insured_base_population
    from pivoted
),

both_views as (
    {{ in_both_structures('parts', ['period_month'], social_rate_parts()) }}
),

final as (
    select
        both_views.*,
        {{ unit_name_columns() }},
        {{ pct('both_views.poor_households', 'both_views.households') }} as poor_rate,
        {{ pct('both_views.near_poor_households', 'both_views.households') }} as near_poor_rate,
        {{ pct('both_views.clean_water_households', 'both_views.clean_water_base_households') }}
            as clean_water_rate,
        {{ pct('both_views.insured_people', 'both_views.insured_base_population') }}
            as insurance_rate,
        {{ view_columns('both_views', units_reported='source_units') }}
    from both_views
    left join {{ ref('dim_don_vi') }} as units on both_views.org_unit_id = units.org_unit_id
)

{{ contract_select('final') }}
