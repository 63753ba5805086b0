-- The public page's feedback (issue 19, "Công khai"): citizens' feedback received and answered
-- per unit × month under today's units, summed over fields and channels. Counts only: no
-- case, no title, no person.
with

feedback as (
    select * from {{ ref('fct_phan_anh_thang') }}
    where structure_view = 'current_structure'
),

final as (
    select
        org_unit_id as ma_don_vi,
        min(org_unit_name)::text as don_vi,
        min(district_name)::text as dia_ban,
        period_month as thang,
        bool_and(is_month_complete)::boolean as thang_da_ket_thuc,
        sum(received)::bigint as tiep_nhan,
        sum(resolved)::bigint as da_tra_loi,
        sum(resolved_on_time)::bigint as tra_loi_dung_han,
        sum(resolved_late)::bigint as tra_loi_qua_han,
        sum(open_end)::bigint as dang_xu_ly,
        sum(published)::bigint as da_cong_khai,
        max(as_of)::timestamptz as du_lieu_den
    from feedback
    group by org_unit_id, period_month
)

{{ contract_select('final') }}
