{#- The additive parts of the household and population rates of KTXH-01 (fct_ty_le_xa_hoi_thang):
    summed per today's unit (in_both_structures) and per district (fct_ty_le_xa_hoi_huyen,
    district_parts) alike, so a rate is recomputed from the same parts at every roll-up. -#}
{% macro social_rate_parts() -%}
    {{ return([
        'population', 'households', 'poor_households', 'near_poor_households',
        'clean_water_households', 'clean_water_base_households', 'insured_people',
        'insured_base_population',
    ]) }}
{%- endmacro %}
