with

source as (
    select * from {{ source('raw_intake', 'file_manifest') }}
),

renamed as (
    select
        file_id,
        sha256,
        original_path,
        archive_path,
        org_unit_id,
        form_code,
        period,
        size_bytes,
        arrived_at,
        status,
        errors,
        warnings,
        version,
        is_current,
        superseded_by,
        -- KTXH-01, YT-01, HCC-06 report months; GD-01 reports semesters (YYYY-HK1/2).
        case
            when period ~ '^\d{4}-\d{2}$' then to_date(period || '-01', 'YYYY-MM-DD')
        end as period_month,
        case
            when period ~ '^\d{4}-\d{2}$' then 'month'
            when period ~ '^\d{4}-HK[12]$' then 'semester'
        end as period_kind,
        {{ period_start('period') }} as period_start,
        {{ period_end('period') }} as period_end,
        {{ local_date('arrived_at') }} as arrived_date
    from source
)

select * from renamed
