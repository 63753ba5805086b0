-- The as-of moment A of the report forms: the intake's last scan of the folders. The watcher
-- (`ioc watch`) looks every second while it runs, so A is the clock — the moment of the build
-- (`now()`; the end of `as_of_date` when a day is pinned). Its own model, so the reporting
-- marts do not depend on the agency connectors' tables (an intake-only warehouse has none).
select
    'bieu_mau'::text as data_source,
    {{ clock_moment() }}::timestamptz as as_of,
    {{ clock_moment() }}::timestamptz as clock_at
