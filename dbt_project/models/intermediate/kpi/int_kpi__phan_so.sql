-- The parts of every KPI of the catalogue (catalogue/kpis.yaml, through the generated macro
-- kpi_catalogue) per view of history × unit × month: Σ numerator and Σ denominator of the
-- KPI's own mart, so the headline number is the same sum the domain dashboards make.
-- For a value built from report forms, the form's coverage beside it: how many of the units
-- that owe the form for the period (fct_nop_bao_cao.units_owing) have sent it by A
-- (received) — a unit that owed the form and sent nothing has a row without a value.
{%- set kpis = kpi_catalogue() %}
with

{% for kpi in kpis %}
    kpi_{{ kpi.code }} as (
        select
            structure_view,
            org_unit_id,
            period_month,
            '{{ kpi.code }}'::text as kpi_code,
            sum({{ kpi.numerator }})::numeric as numerator,
            {% if kpi.denominator -%}
                sum({{ kpi.denominator }})::numeric
            {%- else -%}
                null::numeric
            {%- endif %} as denominator
        from {{ ref(kpi.model) }}
        group by structure_view, org_unit_id, period_month
    ),

{% endfor -%}
parts as (
    {%- for kpi in kpis %}
        select * from kpi_{{ kpi.code }}
        where numerator is not null or denominator is not null
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

coverage as (
    select
        structure_view,
        org_unit_id,
        form_code,
        period_month,
        sum(units_owing) as units_expected,
        sum(received) as units_covered
    from {{ ref('fct_nop_bao_cao') }}
    group by structure_view, org_unit_id, form_code, period_month
),

kpi_forms as (
    select
        kpi_code,
        coverage_form
    from (
        values
        {%- for kpi in kpis if kpi.coverage_form %}
            ('{{ kpi.code }}', '{{ kpi.coverage_form }}'){{ "," if not loop.last }}
        {%- endfor %}
    ) as declared (kpi_code, coverage_form)
),

kpi_coverage as (
    select
        coverage.structure_view,
        coverage.org_unit_id,
        coverage.period_month,
        kpi_forms.kpi_code,
        coverage.units_expected,
        coverage.units_covered
    from coverage
    inner join kpi_forms on coverage.form_code = kpi_forms.coverage_form
),

final as (
    select
        coalesce(parts.structure_view, kpi_coverage.structure_view)::text as structure_view,
        coalesce(parts.org_unit_id, kpi_coverage.org_unit_id)::text as org_unit_id,
        coalesce(parts.period_month, kpi_coverage.period_month)::date as period_month,
        coalesce(parts.kpi_code, kpi_coverage.kpi_code)::text as kpi_code,
        parts.numerator::numeric as numerator,
        parts.denominator::numeric as denominator,
        kpi_coverage.units_expected::int as units_expected,
        kpi_coverage.units_covered::int as units_covered
    from parts
    full outer join kpi_coverage
        on
            parts.structure_view = kpi_coverage.structure_view
            and parts.org_unit_id = kpi_coverage.org_unit_id
            and parts.period_month = kpi_coverage.period_month
            and parts.kpi_code = kpi_coverage.kpi_code
)

select * from final
