"""Ingest throughput: a large GD-01 report (one row per school) as .csv and .xlsx, beside its
floor and a naive loader.

- `ingest`  : `ingest_paths` end to end — archive, read, every check, one transaction with
              the manifest row, COPY and versions — into a fresh database each repetition;
- `check`   : `check_paths` alone (read + checks, no database);
- floor     : PostgreSQL COPY of the same rows (as loaded: file_id, sheet, row, typed values)
              from a prepared CSV streamed to COPY FROM STDIN, into an unindexed table of the
              same columns; beside it the same COPY in text format, and the same CSV into a
              table shaped like the raw table (its index and file_id integrity check);
- naive     : `pandas.read_excel` (openpyxl) or `pandas.read_csv`, then `DataFrame.to_sql`.

KTXH-01/YT-01 files have ~17 rows, so the large case is GD-01. The 1,000,000-row cases exceed
the intake's 3M-cell limit for one sheet (zipguard: a real GD-01 of a province has a few
thousand rows); the limit is raised inside these benchmark processes only.

Run by bench.run; `python -m bench.ingest '<json args>'` is one measurement in a child.
"""

from __future__ import annotations

import cProfile
import csv
import io
import pstats
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import CACHE, child_args, emit, median

HEADER = ["Mã trường", "Tên trường", "Cấp học", "Xã, thị trấn", "Số lớp", "Số học sinh",
          "Trong đó nữ", "Học sinh dân tộc thiểu số", "Học sinh bỏ học trong kỳ",
          "Số giáo viên", "Số phòng học kiên cố", "Đạt chuẩn quốc gia"]
COMMUNES = ["Hiệp Thuận", "xã Hiệp Hòa", "TT Tân Bình", "Quế Thọ", "Bình Lâm", "Sông Trà",
            "Phước Trà", "Phước Gia", "Quế Lưu", "Thăng Phước", "Bình Sơn"]
LEVELS = ["Mầm non", "Tiểu học", "THCS"]
NOW = datetime(2025, 3, 1, tzinfo=UTC)
FILE_NAME = "GD-01_phong-gddt_2024-HK1"
UNIT = "phong-gddt"


# --- the files (parent side, cached) ----------------------------------------------------------

