-- Dossiers per unit × field × month, with the counts of form HCC-06 computed from the case
-- records, and the parts of every rate so that any roll-up can recompute it (sum/sum).
--   carried over  = received before the month, not resolved before it
--   received      = carried over + new online (kênh 2) + new direct or postal (kênh 1, 3)
--   resolved      = finished in the month: early / on time / late against the promised day
--   pending       = not finished at the month's end: late when the promised time has passed
--   late rate     = (resolved late + pending late) / received;  on-time rate = 1 − late rate
-- Months run from a dossier's receipt to its resolution, or to the month of the newest
-- change seen on the platform (the data's clock) while it is open. Both views of history
-- (structure_view): each unit's dossiers as received; and today's structure, the counts of
-- the units that make up today's unit added up (district agencies' under the area), every
-- rate recomputed from the summed counts.
with

dossiers as (
    select * from {{ ref('fct_ho_so') }}
    where org_unit_id is not null
),

units as (
    select * from {{ ref('dim_don_vi') }}
),

clock as (
    select {{ local_month('max(cap_nhat_luc)') }} as last_month
    from dossiers
),

dossier_months as (
    select
        dossiers.*,
        months.month_start::date as month_start
    from dossiers
    cross join clock
    cross join lateral generate_series(
        dossiers.period_month,
        least(coalesce(dossiers.finished_month, clock.last_month), clock.last_month),
        interval '1 month'
    ) as months (month_start)
),

flagged as (
    select
        org_unit_id,
        linh_vuc,
        month_start,
        (period_month < month_start) as is_carried_over,
        (period_month = month_start and is_online) as is_new_online,
        (period_month = month_start and not is_online) as is_new_direct,
        (period_month = month_start and da_so_hoa) as is_new_digitised,
        (finished_month = month_start) as is_resolved,
        (finished_month = month_start and deadline_status = 'truoc_han') as is_resolved_early,
        (finished_month = month_start and deadline_status = 'dung_han') as is_resolved_on_time,
        (finished_month = month_start and deadline_status = 'qua_han') as is_resolved_late,
        (
            finished_month = month_start and trang_thai in ('da_xu_ly', 'da_tra_ket_qua')
        ) as is_resolved_with_result,
        (
            finished_month = month_start and trang_thai in ('da_xu_ly', 'da_tra_ket_qua')
            and co_ket_qua_dien_tu
        ) as is_resolved_e_result,
        (finished_month is null or finished_month > month_start) as is_pending,
        (
            (finished_month is null or finished_month > month_start)
            and ngay_hen_tra < {{ month_end_ts('month_start') }}
        ) as is_pending_late,
        case when finished_month = month_start then working_days_to_resolve end
            as resolved_working_days
    from dossier_months
),

counted as (
    select
        org_unit_id,
        linh_vuc,
        month_start,
        count(*) filter (where is_carried_over) as carried_over,
        count(*) filter (where is_new_online) as received_online,
        count(*) filter (where is_new_direct) as received_direct,
        count(*) filter (where is_new_digitised) as received_digitised,
        count(*) filter (where is_resolved) as resolved_total,
        count(*) filter (where is_resolved_early) as resolved_early,
        count(*) filter (where is_resolved_on_time) as resolved_on_time,
        count(*) filter (where is_resolved_late) as resolved_late,
        count(*) filter (where is_resolved_with_result) as resolved_with_result,
        count(*) filter (where is_resolved_e_result) as resolved_e_result,
        count(*) filter (where is_pending) as pending_total,
        count(*) filter (where is_pending and not is_pending_late) as pending_in_time,
        count(*) filter (where is_pending_late) as pending_late,
        coalesce(sum(resolved_working_days), 0) as resolved_working_days_sum,
        count(resolved_working_days) as resolved_working_days_count
    from flagged
    group by org_unit_id, linh_vuc, month_start
),

both_views as (
    {{ in_both_structures('counted', ['linh_vuc', 'month_start'], [
        'carried_over', 'received_online', 'received_direct', 'received_digitised',
        'resolved_total', 'resolved_early', 'resolved_on_time', 'resolved_late',
        'resolved_with_result', 'resolved_e_result', 'pending_total', 'pending_in_time',
        'pending_late', 'resolved_working_days_sum', 'resolved_working_days_count']) }}
),

final as (
    select
        counted.org_unit_id::text as org_unit_id,
        units.org_unit_name::text as org_unit_name,
        units.latest_org_unit_id::text as latest_org_unit_id,
        units.district_id::text as district_id,
        counted.month_start::date as period_month,
        counted.linh_vuc::text as linh_vuc,
        (counted.carried_over + counted.received_online + counted.received_direct)::bigint
            as received_total,
        counted.carried_over::bigint as carried_over,
        counted.received_online::bigint as received_online,
        counted.received_direct::bigint as received_direct,
        (counted.received_online + counted.received_direct)::bigint as received_new,
        counted.received_digitised::bigint as received_digitised,
        counted.resolved_total::bigint as resolved_total,
        counted.resolved_early::bigint as resolved_early,
        counted.resolved_on_time::bigint as resolved_on_time,
        counted.resolved_late::bigint as resolved_late,
        counted.pending_total::bigint as pending_total,
        counted.pending_in_time::bigint as pending_in_time,
        counted.pending_late::bigint as pending_late,
        (counted.resolved_late + counted.pending_late)::bigint as late_total,
        counted.resolved_with_result::bigint as resolved_with_result,
        counted.resolved_e_result::bigint as resolved_e_result,
        counted.resolved_working_days_sum::bigint as resolved_working_days_sum,
        counted.resolved_working_days_count::bigint as resolved_working_days_count,
        {{ pct(
            'counted.resolved_late + counted.pending_late',
            'counted.carried_over + counted.received_online + counted.received_direct'
        ) }} as late_rate,
        {{ pct(
            'counted.carried_over + counted.received_online + counted.received_direct'
            ~ ' - counted.resolved_late - counted.pending_late',
            'counted.carried_over + counted.received_online + counted.received_direct'
        ) }} as on_time_rate,
        {{ pct('counted.received_online', 'counted.received_online + counted.received_direct') }}
            as online_share,
        {{ pct('counted.received_digitised', 'counted.received_online + counted.received_direct') }}
            as digitised_share,
        {{ pct('counted.resolved_e_result', 'counted.resolved_with_result') }}
            as e_result_share,
        {{ ratio('counted.resolved_working_days_sum', 'counted.resolved_working_days_count') }}
            as avg_working_days_to_resolve,
        counted.structure_view::text as structure_view,
        {{ structure_view_name('counted.structure_view') }} as structure_view_name,
        units.district_name::text as district_name,
        units.province_name::text as province_name,
        counted.source_units::int as units_reported
    from both_views as counted
    left join units on counted.org_unit_id = units.org_unit_id
)

select * from final
