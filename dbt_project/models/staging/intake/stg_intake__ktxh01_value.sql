-- KTXH-01's rows as loaded (raw_intake.ktxh01_value), with what only this form reports beside
-- each value: the year's plan and the year to date as the unit reported it.
{{ indicator_form_rows('ktxh01_value', extra=[
    'plan_year::numeric as plan_year', 'ytd::numeric as ytd_reported']) }}
