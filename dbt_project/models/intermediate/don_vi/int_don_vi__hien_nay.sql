-- Today's structure: every unit of org_units mapped to the unit that holds its place today
-- (`as_of_date`), following successor_id merger after merger — a commune merged twice
-- reaches the commune of today, a district agency that ended reaches the area its district
-- became. A unit that still exists (or has no successor) maps to itself. The one mechanism
-- every mart uses for its "current_structure" view (macro `in_both_structures`).
with recursive

chain as (
    select
        org_unit_id,
        org_unit_id as reached_id,
        successor_id,
        0 as hops,
        array[org_unit_id::text] as path
    from {{ ref('org_units') }}
    union all
    select
        chain.org_unit_id,
        next_unit.org_unit_id as reached_id,
        next_unit.successor_id,
        chain.hops + 1 as hops,
        chain.path || next_unit.org_unit_id::text as path
    from chain
    inner join {{ ref('org_units') }} as next_unit on chain.successor_id = next_unit.org_unit_id
    where
        next_unit.valid_from <= {{ as_of_date() }}
        and not next_unit.org_unit_id = any(chain.path)
),

final as (
    select distinct on (org_unit_id)
        org_unit_id::text as org_unit_id,
        reached_id::text as current_org_unit_id,
        hops::int as merger_steps,
        array_to_string(path, ' → ')::text as succession
    from chain
    order by org_unit_id asc, hops desc
)

select * from final
