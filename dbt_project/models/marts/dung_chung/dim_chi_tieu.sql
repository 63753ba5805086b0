-- Indicators (chỉ tiêu) of the indicator-list forms, from indicators.csv.
with

source as (
    select * from {{ ref('indicators') }}
),

final as (
    select
        code::text as indicator_code,
        form::text as form_code,
        "group"::text as indicator_group,
        name::text as indicator_name,
        unit::text as unit,
        kind::text as kind,
        case kind
            when 'flow' then 'Chỉ tiêu thời kỳ (cộng dồn theo tháng)'
            when 'stock' then 'Chỉ tiêu thời điểm (lấy giá trị cuối kỳ)'
        end::text as kind_name,
        month_rollup::text as month_rollup,
        area_rollup::text as area_rollup,
        (required = 'yes')::boolean as is_required,
        min::numeric as min_value,
        max::numeric as max_value
    from source
)

select * from final
