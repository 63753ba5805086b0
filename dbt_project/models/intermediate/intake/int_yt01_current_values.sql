-- YT-01 values of the version in force for each commune and month.
with

files as (
    select * from {{ ref('int_intake__current_files') }}
    where form_code = 'YT-01'
),

values_ as (
    select * from {{ ref('stg_intake__yt01_value') }}
),

final as (
    select
        files.org_unit_id,
        files.period_month,
        values_.indicator_code,
        values_.value,
        files.file_id,
        files.arrived_at
    from values_
    inner join files on values_.file_id = files.file_id
)

select * from final
