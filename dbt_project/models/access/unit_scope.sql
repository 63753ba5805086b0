{{ config(
    materialized='table',
    indexes=[{'columns': ['login_role']}],
    post_hook=[
        "{{ grant_if_role('select', this, var('bi_reader_group')) }}",
        "alter table {{ this }} enable row level security",
        "create policy own_scope on {{ this }} for select to public
             using (login_role = current_user::text)",
    ],
) }}
-- Which units' rows each unit's BI login role may read: the unit itself and every unit
-- merged into it, directly or through a chain of mergers (successor_id in the org-unit
-- reference data). A commune formed by a merger reads its predecessors' history; a unit
-- never reads its successor's or a sibling's rows. Derived from the reference data alone,
-- so a new unit list (a reform) needs no code change: rebuild and the scopes follow.
-- Read by access.visible_unit_ids(), which every mart's row policy calls (macros/row_scope.sql);
-- a login role reads only its own rows here too (row security), so no role learns another's
-- scope.
with recursive

units as (
    select
        org_unit_id,
        nullif(successor_id, '') as successor_id
    from {{ ref('org_units') }}
),

reach as (
    -- (a unit whose rows are read, a unit that reads them): itself, then its successor, the
    -- successor's successor, ... (UNION, not UNION ALL: a cycle in the data ends the walk)
    select
        org_unit_id as visible_unit_id,
        org_unit_id as unit_id
    from units
    union
    select
        reach.visible_unit_id,
        units.successor_id as unit_id
    from reach
    inner join units on reach.unit_id = units.org_unit_id
    where units.successor_id is not null
)

select
    ('{{ var("bi_unit_role_prefix") }}' || reach.unit_id)::text as login_role,
    reach.unit_id::text as org_unit_id,
    reach.visible_unit_id::text as visible_unit_id
from reach
