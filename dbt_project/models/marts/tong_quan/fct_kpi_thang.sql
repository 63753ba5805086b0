{#- Index: the units' rows of a few KPIs (`unit_level`, `kpi_code`) with what a table of
    units × KPIs reads, so such a chart is an index-only scan of a narrow index instead of a
    scan of this wide table (issue 21: `Đơn vị cần chú ý (theo tháng)` at national scale);
    VACUUM (ANALYZE) after commit sets the visibility map. A second index serves the KPI
    board (`Bảng chỉ số chính`: the latest rows in the board's order): its first page is read
    off the index, not sorted out of every latest row (230 -> 25 ms at national scale). -#}
{{
    config(
        indexes=[{'columns': ['is_latest', 'unit_level', 'sort_order', 'org_unit_name']}],
        post_hook=[
            "{{ extra_index(this, ['unit_level', 'kpi_code'], 'kpi_units', include=['is_displayed', 'period_month', 'org_unit_name', 'org_unit_id', 'numerator', 'denominator', 'structure_view_name', 'district_name']) }}",
            after_commit('vacuum (analyze) {{ this }}'),
        ],
    )
}}
-- The headline KPIs as a contract other tools read: one row per view of history × unit (or
-- area: unit_level = dia_ban, the district before the 2025 reform, the area after it) ×
-- month × KPI of the catalogue (catalogue/kpis.yaml; names and sources in dim_chi_so).
--   numerator, denominator   Σ of the KPI's parts in its own mart (int_kpi__phan_so); an area
--                            row adds its units' parts — a rate is never an average of rates
--   value                    numerator × scale / denominator (a count: the numerator); no
--                            value over an empty population
--   evaluated_at (T), as_of (A)   the month's evaluation moment and the data's as-of moment
--                            (int_thoi_diem__nguon): a month still running is "đến <A>"
--   target                   the seed kpi_targets (the row's unit, else its area, else its
--                            province or city, for the year), else the catalogue's default
--   *_previous_month, *_last_year   the same unit's parts a month and a year earlier, so a
--                            change can be recomputed for any selection
--   units_expected / units_covered, missing_months   coverage of values built from report
--                            forms ("11/11 xã"), and the months missing from a year to date
--   is_displayed, is_latest  what the overview shows: agency KPIs every month up to A; a
--                            KPI built on report forms the periods whose deadline has passed
--   ranking_points           the commune ranking's points (points × min(1, value ÷ threshold))
{#- A KPI row's key within a month. -#}
{%- set kpi_row_key = ['structure_view', 'unit_level', 'org_unit_id', 'kpi_code'] %}
with

units as (
    select * from {{ ref('dim_don_vi') }}
),

unit_rows as (
    select
        parts.structure_view,
        parts.org_unit_id,
        'don_vi'::text as unit_level,
        units.district_id,
        parts.period_month,
        parts.kpi_code,
        parts.numerator,
        parts.denominator,
        parts.units_expected,
        parts.units_covered,
        coalesce(units.is_commune, false) as is_commune
    from {{ ref('int_kpi__phan_so') }} as parts
    left join units on parts.org_unit_id = units.org_unit_id
),

area_rows as (
    select
        structure_view,
        district_id as org_unit_id,
        'dia_ban'::text as unit_level,
        district_id,
        period_month,
        kpi_code,
        sum(numerator) as numerator,
        sum(denominator) as denominator,
        sum(units_expected) as units_expected,
        sum(units_covered) as units_covered,
        coalesce(bool_and(is_commune) filter (where units_expected > 0), false) as is_commune
    from unit_rows
    where district_id is not null
    group by structure_view, district_id, period_month, kpi_code
),

all_rows as (
    select * from unit_rows
    union all
    select * from area_rows
),

timed as (
    select
        all_rows.*,
        kpis.kind,
        kpis.scale,
        kpis.data_source,
        kpis.coverage_form,
        kpis.year_to_date,
        kpis.higher_is_better,
        kpis.default_target,
        kpis.ranking_points as kpi_points,
        kpis.ranking_threshold as kpi_threshold,
        moments.as_of,
        moments.as_of >= {{ month_end_ts('all_rows.period_month') }} as is_month_complete,
        case
            when moments.as_of >= {{ month_end_ts('all_rows.period_month') }}
                then {{ month_end_ts('all_rows.period_month') }} - interval '1 second'
            else moments.as_of
        end as evaluated_at,
        forms.period_kind as coverage_period_kind,
        -- the coverage form's deadline for the period that ends with this month
        moments.as_of > {{ day_end_ts(
            "(all_rows.period_month + interval '1 month - 1 day')::date"
            ~ " + forms.due_days_after_period_end") }} as is_deadline_passed,
        {{ kpi_value('kpis.kind', 'all_rows.numerator', 'all_rows.denominator', 'kpis.scale') }}
            as value
    from all_rows
    inner join {{ ref('int_kpi__danh_muc') }} as kpis on all_rows.kpi_code = kpis.kpi_code
    inner join {{ ref('int_thoi_diem__nguon') }} as moments
        on kpis.data_source = moments.data_source
    left join {{ ref('dim_bieu_mau') }} as forms on kpis.coverage_form = forms.form_code
),

flagged as (
    select
        timed.*,
        case
            when timed.data_source != 'bieu_mau' then true
            when timed.coverage_form is not null then coalesce(timed.is_deadline_passed, false)
            else coalesce(timed.denominator > 0, false)
        end as is_displayed
    from timed
),

latest as (
    select
        flagged.*,
        max(
            case
                when flagged.is_displayed and flagged.value is not null then flagged.period_month
            end
        )
            over (partition by flagged.structure_view, flagged.kpi_code)
            as latest_month
    from flagged
),

compared as (
    select
        latest.*,
        previous_month.numerator as numerator_previous_month,
        previous_month.denominator as denominator_previous_month,
        previous_month.value as value_previous_month,
        last_year.numerator as numerator_last_year,
        last_year.denominator as denominator_last_year,
        last_year.value as value_last_year
    from latest
    left join flagged as previous_month
        on {{ same_key('latest', 'previous_month', kpi_row_key) }}
            and previous_month.period_month = (latest.period_month - interval '1 month')::date
    left join flagged as last_year
        on {{ same_key('latest', 'last_year', kpi_row_key) }}
            and last_year.period_month = (latest.period_month - interval '12 months')::date
),

missing as (
    -- months of the year so far whose report was owed (deadline passed) and not all in
    select
        ytd.structure_view,
        ytd.unit_level,
        ytd.org_unit_id,
        ytd.kpi_code,
        ytd.period_month,
        count(*) as missing_month_count,
        string_agg(
            to_char(gap.period_month, 'MM/YYYY')
            || case
                when ytd.unit_level = 'dia_ban'
                    then ' (' || gap.units_covered || '/' || gap.units_expected || ')'
                else ''
            end,
            ', ' order by gap.period_month
        ) as missing_months
    from flagged as ytd
    inner join flagged as gap
        on {{ same_key('ytd', 'gap', kpi_row_key) }}
            and gap.period_month between date_trunc('year', ytd.period_month)::date
            and ytd.period_month
            and gap.is_deadline_passed
            and gap.units_covered < gap.units_expected
    where ytd.year_to_date
    group by ytd.structure_view, ytd.unit_level, ytd.org_unit_id, ytd.kpi_code, ytd.period_month
),

final as (
    select
        compared.org_unit_id,
        units.org_unit_name,
        compared.unit_level,
        compared.district_id,
        units.district_name,
        units.province_name,
        compared.period_month,
        (
            case
                when compared.coverage_period_kind = 'semester'
                    then semesters.semester_name
                        || ' (' || to_char(compared.period_month, 'MM/YYYY') || ')'
                when compared.is_month_complete then to_char(compared.period_month, 'MM/YYYY')
                else
                    to_char(compared.period_month, 'MM/YYYY')
                    || ' (đến ' || {{ vn_moment_text('compared.as_of') }} || ')'
            end
        )::text as period_label,
        kpis.domain,
        compared.kpi_code,
        kpis.kpi_name,
        kpis.kpi_short_name,
        (
            kpis.source
            || case when kpis.source_detail != '' then ', ' || kpis.source_detail else '' end
        )::text as kpi_source,
        kpis.unit,
        compared.scale,
        compared.higher_is_better,
        kpis.sort_order,
        compared.numerator,
        compared.denominator,
        compared.value,
        compared.evaluated_at,
        compared.as_of,
        compared.is_month_complete,
        compared.is_displayed,
        coalesce(compared.period_month = compared.latest_month, false)::boolean as is_latest,
        coalesce(
            own_target.target, area_target.target, province_target.target,
            compared.default_target
        )::numeric as target,
        case
            when own_target.target is not null then own_target.note
            when area_target.target is not null then area_target.note
            when province_target.target is not null then province_target.note
            when compared.default_target is not null then 'Mục tiêu mặc định của danh mục chỉ số'
        end as target_note,
        (
            case
                when compared.higher_is_better
                    then compared.value >= coalesce(
                            own_target.target, area_target.target, province_target.target,
                            compared.default_target
                        )
                else compared.value <= coalesce(
                        own_target.target, area_target.target, province_target.target,
                        compared.default_target
                    )
            end
        )::boolean as target_met,
        compared.numerator_previous_month,
        compared.denominator_previous_month,
        compared.value_previous_month,
        (compared.value - compared.value_previous_month)::numeric as change_previous_month,
        compared.numerator_last_year,
        compared.denominator_last_year,
        compared.value_last_year,
        (compared.value - compared.value_last_year)::numeric as change_last_year,
        compared.units_expected,
        compared.units_covered,
        (
            case
                when compared.units_expected > 0
                    then compared.units_covered || '/' || compared.units_expected
                        || case when compared.is_commune then ' xã' else ' đơn vị' end
            end
        )::text as coverage_label,
        missing.missing_months,
        coalesce(missing.missing_month_count, 0)::int as missing_month_count,
        (
            -- least() skips nulls in PostgreSQL: a KPI without a value scores 0 explicitly
            case
                when compared.kpi_points is null then null
                when compared.value is null then 0
                else round(
                        compared.kpi_points * least(1, compared.value / compared.kpi_threshold), 2
                    )
            end
        )::numeric as ranking_points,
        compared.structure_view,
        {{ structure_view_name('compared.structure_view') }} as structure_view_name
    from compared
    inner join {{ ref('int_kpi__danh_muc') }} as kpis on compared.kpi_code = kpis.kpi_code
    left join units on compared.org_unit_id = units.org_unit_id
    left join {{ ref('dim_hoc_ky') }} as semesters
        on compared.period_month = date_trunc('month', semesters.end_date)::date
    left join missing
        on {{ same_key('compared', 'missing', kpi_row_key + ['period_month']) }}
    left join {{ ref('kpi_targets') }} as own_target
        on {{ same_key('compared', 'own_target', ['kpi_code', 'org_unit_id']) }}
            and extract(year from compared.period_month) = own_target.year
    left join {{ ref('kpi_targets') }} as area_target
        on
            compared.kpi_code = area_target.kpi_code
            and compared.district_id = area_target.org_unit_id
            and extract(year from compared.period_month) = area_target.year
    left join {{ ref('kpi_targets') }} as province_target
        on
            compared.kpi_code = province_target.kpi_code
            and units.province_id = province_target.org_unit_id
            and extract(year from compared.period_month) = province_target.year
)

{{ contract_select('final') }}
