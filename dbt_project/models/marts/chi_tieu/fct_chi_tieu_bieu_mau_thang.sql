-- mart_chi_tieu.fct_chi_tieu_thang: every indicator of every indicator-list form (KTXH-01,
-- YT-01 and any form added by its contract alone) per unit × month, in both views of
-- history (structure_view):
--   as_reported        each unit's value as reported (version in force);
--   current_structure  the values of the units that hold today's unit's place put together:
--                      `sum` indicators add up, `none` ones keep a value only when one unit
--                      reported it (a rate or a count of criteria cannot be added).
-- The specialised marts (mart_kinh_te_xa_hoi, mart_y_te) stay for what they add (year to
-- date, plans, rates); this one needs no SQL for a new form.
with

reported as (
    select * from {{ ref('int_chi_tieu__current_values') }}
),

both_views as (
    {{ indicator_both_views('reported', [
        'form_code', 'form_title', 'period', 'period_month', 'indicator_code']) }}
),

final as (
    select
        both_views.form_code,
        -- the contract's title (the view carries it), so a new form is named at once
        coalesce(forms.form_title, both_views.form_title)::text as form_title,
        both_views.indicator_code,
        coalesce(indicators.indicator_name, both_views.indicator_code)::text as indicator_name,
        indicators.indicator_group,
        indicators.unit,
        indicators.kind,
        both_views.org_unit_id,
        units.org_unit_name,
        both_views.period,
        both_views.period_month,
        {{ year_and_month('both_views.period_month') }},
        both_views.value,
        both_views.file_id,
        both_views.structure_view,
        {{ structure_view_name('both_views.structure_view') }} as structure_view_name,
        both_views.units_reported,
        both_views.reported_by,
        units.latest_org_unit_id,
        units.latest_org_unit_name,
        units.district_id,
        units.district_name,
        units.province_name
    from both_views
    left join {{ ref('dim_chi_tieu') }} as indicators
        on {{ same_key('both_views', 'indicators', ['indicator_code', 'form_code']) }}
    left join {{ ref('dim_bieu_mau') }} as forms on both_views.form_code = forms.form_code
    left join {{ ref('dim_don_vi') }} as units on both_views.org_unit_id = units.org_unit_id
)

{{ contract_select('final') }}
