with

source as (
    select * from {{ source('raw_intake', 'yt01_value') }}
),

renamed as (
    select
        file_id,
        source_sheet,
        source_row,
        upper(trim(indicator_code)) as indicator_code,
        value::numeric as value,
        -- the value cell's text as written in the file (null for rows loaded before it was kept)
        (as_written ->> 'value')::text as value_as_written,
        note
    from source
)

select * from renamed
