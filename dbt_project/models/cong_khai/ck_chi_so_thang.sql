-- The public page's KPIs (issue 19, "Công khai"): the headline rates of Decision 766
-- (`source` qd766 and kind `rate` in catalogue/kpis.yaml) per unit and area × month, under
-- today's units, as the overview shows them (is_displayed). Aggregates only: the parts
-- (numerator, denominator) and the value recomputed from them. Read by the role ioc_public
-- through its own connection; nothing else of the warehouse is open to it.
with

kpis as (
    select * from {{ ref('fct_kpi_thang') }}
    where
        structure_view = 'current_structure'
        and is_displayed
        and kpi_code in (
            select catalogue.kpi_code
            from {{ ref('int_kpi__danh_muc') }} as catalogue
            where
                catalogue.source_key = '{{ var("public_kpi_source") }}'
                and catalogue.kind = 'rate'
        )
),

final as (
    select
        org_unit_id as ma_don_vi,
        org_unit_name as don_vi,
        unit_level as cap,
        district_name as dia_ban,
        period_month as thang,
        period_label as ky,
        is_month_complete as thang_da_ket_thuc,
        domain as linh_vuc,
        kpi_code as ma_chi_so,
        kpi_name as chi_so,
        unit as don_vi_tinh,
        numerator as tu_so,
        denominator as mau_so,
        case when denominator > 0 then round(numerator * scale / denominator, 1) end::numeric
            as gia_tri,
        target as muc_tieu,
        as_of as du_lieu_den
    from kpis
)

{{ contract_select('final') }}
