-- Reporting completeness per unit × form × period (DHIS2's reporting rate and on-time
-- reporting rate), judged at the report forms' as-of moment A (int_thoi_diem__bieu_mau: the
-- intake's last scan). A unit owes a report (`expected`) when it exists during the period and
-- the form's deadline for the period has passed at A — the end of the due day, Vietnam time;
-- before that the period has no rate (`chua_den_han`), even when a report came early.
-- received: an accepted version arrived by A; on time: the first accepted version arrived by
-- the end of the due day. `expected_received` / `expected_on_time` are the parts of
-- bc_ty_le_nop and bc_dung_han (catalogue/kpis.yaml). period_month: the period's last month
-- (a month's reports in that month; a semester's in its last month: HK1 January, HK2 May).
-- Both views of history (structure_view): as reported, and under today's units (the
-- reports of the units they were formed from added up; status: the worst of them).
with

expected as (
    select * from {{ ref('int_bao_cao__expected') }}
),

files as (
    select * from {{ ref('stg_intake__file_manifest') }}
    where org_unit_id is not null and form_code is not null and period is not null
),

moment as (
    select as_of from {{ ref('int_thoi_diem__bieu_mau') }}
),

submissions as (
    select
        org_unit_id,
        form_code,
        period,
        min(arrived_at) filter (where status = 'accepted') as first_accepted_at,
        max(arrived_at) filter (where status = 'accepted') as last_accepted_at,
        count(*) filter (where status = 'accepted') as accepted_versions,
        count(*) filter (where status = 'rejected') as refused_attempts,
        count(*) filter (where status = 'duplicate') as duplicate_files,
        max(version) filter (where status = 'accepted' and is_current) as current_version,
        max(file_id) filter (where status = 'accepted' and is_current) as current_file_id
    from files
    where arrived_at <= (select moment.as_of from moment)
    group by org_unit_id, form_code, period
),

judged as (
    select
        expected.*,
        submissions.first_accepted_at,
        submissions.last_accepted_at,
        coalesce(submissions.accepted_versions, 0) as accepted_versions,
        coalesce(submissions.refused_attempts, 0) as refused_attempts,
        coalesce(submissions.duplicate_files, 0) as duplicate_files,
        submissions.current_version,
        submissions.current_file_id,
        submissions.first_accepted_at is not null as is_received,
        submissions.first_accepted_at <= {{ day_end_ts('expected.due_date') }} as is_on_time,
        moment.as_of > {{ day_end_ts('expected.due_date') }} as is_due
    from expected
    cross join moment
    left join submissions
        on {{ same_key('expected', 'submissions', ['org_unit_id', 'form_code', 'period']) }}
),

per_unit as (
    select
        judged.org_unit_id,
        judged.form_code,
        judged.period,
        judged.period_start,
        judged.period_end,
        judged.due_date,
        judged.is_due::int as expected,
        judged.is_received::int as received,
        (judged.is_received and judged.is_on_time)::int as on_time,
        (judged.is_received and not judged.is_on_time)::int as late,
        (judged.is_due and not judged.is_received)::int as missing,
        (judged.is_due and judged.is_received)::int as expected_received,
        (judged.is_due and judged.is_received and judged.is_on_time)::int as expected_on_time,
        judged.refused_attempts,
        judged.duplicate_files,
        judged.accepted_versions,
        judged.current_version,
        judged.current_file_id,
        judged.first_accepted_at,
        judged.last_accepted_at
    from judged
),

both_views as (
    -- as reported: one row per report a unit owes; today's structure: the reports of the
    -- units that make up today's unit added up (a unit's version and file only when alone)
    select
        'as_reported' as structure_view,
        per_unit.*,
        1 as units_owing
    from per_unit
    union all
    select
        'current_structure' as structure_view,
        coalesce(today_units.current_org_unit_id, per_unit.org_unit_id) as org_unit_id,
        per_unit.form_code,
        per_unit.period,
        min(per_unit.period_start) as period_start,
        min(per_unit.period_end) as period_end,
        min(per_unit.due_date) as due_date,
        {%- for column in [
            'expected', 'received', 'on_time', 'late', 'missing', 'expected_received',
            'expected_on_time', 'refused_attempts', 'duplicate_files', 'accepted_versions',
        ] %}
            sum(per_unit.{{ column }}) as {{ column }},
        {%- endfor %}
        case when count(*) = 1 then min(per_unit.current_version) end as current_version,
        case when count(*) = 1 then min(per_unit.current_file_id) end as current_file_id,
        min(per_unit.first_accepted_at) as first_accepted_at,
        max(per_unit.last_accepted_at) as last_accepted_at,
        count(*) as units_owing
    from per_unit
    left join {{ ref('int_don_vi__hien_nay') }} as today_units
        on per_unit.org_unit_id = today_units.org_unit_id
    group by
        coalesce(today_units.current_org_unit_id, per_unit.org_unit_id),
        per_unit.form_code,
        per_unit.period
),

final as (
    select
        both_views.*,
        {{ unit_name_columns() }},
        forms.form_title,
        forms.period_kind,
        date_trunc('month', both_views.period_end)::date as period_month,
        case
            when both_views.missing > 0 then 'chua_nop'
            when both_views.late > 0 then 'tre_han'
            when both_views.on_time > 0 then 'dung_han'
            else 'chua_den_han'
        end as submission_status,
        {{ local_date('moment.as_of') }}::date as status_as_of,
        moment.as_of,
        {{ view_columns('both_views') }}
    from both_views
    cross join moment
    left join {{ ref('dim_don_vi') }} as units on both_views.org_unit_id = units.org_unit_id
    left join {{ ref('dim_bieu_mau') }} as forms on both_views.form_code = forms.form_code
)

{{ contract_select('final') }}
