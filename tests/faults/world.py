"""A demo world for fault tests, and what "nothing lost, nothing doubled" means in SQL.

The world is the project's own demo district (`demo.generate`): ~90 report files of two
months (accepted, refused for planted defects, a duplicate, corrections) and the agency
records of those months. A fault test loads it with a fault injected, recovers, and compares
the warehouse with a fault-free load of the same world (the reference):

- `intake_violations(url, intake_root)`: invariants that hold after any run, even a killed
  one — every file in the folder is in the manifest once it was processed, each accepted
  file has exactly its rows, refused ones none, one current version per report, no report
  loaded twice;
- `IntakeSnapshot`: each file's effective status and its data rows (file ids left out: they
  differ between runs), so `compare()` counts records lost and records doubled;
- `mart_fingerprints`: a hash of every mart table's rows (without load-order columns).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from demo.calendar import Month

SPAN = (Month(2024, 10), Month(2024, 11))
SEED = 5
API_TOKEN = "faults-token"  # the demo agency API of the fault tests (a throwaway server)
NOW = datetime(2025, 3, 1, 3, 0, tzinfo=UTC)  # every period of the world has ended
FORM_TABLES = ("ktxh01_value", "yt01_value", "hcc06_row", "gd01_school")
# columns that depend on load order or load time, not on the data
VOLATILE = {"file_id", "current_file_id", "_loaded_at", "superseded_by", "duplicate_of"}


def generate_world(out: Path, *, agency: bool = True) -> Path:
    from demo.generate import generate

    generate(out, "district", seed=SEED, span=SPAN, today=NOW.date(), agency=agency, jobs=1,
             overwrite=True)
    return out


def copy_intake(world: Path, dest: Path) -> Path:
    """A fresh copy of the world's intake folder (with its `_arrivals.csv`)."""
    shutil.copytree(world / "intake", dest, symlinks=True)
    return dest


def arrivals(intake_root: Path) -> dict[str, datetime] | None:
    from ingest.intake.watch import bulk_arrivals

    return bulk_arrivals(intake_root)


def in_arrival_order(files: list[Path], intake_root: Path) -> list[Path]:
    """The order the Dagster asset ingests history in (which of two identical files is the
    original and which the duplicate depends on it)."""
    known = arrivals(intake_root) or {}
    latest = datetime.max.replace(tzinfo=UTC)
    return sorted(files, key=lambda p: (known.get(str(p.absolute()), latest), str(p)))


def ingest(url: str, intake_root: Path, archive: Path, *, feedback: bool = True,
           files: list[Path] | None = None):
    """What the Dagster asset does: scan what is waiting, ingest it in arrival order."""
    from ingest.intake import engine

    waiting = files if files is not None else in_arrival_order(
        engine.scan_intake(intake_root, conninfo=url, settle_seconds=0), intake_root)
    return engine.ingest_paths(waiting, conninfo=url, archive_dir=archive,
                               intake_root=intake_root, arrived_at=arrivals(intake_root),
                               now=NOW, feedback=feedback)


def submissions(intake_root: Path) -> dict[str, str]:
    """Every report file in the folder (as the engine sees them): path → sha256."""
    from ingest.intake import archive, engine

    return {str(p): archive.sha256(p.read_bytes())
            for p, _ in engine.expand_paths([intake_root]) if not p.is_symlink()}


SCHOOL_HEADER = ["Mã trường", "Tên trường", "Cấp học", "Xã, thị trấn", "Số lớp", "Số học sinh",
                 "Trong đó nữ", "Học sinh dân tộc thiểu số", "Học sinh bỏ học trong kỳ",
                 "Số giáo viên", "Số phòng học kiên cố", "Đạt chuẩn quốc gia"]
_COMMUNES = ["Hiệp Thuận", "Hiệp Hòa", "TT Tân Bình", "Quế Thọ", "Bình Lâm", "Sông Trà",
             "Phước Trà", "Phước Gia", "Quế Lưu", "Thăng Phước", "Bình Sơn"]


