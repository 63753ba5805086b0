"""Where agency records live on disk: one Parquet file per district and resource.

`DIR/agency/<resource>/part-NNNN.parquet`, one row per version of a record, with
`capNhatLuc` (when this version appeared) and `_hetHieuLuc` (when the next one replaced it,
null for the newest). Parquet keeps national-scale output compact and lets the demo API load
only the columns it indexes; files are written in a fixed order so the same seed gives the
same bytes.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

RESOURCES = ("ho-so", "van-ban", "phan-anh")
KEYS = {"ho-so": "maHoSo", "van-ban": "id", "phan-anh": "maPhanAnh"}
TS = pa.timestamp("s", tz="+07:00")
NGUOI = pa.struct([("hoTen", pa.string()), ("soDienThoai", pa.string()), ("soCCCD", pa.string())])
SCHEMAS = {
    "ho-so": pa.schema([
        ("maHoSo", pa.string()), ("maTTHC", pa.string()), ("tenTTHC", pa.string()),
        ("linhVuc", pa.string()), ("capThucHien", pa.string()), ("maDonVi", pa.string()),
        ("kenhNop", pa.int8()), ("mucDoDVC", pa.string()), ("ngayTiepNhan", TS),
        ("ngayHenTra", TS), ("ngayKetThucXuLy", TS), ("ngayTraKetQua", TS),
        ("trangThai", pa.string()), ("soLanBoSung", pa.int16()), ("soNgayBoSung", pa.int16()),
        ("coKetQuaDienTu", pa.bool_()), ("daSoHoa", pa.bool_()), ("coNghiaVuTaiChinh", pa.bool_()),
        ("thanhToanTrucTuyen", pa.bool_()), ("chuHoSo", NGUOI), ("capNhatLuc", TS),
        ("_hetHieuLuc", TS),
    ]),
    "van-ban": pa.schema([
        ("id", pa.string()), ("soKyHieu", pa.string()), ("trichYeu", pa.string()),
        ("loaiVanBan", pa.string()), ("chieu", pa.string()), ("maDonVi", pa.string()),
        ("coQuanBanHanh", pa.string()), ("doKhan", pa.string()), ("ngayVanBan", pa.date32()),
        ("ngayDen", TS), ("hanXuLy", pa.date32()), ("ngayHoanThanh", TS),
        ("trangThai", pa.string()), ("kySo", pa.bool_()), ("capNhatLuc", TS), ("_hetHieuLuc", TS),
    ]),
    "phan-anh": pa.schema([
        ("maPhanAnh", pa.string()), ("kenh", pa.string()), ("linhVuc", pa.string()),
        ("tieuDe", pa.string()), ("noiDung", pa.string()), ("diaBan", pa.string()),
        ("maDonViXuLy", pa.string()), ("ngayTiepNhan", TS), ("hanXuLy", TS),
        ("ngayHoanThanh", TS), ("trangThai", pa.string()), ("congKhai", pa.bool_()),
        ("danhGia", pa.int8()), ("nguoiPhanAnh", NGUOI), ("capNhatLuc", TS), ("_hetHieuLuc", TS),
    ]),
}
INTERNAL = ("_hetHieuLuc",)


class RecordSink:
    """Collects versions of one resource column by column and writes them as row groups."""

    def __init__(self, path: Path, resource: str, row_group: int = 200_000) -> None:
        self.path = path
        self.schema = SCHEMAS[resource]
        self.names = self.schema.names
        self.buf: list[tuple] = []
        self.row_group = row_group
        self.rows = 0
        self._writer: pq.ParquetWriter | None = None

    def add(self, rec: dict) -> None:
        self.buf.append(tuple(map(rec.get, self.names)))
        self.rows += 1
        if len(self.buf) >= self.row_group:
            self._flush()

    def _flush(self) -> None:
        if not self.buf:
            return
        columns = list(zip(*self.buf, strict=True))
        table = pa.table([pa.array(col, type=f.type) for col, f in zip(columns, self.schema,
                                                                         strict=True)],
                         schema=self.schema)
        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, self.schema, compression="zstd")
        self._writer.write_table(table)
        self.buf = []

    def close(self) -> int:
        self._flush()
        if self._writer is None:  # keep an empty part so every district has its files
            self.path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(self.schema.empty_table(), self.path, compression="zstd")
        else:
            self._writer.close()
        return self.rows


def part_files(data_dir: Path, resource: str) -> list[Path]:
    return sorted((Path(data_dir) / "agency" / resource).glob("part-*.parquet"))


def read_resource(data_dir: Path, resource: str, columns: list[str] | None = None) -> pa.Table:
    """All versions of a resource, every part concatenated (unsorted)."""
    files = part_files(data_dir, resource)
    if not files:
        return SCHEMAS[resource].empty_table() if columns is None else \
            SCHEMAS[resource].empty_table().select(columns)
    return pa.concat_tables(pq.read_table(f, columns=columns) for f in files)
