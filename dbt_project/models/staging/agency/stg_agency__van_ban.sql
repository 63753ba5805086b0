-- Official documents, then the days and moments in Vietnam's time that the marts judge by:
-- event_date is the day an incoming document arrived (else its date) and an outgoing one's
-- date; received_at the moment it arrived (else the start of its date); deadline_ends_at the
-- end (23:59:59) of the deadline day (hanXuLy).
with

source as (
    select * from {{ source('raw_agency', 'van_ban') }}
),

renamed as (
    select
        id as ma_van_ban,
        so_ky_hieu,
        trich_yeu,
        loai_van_ban,
        chieu,
        ma_don_vi,
        co_quan_ban_hanh,
        do_khan,
        ngay_van_ban,
        ngay_den,
        han_xu_ly,
        ngay_hoan_thanh,
        trang_thai,
        ky_so,
        cap_nhat_luc,
        _loaded_at,
        case
            when chieu = 'den' then coalesce({{ local_date('ngay_den') }}, ngay_van_ban)
            else ngay_van_ban
        end as event_date,
        case
            when chieu = 'den' and ngay_den is not null then ngay_den
            else {{ day_start_ts('ngay_van_ban') }}
        end as received_at,
        {{ day_end_ts('han_xu_ly') }} as deadline_ends_at,
        {{ local_date('ngay_hoan_thanh') }} as completed_date
    from source
)

select * from renamed
