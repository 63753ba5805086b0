-- Reporting completeness per district × form × period, summed from the units' rows:
-- reporting rate = owed and received / owed, on-time reporting rate = owed and on time /
-- owed (bc_ty_le_nop, bc_dung_han; owed = the deadline has passed at A).
with

reports as (
    select * from {{ ref('fct_nop_bao_cao') }}
    where district_id is not null
),

units as (
    select * from {{ ref('dim_don_vi') }}
),

summed as (
    select
        structure_view,
        district_id,
        form_code,
        period,
        min(period_kind) as period_kind,
        min(period_month) as period_month,
        min(period_start) as period_start,
        min(period_end) as period_end,
        min(due_date) as due_date,
        sum(units_owing) as units_owing,
        sum(expected) as expected,
        sum(received) as received,
        sum(on_time) as on_time,
        sum(late) as late,
        sum(missing) as missing,
        sum(expected_received) as expected_received,
        sum(expected_on_time) as expected_on_time,
        sum(refused_attempts) as refused_attempts
    from reports
    group by structure_view, district_id, form_code, period
),

final as (
    select
        summed.district_id::text as org_unit_id,
        units.org_unit_name::text as org_unit_name,
        summed.form_code::text as form_code,
        summed.period::text as period,
        summed.period_kind::text as period_kind,
        summed.period_month::date as period_month,
        summed.period_start::date as period_start,
        summed.period_end::date as period_end,
        summed.due_date::date as due_date,
        summed.units_owing::int as units_owing,
        summed.expected::int as expected,
        summed.received::int as received,
        summed.on_time::int as on_time,
        summed.late::int as late,
        summed.missing::int as missing,
        summed.expected_received::int as expected_received,
        summed.expected_on_time::int as expected_on_time,
        summed.refused_attempts::int as refused_attempts,
        {{ pct('summed.expected_received', 'summed.expected') }} as reporting_rate,
        {{ pct('summed.expected_on_time', 'summed.expected') }} as on_time_reporting_rate,
        summed.structure_view::text as structure_view,
        {{ structure_view_name('summed.structure_view') }} as structure_view_name,
        units.province_name::text as province_name
    from summed
    left join units on summed.district_id = units.org_unit_id
)

select * from final
