-- Headline KPIs per unit × month across all domains, for the IOC overview, in one long
-- table: each row holds a KPI's numerator and denominator and the value computed from them
-- (value = numerator × scale / denominator; names, units and scales in the seed
-- `kpi_definitions`). Area rows (unit_level = dia_ban: the district before the 2025 reform,
-- the IOC's area after it) add up the units' numerators and denominators, so an area rate is
-- never an average of rates. Both views of history (structure_view) come from the monthly
-- marts, each KPI's parts taken from the same view.
with

hcc as (
    select * from {{ ref('fct_ho_so_thang') }}
),

documents as (
    select * from {{ ref('fct_van_ban_thang') }}
),

social as (
    select * from {{ ref('fct_ty_le_xa_hoi_thang') }}
),

health as (
    select * from {{ ref('fct_y_te_thang') }}
),

feedback as (
    select * from {{ ref('fct_phan_anh_thang') }}
),

reports as (
    select * from {{ ref('fct_nop_bao_cao') }}
    where period_month is not null
),

definitions as (
    select * from {{ ref('kpi_definitions') }}
),

units as (
    select * from {{ ref('dim_don_vi') }}
),

parts as (
    select
        structure_view,
        org_unit_id,
        period_month,
        'hcc_ty_le_dung_han' as kpi_code,
        sum(received_total - late_total) as numerator,
        sum(received_total) as denominator
    from hcc
    group by structure_view, org_unit_id, period_month
    union all
    select
        structure_view,
        org_unit_id,
        period_month,
        'hcc_ty_le_truc_tuyen' as kpi_code,
        sum(received_online) as numerator,
        sum(received_new) as denominator
    from hcc
    group by structure_view, org_unit_id, period_month
    union all
    select
        structure_view,
        org_unit_id,
        period_month,
        'hcc_so_ngay_giai_quyet' as kpi_code,
        sum(resolved_working_days_sum) as numerator,
        sum(resolved_working_days_count) as denominator
    from hcc
    group by structure_view, org_unit_id, period_month
    union all
    select
        structure_view,
        org_unit_id,
        period_month,
        'vb_ty_le_dung_han' as kpi_code,
        incoming_completed_on_time as numerator,
        incoming_completed_on_time + incoming_completed_late as denominator
    from documents
    union all
    select
        structure_view,
        org_unit_id,
        period_month,
        'vb_ty_le_ky_so' as kpi_code,
        outgoing_signed as numerator,
        outgoing_issued as denominator
    from documents
    union all
    select
        structure_view,
        org_unit_id,
        period_month,
        'ktxh_ty_le_ho_ngheo' as kpi_code,
        poor_households as numerator,
        households as denominator
    from social
    where poor_households is not null
    union all
    select
        structure_view,
        org_unit_id,
        period_month,
        'yt_ty_le_tiem_chung' as kpi_code,
        fully_immunised_ytd as numerator,
        immunisation_target as denominator
    from health
    where fully_immunised_ytd is not null
    union all
    select
        structure_view,
        org_unit_id,
        period_month,
        'yt_sxh_100k' as kpi_code,
        dengue_cases as numerator,
        population as denominator
    from health
    where dengue_cases is not null and population is not null
    union all
    select
        structure_view,
        org_unit_id,
        period_month,
        'pakn_ty_le_dung_han' as kpi_code,
        sum(resolved_on_time) as numerator,
        sum(resolved) as denominator
    from feedback
    group by structure_view, org_unit_id, period_month
    union all
    select
        structure_view,
        org_unit_id,
        period_month,
        'pakn_ty_le_hai_long' as kpi_code,
        sum(rated_satisfied) as numerator,
        sum(rated) as denominator
    from feedback
    group by structure_view, org_unit_id, period_month
    union all
    select
        structure_view,
        org_unit_id,
        period_month,
        'bc_ty_le_nop' as kpi_code,
        sum(received) as numerator,
        sum(expected) as denominator
    from reports
    group by structure_view, org_unit_id, period_month
    union all
    select
        structure_view,
        org_unit_id,
        period_month,
        'bc_ty_le_nop_dung_han' as kpi_code,
        sum(on_time) as numerator,
        sum(expected) as denominator
    from reports
    group by structure_view, org_unit_id, period_month
),

unit_rows as (
    select
        parts.structure_view,
        parts.org_unit_id,
        'don_vi' as unit_level,
        units.district_id,
        parts.period_month,
        parts.kpi_code,
        parts.numerator,
        parts.denominator
    from parts
    left join units on parts.org_unit_id = units.org_unit_id
),

district_rows as (
    select
        structure_view,
        district_id as org_unit_id,
        'dia_ban' as unit_level,
        district_id,
        period_month,
        kpi_code,
        sum(numerator) as numerator,
        sum(denominator) as denominator
    from unit_rows
    where district_id is not null
    group by structure_view, district_id, period_month, kpi_code
),

all_rows as (
    select * from unit_rows
    union all
    select * from district_rows
),

final as (
    select
        all_rows.org_unit_id::text as org_unit_id,
        units.org_unit_name::text as org_unit_name,
        all_rows.unit_level::text as unit_level,
        all_rows.district_id::text as district_id,
        all_rows.period_month::date as period_month,
        definitions.domain::text as domain,
        all_rows.kpi_code::text as kpi_code,
        definitions.name_vi::text as kpi_name,
        definitions.unit::text as unit,
        all_rows.numerator::numeric as numerator,
        all_rows.denominator::numeric as denominator,
        definitions.scale::numeric as scale,
        {{ ratio('all_rows.numerator', 'all_rows.denominator', 'definitions.scale') }}
            as value,
        definitions.higher_is_better::boolean as higher_is_better,
        definitions.sort_order::int as sort_order,
        all_rows.structure_view::text as structure_view,
        {{ structure_view_name('all_rows.structure_view') }} as structure_view_name,
        units.district_name::text as district_name,
        units.province_name::text as province_name
    from all_rows
    inner join definitions on all_rows.kpi_code = definitions.kpi_code
    left join units on all_rows.org_unit_id = units.org_unit_id
)

select * from final
