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
        _loaded_at
    from source
)

select * from renamed
