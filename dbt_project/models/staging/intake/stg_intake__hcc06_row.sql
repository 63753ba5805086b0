with

source as (
    select * from {{ source('raw_intake', 'hcc06_row') }}
),

renamed as (
    select
        file_id,
        source_sheet,
        source_row,
        trim(normalize(field, nfc)) as linh_vuc,
        {{ text_key('field') }} as linh_vuc_key,
        received_total::bigint as received_total,
        carried_over::bigint as carried_over,
        received_online::bigint as received_online,
        received_direct::bigint as received_direct,
        resolved_total::bigint as resolved_total,
        resolved_early::bigint as resolved_early,
        resolved_on_time::bigint as resolved_on_time,
        resolved_late::bigint as resolved_late,
        pending_total::bigint as pending_total,
        pending_in_time::bigint as pending_in_time,
        pending_late::bigint as pending_late
    from source
)

select * from renamed
