-- The values of every indicator-list form, from the version in force of each unit × form ×
-- month (corrections replace earlier versions; earlier rows stay in raw for history). The
-- forms' own intermediates (int_ktxh01_current_values, int_yt01_current_values) read it.
with

files as (
    select * from {{ ref('int_intake__current_files') }}
    where period_kind = 'month'
),

final as (
    select
        values_.form_code,
        values_.form_title,
        files.org_unit_id,
        files.period,
        files.period_month,
        values_.indicator_code,
        values_.value,
        files.file_id,
        values_.source_sheet,
        values_.source_row,
        files.arrived_at
    from {{ ref('stg_intake__chi_tieu_value') }} as values_
    inner join files
        on values_.file_id = files.file_id and values_.form_code = files.form_code
)

select * from final
