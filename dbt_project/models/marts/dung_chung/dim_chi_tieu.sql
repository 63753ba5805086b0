-- Indicators (chỉ tiêu) of the indicator-list forms, from indicators.csv.
with

final as (
    select
        code as indicator_code,
        form as form_code,
        "group"::text as indicator_group,
        name as indicator_name,
        unit,
        kind,
        case kind
            when 'flow' then 'Chỉ tiêu thời kỳ (cộng dồn theo tháng)'
            when 'stock' then 'Chỉ tiêu thời điểm (lấy giá trị cuối kỳ)'
        end as kind_name,
        month_rollup,
        area_rollup,
        (required = 'yes')::boolean as is_required,
        min as min_value,
        max as max_value
    from {{ ref('indicators') }}
)

{{ contract_select('final') }}
