-- Report forms (biểu mẫu): for which period and when they are due (who submits them:
-- seed form_submitters).
with

source as (
    select * from {{ ref('forms') }}
),

final as (
    select
        form_code::text as form_code,
        title::text as form_title,
        period_kind::text as period_kind,
        due_days_after_period_end::int as due_days_after_period_end,
        domain::text as domain
    from source
)

select * from final
