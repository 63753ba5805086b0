-- Citizen feedback per commune × field × channel × month: received, resolved (on time /
-- late against the deadline), refused, open past deadline at the month's end, working days
-- to resolve, published answers and the citizens' ratings of the answers resolved that
-- month. Every rate has its parts as columns (sum/sum at any roll-up). An item appears in
-- every month from its receipt to its closing (or the data's newest month while open).
-- Both views of history (structure_view): under the commune of the place as recorded, and
-- under today's commune, rates recomputed from the summed counts.
with

feedback as (
    select * from {{ ref('fct_phan_anh') }}
    where org_unit_id is not null
),

units as (
    select * from {{ ref('dim_don_vi') }}
),

clock as (
    select {{ local_month('max(cap_nhat_luc)') }} as last_month
    from feedback
),

item_months as (
    select
        feedback.*,
        months.month_start::date as month_start
    from feedback
    cross join clock
    cross join
        lateral generate_series(
            feedback.period_month,
            least(coalesce(feedback.closed_month, clock.last_month), clock.last_month),
            interval '1 month'
        ) as months (month_start)
    where feedback.period_month <= clock.last_month
),

counted as (
    select
        org_unit_id,
        linh_vuc,
        kenh,
        month_start,
        count(*) filter (where period_month = month_start) as received,
        count(*) filter (where is_resolved and closed_month = month_start) as resolved,
        count(*) filter (
            where is_resolved and closed_month = month_start and closed_date <= deadline_date
        ) as resolved_on_time,
        count(*) filter (
            where is_resolved and closed_month = month_start and closed_date > deadline_date
        ) as resolved_late,
        count(*) filter (where not is_resolved and closed_month = month_start) as refused,
        count(*) filter (where closed_month is null or closed_month > month_start) as open_end,
        count(*) filter (
            where
            (closed_month is null or closed_month > month_start)
            and deadline_date < (month_start + interval '1 month')::date
        ) as open_past_deadline,
        coalesce(
            sum(working_days_to_resolve) filter (
                where is_resolved and closed_month = month_start
            ),
            0
        ) as resolved_working_days_sum,
        count(working_days_to_resolve) filter (
            where is_resolved and closed_month = month_start
        ) as resolved_working_days_count,
        count(*) filter (
            where is_resolved and closed_month = month_start and cong_khai
        ) as published,
        count(danh_gia) filter (where is_resolved and closed_month = month_start) as rated,
        count(*) filter (
            where is_resolved and closed_month = month_start and is_satisfied
        ) as rated_satisfied,
        coalesce(
            sum(danh_gia) filter (where is_resolved and closed_month = month_start), 0
        ) as rating_sum
    from item_months
    group by org_unit_id, linh_vuc, kenh, month_start
),

both_views as (
    {{ in_both_structures('counted', ['linh_vuc', 'kenh', 'month_start'], [
        'received', 'resolved', 'resolved_on_time', 'resolved_late', 'refused', 'open_end',
        'open_past_deadline', 'resolved_working_days_sum', 'resolved_working_days_count',
        'published', 'rated', 'rated_satisfied', 'rating_sum']) }}
),

final as (
    select
        counted.org_unit_id::text as org_unit_id,
        units.org_unit_name::text as org_unit_name,
        units.latest_org_unit_id::text as latest_org_unit_id,
        units.district_id::text as district_id,
        counted.month_start::date as period_month,
        counted.linh_vuc::text as linh_vuc,
        counted.kenh::text as kenh,
        counted.received::bigint as received,
        counted.resolved::bigint as resolved,
        counted.resolved_on_time::bigint as resolved_on_time,
        counted.resolved_late::bigint as resolved_late,
        counted.refused::bigint as refused,
        counted.open_end::bigint as open_end,
        counted.open_past_deadline::bigint as open_past_deadline,
        counted.resolved_working_days_sum::bigint as resolved_working_days_sum,
        counted.resolved_working_days_count::bigint as resolved_working_days_count,
        counted.published::bigint as published,
        counted.rated::bigint as rated,
        counted.rated_satisfied::bigint as rated_satisfied,
        counted.rating_sum::bigint as rating_sum,
        {{ pct('counted.resolved_on_time', 'counted.resolved') }} as on_time_rate,
        {{ ratio('counted.resolved_working_days_sum', 'counted.resolved_working_days_count') }}
            as avg_working_days_to_resolve,
        {{ pct('counted.published', 'counted.resolved') }} as published_share,
        {{ pct('counted.rated_satisfied', 'counted.rated') }} as satisfaction_rate,
        {{ ratio('counted.rating_sum', 'counted.rated') }} as mean_rating,
        counted.structure_view::text as structure_view,
        {{ structure_view_name('counted.structure_view') }} as structure_view_name,
        units.district_name::text as district_name,
        units.province_name::text as province_name,
        counted.source_units::int as units_reported
    from both_views as counted
    left join units on counted.org_unit_id = units.org_unit_id
)

select * from final
