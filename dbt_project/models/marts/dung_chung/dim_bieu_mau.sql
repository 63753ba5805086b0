-- Report forms (biểu mẫu): for which period and when they are due (who submits them:
-- seed form_submitters).
with

final as (
    select
        form_code,
        title as form_title,
        period_kind,
        due_days_after_period_end,
        domain
    from {{ ref('forms') }}
)

{{ contract_select('final') }}
