-- HCC-06 rows of the version in force for each commune and month (one per field).
with

files as (
    select * from {{ ref('int_intake__current_files') }}
    where form_code = 'HCC-06'
),

final as (
    select
        files.org_unit_id,
        files.period_month,
        rows_.linh_vuc,
        rows_.linh_vuc_key,
        rows_.received_total,
        rows_.carried_over,
        rows_.received_online,
        rows_.received_direct,
        rows_.resolved_total,
        rows_.resolved_early,
        rows_.resolved_on_time,
        rows_.resolved_late,
        rows_.pending_total,
        rows_.pending_in_time,
        rows_.pending_late,
        files.file_id
    from {{ ref('stg_intake__hcc06_row') }} as rows_
    inner join files on rows_.file_id = files.file_id
)

select * from final