def big_school_file(intake_root: Path, rows: int) -> Path:
    """A valid GD-01 CSV of the district office with `rows` schools: a file whose COPY
    takes long enough to be cut in the middle."""
    import csv

    path = intake_root / "phong-gddt" / "GD-01_phong-gddt_2024-HK1.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(SCHOOL_HEADER)
        for i in range(rows):
            pupils = 100 + (i * 37) % 800
            w.writerow([f"S{i:06d}", f"Trường số {i}", ("Mầm non", "Tiểu học", "THCS")[i % 3],
                        _COMMUNES[i % len(_COMMUNES)], 3 + i % 27, pupils, pupils // 2,
                        (i * 7) % (pupils // 3), i % 5, 5 + i % 50, i % 30,
                        "Có" if i % 4 else "Không"])
    return path


def load_everything(url: str, intake: Path, archive: Path, api_url: str, token: str) -> None:
    """Intake and agency sources into `url`, as the nightly job's source steps do."""
    from ingest.agency import schema
    from ingest.agency.config import load
    from ingest.agency.pull import pull

    ingest(url, intake, archive)
    schema.ensure_tables(url)
    pull(None, conninfo=url, config=load(api_url, token, env={}))


# --- invariants ---------------------------------------------------------------------------------

def intake_violations(url: str, intake_root: Path | None = None,
                      processed: bool = True) -> list[str]:
    """Every way the intake tables break "each accepted file exactly once, nothing partial".

    With `processed` and an intake root, every file in the folder must also be in the
    manifest (a run that finished saw them all)."""
    out: list[str] = []
    with psycopg.connect(url) as conn:
        if conn.execute("select to_regclass('raw_intake.file_manifest')").fetchone()[0] is None:
            return ["raw_intake.file_manifest does not exist"] if processed else []
        for table in FORM_TABLES:
            rows = conn.execute(f"""
                select m.file_id, m.status, m.row_count, count(v.file_id)
                from raw_intake.file_manifest m
                left join raw_intake.{table} v using (file_id)
                where m.form_code = %s or v.file_id is not null
                group by 1, 2, 3""", (_form_of(table),)).fetchall()
            for file_id, status, row_count, loaded in rows:
                if status == "accepted" and loaded != row_count:
                    out.append(f"{table}: file {file_id} has {loaded} rows, manifest says "
                               f"{row_count} (partial load)")
                if status != "accepted" and loaded:
                    out.append(f"{table}: {status} file {file_id} has {loaded} rows")
            orphans = conn.execute(f"""select count(*) from raw_intake.{table} v where not exists
                (select 1 from raw_intake.file_manifest m where m.file_id = v.file_id)"""
                                   ).fetchone()[0]
            if orphans:
                out.append(f"{table}: {orphans} rows without a manifest row")
        twice = conn.execute("""select sha256, count(*) from raw_intake.file_manifest
            where status = 'accepted' group by 1 having count(*) > 1""").fetchall()
        out += [f"bytes {s[:12]} accepted {n} times (loaded twice)" for s, n in twice]
        per_report = conn.execute("""
            select org_unit_id, form_code, period, count(*) filter (where is_current),
                   array_agg(version order by version), count(*)
            from raw_intake.file_manifest where status = 'accepted' group by 1, 2, 3""").fetchall()
        for unit, form, period, current, versions, n in per_report:
            if current != 1:
                out.append(f"{unit} {form} {period}: {current} current versions")
            if versions != list(range(1, n + 1)):
                out.append(f"{unit} {form} {period}: versions {versions}")
        bad_dup = conn.execute("""select d.file_id from raw_intake.file_manifest d
            left join raw_intake.file_manifest a on a.file_id = d.duplicate_of
            where d.status = 'duplicate' and (a.status is distinct from 'accepted'
                                              or a.sha256 <> d.sha256)""").fetchall()
        out += [f"duplicate {f} does not point at accepted identical bytes" for (f,) in bad_dup]
        if intake_root is not None and processed:
            known = set(conn.execute("select original_path, sha256 "
                                     "from raw_intake.file_manifest").fetchall())
            for path, sha in submissions(intake_root).items():
                if (path, sha) not in known:
                    out.append(f"not in the manifest: {path}")
    return out


def _form_of(table: str) -> str:
    return {"ktxh01_value": "KTXH-01", "yt01_value": "YT-01", "hcc06_row": "HCC-06",
            "gd01_school": "GD-01"}[table]


# --- snapshots and comparison -------------------------------------------------------------------

@dataclass
class IntakeSnapshot:
    """Per file (path, sha256): its effective status and version; its data rows."""

    files: dict[tuple[str, str], tuple] = field(default_factory=dict)
    rows: Counter = field(default_factory=Counter)
    manifest_rows: int = 0


def intake_snapshot(url: str, relative_to: Path | None = None) -> IntakeSnapshot:
    """`relative_to`: paths are compared relative to this intake root (two runs of the
    same world in two folders)."""
    snap = IntakeSnapshot()

    def rel(path: str) -> str:
        if relative_to is None:
            return path
        return str(Path(path).relative_to(relative_to))

    with psycopg.connect(url) as conn:
        order = {"accepted": 0, "duplicate": 1, "rejected": 2}
        for path, sha, status, unit, form, period, version, current, count in conn.execute(
                "select original_path, sha256, status, org_unit_id, form_code, period, version, "
                "is_current, row_count from raw_intake.file_manifest"):
            key = (rel(path), sha)
            mine = (status, unit, form, period, version, current, count)
            old = snap.files.get(key)
            if old is None or order[status] < order[old[0]]:
                snap.files[key] = mine
            snap.manifest_rows += 1
        for table in FORM_TABLES:
            cols = [c for (c,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = "
                "'raw_intake' and table_name = %s and column_name <> 'file_id' "
                "order by ordinal_position", (table,))]
            select = ", ".join(f"v.{c}::text" for c in cols)
            for row in conn.execute(f"select m.original_path, {select} from raw_intake.{table} v "
                                    "join raw_intake.file_manifest m using (file_id)"):
                snap.rows[(table, rel(row[0]), *row[1:])] += 1
    return snap


@dataclass
class Comparison:
    records_lost: int
    records_doubled: int
    files_missing: list[str]
    files_differing: list[str]

    @property
    def ok(self) -> bool:
        return not (self.records_lost or self.records_doubled or self.files_missing
                    or self.files_differing)


def compare(reference: IntakeSnapshot, got: IntakeSnapshot) -> Comparison:
    lost = reference.rows - got.rows
    doubled = got.rows - reference.rows
    missing = [p for p, _ in reference.files if (p, _) not in got.files]
    differing = [f"{p}: {reference.files[(p, s)]} vs {got.files[(p, s)]}"
                 for p, s in reference.files
                 if (p, s) in got.files and reference.files[(p, s)] != got.files[(p, s)]]
    return Comparison(sum(lost.values()), sum(doubled.values()), missing, differing)


def mart_fingerprints(url: str, ignore: frozenset[str] = frozenset()) -> dict[str, tuple]:
    """Every table of every `mart_*` schema: (row count, hash of its rows), columns that
    depend on load order left out."""
    out: dict[str, tuple] = {}
    with psycopg.connect(url) as conn:
        tables = conn.execute("""select table_schema, table_name from information_schema.tables
            where table_schema like 'mart\\_%' and table_type = 'BASE TABLE' order by 1, 2"""
                              ).fetchall()
        for schema, table in tables:
            cols = [c for (c,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s "
                "and table_name = %s order by ordinal_position", (schema, table))
                if c not in VOLATILE and c not in ignore]
            row = ", ".join(f'"{c}"' for c in cols)
            out[f"{schema}.{table}"] = conn.execute(
                f'select count(*), coalesce(md5(string_agg(h, \',\' order by h)), \'\') from '
                f'(select md5(row({row})::text) h from "{schema}"."{table}") x').fetchone()
    return out


def mart_differences(reference: dict[str, tuple], got: dict[str, tuple]) -> list[str]:
    return [f"{t}: {reference.get(t)} vs {got.get(t)}" for t in sorted(set(reference) | set(got))
            if reference.get(t) != got.get(t)]


# --- dbt ----------------------------------------------------------------------------------------

def dbt_process(url: str, *args: str) -> subprocess.Popen:
    """`dbt <args>` against database `url`, as `ioc dbt` runs it, output readable by line."""
    from ioc import dbt_runner
    from ioc.settings import load

    settings = load().__class__(**{**vars(load()), "warehouse_url": url})
    env = {**os.environ, "IOC_WAREHOUSE_URL": url, **dbt_runner.dbt_env(settings)}
    return subprocess.Popen([dbt_runner.dbt_executable(), *args], cwd=dbt_runner.DBT_PROJECT_DIR,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def dbt_run(url: str, *args: str) -> str:
    proc = dbt_process(url, *args)
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-3000:]
    return out
