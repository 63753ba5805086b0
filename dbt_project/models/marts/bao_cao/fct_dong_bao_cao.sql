-- Where a report-form figure came from (issue 18): one row per value of every accepted
-- version of KTXH-01, YT-01 (one row per indicator) and GD-01 (one row per school ×
-- measure), with the file it came from (name, version, arrival, whether it is the version
-- in force) and the place in it (sheet, Excel row). The archive keeps the file itself
-- (raw_intake.file_manifest.archive_path); this mart holds no path, only the file's name.
with

files as (
    select * from {{ ref('stg_intake__file_manifest') }}
    where status = 'accepted'
),

ktxh as (
    select
        file_id, source_sheet, source_row, indicator_code,
        null::text as org_unit_id, null::text as subject_name, value, note
    from {{ ref('stg_intake__ktxh01_value') }}
),

yt as (
    select
        file_id, source_sheet, source_row, indicator_code,
        null::text as org_unit_id, null::text as subject_name, value, note
    from {{ ref('stg_intake__yt01_value') }}
),

-- GD-01 rows are schools; each measure of a school row is one value here
gd as (
    select
        schools.file_id, schools.source_sheet, schools.source_row, measure.code as indicator_code,
        schools.org_unit_id, schools.school_name as subject_name, measure.value::numeric as value,
        null::text as note
    from {{ ref('stg_intake__gd01_school') }} as schools
    cross join lateral (
        values
            ('GD.LOP', schools.classes),
            ('GD.HS', schools.pupils),
            ('GD.HS_NU', schools.girls),
            ('GD.HS_DTTS', schools.minority_pupils),
            ('GD.BO_HOC', schools.dropouts),
            ('GD.GV', schools.teachers),
            ('GD.PHONG_KIEN_CO', schools.solid_classrooms)
    ) as measure (code, value)
),

gd_names as (
    select * from (
        values
            ('GD.LOP', 'Số lớp'),
            ('GD.HS', 'Số học sinh'),
            ('GD.HS_NU', 'Học sinh nữ'),
            ('GD.HS_DTTS', 'Học sinh dân tộc thiểu số'),
            ('GD.BO_HOC', 'Học sinh bỏ học'),
            ('GD.GV', 'Số giáo viên'),
            ('GD.PHONG_KIEN_CO', 'Phòng học kiên cố')
    ) as names (indicator_code, indicator_name)
),

rows_ as (
    select * from ktxh
    union all
    select * from yt
    union all
    select * from gd
),

units as (
    select * from {{ ref('dim_don_vi') }}
),

indicators as (
    select * from {{ ref('dim_chi_tieu') }}
),

final as (
    select
        rows_.file_id::bigint as file_id,
        rows_.source_sheet::text as sheet,
        rows_.source_row::int as row_number,
        rows_.indicator_code::text as indicator_code,
        -- the unit the value belongs to: the reporting unit, or a GD-01 school's commune
        coalesce(rows_.org_unit_id, files.org_unit_id)::text as org_unit_id,
        units.org_unit_name::text as org_unit_name,
        units.district_id::text as district_id,
        units.district_name::text as district_name,
        units.province_name::text as province_name,
        units.current_org_unit_id::text as current_org_unit_id,
        units.current_org_unit_name::text as current_org_unit_name,
        files.org_unit_id::text as reporting_org_unit_id,
        reporting.org_unit_name::text as reporting_org_unit_name,
        files.form_code::text as form_code,
        files.period::text as period,
        date_trunc('month', files.period_end)::date as period_month,
        regexp_replace(files.original_path, '^.*[\\/]', '')::text as file_name,
        -- the archived original's name in the archive (SHA-256 + extension), for the data
        -- team's download through the upload page
        regexp_replace(files.archive_path, '^.*[\\/]', '')::text as archive_name,
        files.version::int as version,
        coalesce(files.is_current, false)::boolean as is_current,
        files.arrived_at::timestamptz as arrived_at,
        coalesce(indicators.indicator_name, gd_names.indicator_name)::text as indicator_name,
        rows_.subject_name::text as subject_name,
        rows_.value::numeric as value,
        rows_.note::text as note
    from rows_
    inner join files on rows_.file_id = files.file_id
    left join units on coalesce(rows_.org_unit_id, files.org_unit_id) = units.org_unit_id
    left join units as reporting on files.org_unit_id = reporting.org_unit_id
    left join indicators on rows_.indicator_code = indicators.indicator_code
    left join gd_names on rows_.indicator_code = gd_names.indicator_code
)

select * from final
