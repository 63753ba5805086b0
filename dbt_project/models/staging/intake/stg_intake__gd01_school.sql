with

source as (
    select * from {{ source('raw_intake', 'gd01_school') }}
),

renamed as (
    select
        file_id,
        source_sheet,
        source_row,
        upper(trim(school_code)) as school_code,
        trim(school_name) as school_name,
        level as school_level,
        org_unit_id,
        classes::bigint as classes,
        pupils::bigint as pupils,
        girls::bigint as girls,
        minority_pupils::bigint as minority_pupils,
        dropouts::bigint as dropouts,
        teachers::bigint as teachers,
        solid_classrooms::bigint as solid_classrooms,
        coalesce(national_standard, false) as national_standard,
        -- the number cells' text as written in the file, {column: text} (null for rows loaded
        -- before it was kept)
        as_written::jsonb as cells_as_written
    from source
)

select * from renamed
