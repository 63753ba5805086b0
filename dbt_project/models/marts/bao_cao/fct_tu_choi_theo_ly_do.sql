-- Refused files per unit × form × month of arrival × reason group: how many files were
-- refused for that reason and how many problems of that kind they had. A file refused for
-- two kinds of reasons counts under both.
with

errors as (
    select * from {{ ref('fct_loi_tu_choi') }}
),

final as (
    select
        coalesce(org_unit_id, '(không xác định)')::text as org_unit_id,
        coalesce(min(org_unit_name), 'Không xác định được đơn vị')::text as org_unit_name,
        min(district_id)::text as district_id,
        coalesce(form_code, '(không xác định)')::text as form_code,
        period_month::date as period_month,
        reason_group::text as reason_group,
        min(reason_group_name)::text as reason_group_name,
        count(distinct file_id)::bigint as refused_files,
        count(*)::bigint as problems
    from errors
    group by
        coalesce(org_unit_id, '(không xác định)'),
        coalesce(form_code, '(không xác định)'),
        period_month,
        reason_group
)

select * from final
