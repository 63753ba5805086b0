-- The same rates per district × month, recomputed from the communes' parts: the district's
-- poor rate is the sum of poor households over the sum of households, never the average of
-- the communes' rates.
with

summed as (
    {{ district_parts(
        'fct_ty_le_xa_hoi_thang', ['period_month'],
        sums=social_rate_parts(),
        counted='communes_reported',
    ) }}
),

final as (
    select
        summed.*,
        {{ pct('summed.poor_households', 'summed.households') }} as poor_rate,
        {{ pct('summed.near_poor_households', 'summed.households') }} as near_poor_rate,
        {{ pct('summed.clean_water_households', 'summed.clean_water_base_households') }}
            as clean_water_rate,
        {{ pct('summed.insured_people', 'summed.insured_base_population') }} as insurance_rate
    from summed
)

{{ contract_select('final') }}
