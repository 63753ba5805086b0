-- Citizen feedback per unit (the handling unit, else the place: fct_phan_anh.org_unit_id) ×
-- field × channel × month, evaluated at the month's moment T (int_thoi_diem__thang: the end
-- of the month once it has ended by A, else A). Dates decide: received = ngayTiepNhan ≤ T,
-- closed in the month = ngayHoanThanh in [start of the month, T], open at T = not closed by T.
--   due_population / due_on_time   pakn_dung_han: closed in the month or open at T; on time =
--                                  closed ≤ the deadline (hanXuLy, else the end of the 15th
--                                  working day), or open with the deadline ≥ T
--   satisfied                      pakn_hai_long: of that population, neither rated 1–2 nor
--                                  late (never rated = not dissatisfied)
-- and the working counts: received, resolved (status da_xu_ly) on time / late, refused, open
-- at T and past deadline, working days, published answers, ratings of the items resolved.
-- An item has a row in every month from its receipt to its closing (or to the month of A).
-- Both views of history (structure_view), parts summed per today's unit (in_both_structures).
with

item_months as (
    {{ open_month_spans(
        'fct_phan_anh', 'phan_anh', received_at='ngay_tiep_nhan', done='closed',
        deadline_at='deadline_at'
    ) }}
),

flagged as (
    select
        item_months.*,
        (item_months.is_closed_in_month and item_months.trang_thai = 'da_xu_ly')
            as is_resolved_in_month
    from item_months
),

counted as (
    select
        org_unit_id,
        linh_vuc,
        kenh,
        month_start,
        {{ deadline_counts() }},
        count(*) filter (
            where is_due_on_time and coalesce(danh_gia not in (1, 2), true)
        ) as satisfied,
        {{ flow_counts(
            'is_resolved_in_month', 'closed_at', 'deadline_at',
            ['received', 'resolved', 'resolved_on_time', 'resolved_late'],
        ) }},
        count(*) filter (
            where is_closed_in_month and not is_resolved_in_month
        ) as refused,
        count(*) filter (where is_open_at_t) as open_end,
        count(*) filter (where is_past_deadline_at_t) as open_past_deadline,
        coalesce(
            sum(working_days_to_resolve) filter (where is_resolved_in_month), 0
        ) as resolved_working_days_sum,
        count(working_days_to_resolve) filter (where is_resolved_in_month)
            as resolved_working_days_count,
        count(*) filter (where is_resolved_in_month and cong_khai) as published,
        count(danh_gia) filter (where is_resolved_in_month) as rated,
        count(*) filter (where is_resolved_in_month and danh_gia >= 4) as rated_satisfied,
        coalesce(sum(danh_gia) filter (where is_resolved_in_month), 0) as rating_sum
    from flagged
    group by org_unit_id, linh_vuc, kenh, month_start
),

both_views as (
    {{ in_both_structures('counted', ['linh_vuc', 'kenh', 'month_start'], [
        'due_population', 'due_on_time', 'satisfied', 'received', 'resolved',
        'resolved_on_time', 'resolved_late', 'refused', 'open_end', 'open_past_deadline',
        'resolved_working_days_sum', 'resolved_working_days_count', 'published', 'rated',
        'rated_satisfied', 'rating_sum']) }}
),

final as (
    select
        counted.*,
        {{ ratio('counted.resolved_working_days_sum', 'counted.resolved_working_days_count') }}
            as avg_working_days_to_resolve,
        {{ pct('counted.published', 'counted.resolved') }} as published_share,
        {{ ratio('counted.rating_sum', 'counted.rated') }} as mean_rating,
        {{ monthly_case_tail('counted') }}
    from both_views as counted
    {{ monthly_case_joins('counted', 'phan_anh') }}
)

{{ contract_select('final') }}
