{#- The case lists' orders (newest first; earliest deadline first within a deadline status),
    so that a page of a province-wide list reads its rows off an index instead of sorting
    the mart (the rest of the configuration: macros/agency_cases.sql, case_mart_config). A
    partial index (macros/indexes.sql: extra_index) serves the list `Hồ sơ trễ hạn (xem từng
    hồ sơ)`: its statuses in its order. -#}
{{ case_mart_config(
    'ma_ho_so',
    indexes=[
        {'columns': ['received_date desc', 'ma_ho_so']},
        {'columns': ['deadline_status', 'due_date', 'ma_ho_so']},
    ],
    post_hook=[
        "{{ extra_index(this, ['due_date', 'ma_ho_so'], 'tre_han', column='deadline_status', values=['qua_han', 'dang_qua_han']) }}",
    ],
) }}
-- Every dossier, without personal data, with its unit, deadline status and working days to
-- resolve, for drill-through. Incremental: a run rewrites the dossiers loaded since the last
-- run plus every dossier still open (their status depends on the day); `--full-refresh`
-- rebuilds all of it (needed after org_units or the holiday seed change).
--
-- Dates decide (docs/kpi-definitions.md): a dossier is finished at ngayKetThucXuLy, whatever
-- its status says (rejected and withdrawn ones too); only withdrawal is read from the status.
-- On time = finished at or before the promised moment (ngayHenTra, which the platform moves
-- forward by the days paused for supplements): 'truoc_han' before the promised day,
-- 'dung_han' on it, 'qua_han' after the promised moment (17:35 on a day promised for 17:00 is
-- late). An open dossier is past its deadline when the promised moment is before the data's
-- as-of moment A (int_thoi_diem__nguon). The working days to resolve subtract the paused
-- days (soNgayBoSung).
with

dossiers as (
    {{ cases_to_rebuild('stg_agency__ho_so', 'ma_ho_so', 'is_finished') }}
),

moment as (
    {{ source_moment('ho_so') }}
),

dated as (
    select
        *,
        {{ local_date('ngay_tiep_nhan') }} as received_date,
        {{ local_month('ngay_tiep_nhan') }} as received_month,
        {{ local_date('ngay_hen_tra') }} as due_date,
        ngay_ket_thuc_xu_ly as finished_at
    from dossiers
),

placed as (
    select
        dated.*,
        unit.org_unit_id,
        {{ local_date('dated.finished_at') }} as finished_date,
        {{ local_month('dated.finished_at') }} as finished_month
    from dated
    left join lateral {{ org_unit_at('dated.ma_don_vi', 'dated.received_date') }} as unit on true
),

final as (
    select
        placed.ma_ho_so,
        placed.ma_tthc,
        placed.ten_tthc,
        placed.linh_vuc,
        placed.cap_thuc_hien,
        placed.ma_don_vi,
        placed.org_unit_id,
        {{ unit_columns() }},
        placed.kenh_nop,
        case placed.kenh_nop
            when 1 then 'Trực tiếp'
            when 2 then 'Trực tuyến'
            when 3 then 'Bưu chính công ích'
        end as kenh_nop_name,
        (placed.kenh_nop = 2)::boolean as is_online,
        placed.muc_do_dvc,
        placed.ngay_tiep_nhan,
        placed.received_date,
        placed.received_month as period_month,
        placed.ngay_hen_tra,
        placed.due_date,
        placed.ngay_ket_thuc_xu_ly,
        placed.ngay_tra_ket_qua,
        placed.finished_at,
        placed.finished_date,
        placed.finished_month,
        (placed.finished_at is not null)::boolean as is_finished,
        placed.trang_thai,
        placed.so_lan_bo_sung,
        placed.so_ngay_bo_sung,
        placed.co_ket_qua_dien_tu,
        placed.da_so_hoa,
        placed.co_nghia_vu_tai_chinh,
        placed.thanh_toan_truc_tuyen,
        (placed.trang_thai = 'rut_ho_so')::boolean as is_withdrawn,
        {{ deadline_status(
            'placed.finished_at', 'placed.finished_date', 'placed.ngay_hen_tra',
            'placed.due_date',
        ) }} as deadline_status,
        case
            when placed.finished_at is not null
                then greatest(
                        finished_day.working_day_seq - received_day.working_day_seq
                        - placed.so_ngay_bo_sung,
                        0
                    )
        end as working_days_to_resolve,
        {{ case_load_columns('placed') }}
    from placed
    cross join moment
    {{ case_unit_joins('placed') }}
    left join {{ ref('dim_ngay') }} as received_day on placed.received_date = received_day.date_day
    left join {{ ref('dim_ngay') }} as finished_day on placed.finished_date = finished_day.date_day
)

{{ contract_select('final') }}
