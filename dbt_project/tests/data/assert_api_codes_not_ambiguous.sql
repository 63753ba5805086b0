-- Agency records name their unit by api_code; two units may share a code (a merged unit
-- keeps one of its predecessors' codes) only if their validity periods do not overlap, or a record's unit would
-- be ambiguous.
select
    a.api_code,
    a.org_unit_id,
    b.org_unit_id as overlapping_org_unit_id
from {{ ref('dim_don_vi') }} as a
inner join {{ ref('dim_don_vi') }} as b
    on
        a.api_code = b.api_code
        and a.org_unit_id < b.org_unit_id
        and a.valid_from <= coalesce(b.valid_to, date '9999-12-31')
        and b.valid_from <= coalesce(a.valid_to, date '9999-12-31')
