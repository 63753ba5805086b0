-- The as-of moment A of each source the KPIs are built from (docs/kpi-definitions.md, "The
-- moment a value describes"): what the warehouse knows about that source as of when.
--   ho_so, van_ban, phan_anh  the agency connector's last successful pull (sync_state: the
--                             end of a run with status ok; after a failed or incomplete run,
--                             its watermark, the newest change it had loaded — earlier, never
--                             later than the truth); no pull recorded: the clock
--   bieu_mau                  the intake's last scan of the folders: the watcher looks every
--                             second while it runs, so the clock (the moment of the build)
-- Never later than the clock: `now()`, or the first instant of `as_of_date` when a day is
-- pinned (a replay of that day sees nothing that happened after it began).
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

data_sources as (
    select data_source
    from (values ('ho_so'), ('van_ban'), ('phan_anh'), ('bieu_mau')) as known (data_source)
),

final as (
    select
        data_sources.data_source::text as data_source,
        least(clock.clock_at, coalesce(pulls.pulled_at, clock.clock_at))::timestamptz
            as as_of,
        clock.clock_at::timestamptz as clock_at
    from data_sources
    cross join clock
    left join pulls on data_sources.data_source = pulls.data_source
)

select * from final
