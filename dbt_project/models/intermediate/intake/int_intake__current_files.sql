-- The version in force of every unit × form × period: the newest accepted file.
with

files as (
    select * from {{ ref('stg_intake__file_manifest') }}
),

final as (
    select *
    from files
    where status = 'accepted' and is_current
)

select * from final
