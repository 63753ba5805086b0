-- Documents per unit × month, evaluated at the month's moment T (int_thoi_diem__thang: the
-- end of the month once it has ended by A, else A). Dates decide: received = received_at ≤ T,
-- completed in the month = ngayHoanThanh in [start of the month, T], open at T = not
-- completed by T. A deadline is met up to the end (23:59:59) of the hanXuLy day.
--   deadline_population / deadline_on_time   vb_dung_han: incoming with a deadline, completed
--                                            in the month or open at T; on time = completed by
--                                            the end of the deadline day, or open with that
--                                            end ≥ T
--   outgoing_issued / outgoing_signed        vb_ky_so: outgoing dated in the month (up to T)
-- and the working counts: received, completed on time / late / without deadline, open at T,
-- open past deadline, due within 7 days of T, working days of handling. An incoming document
-- has a row in every month from its receipt to its completion (or to the month of A). Both
-- views of history (structure_view), parts summed per today's unit (in_both_structures).
{#- The month's counts of incoming documents (`incoming`). -#}
{%- set incoming_counts = [
    'deadline_population', 'deadline_on_time', 'incoming_received', 'incoming_completed',
    'incoming_completed_on_time', 'incoming_completed_late', 'incoming_completed_no_deadline',
    'incoming_open', 'incoming_open_past_deadline', 'incoming_open_due_7_days',
    'handling_working_days_sum', 'handling_working_days_count',
] %}
with

documents as (
    select * from {{ ref('fct_van_ban') }}
    where org_unit_id is not null
),

incoming_months as (
    {{ open_month_spans(
        'fct_van_ban', 'van_ban', received_at='received_at', done='completed',
        deadline_at='deadline_ends_at', due_when='spans.han_xu_ly is not null',
        where="cases.chieu = 'den'"
    ) }}
),

incoming as (
    select
        org_unit_id,
        month_start,
        {{ deadline_counts('deadline_population', 'deadline_on_time') }},
        {{ flow_counts(
            'is_completed_in_month', 'completed_at', 'deadline_ends_at', [
                'incoming_received', 'incoming_completed', 'incoming_completed_on_time',
                'incoming_completed_late',
            ],
        ) }},
        count(*) filter (
            where is_completed_in_month and han_xu_ly is null
        ) as incoming_completed_no_deadline,
        count(*) filter (where is_open_at_t) as incoming_open,
        count(*) filter (where is_past_deadline_at_t) as incoming_open_past_deadline,
        count(*) filter (
            where
            is_open_at_t
            and deadline_ends_at >= evaluated_at
            and han_xu_ly <= {{ local_date('evaluated_at') }} + 7
        ) as incoming_open_due_7_days,
        coalesce(
            sum(working_days_to_handle) filter (where is_completed_in_month), 0
        ) as handling_working_days_sum,
        count(working_days_to_handle) filter (where is_completed_in_month)
            as handling_working_days_count
    from incoming_months
    group by org_unit_id, month_start
),

outgoing as (
    select
        documents.org_unit_id,
        months.period_month as month_start,
        count(*) as outgoing_issued,
        count(*) filter (where documents.ky_so) as outgoing_signed
    from documents
    inner join {{ ref('int_thoi_diem__thang') }} as months
        on
            months.data_source = 'van_ban'
            and documents.period_month = months.period_month
            and documents.ngay_van_ban <= {{ local_date('months.evaluated_at') }}
    where documents.chieu = 'di'
    group by documents.org_unit_id, months.period_month
),

combined as (
    select
        coalesce(incoming.org_unit_id, outgoing.org_unit_id) as org_unit_id,
        coalesce(incoming.month_start, outgoing.month_start) as month_start,
        {%- for column in incoming_counts %}
            coalesce(incoming.{{ column }}, 0) as {{ column }},
        {%- endfor %}
        coalesce(outgoing.outgoing_issued, 0) as outgoing_issued,
        coalesce(outgoing.outgoing_signed, 0) as outgoing_signed
    from incoming
    full outer join outgoing
        on
            incoming.org_unit_id = outgoing.org_unit_id
            and incoming.month_start = outgoing.month_start
),

both_views as (
    {{ in_both_structures(
        'combined', ['month_start'], incoming_counts + ['outgoing_issued', 'outgoing_signed']
    ) }}
),

final as (
    select
        combined.*,
        {{ ratio('combined.handling_working_days_sum', 'combined.handling_working_days_count') }}
            as avg_working_days_to_handle,
        {{ pct('combined.outgoing_signed', 'combined.outgoing_issued') }}
            as digital_signature_share,
        {{ monthly_case_tail('combined') }}
    from both_views as combined
    {{ monthly_case_joins('combined', 'van_ban') }}
)

{{ contract_select('final') }}
