-- Feedback without personal data: nguoiPhanAnh, noiDung and the title tieuDe (citizens' free
-- text) live in restricted.phan_anh_ca_nhan. Beside each moment, its day in Vietnam's time,
-- which the marts judge by.
with

source as (
    select * from {{ source('raw_agency', 'phan_anh') }}
),

renamed as (
    select
        ma_phan_anh,
        kenh,
        coalesce(nullif(trim(normalize(linh_vuc, nfc)), ''), 'Chưa phân loại') as linh_vuc,
        dia_ban,
        ma_don_vi_xu_ly,
        ngay_tiep_nhan,
        {{ local_date('ngay_tiep_nhan') }} as received_date,
        han_xu_ly,
        {{ local_date('han_xu_ly') }} as own_deadline_date,
        ngay_hoan_thanh,
        {{ local_date('ngay_hoan_thanh') }} as closed_date,
        trang_thai,
        cong_khai,
        danh_gia,
        cap_nhat_luc,
        _loaded_at
    from source
)

select * from renamed
