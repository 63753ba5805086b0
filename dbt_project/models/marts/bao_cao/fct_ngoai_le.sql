{{ config(pre_hook=["{{ without_nested_loops() }}"]) }}
-- Outliers in the reported indicator values (KTXH-01, YT-01; versions in force): a value is
-- flagged when its modified z-score against the same unit's own history of the indicator
-- exceeds the threshold (var `outlier_z_threshold`, 3.5, Iglewicz & Hoaglin):
--   z = 0.6745 × (value − median) / MAD,  MAD = median of |value − median|;
--   when MAD = 0 (most months equal): z = (value − median) / (1.2533 × mean absolute deviation).
-- A unit needs `outlier_min_history` months (6) of the indicator before anything is flagged.
-- Only flagged values are rows here; the orchestration surfaces the count as a check.
with

reported as (
    select
        org_unit_id,
        period_month,
        'KTXH-01' as form_code,
        indicator_code,
        value,
        file_id
    from {{ ref('int_ktxh01_current_values') }}
    where value is not null
    union all
    select
        org_unit_id,
        period_month,
        'YT-01' as form_code,
        indicator_code,
        value,
        file_id
    from {{ ref('int_yt01_current_values') }}
    where value is not null
),

medians as (
    select
        org_unit_id,
        indicator_code,
        count(*) as history_months,
        percentile_cont(0.5) within group (order by value) as median_value
    from reported
    group by org_unit_id, indicator_code
),

deviations as (
    select
        reported.*,
        medians.history_months,
        medians.median_value,
        abs(reported.value - medians.median_value) as abs_deviation
    from reported
    inner join medians
        on {{ same_key('reported', 'medians', ['org_unit_id', 'indicator_code']) }}
),

spreads as (
    select
        org_unit_id,
        indicator_code,
        percentile_cont(0.5) within group (order by abs_deviation) as mad,
        avg(abs_deviation) as mean_abs_deviation
    from deviations
    group by org_unit_id, indicator_code
),

scored as (
    select
        deviations.*,
        spreads.mad,
        case
            when spreads.mad > 0
                then 0.6745 * (deviations.value - deviations.median_value) / spreads.mad
            when spreads.mean_abs_deviation > 0
                then (deviations.value - deviations.median_value)
                    / (1.253314 * spreads.mean_abs_deviation)
        end as modified_z
    from deviations
    inner join spreads
        on {{ same_key('deviations', 'spreads', ['org_unit_id', 'indicator_code']) }}
),

final as (
    select
        scored.org_unit_id,
        {{ unit_columns() }},
        scored.form_code,
        scored.indicator_code,
        indicators.indicator_name,
        indicators.unit,
        scored.period_month,
        scored.value,
        round(scored.median_value::numeric, 4)::numeric as median_value,
        round(scored.mad::numeric, 4)::numeric as mad,
        scored.history_months,
        round(scored.modified_z::numeric, 2)::numeric as modified_z,
        case when scored.modified_z > 0 then 'cao' else 'thap' end::text as direction,
        scored.file_id
    from scored
    left join {{ ref('dim_don_vi') }} as units on scored.org_unit_id = units.org_unit_id
    left join {{ ref('dim_don_vi') }} as current_unit
        on units.current_org_unit_id = current_unit.org_unit_id
    left join {{ ref('dim_chi_tieu') }} as indicators
        on scored.indicator_code = indicators.indicator_code
    where
        scored.history_months >= {{ var('outlier_min_history') }}
        and abs(scored.modified_z) > {{ var('outlier_z_threshold') }}
)

{{ contract_select('final') }}
