-- YT-01 values of the version in force for each commune and month: the generic indicator
-- values (int_chi_tieu__current_values) of the form.
with

values_ as (
    select * from {{ ref('int_chi_tieu__current_values') }}
    where form_code = 'YT-01'
),

final as (
    select
        org_unit_id,
        period_month,
        indicator_code,
        value,
        file_id,
        arrived_at
    from values_
)

select * from final
