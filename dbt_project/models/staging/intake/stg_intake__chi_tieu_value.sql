-- Every indicator-list form's rows (raw_intake.chi_tieu_value, the view the intake engine
-- keeps over their tables): a form added by its contract alone appears here.
with

source as (
    select * from {{ source('raw_intake', 'chi_tieu_value') }}
),

renamed as (
    select
        form_code,
        form_title,
        file_id,
        source_sheet,
        source_row,
        upper(trim(indicator_code)) as indicator_code,
        value
    from source
)

select * from renamed
