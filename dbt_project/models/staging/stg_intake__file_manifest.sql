with

source as (
    select * from {{ source('raw_intake', 'file_manifest') }}
),

renamed as (
    select
        file_id,
        sha256,
        original_path,
        org_unit_id,
        form_code,
        period,
        size_bytes,
        arrived_at,
        status,
        version,
        is_current,
        superseded_by,
        -- KTXH-01, YT-01, HCC-06 report months; GD-01 reports semesters (YYYY-HK1/2).
        case
            when period ~ '^\d{4}-\d{2}$' then to_date(period || '-01', 'YYYY-MM-DD')
        end as period_month
    from source
)

select * from renamed
