{#- The list of late dossiers: `Hồ sơ trễ hạn (xem từng hồ sơ)`. -#}
{{ case_mart_config(
    'ma_ho_so', newest_first='received_date', deadline='due_date',
    overdue_list=['tre_han', ['qua_han', 'dang_qua_han']],
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

final as (
    select
        dossiers.*,
        dossiers.ngay_ket_thuc_xu_ly as finished_at,
        unit.org_unit_id,
        {{ unit_columns() }},
        {{ case_moment_columns() }},
        case dossiers.kenh_nop
            when 1 then 'Trực tiếp'
            when 2 then 'Trực tuyến'
            when 3 then 'Bưu chính công ích'
        end as kenh_nop_name,
        (dossiers.kenh_nop = 2)::boolean as is_online,
        dossiers.received_month as period_month,
        (dossiers.ngay_ket_thuc_xu_ly is not null)::boolean as is_finished,
        (dossiers.trang_thai = 'rut_ho_so')::boolean as is_withdrawn,
        {{ deadline_status(
            'dossiers.ngay_ket_thuc_xu_ly', 'dossiers.finished_date', 'dossiers.ngay_hen_tra',
            'dossiers.due_date',
        ) }} as deadline_status,
        case
            when dossiers.ngay_ket_thuc_xu_ly is not null
                then greatest(
                        end_day.working_day_seq - start_day.working_day_seq
                        - dossiers.so_ngay_bo_sung,
                        0
                    )
        end as working_days_to_resolve
    from ({{ cases_to_rebuild('stg_agency__ho_so', 'ma_ho_so', 'is_finished') }}) as dossiers
    {{ case_joins(
        'dossiers', 'ho_so', 'received_date', 'finished_date',
        unit_of=['ma_don_vi', 'received_date'],
    ) }}
)

{{ contract_select('final') }}
