-- The values of every indicator-list form, from the version in force of each unit × form ×
-- month (corrections replace earlier versions; earlier rows stay in raw for history). The
-- forms' own intermediates (int_ktxh01_current_values, int_yt01_current_values) read it.
with

final as (
    select
        values_.*,
        files.org_unit_id,
        files.period,
        files.period_month,
        files.arrived_at
    from {{ ref('stg_intake__chi_tieu_value') }} as values_
    inner join {{ ref('int_intake__current_files') }} as files
        on values_.file_id = files.file_id and values_.form_code = files.form_code
    where files.period_kind = 'month'
)

select * from final  -- noqa: AM04
