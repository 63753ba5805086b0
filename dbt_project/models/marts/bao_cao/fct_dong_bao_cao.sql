{#- The source-row lists of the domain dashboards (`Nguồn số liệu — từng dòng biểu <form>`,
    one form each, newest period first) read a page off this index instead of sorting the
    form's rows (issue 21: 355 -> 1 ms for KTXH-01 at national scale). -#}
{{ config(indexes=[
    {'columns': ['form_code', 'period_month desc', 'org_unit_name', 'version desc', 'row_number']},
]) }}
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

-- the indicator-list forms' rows (one per indicator), each form's own staging
indicator_rows as (
    {%- for form_rows in ['stg_intake__ktxh01_value', 'stg_intake__yt01_value'] %}
        {{ 'union all' if not loop.first }}
        select
            file_id,
            source_sheet,
            source_row,
            indicator_code,
            null::text as org_unit_id,
            null::text as subject_name,
            value,
            value_as_written,
            note
        from {{ ref(form_rows) }}
    {%- endfor %}
),

-- GD-01 rows are schools; each measure of a school row is one value here
gd as (
    select
        schools.file_id,
        schools.source_sheet,
        schools.source_row,
        measure.code as indicator_code,
        schools.org_unit_id,
        schools.school_name as subject_name,
        measure.value::numeric as value,
        schools.cells_as_written ->> measure.raw_column as value_as_written,
        null::text as note
    from {{ ref('stg_intake__gd01_school') }} as schools
    cross join lateral (
        values
        ('GD.LOP', schools.classes, 'classes'),
        ('GD.HS', schools.pupils, 'pupils'),
        ('GD.HS_NU', schools.girls, 'girls'),
        ('GD.HS_DTTS', schools.minority_pupils, 'minority_pupils'),
        ('GD.BO_HOC', schools.dropouts, 'dropouts'),
        ('GD.GV', schools.teachers, 'teachers'),
        ('GD.PHONG_KIEN_CO', schools.solid_classrooms, 'solid_classrooms')
    ) as measure (code, value, raw_column)
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
    select * from indicator_rows
    union all
    select * from gd
),

-- both views of history, like every monthly mart: as reported (the unit that reported the
-- value, or the school's commune) and in today's structure (the unit that holds its place
-- today), so a dashboard's view and unit filters find the rows behind its figures in both
viewed as (
    select
        rows_.*,
        views.structure_view,
        coalesce(rows_.org_unit_id, files.org_unit_id) as own_unit_id,
        case
            when views.structure_view = 'current_structure'
                then coalesce(own.current_org_unit_id, own.org_unit_id)
            else own.org_unit_id
        end as shown_unit_id
    from rows_
    inner join files on rows_.file_id = files.file_id
    left join {{ ref('dim_don_vi') }} as own
        on coalesce(rows_.org_unit_id, files.org_unit_id) = own.org_unit_id
    cross join (values ('as_reported'), ('current_structure')) as views (structure_view)
),

final as (
    select
        viewed.structure_view,
        {{ structure_view_name('viewed.structure_view') }} as structure_view_name,
        viewed.file_id,
        viewed.source_sheet as sheet,
        viewed.source_row as row_number,
        viewed.indicator_code,
        -- the unit the value belongs to in this view
        coalesce(viewed.shown_unit_id, viewed.own_unit_id)::text as org_unit_id,
        units.org_unit_name,
        units.district_id,
        units.district_name,
        units.province_name,
        own.current_org_unit_id,
        own.current_org_unit_name,
        own.org_unit_id as reported_org_unit_id,
        own.org_unit_name as reported_org_unit_name,
        files.org_unit_id as reporting_org_unit_id,
        reporting.org_unit_name as reporting_org_unit_name,
        files.form_code,
        files.period,
        date_trunc('month', files.period_end)::date as period_month,
        regexp_replace(files.original_path, '^.*[\\/]', '')::text as file_name,
        -- the archived original's name in the archive (SHA-256 + extension), for the data
        -- team's download through the upload page
        regexp_replace(files.archive_path, '^.*[\\/]', '')::text as archive_name,
        files.version,
        coalesce(files.is_current, false)::boolean as is_current,
        files.arrived_at,
        coalesce(indicators.indicator_name, gd_names.indicator_name)::text as indicator_name,
        viewed.subject_name,
        viewed.value,
        -- the cell as written in the file, beside the number read from it
        viewed.value_as_written,
        viewed.note
    from viewed
    inner join files on viewed.file_id = files.file_id
    left join {{ ref('dim_don_vi') }} as units
        on coalesce(viewed.shown_unit_id, viewed.own_unit_id) = units.org_unit_id
    left join {{ ref('dim_don_vi') }} as own on viewed.own_unit_id = own.org_unit_id
    left join {{ ref('dim_don_vi') }} as reporting on files.org_unit_id = reporting.org_unit_id
    left join {{ ref('dim_chi_tieu') }} as indicators
        on viewed.indicator_code = indicators.indicator_code
    left join gd_names on viewed.indicator_code = gd_names.indicator_code
)

{{ contract_select('final') }}
