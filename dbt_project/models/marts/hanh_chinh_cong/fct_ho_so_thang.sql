-- Dossiers per unit × field × month, evaluated at the month's moment T (int_thoi_diem__thang:
-- the end of the month once it has ended by the data's as-of moment A, else A itself), with
-- the parts of every KPI of the catalogue (catalogue/kpis.yaml) and the counts of form HCC-06.
--
-- Dates decide (docs/kpi-definitions.md): received = ngayTiepNhan ≤ T; finished in the month
-- = ngayKetThucXuLy in [start of the month, T]; open at T = not finished by T. Only withdrawal
-- is read from the status (rut_ho_so).
--   due_population / due_on_time   hcc_dung_han: not withdrawn, finished in the month or open
--                                  at T; on time = finished ≤ ngayHenTra, or open with
--                                  ngayHenTra ≥ T
--   open_overdue                   hcc_qua_han_dang_xu_ly: not withdrawn, open at T, ngayHenTra < T
--   online_offered_*, full_online_*, fee_*, received_digitised / received_new,
--   resolved_e_result / resolved_total                 the other 766 rates
-- HCC-06 as the form counts it (compared with the communes' own forms in fct_so_sanh_hcc06):
--   carried over = received before the month, not finished before it; received = carried
--   over + new; resolved = finished in the month (withdrawals included), early / on the
--   promised day / late by day; pending = open at T, late when the promised moment < T.
-- A dossier has a row in every month from its receipt to its finishing (or to the month of A).
-- Both views of history (structure_view), every part summed per today's unit for the
-- current structure (macro in_both_structures).
with

moments as (
    {{ open_month_spans(
        'fct_ho_so', 'ho_so', received_at='ngay_tiep_nhan', done='finished',
        deadline_at='ngay_hen_tra', due_when='not spans.is_withdrawn'
    ) }}
),

flagged as (
    select
        org_unit_id,
        linh_vuc,
        month_start,
        -- hcc_dung_han and the overdue backlog (withdrawn dossiers left out)
        is_due_population,
        is_due_on_time,
        (not is_withdrawn and is_past_deadline_at_t) as is_open_overdue,
        -- received in the month
        is_received_in_month,
        (is_received_in_month and is_online) as is_new_online,
        (is_received_in_month and not is_online) as is_new_direct,
        (is_received_in_month and da_so_hoa) as is_new_digitised,
        (
            is_received_in_month and coalesce(muc_do_dvc, 'khong') != 'khong'
        ) as is_online_offered,
        (
            is_received_in_month and coalesce(muc_do_dvc, 'khong') != 'khong' and kenh_nop = 2
        ) as is_online_offered_online,
        (is_received_in_month and muc_do_dvc = 'toan_trinh') as is_full_online,
        (
            is_received_in_month and muc_do_dvc = 'toan_trinh' and kenh_nop = 2
        ) as is_full_online_online,
        (is_received_in_month and co_nghia_vu_tai_chinh) as is_fee,
        (
            is_received_in_month and co_nghia_vu_tai_chinh and thanh_toan_truc_tuyen
        ) as is_fee_paid_online,
        -- HCC-06
        (
            ngay_tiep_nhan < month_starts_at
            and (finished_at is null or finished_at >= month_starts_at)
        ) as is_carried_over,
        is_finished_in_month as is_resolved,
        (is_finished_in_month and finished_date < due_date) as is_resolved_early,
        (is_finished_in_month and finished_date = due_date) as is_resolved_on_time,
        (is_finished_in_month and finished_date > due_date) as is_resolved_late,
        (
            is_finished_in_month and trang_thai in ('da_xu_ly', 'da_tra_ket_qua')
        ) as is_resolved_with_result,
        (is_finished_in_month and co_ket_qua_dien_tu) as is_resolved_e_result,
        is_open_at_t as is_pending,
        is_past_deadline_at_t as is_pending_late,
        case when is_finished_in_month then working_days_to_resolve end
            as resolved_working_days
    from moments
),

counted as (
    select
        org_unit_id,
        linh_vuc,
        month_start,
        {{ deadline_counts() }},
        count(*) filter (where is_open_overdue) as open_overdue,
        count(*) filter (where is_online_offered) as online_offered_received,
        count(*) filter (where is_online_offered_online) as online_offered_online,
        count(*) filter (where is_full_online) as full_online_received,
        count(*) filter (where is_full_online_online) as full_online_online,
        count(*) filter (where is_fee) as fee_received,
        count(*) filter (where is_fee_paid_online) as fee_paid_online,
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
        'due_population', 'due_on_time', 'open_overdue', 'online_offered_received',
        'online_offered_online', 'full_online_received', 'full_online_online', 'fee_received',
        'fee_paid_online', 'carried_over', 'received_online', 'received_direct',
        'received_digitised', 'resolved_total', 'resolved_early', 'resolved_on_time',
        'resolved_late', 'resolved_with_result', 'resolved_e_result', 'pending_total',
        'pending_in_time', 'pending_late', 'resolved_working_days_sum',
        'resolved_working_days_count']) }}
),

final as (
    select
        counted.*,
        (counted.carried_over + counted.received_online + counted.received_direct)::bigint
            as received_total,
        (counted.received_online + counted.received_direct)::bigint as received_new,
        (counted.resolved_late + counted.pending_late)::bigint as late_total,
        {{ monthly_case_tail('counted') }}
    from both_views as counted
    {{ monthly_case_joins('counted', 'ho_so') }}
)

{{ contract_select('final') }}
