{#- The list `Văn bản đến quá hạn, sắp đến hạn (xem từng văn bản)`; (chieu, do_khan) for the
    urgency pie of incoming documents. -#}
{{ case_mart_config(
    'ma_van_ban', newest_first='event_date', deadline='han_xu_ly',
    overdue_list=['can_han', ['qua_han', 'dang_qua_han', 'sap_den_han']],
    indexes=[{'columns': ['chieu', 'do_khan']}],
) }}
-- Every incoming and outgoing document with its unit, deadline status and working days of
-- handling, for drill-through. Incremental like fct_ho_so: documents loaded since the last
-- run plus every incoming document still open (its status depends on the day).
--   period_month: month received (incoming) or dated (outgoing)
--   dates decide: completed at ngayHoanThanh, whatever the status says
--   on time: completed by the end (23:59:59) of the deadline day (hanXuLy); documents
--   without a deadline are `khong_co_han`; open ones are past deadline (the end of the
--   deadline day before the data's as-of moment A), due within 7 days, or within deadline.
with

final as (
    select
        documents.*,
        unit.org_unit_id,
        case documents.chieu
            when 'den' then 'Văn bản đến'
            when 'di' then 'Văn bản đi'
        end::text as chieu_name,
        {{ unit_columns() }},
        {{ case_moment_columns() }},
        date_trunc('month', documents.event_date)::date as period_month,
        documents.ngay_hoan_thanh as completed_at,
        date_trunc('month', documents.completed_date)::date as completed_month,
        (documents.completed_date is not null)::boolean as is_completed,
        {{ deadline_status(
            'documents.ngay_hoan_thanh', 'documents.completed_date', 'documents.deadline_ends_at',
            'documents.han_xu_ly', due_soon_days=7,
            first="when documents.chieu = 'di' then 'van_ban_di'",
        ) }} as deadline_status,
        case
            when documents.chieu = 'den' and documents.completed_date is not null
                then greatest(end_day.working_day_seq - start_day.working_day_seq, 0)
        end as working_days_to_handle
    from ({{ cases_to_rebuild('stg_agency__van_ban', 'ma_van_ban', 'is_completed') }}) as documents
    {{ case_joins(
        'documents', 'van_ban', 'event_date', 'completed_date', unit_of=['ma_don_vi', 'event_date']
    ) }}
)

{{ contract_select('final') }}
