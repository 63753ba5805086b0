-- Reporting completeness per district × form × period, summed from the units' rows:
-- reporting rate = owed and received / owed, on-time reporting rate = owed and on time /
-- owed (bc_ty_le_nop, bc_dung_han; owed = the deadline has passed at A).
with

summed as (
    {{ district_parts(
        'fct_nop_bao_cao', ['form_code', 'period'],
        sums=[
            'units_owing', 'expected', 'received', 'on_time', 'late', 'missing',
            'expected_received', 'expected_on_time', 'refused_attempts',
        ],
        more=[
            "min(period_kind) as period_kind",
            "min(period_month) as period_month",
            "min(period_start) as period_start",
            "min(period_end) as period_end",
            "min(due_date) as due_date",
        ],
    ) }}
),

final as (
    select
        summed.*,
        {{ pct('summed.expected_received', 'summed.expected') }} as reporting_rate,
        {{ pct('summed.expected_on_time', 'summed.expected') }} as on_time_reporting_rate
    from summed
)

{{ contract_select('final') }}
