{#- Dates and times as Vietnam sees them. Asia/Ho_Chi_Minh has had no daylight saving since
    1975, so these are exact; every "which day/month" question goes through them. -#}

{% macro local_date(ts) -%}
    (({{ ts }}) at time zone 'Asia/Ho_Chi_Minh')::date
{%- endmacro %}

{% macro local_month(ts) -%}
    date_trunc('month', ({{ ts }}) at time zone 'Asia/Ho_Chi_Minh')::date
{%- endmacro %}

{#- The first instant of the month after `month_start` (a date), as timestamptz. -#}
{% macro month_end_ts(month_start) -%}
    {{ day_start_ts("(" ~ month_start ~ ") + interval '1 month'") }}
{%- endmacro %}

{#- "Today" for statuses that depend on it; `--vars '{as_of_date: 2025-07-15}'` pins it. -#}
{% macro as_of_date() -%}
    {%- if var('as_of_date', '') -%}
        date '{{ var("as_of_date") }}'
    {%- elif var('clock_at', '') -%}
        {{ local_date("timestamptz '" ~ var('clock_at') ~ "'") }}
    {%- else -%}
        (now() at time zone 'Asia/Ho_Chi_Minh')::date
    {%- endif -%}
{%- endmacro %}

{#- The platform's clock as a moment: `now()`; when `as_of_date` pins "today" (replays,
    tests, the demo's IOC_TODAY), the end of that day (23:59:59, Vietnam) — everything of the
    day counts, as a report that arrived that morning — or now, if that is earlier (today
    itself is known only up to now). `--vars '{clock_at: <ISO moment>}'` sets the clock to that
    exact moment (`ioc rebuild` judges a rebuilt warehouse at the live marts' moment). -#}
{% macro clock_moment() -%}
    {%- if var('clock_at', '') -%}
        timestamptz '{{ var("clock_at") }}'
    {%- elif var('as_of_date', '') -%}
        least(now(), {{ day_end_ts("date '" ~ var('as_of_date') ~ "'") }})
    {%- else -%}
        now()
    {%- endif -%}
{%- endmacro %}

{#- The first instant (00:00) of the day `day` (a date) in Vietnam, as timestamptz. -#}
{% macro day_start_ts(day) -%}
    (({{ day }})::timestamp at time zone 'Asia/Ho_Chi_Minh')
{%- endmacro %}

{#- The last instant (23:59:59) of the day `day` (a date) in Vietnam: "by the end of the
    deadline day". -#}
{% macro day_end_ts(day) -%}
    ({{ day_start_ts('(' ~ day ~ ') + 1') }} - interval '1 second')
{%- endmacro %}

{#- 'HH24:MI DD/MM/YYYY' of a moment, in Vietnam: how an as-of moment is written. -#}
{% macro vn_moment_text(ts) -%}
    to_char(({{ ts }}) at time zone 'Asia/Ho_Chi_Minh', 'HH24:MI DD/MM/YYYY')
{%- endmacro %}
