-- Every month of every source up to the month of its as-of moment A, with the month's
-- evaluation moment T: the end of the month (23:59:59 on its last day, Asia/Ho_Chi_Minh) when
-- the month has ended by A, otherwise A itself — a month still running is evaluated at A and
-- is never shown as a finished month. The monthly marts count "received by T", "finished in
-- [start of the month, T]" and "open at T" against these moments.
with

months as (
    select
        sources.data_source,
        sources.as_of,
        months.month_start::date as period_month,
        {{ day_start_ts('months.month_start') }} as month_starts_at,
        {{ month_end_ts('months.month_start::date') }} as next_month_starts_at
    from {{ ref('int_thoi_diem__nguon') }} as sources
    cross join lateral generate_series(
        date '{{ var("calendar_start") }}',
        {{ local_month('sources.as_of') }},
        interval '1 month'
    ) as months (month_start)
),

final as (
    select
        data_source::text as data_source,
        period_month::date as period_month,
        month_starts_at::timestamptz as month_starts_at,
        case
            when as_of >= next_month_starts_at then next_month_starts_at - interval '1 second'
            else as_of
        end::timestamptz as evaluated_at,
        as_of::timestamptz as as_of,
        (as_of >= next_month_starts_at)::boolean as is_month_complete
    from months
)

select * from final
