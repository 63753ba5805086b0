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
        org_unit_id::text as ma_don_vi,
        org_unit_name::text as don_vi,
        unit_level::text as cap,
        district_name::text as dia_ban,
        period_month::date as thang,
        period_label::text as ky,
        is_month_complete::boolean as thang_da_ket_thuc,
        domain::text as linh_vuc,
        kpi_code::text as ma_chi_so,
        kpi_name::text as chi_so,
        unit::text as don_vi_tinh,
        numerator::numeric as tu_so,
        denominator::numeric as mau_so,
        case when denominator > 0 then round(numerator * scale / denominator, 1) end::numeric
            as gia_tri,
        target::numeric as muc_tieu,
        as_of::timestamptz as du_lieu_den
    from kpis
)

select * from final
