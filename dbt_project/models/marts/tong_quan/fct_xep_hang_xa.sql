-- The commune ranking per view of history × month: each commune-level unit's score by the
-- point rule of Decision 766 — Σ over the ranking KPIs of points × min(1, value ÷ threshold),
-- points and thresholds from the catalogue (dim_chi_so: `theo_766` where 766's scoring table
-- gives the row, `tam_dat` where the data team set it) — and its rank among the communes of
-- its area that month. A ranking KPI without a value for the month scores 0 and is named in
-- `missing_kpis`. As reported, the communes that existed that month; in today's structure,
-- today's communes over their whole history.
with

kpi_rows as (
    select * from {{ ref('fct_kpi_thang') }}
    where unit_level = 'don_vi'
),

ranking_kpis as (
    select * from {{ ref('int_kpi__danh_muc') }}
    where ranking_points is not null
),

communes as (
    select distinct
        kpi_rows.structure_view,
        kpi_rows.org_unit_id,
        kpi_rows.period_month
    from kpi_rows
    inner join {{ ref('dim_don_vi') }} as units on kpi_rows.org_unit_id = units.org_unit_id
    where
        units.is_commune
        -- as reported, a commune ranks only in the months it existed (a merged-away
        -- commune's still-open cases do not rank it); today's communes rank over all history
        and (
            kpi_rows.structure_view = 'current_structure'
            or (
                units.valid_from <= (kpi_rows.period_month + interval '1 month - 1 day')::date
                and coalesce(units.valid_to, date '9999-12-31') >= kpi_rows.period_month
            )
        )
),

grid as (
    select
        communes.structure_view,
        communes.org_unit_id,
        communes.period_month,
        ranking_kpis.kpi_code,
        ranking_kpis.kpi_short_name,
        ranking_kpis.ranking_points as points_max,
        ranking_kpis.sort_order,
        kpi_rows.value,
        coalesce(kpi_rows.ranking_points, 0) as points,
        kpi_rows.is_month_complete
    from communes
    cross join ranking_kpis
    left join kpi_rows
        on
            communes.structure_view = kpi_rows.structure_view
            and communes.org_unit_id = kpi_rows.org_unit_id
            and communes.period_month = kpi_rows.period_month
            and ranking_kpis.kpi_code = kpi_rows.kpi_code
),

scored as (
    select
        structure_view,
        org_unit_id,
        period_month,
        sum(points) as score,
        sum(points_max) as score_max,
        count(*) filter (where value is null) as kpis_missing,
        count(*) as kpis_ranked,
        string_agg(kpi_short_name, ', ' order by sort_order) filter (where value is null)
            as missing_kpis,
        coalesce(bool_and(is_month_complete), false) as is_month_complete
    from grid
    group by structure_view, org_unit_id, period_month
),

ranked as (
    select
        scored.*,
        units.district_id,
        rank() over (
            partition by scored.structure_view, units.district_id, scored.period_month
            order by scored.score desc
        ) as rank_in_area,
        count(*) over (
            partition by scored.structure_view, units.district_id, scored.period_month
        ) as communes_ranked
    from scored
    left join {{ ref('dim_don_vi') }} as units on scored.org_unit_id = units.org_unit_id
),

final as (
    select
        ranked.org_unit_id,
        units.org_unit_name,
        ranked.district_id,
        units.district_name,
        units.province_name,
        ranked.period_month,
        round(ranked.score, 2)::numeric as score,
        ranked.score_max,
        ranked.rank_in_area,
        ranked.communes_ranked,
        ranked.kpis_ranked,
        ranked.kpis_missing,
        ranked.missing_kpis,
        ranked.is_month_complete,
        ranked.structure_view,
        {{ structure_view_name('ranked.structure_view') }} as structure_view_name
    from ranked
    left join {{ ref('dim_don_vi') }} as units on ranked.org_unit_id = units.org_unit_id
)

{{ contract_select('final') }}
