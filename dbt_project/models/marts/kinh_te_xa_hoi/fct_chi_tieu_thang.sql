-- One row per unit × KTXH-01 indicator × month in each view of history (structure_view):
--   as_reported        each commune's values as reported (version in force);
--   current_structure  the values of the units that hold today's unit's place put together
--                      (int_don_vi__hien_nay): `sum` indicators add up (flows and stocks),
--                      `none` ones (criteria met) keep a value only when one unit reported it.
-- Year to date is computed in each view from its own months: flows are summed from January
-- (so today's commune's year includes its predecessors' months), stocks take the month's own
-- value, never a sum over months. The annual plan adds up like the value.
with

reported as (
    select * from {{ ref('int_ktxh01_current_values') }}
),

both_views as (
    {{ indicator_both_views('reported', ['period_month', 'indicator_code'],
        rolled=['value', 'plan_year'], single=['file_id', 'ytd_reported']) }}
),

with_ytd as (
    select
        both_views.*,
        indicators.kind,
        {{ year_to_date('both_views') }} as ytd_value
    from both_views
    inner join {{ ref('dim_chi_tieu') }} as indicators
        on both_views.indicator_code = indicators.indicator_code
),

final as (
    select
        with_ytd.*,
        {{ unit_name_columns() }},
        units.latest_org_unit_name,
        {{ year_and_month('with_ytd.period_month') }},
        indicators.indicator_name,
        indicators.indicator_group,
        indicators.unit,
        {{ pct('with_ytd.ytd_value', 'with_ytd.plan_year', 1) }} as pct_of_plan,
        indicators.month_rollup,
        indicators.area_rollup,
        {{ view_columns('with_ytd') }}
    from with_ytd
    inner join {{ ref('dim_chi_tieu') }} as indicators
        on with_ytd.indicator_code = indicators.indicator_code
    left join {{ ref('dim_don_vi') }} as units on with_ytd.org_unit_id = units.org_unit_id
)

{{ contract_select('final') }}