def schools(n: int, seed: int = 7) -> list[list[Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        pupils = rng.randint(50, 900)
        rows.append([f"S{i:07d}", f"Trường số {i}", LEVELS[i % 3], COMMUNES[i % len(COMMUNES)],
                     rng.randint(3, 30), pupils, pupils // 2, rng.randint(0, pupils // 3),
                     rng.randint(0, 5), rng.randint(5, 60), rng.randint(0, 30),
                     "Có" if i % 4 else "Không"])
    return rows


def _block() -> list[list[str]]:
    return [["PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"], [],
            ["Báo cáo thống kê trường học học kỳ I năm học 2024-2025"], ["Biểu số: GD-01"], []]


def prepare(rows: int, kinds: tuple[str, ...] = ("csv", "xlsx")) -> dict[str, Path]:
    """The report as .csv (UTF-8 with BOM, `;`, as Excel writes it) and .xlsx, cached."""
    folder = CACHE / "ingest" / str(rows) / "intake" / UNIT
    folder.mkdir(parents=True, exist_ok=True)
    paths = {k: folder / f"{FILE_NAME}.{k}" for k in kinds}
    data = None
    for kind, path in paths.items():
        if path.exists():
            continue
        data = data or schools(rows)
        tmp = path.with_suffix(".part")
        if kind == "csv":
            with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
                w = csv.writer(fh, delimiter=";", lineterminator="\r\n")
                w.writerows([*_block(), HEADER, *data])
        else:
            import xlsxwriter

            wb = xlsxwriter.Workbook(str(tmp), {"constant_memory": True})
            ws = wb.add_worksheet("Trường học")
            for r, row in enumerate([*_block(), HEADER, *data]):
                ws.write_row(r, 0, row)
            wb.close()
        tmp.rename(path)
    return paths


def prepare_floor(rows: int, source: Path) -> dict[str, Path]:
    """The rows exactly as the ingest loads them (file_id 1), as CSV and as COPY text."""
    folder = CACHE / "ingest" / str(rows)
    out = {"csv": folder / "floor.csv", "text": folder / "floor.txt"}
    if all(p.exists() for p in out.values()):
        return out
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    from ingest.intake import zipguard
    from ingest.intake.contracts import load_contracts
    from ingest.intake.store import _copy_text
    from ingest.intake.validate import check_bytes, context_for

    zipguard.MAX_SHEET_CELLS = 10**9
    outcome = check_bytes(source.read_bytes(), context_for(source, source.parents[1]), now=NOW)
    assert outcome.accepted, outcome.problems.errors[:3]
    load = list(load_contracts()["GD-01"].load)
    with out["text"].open("wb") as fh:
        for rec in outcome.records:
            fields = [_copy_text(v) for v in (1, rec["source_sheet"], rec["source_row"],
                                              *(rec[n] for n in load))]
            fh.write(("\t".join(fields) + "\n").encode())
    columns: dict[str, list[Any]] = {"file_id": [], "source_sheet": [], "source_row": []}
    columns.update({n: [] for n in load})
    for rec in outcome.records:
        columns["file_id"].append(1)
        for name in ("source_sheet", "source_row", *load):
            columns[name].append(rec[name])
    pa_csv.write_csv(pa.table(columns), out["csv"],
                     pa_csv.WriteOptions(include_header=False, quoting_style="needed"))
    return out


# --- measurements (child side) ----------------------------------------------------------------

SHAPE = """create table {name} (file_id bigint, source_sheet text, source_row integer,
    school_code text, school_name text, level text, org_unit_id text, classes bigint,
    pupils bigint, girls bigint, minority_pupils bigint, dropouts bigint, teachers bigint,
    solid_classrooms bigint, national_standard boolean)"""


def _server():
    from bench.warehouse import from_env

    return from_env()


def _copy_file(conn, target: str, path: Path, fmt: str) -> None:
    with conn.cursor() as cur, cur.copy(f"copy {target} from stdin (format {fmt})") as cp, \
            path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            cp.write(chunk)


def measure_floor(args: dict[str, Any]) -> dict[str, Any]:
    import psycopg

    from ingest.intake.engine import ensure_tables

    server = _server()
    csv_path, text_path = Path(args["csv"]), Path(args["text"])
    out: dict[str, list[float]] = {"copy_csv_s": [], "copy_text_s": [], "copy_raw_table_s": []}
    for rep in range(args["reps"] + 1):  # the first round warms the server's caches up
        url = server.create("floor")
        try:
            with psycopg.connect(url) as conn:
                for key, fmt, path in (("copy_csv_s", "csv", csv_path),
                                       ("copy_text_s", "text", text_path)):
                    conn.execute(SHAPE.format(name=f"t_{fmt}"))
                    conn.commit()
                    start = time.perf_counter()
                    _copy_file(conn, f"t_{fmt}", path, fmt)
                    conn.commit()
                    if rep:
                        out[key].append(time.perf_counter() - start)
            ensure_tables(url)
            with psycopg.connect(url) as conn:
                conn.execute("""insert into raw_intake.file_manifest (file_id, sha256,
                    original_path, original_name, archive_path, size_bytes, arrived_at, status)
                    values (1, 'x', 'x', 'x', 'x', 0, now(), 'accepted')""")
                start = time.perf_counter()
                _copy_file(conn, "raw_intake.gd01_school", csv_path, "csv")
                conn.commit()
                if rep:
                    out["copy_raw_table_s"].append(time.perf_counter() - start)
        finally:
            server.drop(url)
    return {"samples": out, **{k: median(v) for k, v in out.items()}}


def measure_ingest(args: dict[str, Any]) -> dict[str, Any]:
    from ingest.intake import archive, zipguard
    from ingest.intake.engine import check_paths, ensure_tables, ingest_paths
    from ingest.intake.readers import read_book

    zipguard.MAX_SHEET_CELLS = 10**9
    server = _server()
    path = Path(args["path"])
    root = path.parents[1]
    data = path.read_bytes()
    samples: dict[str, list[float]] = {"ingest_s": [], "check_s": [], "read_s": [],
                                       "archive_s": []}
    profile = None
    for rep in range(args["reps"] + 1):  # round 0 warms up (imports, caches)
        tmp = Path(tempfile.mkdtemp(prefix="bench-archive-"))
        url = server.create("ingest")
        try:
            t0 = time.perf_counter()
            archive.archive_bytes(data, archive.sha256(data), path.suffix, tmp / "a0")
            t1 = time.perf_counter()
            read_book(data, path.suffix)
            t2 = time.perf_counter()
            [checked] = check_paths([path], intake_root=root, now=NOW)
            t3 = time.perf_counter()
            ensure_tables(url)  # a fresh database: DDL is not part of an ingest
            t4 = time.perf_counter()
            if rep == 1 and args.get("profile"):
                profile = cProfile.Profile()
                profile.enable()
            [loaded] = ingest_paths([path], conninfo=url, archive_dir=tmp / "a", now=NOW,
                                    intake_root=root, feedback=False)
            t5 = time.perf_counter()
            if profile is not None and rep == 1:
                profile.disable()
            assert checked.status == "accepted", checked.errors[:3]
            assert loaded.status == "accepted" and len(loaded.records) == args["rows"], \
                loaded.errors[:3]
            if rep:
                samples["archive_s"].append(t1 - t0)
                samples["read_s"].append(t2 - t1)
                samples["check_s"].append(t3 - t2)
                samples["ingest_s"].append(t5 - t4)
        finally:
            server.drop(url)
            shutil.rmtree(tmp, ignore_errors=True)
    result: dict[str, Any] = {"samples": samples, **{k: median(v) for k, v in samples.items()},
                              "cell_limit_raised": args["rows"] * 12 > 3_000_000}
    if profile is not None:
        result["profile"] = _profile_lines(profile)
    return result


def _profile_lines(profile: cProfile.Profile, top: int = 18) -> list[str]:
    buf = io.StringIO()
    stats = pstats.Stats(profile, stream=buf)
    stats.sort_stats("cumulative").print_stats(top)
    lines = [ln.rstrip() for ln in buf.getvalue().splitlines() if ln.strip()]
    start = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("ncalls")), 0)
    root = str(Path(__file__).resolve().parents[1]) + "/"
    return [ln.replace(root, "") for ln in lines[start:]]


