{#- The list `Phản ánh quá hạn, sắp đến hạn (xem từng phản ánh)`. -#}
{{ case_mart_config(
    'ma_phan_anh', newest_first='received_date', deadline='deadline_date',
    overdue_list=['can_han', ['qua_han', 'dang_qua_han', 'sap_den_han']],
    pre_hook=["{{ drop_column_if_exists('tieu_de') }}"],
) }}
-- Every citizen feedback item without personal data (the citizen, the content and the title,
-- all free text, live in restricted.phan_anh_ca_nhan, never read), with its unit, deadline
-- and status. The title (tieu_de) was here once: the pre-hook removes it from a table built
-- before, which an incremental run would otherwise keep with its old values.
-- The unit (org_unit_id, which row-level access follows too) is the unit that handles the
-- item (maDonViXuLy), or the place (diaBan) when none is set; both are kept as columns.
-- The deadline is hanXuLy, or else the end of the day 15 working days after receipt
-- (weekends, public holidays and Tết do not count). Dates decide: an item is closed at
-- ngayHoanThanh; resolved = closed with status da_xu_ly, refused (tu_choi) = closed, not
-- resolved. Open items are judged against the data's as-of moment A.
-- Incremental: items loaded since the last run plus open ones.
with

placed as (
    select
        feedback.*,
        coalesce(handler.org_unit_id, place.org_unit_id) as org_unit_id,
        place.org_unit_id as place_org_unit_id,
        handler.org_unit_id as handler_org_unit_id,
        coalesce(feedback.own_deadline_date, default_deadline.date_day) as deadline_date,
        coalesce(
            feedback.han_xu_ly, {{ day_end_ts('default_deadline.date_day') }}
        ) as deadline_at,
        received_day.working_day_seq as received_seq,
        closed_day.working_day_seq as closed_seq
    from ({{ cases_to_rebuild('stg_agency__phan_anh', 'ma_phan_anh', 'is_closed') }}) as feedback
    left join lateral {{ org_unit_at('feedback.dia_ban', 'feedback.received_date') }} as place
        on true
    left join
        lateral {{ org_unit_at('feedback.ma_don_vi_xu_ly', 'feedback.received_date') }} as handler
        on true
    left join {{ ref('dim_ngay') }} as received_day
        on feedback.received_date = received_day.date_day
    left join {{ ref('dim_ngay') }} as closed_day on feedback.closed_date = closed_day.date_day
    left join {{ ref('dim_ngay') }} as default_deadline
        on
            default_deadline.is_working_day
            and default_deadline.working_day_seq
            = received_day.working_day_seq + {{ var('feedback_default_working_days') }}
),

final as (
    select
        placed.*,
        case placed.kenh
            when 'ung_dung' then 'Ứng dụng di động'
            when 'tong_dai' then 'Tổng đài'
            when 'zalo' then 'Zalo'
            when 'cong_thong_tin' then 'Cổng thông tin'
            when 'truc_tiep' then 'Trực tiếp'
        end as kenh_name,
        {{ unit_columns() }},
        {{ case_moment_columns() }},
        date_trunc('month', placed.received_date)::date as period_month,
        (placed.han_xu_ly is null)::boolean as is_default_deadline,
        placed.ngay_hoan_thanh as closed_at,
        date_trunc('month', placed.closed_date)::date as closed_month,
        (placed.closed_date is not null)::boolean as is_closed,
        (placed.trang_thai = 'da_xu_ly' and placed.closed_date is not null)::boolean
            as is_resolved,
        {{ deadline_status(
            'placed.ngay_hoan_thanh', 'placed.closed_date', 'placed.deadline_at',
            'placed.deadline_date', due_soon_days=7,
            first="when placed.trang_thai = 'tu_choi' and placed.closed_date is not null
                then 'tu_choi'",
        ) }} as deadline_status,
        case
            when placed.trang_thai = 'da_xu_ly' and placed.closed_date is not null
                then greatest(placed.closed_seq - placed.received_seq, 0)
        end as working_days_to_resolve,
        (placed.danh_gia >= 4)::boolean as is_satisfied
    from placed
    {{ case_joins('placed', 'phan_anh') }}
)

{{ contract_select('final') }}
