-- Reporting completeness per unit × form × period (DHIS2's reporting rate and on-time
-- reporting rate): for every report a unit owes, whether it arrived, whether its first
-- accepted version arrived by the end of the due day (Asia/Ho_Chi_Minh), how many attempts
-- were refused and which version is in force. A report counts as expected once its due day
-- has passed, or as soon as it arrives; before that it is `chua_den_han` (not yet due).
with

expected as (
    select * from {{ ref('int_bao_cao__expected') }}
),

files as (
    select * from {{ ref('stg_intake__file_manifest') }}
    where org_unit_id is not null and form_code is not null and period is not null
),

units as (
    select * from {{ ref('dim_don_vi') }}
),

forms as (
    select * from {{ ref('dim_bieu_mau') }}
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
        {{ local_date('submissions.first_accepted_at') }} <= expected.due_date as is_on_time,
        expected.due_date < {{ as_of_date() }} as is_due
    from expected
    left join submissions
        on
            expected.org_unit_id = submissions.org_unit_id
            and expected.form_code = submissions.form_code
            and expected.period = submissions.period
),

final as (
    select
        judged.org_unit_id::text as org_unit_id,
        units.org_unit_name::text as org_unit_name,
        units.latest_org_unit_id::text as latest_org_unit_id,
        units.district_id::text as district_id,
        judged.form_code::text as form_code,
        forms.form_title::text as form_title,
        judged.period::text as period,
        forms.period_kind::text as period_kind,
        case when forms.period_kind = 'month' then judged.period_start end::date as period_month,
        judged.period_start::date as period_start,
        judged.period_end::date as period_end,
        judged.due_date::date as due_date,
        (judged.is_due or judged.is_received)::int as expected,
        judged.is_received::int as received,
        (judged.is_received and judged.is_on_time)::int as on_time,
        (judged.is_received and not judged.is_on_time)::int as late,
        (judged.is_due and not judged.is_received)::int as missing,
        judged.refused_attempts::int as refused_attempts,
        judged.duplicate_files::int as duplicate_files,
        judged.accepted_versions::int as accepted_versions,
        judged.current_version::int as current_version,
        judged.current_file_id::bigint as current_file_id,
        judged.first_accepted_at::timestamptz as first_accepted_at,
        judged.last_accepted_at::timestamptz as last_accepted_at,
        case
            when judged.is_received and judged.is_on_time then 'dung_han'
            when judged.is_received then 'tre_han'
            when judged.is_due then 'chua_nop'
            else 'chua_den_han'
        end::text as submission_status,
        {{ as_of_date() }}::date as status_as_of
    from judged
    left join units on judged.org_unit_id = units.org_unit_id
    left join forms on judged.form_code = forms.form_code
)

select * from final
