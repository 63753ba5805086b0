-- Documents per unit × month. Incoming: received, completed on time / late / without a
-- deadline, and at the month's end still open past deadline or due within the next 7 days;
-- the average working days of handling. Outgoing: issued and digitally signed. Every rate
-- has its parts as columns, so roll-ups compute sum/sum. An incoming document appears in
-- every month from its receipt to its completion (or the data's newest month while open).
-- Both views of history (structure_view): as handled by each unit, and under today's units
-- (district agencies' documents under the area), rates recomputed from the summed counts.
with

documents as (
    select * from {{ ref('fct_van_ban') }}
    where org_unit_id is not null
),

units as (
    select * from {{ ref('dim_don_vi') }}
),

clock as (
    select {{ local_month('max(cap_nhat_luc)') }} as last_month
    from documents
),

incoming_months as (
    select
        documents.*,
        months.month_start::date as month_start
    from documents
    cross join clock
    cross join
        lateral generate_series(
            documents.period_month,
            least(coalesce(documents.completed_month, clock.last_month), clock.last_month),
            interval '1 month'
        ) as months (month_start)
    where documents.chieu = 'den' and documents.period_month <= clock.last_month
),

incoming as (
    select
        org_unit_id,
        month_start,
        count(*) filter (where period_month = month_start) as incoming_received,
        count(*) filter (where completed_month = month_start) as incoming_completed,
        count(*) filter (
            where completed_month = month_start and completed_date <= han_xu_ly
        ) as incoming_completed_on_time,
        count(*) filter (
            where completed_month = month_start and completed_date > han_xu_ly
        ) as incoming_completed_late,
        count(*) filter (
            where completed_month = month_start and han_xu_ly is null
        ) as incoming_completed_no_deadline,
        count(*) filter (
            where completed_month is null or completed_month > month_start
        ) as incoming_open,
        count(*) filter (
            where
            (completed_month is null or completed_month > month_start)
            and han_xu_ly < (month_start + interval '1 month')::date
        ) as incoming_open_past_deadline,
        count(*) filter (
            where
            (completed_month is null or completed_month > month_start)
            and han_xu_ly >= (month_start + interval '1 month')::date
            and han_xu_ly < (month_start + interval '1 month')::date + 7
        ) as incoming_open_due_7_days,
        coalesce(
            sum(working_days_to_handle) filter (where completed_month = month_start), 0
        ) as handling_working_days_sum,
        count(working_days_to_handle) filter (where completed_month = month_start)
            as handling_working_days_count
    from incoming_months
    group by org_unit_id, month_start
),

outgoing as (
    select
        org_unit_id,
        period_month as month_start,
        count(*) as outgoing_issued,
        count(*) filter (where ky_so) as outgoing_signed
    from documents
    where chieu = 'di' and is_completed
    group by org_unit_id, period_month
),

combined as (
    select
        coalesce(incoming.org_unit_id, outgoing.org_unit_id) as org_unit_id,
        coalesce(incoming.month_start, outgoing.month_start) as month_start,
        coalesce(incoming.incoming_received, 0) as incoming_received,
        coalesce(incoming.incoming_completed, 0) as incoming_completed,
        coalesce(incoming.incoming_completed_on_time, 0) as incoming_completed_on_time,
        coalesce(incoming.incoming_completed_late, 0) as incoming_completed_late,
        coalesce(incoming.incoming_completed_no_deadline, 0) as incoming_completed_no_deadline,
        coalesce(incoming.incoming_open, 0) as incoming_open,
        coalesce(incoming.incoming_open_past_deadline, 0) as incoming_open_past_deadline,
        coalesce(incoming.incoming_open_due_7_days, 0) as incoming_open_due_7_days,
        coalesce(incoming.handling_working_days_sum, 0) as handling_working_days_sum,
        coalesce(incoming.handling_working_days_count, 0) as handling_working_days_count,
        coalesce(outgoing.outgoing_issued, 0) as outgoing_issued,
        coalesce(outgoing.outgoing_signed, 0) as outgoing_signed
    from incoming
    full outer join outgoing
        on
            incoming.org_unit_id = outgoing.org_unit_id
            and incoming.month_start = outgoing.month_start
),

both_views as (
    {{ in_both_structures('combined', ['month_start'], [
        'incoming_received', 'incoming_completed', 'incoming_completed_on_time',
        'incoming_completed_late', 'incoming_completed_no_deadline', 'incoming_open',
        'incoming_open_past_deadline', 'incoming_open_due_7_days', 'handling_working_days_sum',
        'handling_working_days_count', 'outgoing_issued', 'outgoing_signed']) }}
),

final as (
    select
        combined.org_unit_id::text as org_unit_id,
        units.org_unit_name::text as org_unit_name,
        units.latest_org_unit_id::text as latest_org_unit_id,
        units.district_id::text as district_id,
        combined.month_start::date as period_month,
        combined.incoming_received::bigint as incoming_received,
        combined.incoming_completed::bigint as incoming_completed,
        combined.incoming_completed_on_time::bigint as incoming_completed_on_time,
        combined.incoming_completed_late::bigint as incoming_completed_late,
        combined.incoming_completed_no_deadline::bigint as incoming_completed_no_deadline,
        combined.incoming_open::bigint as incoming_open,
        combined.incoming_open_past_deadline::bigint as incoming_open_past_deadline,
        combined.incoming_open_due_7_days::bigint as incoming_open_due_7_days,
        combined.handling_working_days_sum::bigint as handling_working_days_sum,
        combined.handling_working_days_count::bigint as handling_working_days_count,
        combined.outgoing_issued::bigint as outgoing_issued,
        combined.outgoing_signed::bigint as outgoing_signed,
        {{ pct(
            'combined.incoming_completed_on_time',
            'combined.incoming_completed_on_time + combined.incoming_completed_late'
        ) }} as on_time_rate,
        {{ ratio('combined.handling_working_days_sum', 'combined.handling_working_days_count') }}
            as avg_working_days_to_handle,
        {{ pct('combined.outgoing_signed', 'combined.outgoing_issued') }}
            as digital_signature_share,
        combined.structure_view::text as structure_view,
        {{ structure_view_name('combined.structure_view') }} as structure_view_name,
        units.district_name::text as district_name,
        units.province_name::text as province_name,
        combined.source_units::int as units_reported
    from both_views as combined
    left join units on combined.org_unit_id = units.org_unit_id
)

select * from final
