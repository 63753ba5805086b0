-- Dossiers without personal data (chuHoSo lives in restricted.ho_so_ca_nhan, never read); beside
-- each moment, the day (and month) in Vietnam's time that the marts judge by.
with

source as (
    select * from {{ source('raw_agency', 'ho_so') }}
),

renamed as (
    select
        ma_ho_so,
        ma_tthc,
        ten_tthc,
        coalesce(nullif(trim(normalize(linh_vuc, nfc)), ''), 'Chưa phân loại') as linh_vuc,
        cap_thuc_hien,
        ma_don_vi,
        kenh_nop,
        muc_do_dvc,
        ngay_tiep_nhan,
        {{ local_date('ngay_tiep_nhan') }} as received_date,
        {{ local_month('ngay_tiep_nhan') }} as received_month,
        ngay_hen_tra,
        {{ local_date('ngay_hen_tra') }} as due_date,
        ngay_ket_thuc_xu_ly,
        {{ local_date('ngay_ket_thuc_xu_ly') }} as finished_date,
        {{ local_month('ngay_ket_thuc_xu_ly') }} as finished_month,
        ngay_tra_ket_qua,
        trang_thai,
        coalesce(so_lan_bo_sung, 0) as so_lan_bo_sung,
        coalesce(so_ngay_bo_sung, 0) as so_ngay_bo_sung,
        co_ket_qua_dien_tu,
        da_so_hoa,
        co_nghia_vu_tai_chinh,
        thanh_toan_truc_tuyen,
        cap_nhat_luc,
        _loaded_at
    from source
)

select * from renamed
