{#- The case lists' orders (newest first; earliest deadline first within a deadline status)
    and (chieu, do_khan) for the urgency pie of incoming documents, so that a page of a
    province-wide list reads its rows off an index instead of sorting the mart (the rest of
    the configuration: macros/agency_cases.sql, case_mart_config). A partial index
    (macros/indexes.sql: extra_index) serves the list `Văn bản đến quá hạn, sắp đến hạn (xem
    từng văn bản)`: its statuses in its order. -#}
{{ case_mart_config(
    'ma_van_ban',
    indexes=[
        {'columns': ['event_date desc', 'ma_van_ban']},
        {'columns': ['deadline_status', 'han_xu_ly', 'ma_van_ban']},
        {'columns': ['chieu', 'do_khan']},
    ],
    post_hook=[
        "{{ extra_index(this, ['han_xu_ly', 'ma_van_ban'], 'can_han', column='deadline_status', values=['qua_han', 'dang_qua_han', 'sap_den_han']) }}",
    ],
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

documents as (
    {{ cases_to_rebuild('stg_agency__van_ban', 'ma_van_ban', 'is_completed') }}
),

moment as (
    {{ source_moment('van_ban') }}
),

dated as (
    select
        *,
        case
            when chieu = 'den' then coalesce({{ local_date('ngay_den') }}, ngay_van_ban)
            else ngay_van_ban
        end as event_date,
        case
            when chieu = 'den' and ngay_den is not null then ngay_den
            else (ngay_van_ban::timestamp at time zone 'Asia/Ho_Chi_Minh')
        end as received_at,
        {{ local_date('ngay_hoan_thanh') }} as completed_date,
        {{ day_end_ts('han_xu_ly') }} as deadline_ends_at
    from documents
),

placed as (
    select
        dated.*,
        unit.org_unit_id
    from dated
    left join lateral {{ org_unit_at('dated.ma_don_vi', 'dated.event_date') }} as unit on true
),

final as (
    select
        placed.ma_van_ban,
        placed.so_ky_hieu,
        placed.trich_yeu,
        placed.loai_van_ban,
        placed.chieu,
        case placed.chieu when 'den' then 'Văn bản đến' when 'di' then 'Văn bản đi' end::text
            as chieu_name,
        placed.ma_don_vi,
        placed.org_unit_id,
        {{ unit_columns() }},
        placed.co_quan_ban_hanh,
        placed.do_khan,
        placed.ngay_van_ban,
        placed.ngay_den,
        placed.event_date,
        date_trunc('month', placed.event_date)::date as period_month,
        placed.received_at,
        placed.han_xu_ly,
        placed.deadline_ends_at,
        placed.ngay_hoan_thanh,
        placed.ngay_hoan_thanh as completed_at,
        placed.completed_date,
        date_trunc('month', placed.completed_date)::date as completed_month,
        (placed.completed_date is not null)::boolean as is_completed,
        placed.trang_thai,
        placed.ky_so,
        {{ deadline_status(
            'placed.ngay_hoan_thanh', 'placed.completed_date', 'placed.deadline_ends_at',
            'placed.han_xu_ly', due_soon_days=7,
            first="when placed.chieu = 'di' then 'van_ban_di'",
        ) }} as deadline_status,
        case
            when placed.chieu = 'den' and placed.completed_date is not null
                then greatest(completed_day.working_day_seq - event_day.working_day_seq, 0)
        end as working_days_to_handle,
        {{ case_load_columns('placed') }}
    from placed
    cross join moment
    {{ case_unit_joins('placed') }}
    left join {{ ref('dim_ngay') }} as event_day on placed.event_date = event_day.date_day
    left join {{ ref('dim_ngay') }} as completed_day
        on placed.completed_date = completed_day.date_day
)

{{ contract_select('final') }}
