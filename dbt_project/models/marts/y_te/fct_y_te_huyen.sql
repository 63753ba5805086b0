-- Health KPIs per district × month, recomputed from the communes' parts (never averaged).
-- Cases per 100,000 count only communes whose population is known.
with

summed as (
    {{ district_parts(
        'fct_y_te_thang', ['period_month'],
        sums=[
            'visits', 'insured_visits', 'fully_immunised', 'fully_immunised_ytd',
            'immunisation_target', 'births', 'births_ytd', 'antenatal_4_visits',
            'antenatal_4_visits_ytd', 'dengue_cases', 'dengue_cases_ytd', 'hfmd_cases',
            'hfmd_cases_ytd', 'deaths', 'deaths_ytd', 'population',
        ],
        more=[
            "sum(dengue_cases) filter (where population is not null)
                as dengue_cases_with_population",
            "sum(hfmd_cases) filter (where population is not null)
                as hfmd_cases_with_population",
        ],
        counted='communes_reported',
    ) }}
),

final as (
    select
        summed.*,
        {{ pct('summed.insured_visits', 'summed.visits') }} as insured_visit_share,
        {{ pct('summed.fully_immunised_ytd', 'summed.immunisation_target') }}
            as immunisation_coverage,
        {{ pct('summed.antenatal_4_visits', 'summed.births') }} as antenatal_4_share,
        {{ pct('summed.antenatal_4_visits_ytd', 'summed.births_ytd') }} as antenatal_4_share_ytd,
        {{ ratio('summed.dengue_cases_with_population', 'summed.population', 100000) }}
            as dengue_per_100k,
        {{ ratio('summed.hfmd_cases_with_population', 'summed.population', 100000) }}
            as hfmd_per_100k
    from summed
)

{{ contract_select('final') }}
