{#- The three agency case marts (fct_ho_so, fct_van_ban, fct_phan_anh: one row per case) and
    their monthly marts (fct_ho_so_thang, fct_van_ban_thang, fct_phan_anh_thang) share these
    pieces; each mart keeps only what is its own (dates, deadlines, statuses, counts). -#}

{#- The rows an incremental run of a case mart rewrites: the cases loaded since the last run
    plus every case still open in the table (their status depends on the day). A full build
    (or `--full-refresh`) reads them all. `staging`: the case's staging model; `key`: its
    identifier (the mart's unique key, a column of the raw table's primary key); `is_done`:
    the mart's boolean column that says the case is finished.
    First the keys (open ∪ loaded since), then each key's staged row, looked up through the
    raw table's primary key. The lookup sits behind a fence (a LATERAL subquery with OFFSET 0)
    because a staging view's expressions (normalize, trim, coalesce; the days in Vietnam) are
    otherwise computed in the scan, for every record, before the join keeps the few rebuilt:
    on the province warehouse (1,360,044 dossiers, 6,833 rebuilt) fct_ho_so's query took
    2.0 s that way and 0.7 s this way. The lookups cost more when a large share of the
    table is rebuilt: 7.1-7.9 s against 4.9-5.0 s for 305,341 keys (22 %); the two ways break
    even near 9 % (docs/performance.md).
    No OR between the two kinds of keys: beside an OR, PostgreSQL hashes a `key IN (subquery)`
    only when it fits in work_mem, and otherwise rescans it for every staged row; at national
    scale (261,400 open dossiers of 1,972,946) that plan never ended. A UNION is hashed, and
    spills to disk when it must. -#}
{% macro cases_to_rebuild(staging, key, is_done) -%}
    {%- if is_incremental() %}
        select changed.*
        from (
            select still_open.{{ key }}
            from {{ this }} as still_open
            where not still_open.{{ is_done }}
            union
            select fresh.{{ key }}
            from {{ ref(staging) }} as fresh
            where fresh._loaded_at > (
                select coalesce(max(earlier._loaded_at), '-infinity')
                from {{ this }} as earlier
            )
        ) as rebuilt
        cross join lateral (
            select staged.*
            from {{ ref(staging) }} as staged
            where staged.{{ key }} = rebuilt.{{ key }}
            offset 0
        ) as changed
    {%- else %}
        select changed.* from {{ ref(staging) }} as changed
    {%- endif %}
{%- endmacro %}

{#- A case mart's joins: the as-of moment A of its source (`moment`, for case_moment_columns
    and deadline_status), the case's unit (`units`) and today's unit and district
    (`current_unit`) for unit_columns, and, given the dates a case's working days run
    between, their days in the calendar (`start_day`, `end_day`: dim_ngay). The case's unit
    is its `org_unit_id`, or, with `unit_of` = [agency code column, date column], the unit
    that held the code that day (org_unit_at), joined as `unit`. -#}
{% macro case_joins(cases, data_source, start_date=none, end_date=none, unit_of=none) -%}
    {%- set unit = cases %}
    inner join {{ ref('int_thoi_diem__nguon') }} as moment on moment.data_source = '{{ data_source }}'
    {%- if unit_of %}
    {%- set unit = 'unit' %}
    left join lateral {{ org_unit_at(cases ~ '.' ~ unit_of[0], cases ~ '.' ~ unit_of[1]) }} as unit
        on true
    {%- endif %}
    left join {{ ref('dim_don_vi') }} as units on {{ unit }}.org_unit_id = units.org_unit_id
    left join {{ ref('dim_don_vi') }} as current_unit
        on units.current_org_unit_id = current_unit.org_unit_id
    {%- if start_date %}
    left join {{ ref('dim_ngay') }} as start_day on {{ cases }}.{{ start_date }} = start_day.date_day
    left join {{ ref('dim_ngay') }} as end_day on {{ cases }}.{{ end_date }} = end_day.date_day
    {%- endif %}
{%- endmacro %}

{#- A case's deadline status, judged at the as-of moment A (`moment.as_of`): without a
    deadline 'khong_co_han'; open: past its deadline ('dang_qua_han', the deadline moment
    before A), due within `due_soon_days` days of A ('sap_den_han', when given) or within it
    ('dang_trong_han'); finished: after the deadline moment ('qua_han'), on a day before the
    deadline day ('truoc_han'), else on it ('dung_han'). `done_at` / `done_date`: when the case
    was finished (null while open); `deadline_at` / `deadline_date`: its deadline moment and
    day (the one null exactly when the other is); `first`: the mart's own `when … then …`
    that comes before all of these. -#}
{% macro deadline_status(
    done_at, done_date, deadline_at, deadline_date, first=none, due_soon_days=none
) -%}
    case
        {%- if first %}
        {{ first }}
        {%- endif %}
        when {{ deadline_at }} is null then 'khong_co_han'
        when {{ done_at }} is null and {{ deadline_at }} < moment.as_of then 'dang_qua_han'
        {%- if due_soon_days %}
        when
            {{ done_at }} is null
            and {{ deadline_date }} <= {{ local_date('moment.as_of') }} + {{ due_soon_days }}
            then 'sap_den_han'
        {%- endif %}
        when {{ done_at }} is null then 'dang_trong_han'
        when {{ done_at }} > {{ deadline_at }} then 'qua_han'
        when {{ done_date }} < {{ deadline_date }} then 'truoc_han'
        else 'dung_han'
    end::text
{%- endmacro %}

{#- The moment a case's status is judged at (`moment`: the row of int_thoi_diem__nguon of its
    source, the as-of moment A). -#}
{% macro case_moment_columns() -%}
        {{ local_date('moment.as_of') }} as status_as_of,
        moment.as_of
{%- endmacro %}

{#- Open-month spans: every case of the case mart `cases` (rows with a unit only) in every
    month of its source (int_thoi_diem__thang) from the month of `period_month` to the month
    it was finished (`<done>_month`; still open: up to the month of the as-of moment A),
    with the month's start and its evaluation moment T and flags against them (`done`
    names what ends a case: 'finished', 'closed', 'completed'):
      is_received_in_month  `received_at` in [start of the month, T]
      is_<done>_in_month    `<done>_at` in [start of the month, T]
      is_open_at_t          received by T and not finished by T
    and against the case's deadline moment `deadline_at` (the deadline KPIs, one definition
    for the three sources):
      is_due_population     finished in the month or open at T
      is_due_on_time        finished in the month by the deadline, or open at T with the
                            deadline at or after T
      is_past_deadline_at_t open at T with the deadline before T
    `due_when` narrows the first two (cases the KPI counts: e.g. not withdrawn); `where`
    narrows the cases (e.g. incoming documents only). -#}
{% macro open_month_spans(
    cases, data_source, received_at, done, deadline_at, due_when=none, where=none
) -%}
    {%- set done_at = done ~ '_at' -%}
    {%- set done_month = done ~ '_month' -%}
    {%- set done_flag = 'is_' ~ done ~ '_in_month' %}
    select
        spans.*,
        {%- if due_when %}
        ({{ due_when }} and (spans.{{ done_flag }} or spans.is_open_at_t)) as is_due_population,
        (
            {{ due_when }}
            and (
                (spans.{{ done_flag }} and spans.{{ done_at }} <= spans.{{ deadline_at }})
                or (spans.is_open_at_t and spans.{{ deadline_at }} >= spans.evaluated_at)
            )
        ) as is_due_on_time,
        {%- else %}
        (spans.{{ done_flag }} or spans.is_open_at_t) as is_due_population,
        (
            (spans.{{ done_flag }} and spans.{{ done_at }} <= spans.{{ deadline_at }})
            or (spans.is_open_at_t and spans.{{ deadline_at }} >= spans.evaluated_at)
        ) as is_due_on_time,
        {%- endif %}
        (spans.is_open_at_t and spans.{{ deadline_at }} < spans.evaluated_at)
            as is_past_deadline_at_t
    from (
        select
            cases.*,
            months.period_month as month_start,
            months.month_starts_at,
            months.evaluated_at,
            (
                cases.{{ received_at }} >= months.month_starts_at
                and cases.{{ received_at }} <= months.evaluated_at
            ) as is_received_in_month,
            (
                cases.{{ done_at }} >= months.month_starts_at
                and cases.{{ done_at }} <= months.evaluated_at
            ) as {{ done_flag }},
            (
                cases.{{ received_at }} <= months.evaluated_at
                and (cases.{{ done_at }} is null or cases.{{ done_at }} > months.evaluated_at)
            ) as is_open_at_t
        from {{ ref(cases) }} as cases
        -- each case's own months, generated (up to the last month of the source's calendar
        -- while the case is open), then joined on equality: comparing every case with every
        -- month of the calendar was 66 million comparisons for the province's incoming
        -- documents alone (686,103 × 96 months), the same rows (docs/performance.md)
        cross join lateral generate_series(
            cases.period_month,
            coalesce(cases.{{ done_month }}, (
                select max(calendar.period_month)
                from {{ ref('int_thoi_diem__thang') }} as calendar
                where calendar.data_source = '{{ data_source }}'
            )),
            interval '1 month'
        ) as case_months (month_start)
        inner join {{ ref('int_thoi_diem__thang') }} as months
            on
                months.data_source = '{{ data_source }}'
                and months.period_month = case_months.month_start::date
        where cases.org_unit_id is not null
        {%- if where %}
            and {{ where }}
        {%- endif %}
    ) as spans
{%- endmacro %}

{#- A month's deadline KPI parts from open_month_spans' flags: the cases due in the month
    (`population`) and those of them on time (`on_time`). -#}
{% macro deadline_counts(population='due_population', on_time='due_on_time') -%}
        count(*) filter (where is_due_population) as {{ population }},
        count(*) filter (where is_due_on_time) as {{ on_time }}
{%- endmacro %}

{#- A month's flow of cases from open_month_spans' flags, named by `names` = [received,
    done, done on time, done late]: the cases received in the month, those done in it
    (`done_flag`), and of those the ones done by their deadline (`done_at` ≤ `deadline_at`)
    or after it. -#}
{% macro flow_counts(done_flag, done_at, deadline_at, names) -%}
        count(*) filter (where is_received_in_month) as {{ names[0] }},
        count(*) filter (where {{ done_flag }}) as {{ names[1] }},
        count(*) filter (where {{ done_flag }} and {{ done_at }} <= {{ deadline_at }})
            as {{ names[2] }},
        count(*) filter (where {{ done_flag }} and {{ done_at }} > {{ deadline_at }})
            as {{ names[3] }}
{%- endmacro %}

{#- The columns a monthly case mart (`counted`: its parts in both views, selected as
    `counted.*`, joined by monthly_case_joins) adds to its own: the unit's names, the month and
    its evaluation moment, then the view, the area and how many units a row puts together
    (view_columns). -#}
{% macro monthly_case_tail(counted) -%}
        {{ unit_name_columns() }},
        {{ counted }}.month_start as period_month,
        months.evaluated_at,
        months.as_of,
        months.is_month_complete,
        {{ view_columns(counted, units_reported='source_units') }}
{%- endmacro %}

{#- A monthly case mart's joins: the month of its source with its moment T (`months`:
    int_thoi_diem__thang) and the row's unit (`units`), for monthly_case_tail. -#}
{% macro monthly_case_joins(counted, data_source) -%}
    inner join {{ ref('int_thoi_diem__thang') }} as months
        on
            months.data_source = '{{ data_source }}'
            and {{ counted }}.month_start = months.period_month
    left join {{ ref('dim_don_vi') }} as units on {{ counted }}.org_unit_id = units.org_unit_id
{%- endmacro %}

{#- The configuration of a case mart: incremental by its `key` (`cases_to_rebuild` says which
    rows a run rewrites), indexed on the unit filter and in the case lists' orders, so that a
    page of a province-wide list reads its rows off an index instead of sorting the mart:
    newest first (`newest_first`, then the key) and earliest deadline first within a
    deadline status (`deadline`, then the key); a partial index (macros/indexes.sql:
    extra_index) serves the list of the cases near or past their deadline, `overdue_list` =
    [its index tag, its statuses in its order]. `indexes` adds the mart's own, `pre_hook` its
    own hooks. VACUUM (ANALYZE) after each run (outside the transaction) keeps the planner's
    estimates current and counts over an index index-only scans. -#}
{% macro case_mart_config(key, newest_first, deadline, overdue_list, indexes=[], pre_hook=[]) -%}
    {%- set list_index -%}
        {{ '{{' }} extra_index(this, {{ [deadline, key] }}, '{{ overdue_list[0] }}',
            column='deadline_status', values={{ overdue_list[1] }}) {{ '}}' }}
    {%- endset -%}
    {{ config(
        materialized='incremental',
        unique_key=key,
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['org_unit_id', 'period_month']},
            {'columns': [newest_first ~ ' desc', key]},
            {'columns': ['deadline_status', deadline, key]},
        ] + indexes,
        pre_hook=pre_hook,
        post_hook=[list_index, after_commit('vacuum (analyze) {{ this }}')],
    ) }}
{%- endmacro %}

