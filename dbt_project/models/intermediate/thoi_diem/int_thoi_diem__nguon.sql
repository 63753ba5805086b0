-- The as-of moment A of each source the KPIs are built from (docs/kpi-definitions.md, "The
-- moment a value describes"): what the warehouse knows about that source as of when.
--   ho_so, van_ban, phan_anh  the agency connector's last successful pull (sync_state: the
--                             end of a run with status ok; after a failed or incomplete run,
--                             its watermark, the newest change it had loaded — earlier, never
--                             later than the truth); no pull recorded: the clock
--   bieu_mau                  the intake's last scan of the folders (int_thoi_diem__bieu_mau:
--                             the clock, the watcher looking every second)
-- Never later than the clock: `now()`, or the end of `as_of_date` when a day is pinned (a
-- replay of that day sees nothing that happened after it).
with

clock as (
    select {{ clock_moment() }} as clock_at
),

pulls as (
    select
        replace(resource, '-', '_') as data_source,
        case when last_status = 'ok' then last_run_at else watermark end as pulled_at
    from {{ source('raw_agency', 'sync_state') }}
),

agency_sources as (
    select data_source
    from (values ('ho_so'), ('van_ban'), ('phan_anh')) as known (data_source)
),

agency as (
    select
        agency_sources.data_source::text as data_source,
        least(clock.clock_at, coalesce(pulls.pulled_at, clock.clock_at))::timestamptz
            as as_of,
        clock.clock_at::timestamptz as clock_at
    from agency_sources
    cross join clock
    left join pulls on agency_sources.data_source = pulls.data_source
),

final as (
    select * from agency
    union all
    select * from {{ ref('int_thoi_diem__bieu_mau') }}
)

-- a union of a CTE and a ref: its columns are unknown to sqlfluff's jinja templater
select * from final  -- noqa: AM04
