"""Every value row belongs to a manifest row: checked once per statement (store.INTEGRITY_DDL),
as strictly as the per-row foreign key it replaced."""

from __future__ import annotations

import psycopg
import pytest

from ingest.intake.engine import ensure_tables
from ingest.intake.store import MANIFEST_DDL


def _manifest_row(conn: psycopg.Connection) -> int:
    return conn.execute(
        "insert into raw_intake.file_manifest (sha256, original_path, original_name,"
        " archive_path, size_bytes, arrived_at, status) values ('x', 'p', 'n', 'a', 1, now(),"
        " 'accepted') returning file_id").fetchone()[0]


def test_value_rows_need_their_manifest_row(fresh_db_url: str) -> None:
    ensure_tables(fresh_db_url)
    with psycopg.connect(fresh_db_url) as conn:
        file_id = _manifest_row(conn)
        conn.execute("insert into raw_intake.yt01_value (file_id, indicator_code, value)"
                     " values (%s, 'YT01', 1)", (file_id,))
        conn.commit()
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            with conn.cursor() as cur, cur.copy(
                    "copy raw_intake.yt01_value (file_id, indicator_code) from stdin") as copy:
                copy.write(f"{file_id}\tYT02\n{file_id + 1000}\tYT03\n".encode())
        conn.rollback()
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("update raw_intake.yt01_value set file_id = file_id + 1000")
        conn.rollback()
        for statement in ("delete from raw_intake.file_manifest",
                          "update raw_intake.file_manifest set file_id = file_id + 1000",
                          "truncate raw_intake.file_manifest cascade"):
            with pytest.raises(psycopg.errors.ForeignKeyViolation):
                conn.execute(statement)
            conn.rollback()
        conn.execute("update raw_intake.file_manifest set status = 'accepted'")  # not the key
        conn.execute("delete from raw_intake.yt01_value")
        conn.execute("delete from raw_intake.file_manifest")
        conn.commit()


def test_older_tables_get_the_statement_check(fresh_db_url: str) -> None:
    """Databases created with a per-row foreign key and a b-tree index are brought over."""
    with psycopg.connect(fresh_db_url) as conn:
        conn.execute("create schema raw_intake")
        conn.execute(MANIFEST_DDL)
        conn.execute("create table raw_intake.gd01_school (file_id bigint not null references"
                     " raw_intake.file_manifest (file_id), source_sheet text, source_row int)")
        conn.execute("create index gd01_school_file_id_idx on raw_intake.gd01_school (file_id)")
        conn.commit()
    ensure_tables(fresh_db_url)
    with psycopg.connect(fresh_db_url) as conn:
        fks = conn.execute("select count(*) from pg_constraint where contype = 'f' and "
                           "conrelid = 'raw_intake.gd01_school'::regclass").fetchone()[0]
        kind = conn.execute(
            "select am.amname from pg_class c join pg_am am on am.oid = c.relam "
            "where c.relname = 'gd01_school_file_id_idx'").fetchone()[0]
        assert (fks, kind) == (0, "brin")
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute("insert into raw_intake.gd01_school (file_id) values (12345)")
