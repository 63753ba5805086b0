-- HCC-06 as the commune reported it (version in force) beside the same counts computed
-- from the dossier records, per commune × field × month × measure, for every month a
-- commune filed the form. A field missing on one side counts 0 there (and equal values
-- match whichever side lists the field). Fields are matched by
-- name (NFC, case and spacing ignored). Both views of history (structure_view): each
-- commune's form beside its own dossiers, and today's commune's (its predecessors' forms and
-- dossiers added up).
with

reported_months as (
    select distinct
        org_unit_id,
        period_month
    from {{ ref('int_hcc06_current_rows') }}
),

system_rows as (
    select
        system_rows.*,
        {{ text_key('system_rows.linh_vuc') }} as linh_vuc_key
    from {{ ref('fct_ho_so_thang') }} as system_rows
    inner join reported_months
        on
            system_rows.structure_view = 'as_reported'
            and system_rows.org_unit_id = reported_months.org_unit_id
            and system_rows.period_month = reported_months.period_month
),

matched as (
    select
        coalesce(reported.org_unit_id, system_rows.org_unit_id) as org_unit_id,
        coalesce(reported.period_month, system_rows.period_month) as period_month,
        coalesce(reported.linh_vuc_key, system_rows.linh_vuc_key) as linh_vuc_key,
        coalesce(reported.linh_vuc, system_rows.linh_vuc) as linh_vuc,
        reported.file_id,
        reported.linh_vuc is not null as in_report,
        system_rows.linh_vuc is not null as in_system,
        reported.received_total as r_received_total,
        reported.carried_over as r_carried_over,
        reported.received_online as r_received_online,
        reported.received_direct as r_received_direct,
        reported.resolved_total as r_resolved_total,
        reported.resolved_early as r_resolved_early,
        reported.resolved_on_time as r_resolved_on_time,
        reported.resolved_late as r_resolved_late,
        reported.pending_total as r_pending_total,
        reported.pending_in_time as r_pending_in_time,
        reported.pending_late as r_pending_late,
        system_rows.received_total as s_received_total,
        system_rows.carried_over as s_carried_over,
        system_rows.received_online as s_received_online,
        system_rows.received_direct as s_received_direct,
        system_rows.resolved_total as s_resolved_total,
        system_rows.resolved_early as s_resolved_early,
        system_rows.resolved_on_time as s_resolved_on_time,
        system_rows.resolved_late as s_resolved_late,
        system_rows.pending_total as s_pending_total,
        system_rows.pending_in_time as s_pending_in_time,
        system_rows.pending_late as s_pending_late
    from {{ ref('int_hcc06_current_rows') }} as reported
    full outer join system_rows
        on
            reported.org_unit_id = system_rows.org_unit_id
            and reported.period_month = system_rows.period_month
            and reported.linh_vuc_key = system_rows.linh_vuc_key
),

measure_names as (
    select *
    from (
        values
        (1, 'received_total', 'Tổng số hồ sơ nhận'),
        (2, 'carried_over', 'Kỳ trước chuyển qua'),
        (3, 'received_online', 'Mới tiếp nhận trực tuyến'),
        (4, 'received_direct', 'Mới tiếp nhận trực tiếp, bưu chính'),
        (5, 'resolved_total', 'Đã giải quyết'),
        (6, 'resolved_early', 'Đã giải quyết trước hạn'),
        (7, 'resolved_on_time', 'Đã giải quyết đúng hạn'),
        (8, 'resolved_late', 'Đã giải quyết quá hạn'),
        (9, 'pending_total', 'Đang giải quyết'),
        (10, 'pending_in_time', 'Đang giải quyết trong hạn'),
        (11, 'pending_late', 'Đang giải quyết quá hạn')
    ) as names (measure_order, measure, measure_name)
),

measures as (
    select
        matched.org_unit_id,
        matched.period_month,
        matched.linh_vuc,
        matched.file_id,
        matched.in_report,
        matched.in_system,
        measure_names.measure_order,
        measure_names.measure,
        measure_names.measure_name,
        coalesce(pairs.system_value, 0) as system_value,
        coalesce(pairs.reported_value, 0) as reported_value,
        matched.in_report::int as in_report_count,
        matched.in_system::int as in_system_count
    from matched
    cross join
        lateral (
            values
            ('received_total', matched.s_received_total, matched.r_received_total),
            ('carried_over', matched.s_carried_over, matched.r_carried_over),
            ('received_online', matched.s_received_online, matched.r_received_online),
            ('received_direct', matched.s_received_direct, matched.r_received_direct),
            ('resolved_total', matched.s_resolved_total, matched.r_resolved_total),
            ('resolved_early', matched.s_resolved_early, matched.r_resolved_early),
            ('resolved_on_time', matched.s_resolved_on_time, matched.r_resolved_on_time),
            ('resolved_late', matched.s_resolved_late, matched.r_resolved_late),
            ('pending_total', matched.s_pending_total, matched.r_pending_total),
            ('pending_in_time', matched.s_pending_in_time, matched.r_pending_in_time),
            ('pending_late', matched.s_pending_late, matched.r_pending_late)
        ) as pairs (measure, system_value, reported_value)
    inner join measure_names on pairs.measure = measure_names.measure
),

both_views as (
    {{ in_both_structures('measures', [
        'period_month', 'linh_vuc', 'measure', 'measure_name', 'measure_order'], [
        'system_value', 'reported_value', 'in_report_count', 'in_system_count', 'file_id']) }}
),

final as (
    select
        both_views.org_unit_id,
        {{ unit_name_columns() }},
        both_views.period_month,
        both_views.linh_vuc,
        both_views.measure,
        both_views.measure_name,
        both_views.measure_order,
        both_views.system_value,
        both_views.reported_value,
        (both_views.reported_value - both_views.system_value)::bigint as difference,
        case
            when both_views.reported_value = both_views.system_value then 'khop'
            when both_views.in_system_count = 0 then 'chi_co_trong_bao_cao'
            when both_views.in_report_count = 0 then 'chi_co_tren_he_thong'
            else 'lech'
        end as match_status,
        case when both_views.source_units = 1 then both_views.file_id end::bigint as file_id,
        both_views.structure_view,
        {{ view_columns('both_views') }}
    from both_views
    left join {{ ref('dim_don_vi') }} as units on both_views.org_unit_id = units.org_unit_id
)

{{ contract_select('final') }}
