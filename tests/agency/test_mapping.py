"""Mapping an API record onto the raw and restricted tables (the YAML, types, the split)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import yaml

from ingest.agency.errors import ConfigError
from ingest.agency.mapping import (
    DEFAULT_MAPPING,
    RecordProblem,
    bind,
    load_mapping,
    pseudonym,
)
from ioc.settings import PROJECT_ROOT

SPEC = yaml.safe_load((PROJECT_ROOT / "ioc/reference/agency-api.yaml").read_text("utf-8"))
SCHEMAS = {"ho-so": "HoSo", "van-ban": "VanBan", "phan-anh": "PhanAnh"}
VN = timezone(timedelta(hours=7))

HO_SO = {
    "maHoSo": "000.00.11.H49-241218-0009", "maTTHC": "1.004206",
    "tenTTHC": "Đăng ký thế chấp quyền sử dụng đất", "linhVuc": "Đất đai",
    "capThucHien": "huyen", "maDonVi": "512.VPDK", "kenhNop": 2, "mucDoDVC": "toan_trinh",
    "ngayTiepNhan": "2024-12-18T19:28:00+07:00", "ngayHenTra": "2024-12-23T17:00:00+07:00",
    "ngayKetThucXuLy": None, "ngayTraKetQua": None, "trangThai": "dang_xu_ly",
    "soLanBoSung": 0, "soNgayBoSung": 0, "coKetQuaDienTu": True, "daSoHoa": True,
    "coNghiaVuTaiChinh": False, "thanhToanTrucTuyen": None,
    "chuHoSo": {"hoTen": "Phạm Minh Minh", "soDienThoai": "0900020017",
                "soCCCD": "000181300594"},
    "capNhatLuc": "2025-01-02T08:51:00+07:00",
}
PHAN_ANH = {
    "maPhanAnh": "PA.512.250101.0011", "kenh": "tong_dai", "linhVuc": "Môi trường",
    "tieuDe": "Nước thải chảy tràn ra đường", "diaBan": "20764", "maDonViXuLy": None,
    "noiDung": "Tôi là Nguyễn Công Bình, số điện thoại 0900015292.",
    "ngayTiepNhan": "2025-01-01T20:59:00+07:00", "hanXuLy": None, "ngayHoanThanh": None,
    "trangThai": "dang_xu_ly", "congKhai": False, "danhGia": None,
    "nguoiPhanAnh": {"hoTen": "Nguyễn Công Bình", "soDienThoai": "0900015292", "soCCCD": None},
    "capNhatLuc": "2025-01-02T09:59:00+07:00",
}
PERSONAL_VALUES = ["Phạm Minh Minh", "0900020017", "000181300594", "Nguyễn Công Bình",
                   "0900015292"]


def _bind(table_types, resource: str, mapping=None, **kwargs):
    mapping = mapping or load_mapping()
    rmap = mapping.resource(resource)
    return bind(rmap, table_types[("raw_agency", rmap.table)],
                table_types.get(("restricted", f"{rmap.table}_ca_nhan"), {}),
                unit_codes=mapping.unit_codes, **kwargs)


@pytest.mark.parametrize("resource", list(SCHEMAS))
def test_mapping_covers_the_contract(resource: str, table_types) -> None:
    """Every field of the contract is mapped: plainly, or as personal data; nothing else."""
    rmap = load_mapping().resource(resource)
    props = SPEC["components"]["schemas"][SCHEMAS[resource]]["properties"]
    personal_roots = {name.split(".", 1)[0] for name in rmap.personal}
    for name, prop in props.items():
        if "$ref" in prop:  # the Nguoi object: every one of its fields is personal
            nguoi = SPEC["components"]["schemas"]["Nguoi"]["properties"]
            assert {f"{name}.{f}" for f in nguoi} <= set(rmap.personal), name
        else:
            assert (name in rmap.fields) != (name in personal_roots), name
    assert set(rmap.fields) <= set(props)
    assert personal_roots <= set(props)
    _bind(table_types, resource)  # every mapped column exists in the tables


def test_a_dossier_is_split_into_a_typed_row_and_a_personal_row(table_types) -> None:
    conv = _bind(table_types, "ho-so")
    item = conv.convert(copy.deepcopy(HO_SO))
    row = dict(zip(conv.columns, item.row, strict=True))
    assert row["ma_ho_so"] == item.key == HO_SO["maHoSo"]
    assert row["ngay_tiep_nhan"] == datetime(2024, 12, 18, 19, 28, tzinfo=VN)
    assert row["kenh_nop"] == 2 and row["co_ket_qua_dien_tu"] is True
    assert row["thanh_toan_truc_tuyen"] is None and row["ngay_tra_ket_qua"] is None
    assert item.cursor == datetime(2025, 1, 2, 8, 51, tzinfo=VN) == row["cap_nhat_luc"]
    assert not any(v in str(item.row) for v in PERSONAL_VALUES)
    assert "chu_ho_so" not in " ".join(conv.columns)
    assert conv.personal_columns == ["ma_ho_so", "ho_ten", "so_dien_thoai", "so_cccd",
                                     "cap_nhat_luc"]
    assert item.personal == (HO_SO["maHoSo"], "Phạm Minh Minh", "0900020017", "000181300594",
                             item.cursor)


def test_feedback_free_text_is_personal(table_types) -> None:
    conv = _bind(table_types, "phan-anh")
    item = conv.convert(copy.deepcopy(PHAN_ANH))
    assert "noi_dung" not in conv.columns and "noi_dung" in conv.personal_columns
    # the title is citizens' free text too (it may name a person or give a phone number)
    assert "tieu_de" not in conv.columns and "tieu_de" in conv.personal_columns
    assert not any(v in str(item.row) for v in PERSONAL_VALUES)
    assert PHAN_ANH["tieuDe"] not in str(item.row)
    assert PHAN_ANH["noiDung"] in item.personal and PHAN_ANH["tieuDe"] in item.personal


def test_documents_have_no_personal_row(table_types) -> None:
    conv = _bind(table_types, "van-ban")
    item = conv.convert({"id": "VB.1", "soKyHieu": "1/YT", "trichYeu": "V/v", "loaiVanBan":
                         "Công văn", "chieu": "di", "maDonVi": "512.YT", "ngayVanBan":
                         "2025-01-02", "hanXuLy": None, "trangThai": "da_xu_ly", "kySo": True,
                         "capNhatLuc": "2025-01-02T08:27:00+07:00"})
    assert item.personal is None and conv.personal_columns == []
    assert dict(zip(conv.columns, item.row, strict=True))["ngay_van_ban"] == date(2025, 1, 2)


def test_unknown_fields_are_dropped_and_only_their_names_reported(table_types) -> None:
    conv = _bind(table_types, "ho-so")
    record = {**HO_SO, "diaChi": "thôn 7, xã Quế Thọ", "email": "a@b.vn"}
    item = conv.convert(record)
    assert conv.unmapped == {"diaChi", "email"}
    assert "thôn 7" not in str(item.row) and "a@b.vn" not in str(item.personal)


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("kenhNop", "hai", "wrong type"),
    ("ngayTiepNhan", "18/12/2024 Phạm Minh Minh", "wrong type"),
    ("coKetQuaDienTu", "có", "wrong type"),
    ("tenTTHC", {"hoTen": "Phạm Minh Minh"}, "wrong type"),
    ("maHoSo", None, "missing key"),
    ("capNhatLuc", None, "missing"),
])
def test_bad_values_are_refused_without_quoting_them(table_types, field, value,
                                                     problem) -> None:
    conv = _bind(table_types, "ho-so")
    with pytest.raises(RecordProblem) as exc:
        conv.convert({**HO_SO, field: value})
    assert exc.value.api_field == field and problem in str(exc.value)
    assert "Phạm" not in str(exc.value) and "hai" not in str(exc.value).split(":")[1]


def test_times_without_offset_are_vietnam_time(table_types) -> None:
    conv = _bind(table_types, "ho-so")
    item = conv.convert({**HO_SO, "capNhatLuc": "2025-01-02T08:51:00"})
    assert item.cursor == datetime(2025, 1, 2, 8, 51, tzinfo=VN)
    utc = conv.convert({**HO_SO, "capNhatLuc": "2025-01-02T01:51:00Z"})
    assert utc.cursor == item.cursor


def _custom_mapping(tmp_path: Path, edit) -> Path:
    doc = yaml.safe_load(DEFAULT_MAPPING.read_text("utf-8"))
    edit(doc)
    path = tmp_path / "mapping.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_a_deployment_renames_fields_and_translates_unit_codes(tmp_path, table_types) -> None:
    def edit(doc):
        fields = doc["resources"]["ho-so"]["fields"]
        fields["donViXuLy"] = fields.pop("maDonVi")  # this platform calls it donViXuLy
        doc["unit_codes"] = {"translate": {"H49.512.VPDK": "512.VPDK"}, "file": "codes.csv"}
    path = _custom_mapping(tmp_path, edit)
    (tmp_path / "codes.csv").write_text("source_code,api_code\nH49.20764,20764\n", "utf-8")
    mapping = load_mapping(path)
    assert mapping.unit_codes == {"H49.512.VPDK": "512.VPDK", "H49.20764": "20764"}
    conv = _bind(table_types, "ho-so", mapping)
    record = {**HO_SO, "donViXuLy": "H49.512.VPDK"}
    del record["maDonVi"]
    row = dict(zip(conv.columns, conv.convert(record).row, strict=True))
    assert row["ma_don_vi"] == "512.VPDK"
    pa = _bind(table_types, "phan-anh", mapping)
    row = dict(zip(pa.columns, pa.convert({**PHAN_ANH, "diaBan": "H49.20764",
                                           "maDonViXuLy": "20770"}).row, strict=True))
    assert row["dia_ban"] == "20764" and row["ma_don_vi_xu_ly"] == "20770"  # unknown: as is


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["resources"]["ho-so"]["fields"].pop("maHoSo"), "maHoSo"),
    (lambda d: d["resources"]["ho-so"]["personal"].update({"x.y": "ma_tthc"}), "ma_tthc"),
    (lambda d: d["resources"]["ho-so"]["fields"].update({"x": "Bad-Name"}), "Bad-Name"),
    (lambda d: d["resources"]["ho-so"].update({"unit_code_columns": ["nope"]}), "nope"),
    (lambda d: d["resources"]["phan-anh"].update({"free_text": ["linhVuc"]}), "linhVuc"),
    (lambda d: d["resources"]["ho-so"].pop("path"), "path"),
])
def test_bad_mapping_files_are_refused(tmp_path, edit, message) -> None:
    with pytest.raises(ConfigError, match=message):
        load_mapping(_custom_mapping(tmp_path, edit))


def test_mapping_to_a_column_the_table_lacks_is_refused(tmp_path, table_types) -> None:
    path = _custom_mapping(tmp_path, lambda d: d["resources"]["ho-so"]["fields"].update(
        {"soTrang": "so_trang"}))
    with pytest.raises(ConfigError, match="so_trang"):
        _bind(table_types, "ho-so", load_mapping(path))


def test_hash_mode_pseudonymises_and_drops_free_text(table_types) -> None:
    key = b"k" * 32
    conv = _bind(table_types, "phan-anh", personal_mode="hash", hash_key=key)
    item = conv.convert(copy.deepcopy(PHAN_ANH))
    values = dict(zip(conv.personal_columns, item.personal, strict=True))
    assert values["ho_ten"] == pseudonym("nguyễn  công bình ", key)  # normalised, stable
    assert values["ho_ten"] != pseudonym("Nguyễn Công Bình", b"other key")
    assert values["noi_dung"] is None and values["tieu_de"] is None and values["so_cccd"] is None
    assert not any(v in str(item.personal) for v in PERSONAL_VALUES)
    with pytest.raises(ConfigError):
        _bind(table_types, "phan-anh", personal_mode="hash")  # no key


def test_drop_mode_keeps_no_personal_row(table_types) -> None:
    conv = _bind(table_types, "ho-so", personal_mode="drop")
    assert conv.personal_columns == [] and conv.convert(copy.deepcopy(HO_SO)).personal is None
