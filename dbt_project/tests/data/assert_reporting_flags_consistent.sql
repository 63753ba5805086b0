-- Each owed report is exactly one of: on time, late, missing, not yet due.
select *
from {{ ref('fct_nop_bao_cao') }}
where
    received != on_time + late
    or on_time + late + missing + (case when submission_status = 'chua_den_han' then 1 else 0 end) != 1
