-- The headline KPIs as the catalogue declares them (catalogue/kpis.yaml): name, legal source,
-- how the value is made from its parts, unit, direction, display format, default target and
-- ranking points — readable by the dashboards and by any tool reading fct_kpi_thang.
with

final as (
    select * from {{ ref('int_kpi__danh_muc') }}
)

{{ contract_select('final') }}
