-- The KPI catalogue (catalogue/kpis.yaml, through the generated macro kpi_catalogue) as rows,
-- for the models that join it; mart_tong_quan.dim_chi_so publishes it.
{%- set kpis = kpi_catalogue() %}
{%- set columns = ['code', 'name', 'short_name', 'domain', 'domain_name', 'sort_order',
    'source_key', 'source', 'source_title', 'source_detail', 'data', 'model', 'kind', 'numerator',
    'denominator', 'scale', 'unit', 'higher_is_better', 'format', 'target', 'ranking_points',
    'ranking_threshold', 'ranking_basis', 'coverage_form', 'year_to_date'] %}
with

declared as (
    select *
    from (
        values
        {%- for kpi in kpis %}
            (
                {%- for column in columns -%}
                    {{ sql_literal(kpi[column]) }}{{ ", " if not loop.last }}
                {%- endfor -%}
            ){{ "," if not loop.last }}
        {%- endfor %}
    ) as catalogue ({{ columns | join(', ') }})
),

final as (
    select
        code::text as kpi_code,
        name::text as kpi_name,
        short_name::text as kpi_short_name,
        domain::text as domain,
        domain_name::text as domain_name,
        sort_order::int as sort_order,
        source_key::text as source_key,
        source::text as source,
        source_title::text as source_title,
        source_detail::text as source_detail,
        data::text as data_source,
        model::text as model,
        kind::text as kind,
        numerator::text as numerator_sql,
        denominator::text as denominator_sql,
        scale::numeric as scale,
        unit::text as unit,
        higher_is_better::boolean as higher_is_better,
        format::text as display_format,
        target::numeric as default_target,
        ranking_points::numeric as ranking_points,
        ranking_threshold::numeric as ranking_threshold,
        ranking_basis::text as ranking_basis,
        coverage_form::text as coverage_form,
        year_to_date::boolean as year_to_date
    from declared
)

select * from final
