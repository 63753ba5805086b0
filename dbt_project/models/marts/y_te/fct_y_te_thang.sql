-- Health station activity per unit × month (YT-01, version in force), with the parts of
-- every rate and the year to date of the flows (summed over the year's reported months), in
-- both views of history (structure_view: as reported; today's structure, the stations of the
-- communes that make up today's commune added up, the year to date recomputed over them):
--   insured share of visits     = YT02 / YT01
--   full immunisation coverage  = YT03 summed since January / YT04 (children due this year)
--   antenatal ≥ 4 visits share  = YT06 / YT05 (month and year to date)
--   dengue, hand-foot-mouth per 100,000 = cases × 100,000 / population (XH01 of KTXH-01,
--   the commune's latest value up to the month)
with

reported as (
    select * from {{ ref('int_yt01_current_values') }}
),

population_reports as (
    select distinct on (org_unit_id, period_month)
        org_unit_id,
        period_month,
        value as population
    from {{ ref('int_ktxh01_current_values') }}
    where indicator_code = 'XH01' and value is not null
    order by org_unit_id asc, period_month asc, file_id desc
),

-- Each population report holds until the unit's next one: the months it answers for as a
-- range, joined once (a lateral "latest report up to the month" re-ran the KTXH-01 views
-- per row: 106 s of a 124 s nightly dbt build at province scale).
population_spans as (
    select
        org_unit_id,
        period_month as valid_from,
        lead(period_month) over (
            partition by org_unit_id order by period_month
        ) as valid_to,
        population
    from population_reports
),

pivoted as (
    {{ indicator_pivot('reported', {
        'YT01': 'visits', 'YT02': 'insured_visits', 'YT03': 'fully_immunised',
        'YT04': 'immunisation_target', 'YT05': 'births', 'YT06': 'antenatal_4_visits',
        'YT07': 'dengue_cases', 'YT08': 'hfmd_cases', 'YT09': 'underweight_children',
        'YT10': 'people_with_ehr', 'YT11': 'deaths',
    }, more=['max(file_id) as file_id']) }}
),

with_population as (
    select
        pivoted.*,
        latest_population.population,
        {{ if_reported('pivoted.dengue_cases', 'latest_population.population') }}
            as dengue_cases_counted,
        {{ if_reported('pivoted.hfmd_cases', 'latest_population.population') }}
            as hfmd_cases_counted
    from pivoted
    left join population_spans as latest_population
        on
            pivoted.org_unit_id = latest_population.org_unit_id
            and pivoted.period_month >= latest_population.valid_from
            and (
                latest_population.valid_to is null
                or pivoted.period_month < latest_population.valid_to
            )
),

both_views as (
    {{ in_both_structures('with_population', ['period_month'], [
        'file_id', 'visits', 'insured_visits', 'fully_immunised', 'immunisation_target',
        'births', 'antenatal_4_visits', 'dengue_cases', 'hfmd_cases', 'underweight_children',
        'people_with_ehr', 'deaths', 'population', 'dengue_cases_counted',
        'hfmd_cases_counted']) }}
),

with_ytd as (
    select
        both_views.*,
        sum(both_views.fully_immunised) over year_to_date as fully_immunised_ytd,
        sum(both_views.births) over year_to_date as births_ytd,
        sum(both_views.antenatal_4_visits) over year_to_date as antenatal_4_visits_ytd,
        sum(both_views.dengue_cases) over year_to_date as dengue_cases_ytd,
        sum(both_views.hfmd_cases) over year_to_date as hfmd_cases_ytd,
        sum(both_views.deaths) over year_to_date as deaths_ytd
    from both_views
    window year_to_date as (
        partition by
            both_views.structure_view,
            both_views.org_unit_id,
            date_trunc('year', both_views.period_month)
        order by both_views.period_month
        rows between unbounded preceding and current row
    )
),

final as (
    select
        with_ytd.org_unit_id,
        {{ unit_name_columns() }},
        with_ytd.period_month,
        with_ytd.visits,
        with_ytd.insured_visits,
        with_ytd.fully_immunised,
        with_ytd.fully_immunised_ytd,
        with_ytd.immunisation_target,
        with_ytd.births,
        with_ytd.births_ytd,
        with_ytd.antenatal_4_visits,
        with_ytd.antenatal_4_visits_ytd,
        with_ytd.dengue_cases,
        with_ytd.dengue_cases_ytd,
        with_ytd.hfmd_cases,
        with_ytd.hfmd_cases_ytd,
        with_ytd.deaths,
        with_ytd.deaths_ytd,
        with_ytd.underweight_children,
        with_ytd.people_with_ehr,
        with_ytd.population,
        {{ pct('with_ytd.insured_visits', 'with_ytd.visits') }}
            as insured_visit_share,
        {{ pct('with_ytd.fully_immunised_ytd', 'with_ytd.immunisation_target') }}
            as immunisation_coverage,
        {{ pct('with_ytd.antenatal_4_visits', 'with_ytd.births') }}
            as antenatal_4_share,
        {{ pct('with_ytd.antenatal_4_visits_ytd', 'with_ytd.births_ytd') }}
            as antenatal_4_share_ytd,
        {{ ratio('with_ytd.dengue_cases_counted', 'with_ytd.population', 100000) }}
            as dengue_per_100k,
        {{ ratio('with_ytd.hfmd_cases_counted', 'with_ytd.population', 100000) }}
            as hfmd_per_100k,
        case when with_ytd.source_units = 1 then with_ytd.file_id end::bigint as file_id,
        with_ytd.structure_view,
        {{ view_columns('with_ytd', units_reported='source_units') }}
    from with_ytd
    left join {{ ref('dim_don_vi') }} as units on with_ytd.org_unit_id = units.org_unit_id
)

{{ contract_select('final') }}
