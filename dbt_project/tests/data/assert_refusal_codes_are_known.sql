{{ config(severity='warn') }}
-- The intake engine refused a file with a problem code that seeds/refusal_reasons.csv does
-- not group yet: the refusal counts as `khac` (other) until the seed gains a line for it.
select distinct reason_code
from {{ ref('fct_loi_tu_choi') }}
where reason_group = 'khac' and reason_code is not null
