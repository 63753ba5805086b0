-- Report forms (biểu mẫu): who submits them, for which period, and when they are due.
with

source as (
    select * from {{ ref('forms') }}
),

final as (
    select
        form_code::text as form_code,
        title::text as form_title,
        period_kind::text as period_kind,
        nullif(submitter_unit_types, '')::text as submitter_unit_types,
        nullif(submitter_org_unit_ids, '')::text as submitter_org_unit_ids,
        due_days_after_period_end::int as due_days_after_period_end,
        domain::text as domain
    from source
)

select * from final
