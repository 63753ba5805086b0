-- The headline KPIs as the catalogue declares them (catalogue/kpis.yaml): name, legal source,
-- how the value is made from its parts, unit, direction, display format, default target and
-- ranking points — readable by the dashboards and by any tool reading fct_kpi_thang.
select
    kpi_code,
    kpi_name,
    kpi_short_name,
    domain,
    domain_name,
    sort_order,
    source,
    source_title,
    source_detail,
    data_source,
    model,
    kind,
    numerator_sql,
    denominator_sql,
    scale,
    unit,
    higher_is_better,
    display_format,
    default_target,
    ranking_points,
    ranking_threshold,
    ranking_basis,
    coverage_form,
    year_to_date
from {{ ref('int_kpi__danh_muc') }}
