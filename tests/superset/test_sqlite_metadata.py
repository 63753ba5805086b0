"""Superset's SQLite metadata (external warehouse, no IOC_SUPERSET_METADATA_URL) keeps an old
UNIQUE (table_name) on `tables`; bootstrap drops it so two schemas may hold tables of the same
name (superset/ioc_superset/bootstrap.py: sqlite_table_names_per_schema). The full path is tried
by the access tests' external stack (tests/security/stacks.py), which imports the assets on
SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ioc_superset.bootstrap import sqlite_table_names_per_schema

OLD = """CREATE TABLE "tables" (
	id INTEGER NOT NULL,
	table_name VARCHAR(250) NOT NULL,
	database_id INTEGER NOT NULL,
	schema VARCHAR(255),
	catalog VARCHAR(256),
	uuid NUMERIC(16),
	PRIMARY KEY (id),
	CONSTRAINT uq_tables_uuid UNIQUE (uuid),
	UNIQUE (table_name),
	FOREIGN KEY(database_id) REFERENCES dbs (id)
)"""


def test_the_old_constraint_goes_and_rows_and_keys_stay(tmp_path: Path) -> None:
    path = tmp_path / "superset.db"
    with sqlite3.connect(path) as conn:
        conn.execute("create table dbs (id integer primary key)")
        conn.execute("insert into dbs values (1)")
        conn.execute(OLD)
        conn.execute("create table table_columns (id integer primary key, table_id integer "
                     "references tables (id))")
        conn.execute("insert into tables values (1, 'fct_chi_tieu_thang', 1, "
                     "'mart_kinh_te_xa_hoi', null, 'a')")
        conn.execute("insert into table_columns values (1, 1)")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("insert into tables values (2, 'fct_chi_tieu_thang', 1, "
                         "'mart_chi_tieu', null, 'b')")
    assert sqlite_table_names_per_schema(path) is True
    assert sqlite_table_names_per_schema(path) is False  # nothing left to do
    with sqlite3.connect(path) as conn:
        conn.execute("insert into tables values (2, 'fct_chi_tieu_thang', 1, 'mart_chi_tieu', "
                     "null, 'b')")
        with pytest.raises(sqlite3.IntegrityError):  # the uuid constraint is kept
            conn.execute("insert into tables values (3, 'x', 1, 'mart_x', null, 'b')")
        assert conn.execute("select count(*) from tables").fetchone() == (2,)
        assert conn.execute("select table_id from table_columns").fetchone() == (1,)
        assert conn.execute("pragma foreign_key_check").fetchall() == []
