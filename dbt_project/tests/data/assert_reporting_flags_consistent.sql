-- Each owed report is exactly one of: on time, late, missing, not yet due. In today's
-- structure a row adds up the reports of the units it puts together: the flags then count
-- them, never more than the reports owed.
select *
from {{ ref('fct_nop_bao_cao') }}
where
    received != on_time + late
    or (
        structure_view = 'as_reported'
        and on_time + late + missing
        + (case when submission_status = 'chua_den_han' then 1 else 0 end) != 1
    )
    or (structure_view = 'current_structure' and on_time + late + missing > units_owing)
