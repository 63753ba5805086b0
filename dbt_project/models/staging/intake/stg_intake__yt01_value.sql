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
        note
    from source
)

select * from renamed
