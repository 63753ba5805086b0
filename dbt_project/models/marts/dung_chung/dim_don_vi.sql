{#- Indexed by api_code: every agency record finds its unit through `org_unit_at`, a lateral
    lookup per record (one seq scan of the units per record without it: minutes for a
    country's 700,000 dossiers). -#}
{{ config(indexes=[{'columns': ['api_code', 'valid_from']}]) }}
-- Units (đơn vị): one row per unit of org_units.csv, effective-dated (valid_from/valid_to),
-- with its level (unit_levels.csv: name, rank, commune-level or not), its place in the
-- hierarchy — rank 1 (province or centrally governed city) → rank 2 (district before the
-- 2025 reform, the IOC's area after it) → rank 3 (commune-level unit or agency) — the unit it
-- became at the end of its successor chain, and the unit that holds its place today.
with recursive

successions as (
    -- every unit, then its successor, its successor's successor, … (hops counts the steps)
    select
        org_unit_id,
        org_unit_id as reached_id,
        successor_id,
        0 as hops
    from {{ ref('org_units') }}
    union all
    select
        successions.org_unit_id,
        next_unit.org_unit_id as reached_id,
        next_unit.successor_id,
        successions.hops + 1 as hops
    from successions
    inner join {{ ref('org_units') }} as next_unit
        on successions.successor_id = next_unit.org_unit_id
    where successions.hops < 20
),

latest as (
    select distinct on (org_unit_id)
        org_unit_id,
        reached_id as latest_org_unit_id
    from successions
    order by org_unit_id asc, hops desc
),

ancestry as (
    -- every unit, then its parent, grandparent, …
    select
        org_unit_id,
        org_unit_id as ancestor_id,
        parent_id,
        0 as hops
    from {{ ref('org_units') }}
    union all
    select
        ancestry.org_unit_id,
        parent.org_unit_id as ancestor_id,
        parent.parent_id,
        ancestry.hops + 1 as hops
    from ancestry
    inner join {{ ref('org_units') }} as parent on ancestry.parent_id = parent.org_unit_id
    where ancestry.hops < 20
),

ancestors as (
    -- the unit itself or its nearest ancestor of rank 2 (district / area) and of rank 1
    select
        ancestry.org_unit_id,
        (array_agg(a.org_unit_id order by ancestry.hops) filter (where l.rank = 2))[1]
            as district_id,
        (array_agg(a.org_unit_id order by ancestry.hops) filter (where l.rank = 1))[1]
            as province_id
    from ancestry
    inner join {{ ref('org_units') }} as a on ancestry.ancestor_id = a.org_unit_id
    inner join {{ ref('unit_levels') }} as l on a.unit_type = l.level_code
    group by ancestry.org_unit_id
),

final as (
    select
        source.org_unit_id,
        source.name as org_unit_name,
        source.unit_type,
        level.level_name as unit_type_name,
        coalesce(level.rank, 3)::int as unit_level,
        coalesce(level.is_commune_level, false)::boolean as is_commune,
        source.parent_id,
        parent.name as parent_name,
        ancestors.district_id,
        district.name as district_name,
        ancestors.province_id,
        province.name as province_name,
        nullif(source.gso_code, '')::text as gso_code,
        nullif(source.api_code, '')::text as api_code,
        source.valid_from,
        source.valid_to,
        nullif(source.successor_id, '')::text as successor_id,
        latest.latest_org_unit_id,
        latest_unit.name as latest_org_unit_name,
        (latest.latest_org_unit_id <> source.org_unit_id)::boolean as is_merged_away,
        coalesce(today.current_org_unit_id, source.org_unit_id)::text as current_org_unit_id,
        current_unit.name as current_org_unit_name,
        source.note
    from {{ ref('org_units') }} as source
    left join {{ ref('unit_levels') }} as level on source.unit_type = level.level_code
    left join {{ ref('int_don_vi__hien_nay') }} as today on source.org_unit_id = today.org_unit_id
    left join {{ ref('org_units') }} as current_unit
        on coalesce(today.current_org_unit_id, source.org_unit_id) = current_unit.org_unit_id
    left join {{ ref('org_units') }} as parent on source.parent_id = parent.org_unit_id
    left join ancestors on source.org_unit_id = ancestors.org_unit_id
    left join {{ ref('org_units') }} as district on ancestors.district_id = district.org_unit_id
    left join {{ ref('org_units') }} as province on ancestors.province_id = province.org_unit_id
    left join latest on source.org_unit_id = latest.org_unit_id
    left join {{ ref('org_units') }} as latest_unit
        on latest.latest_org_unit_id = latest_unit.org_unit_id
)

{{ contract_select('final') }}
