-- The version in force of every unit × form × period: the newest accepted file.
with

final as (
    select
        file_id,
        org_unit_id,
        form_code,
        period,
        period_kind,
        period_month,
        period_start,
        period_end,
        arrived_at,
        arrived_date,
        version
    from {{ ref('stg_intake__file_manifest') }}
    where status = 'accepted' and is_current
)

select * from final
