"""The raw tables the agency connectors land into, created before anything reads them.

Column names are the API's field names in snake_case (`maHoSo` → `ma_ho_so`), the naming
dlt's normaliser produces, so a dlt-based loader and these tables agree. Each resource has
  - `raw_agency.<resource>`: the newest version of every record (upsert by key);
  - `raw_agency.<resource>_history`: every version the connector saw, one row per
    (key, cap_nhat_luc), for status-change times;
and its personal data (`chuHoSo`, `nguoiPhanAnh`, `noiDung`) lives only in
`restricted.<resource>_ca_nhan`, which neither dbt's marts nor Superset's role can read.
`raw_agency.sync_state` holds each resource's watermark and last run; `raw_agency.sync_rejects`
the records the connector could not store (field and problem, never the value).
"""

from __future__ import annotations

import psycopg

# every resource's version (the API's cap_nhat_luc, the history's key with the record's) and
# when the connector stored it
VERSION_COLUMNS = """
    cap_nhat_luc timestamptz not null,
    _loaded_at timestamptz not null default now()
"""

HO_SO_COLUMNS = """
    ma_ho_so text not null,
    ma_tthc text,
    ten_tthc text,
    linh_vuc text,
    cap_thuc_hien text,
    ma_don_vi text,
    kenh_nop integer,
    muc_do_dvc text,
    ngay_tiep_nhan timestamptz,
    ngay_hen_tra timestamptz,
    ngay_ket_thuc_xu_ly timestamptz,
    ngay_tra_ket_qua timestamptz,
    trang_thai text,
    so_lan_bo_sung integer,
    so_ngay_bo_sung integer,
    co_ket_qua_dien_tu boolean,
    da_so_hoa boolean,
    co_nghia_vu_tai_chinh boolean,
    thanh_toan_truc_tuyen boolean,
""" + VERSION_COLUMNS

VAN_BAN_COLUMNS = """
    id text not null,
    so_ky_hieu text,
    trich_yeu text,
    loai_van_ban text,
    chieu text,
    ma_don_vi text,
    co_quan_ban_hanh text,
    do_khan text,
    ngay_van_ban date,
    ngay_den timestamptz,
    han_xu_ly date,
    ngay_hoan_thanh timestamptz,
    trang_thai text,
    ky_so boolean,
""" + VERSION_COLUMNS

PHAN_ANH_COLUMNS = """
    ma_phan_anh text not null,
    kenh text,
    linh_vuc text,
    dia_ban text,
    ma_don_vi_xu_ly text,
    ngay_tiep_nhan timestamptz,
    han_xu_ly timestamptz,
    ngay_hoan_thanh timestamptz,
    trang_thai text,
    cong_khai boolean,
    danh_gia integer,
""" + VERSION_COLUMNS

# resource name in the API -> (table, key column, columns)
RESOURCES: dict[str, tuple[str, str, str]] = {
    "ho-so": ("ho_so", "ma_ho_so", HO_SO_COLUMNS),
    "van-ban": ("van_ban", "id", VAN_BAN_COLUMNS),
    "phan-anh": ("phan_anh", "ma_phan_anh", PHAN_ANH_COLUMNS),
}

PERSONAL_COLUMNS: dict[str, str] = {
    "ho_so": "ho_ten text, so_dien_thoai text, so_cccd text",
    "van_ban": "",
    "phan_anh": "ho_ten text, so_dien_thoai text, so_cccd text, noi_dung text, tieu_de text",
}

# Columns older installs have in the wrong place: the feedback title (tieuDe) is citizens'
# free text and lives in restricted like noiDung (docs/privacy.md). (schema, table, column,
# what to run when it is present / absent)
MOVED_COLUMNS = [
    ("raw_agency", "phan_anh", "tieu_de", "alter table raw_agency.phan_anh drop column tieu_de",
     None),
    ("raw_agency", "phan_anh_history", "tieu_de",
     "alter table raw_agency.phan_anh_history drop column tieu_de", None),
    ("restricted", "phan_anh_ca_nhan", "tieu_de", None,
     "alter table restricted.phan_anh_ca_nhan add column tieu_de text"),
]


def ddl() -> list[str]:
    """Statements that create every raw_agency and restricted table (idempotent)."""
    statements = [
        "create schema if not exists raw_agency",
        "create schema if not exists restricted",
        "revoke all on schema restricted from public",
    ]
    for table, key, columns in RESOURCES.values():
        statements.append(
            f"create table if not exists raw_agency.{table} ({columns}, primary key ({key}))"
        )
        statements.append(
            f"create table if not exists raw_agency.{table}_history "
            f"({columns}, primary key ({key}, cap_nhat_luc))"
        )
        personal = PERSONAL_COLUMNS[table]
        if personal:
            statements.append(
                f"create table if not exists restricted.{table}_ca_nhan ("
                f"{key} text primary key, {personal}, cap_nhat_luc timestamptz not null)"
            )
    statements.append(
        "create table if not exists raw_agency.sync_state ("
        "resource text primary key, watermark timestamptz, last_run_at timestamptz, "
        "last_status text, records_total bigint default 0)"
    )
    # Added by the connectors (ingest/agency/load.py): why the last run failed (a message
    # without record values) and its counters.
    for column, typ in SYNC_STATE_EXTRA.items():
        statements.append(
            f"alter table raw_agency.sync_state add column if not exists {column} {typ}"
        )
    # Records the connector could not store (wrong type, no key): which field and why, never
    # the value. Fixed at the source, they come back with a newer capNhatLuc.
    statements.append(
        "create table if not exists raw_agency.sync_rejects ("
        "resource text not null, record_key text, cap_nhat_luc timestamptz, "
        "field text not null, problem text not null, seen_at timestamptz not null default now())"
    )
    return statements


SYNC_STATE_EXTRA = {"last_error": "text", "last_stats": "jsonb"}


def ensure_tables(conninfo: str) -> None:
    """Run the DDL; ALTERs only when the column is missing (ALTER TABLE takes an exclusive
    lock even when there is nothing to do, which would wait on a running dbt build).
    Serialised by an advisory lock: the three agency assets start in parallel, and two
    concurrent `create ... if not exists` of the same table can still collide."""
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext('ioc.agency.ddl'))")
        present = {row[0] for row in conn.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'raw_agency' and table_name = 'sync_state'")}
        for statement in ddl():
            if statement.startswith("alter table raw_agency.sync_state"):
                column = statement.split(" if not exists ", 1)[1].split()[0]
                if column in present:
                    continue
            conn.execute(statement)
        columns = set(conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where table_schema in ('raw_agency', 'restricted')").fetchall())
        for schema_name, table, column, if_present, if_absent in MOVED_COLUMNS:
            statement = if_present if (schema_name, table, column) in columns else if_absent
            if statement:
                conn.execute(statement)