def measure_naive(args: dict[str, Any]) -> dict[str, Any]:
    import pandas as pd
    from sqlalchemy import create_engine

    server = _server()
    path = Path(args["path"])
    samples: dict[str, list[float]] = {"naive_s": [], "naive_read_s": [], "naive_load_s": []}
    for _ in range(args["reps"]):
        url = server.create("naive")
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            t0 = time.perf_counter()
            if path.suffix == ".xlsx":
                frame = pd.read_excel(path, engine="openpyxl", skiprows=len(_block()))
            else:
                frame = pd.read_csv(path, sep=";", encoding="utf-8-sig",
                                    skiprows=len(_block()))
            t1 = time.perf_counter()
            frame.to_sql("gd01_naive", engine, if_exists="append", index=False)
            t2 = time.perf_counter()
            assert len(frame) == args["rows"], len(frame)
            samples["naive_s"].append(t2 - t0)
            samples["naive_read_s"].append(t1 - t0)
            samples["naive_load_s"].append(t2 - t1)
        finally:
            engine.dispose()
            server.drop(url)
    return {"samples": samples, **{k: median(v) for k, v in samples.items()}}


def measure_small(args: dict[str, Any]) -> dict[str, Any]:
    """One ordinary KTXH-01 file (17 indicators, cp1258 CSV), each run a new version."""
    from ingest.intake.engine import ingest_paths

    server = _server()
    src = (Path(__file__).resolve().parents[1] / "tests/fixtures/examples"
           / "KTXH-01_xa-que-luu_2024-10.csv").read_bytes()
    tmp = Path(tempfile.mkdtemp(prefix="bench-small-"))
    url = server.create("small")
    folder = tmp / "intake" / "xa-que-luu"
    folder.mkdir(parents=True)
    times = []
    try:
        for i in range(args["reps"] + 1):
            path = folder / f"KTXH-01_xa-que-luu_2024-10_v{i}.csv"
            path.write_bytes(src.replace(b"412,5", f"{400 + i},5".encode()))
            start = time.perf_counter()
            [r] = ingest_paths([path], conninfo=url, archive_dir=tmp / "archive",
                               intake_root=tmp / "intake", now=NOW)
            if i:
                times.append(time.perf_counter() - start)
            assert r.status == "accepted", r.errors
    finally:
        server.drop(url)
        shutil.rmtree(tmp, ignore_errors=True)
    return {"samples": {"small_file_s": times}, "small_file_s": median(times)}


CASES = {"floor": measure_floor, "ingest": measure_ingest, "naive": measure_naive,
         "small": measure_small}

if __name__ == "__main__":
    arguments = child_args()
    emit(CASES[arguments["case"]](arguments))
