"""Benchmark of the intake engine on a large file (NOT run by the tests).

KTXH-01 and YT-01 files have ~17 rows, so the large case is GD-01 (one row per school) with
100,000 synthetic schools, as .csv and as .xlsx. For each file it measures:
- `check`  : `check_paths` (read + every check, no database),
- `ingest` : `ingest_paths` (archive + read + checks + one transaction with COPY),
- `copy`   : a bare COPY of the same rows (text format, prebuilt buffer) into a table of the
             same shape: the floor the ingest is compared with.
Usage: `.venv/bin/python bench/bench_intake.py [--rows 100000] [--url postgresql://...]`
(default URL: the configured warehouse, which must be running: `ioc warehouse start`).
Results are printed and written to bench/results/intake.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import xlsxwriter
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.intake.engine import check_paths, ingest_paths
from ingest.intake.readers import read_book

HEADER = ["Mã trường", "Tên trường", "Cấp học", "Xã, thị trấn", "Số lớp", "Số học sinh",
          "Trong đó nữ", "Học sinh dân tộc thiểu số", "Học sinh bỏ học trong kỳ",
          "Số giáo viên", "Số phòng học kiên cố", "Đạt chuẩn quốc gia"]
COMMUNES = ["Hiệp Thuận", "xã Hiệp Hòa", "TT Tân Bình", "Quế Thọ", "Bình Lâm", "Sông Trà",
            "Phước Trà", "Phước Gia", "Quế Lưu", "Thăng Phước", "Bình Sơn"]
LEVELS = ["Mầm non", "Tiểu học", "THCS"]
NOW = datetime(2025, 3, 1, tzinfo=UTC)


def schools(n: int, seed: int = 7) -> list[list]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        pupils = rng.randint(50, 900)
        rows.append([f"S{i:06d}", f"Trường số {i}", LEVELS[i % 3], COMMUNES[i % len(COMMUNES)],
                     rng.randint(3, 30), pupils, pupils // 2, rng.randint(0, pupils // 3),
                     rng.randint(0, 5), rng.randint(5, 60), rng.randint(0, 30),
                     "Có" if i % 4 else "Không"])
    return rows


def write_csv(path: Path, rows: list[list]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(HEADER)
        w.writerows(rows)


def write_xlsx(path: Path, rows: list[list]) -> None:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("Trường học")
    ws.write_row(0, 0, ["PHÒNG GIÁO DỤC VÀ ĐÀO TẠO"])
    ws.write_row(2, 0, ["Báo cáo thống kê trường học học kỳ I năm học 2024-2025"])
    ws.write_row(3, 0, ["Biểu số: GD-01"])
    ws.write_row(5, 0, HEADER)
    for r, row in enumerate(rows, start=6):
        ws.write_row(r, 0, row)
    wb.close()


def bare_copy(url: str, rows: list[list]) -> float:
    """Seconds to COPY the same rows (as text) into an unindexed table of the same shape."""
    lines = []
    for fid_row, r in enumerate(rows):
        lines.append("\t".join(["1", "x", str(fid_row)] + [str(v) for v in r[:4]] +
                               [str(v) for v in r[4:11]] + ["t" if r[11] == "Có" else "f"]))
    payload = ("\n".join(lines) + "\n").encode()
    with psycopg.connect(url) as conn:
        conn.execute("create temp table bare (file_id bigint, source_sheet text, source_row int,"
                     " school_code text, school_name text, level text, org_unit_id text,"
                     " classes bigint, pupils bigint, girls bigint, minority_pupils bigint,"
                     " dropouts bigint, teachers bigint, solid_classrooms bigint,"
                     " national_standard boolean)")
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy("copy bare from stdin") as cp:
            for i in range(0, len(payload), 1 << 20):
                cp.write(payload[i:i + (1 << 20)])
        conn.commit()
        return time.perf_counter() - start


def small_file_latency(url: str, tmp: Path, runs: int = 20) -> float:
    """Median milliseconds to ingest one ordinary KTXH-01 file (17 indicators, cp1258 CSV),
    each run a new version of the same report (archive + checks + transaction + answer)."""
    example = Path(__file__).resolve().parents[1] / "tests/fixtures/examples"
    src = (example / "KTXH-01_xa-que-luu_2024-10.csv").read_bytes()
    folder = tmp / "intake" / "xa-que-luu"
    folder.mkdir(parents=True, exist_ok=True)
    times = []
    for i in range(runs):
        path = folder / f"KTXH-01_xa-que-luu_2024-10_v{i}.csv"
        path.write_bytes(src.replace(b"412,5", f"{400 + i},5".encode()))
        t = time.perf_counter()
        [r] = ingest_paths([path], conninfo=url, archive_dir=tmp / "archive",
                           intake_root=tmp / "intake", now=NOW)
        times.append(time.perf_counter() - t)
        assert r.status == "accepted", r.errors
    times.sort()
    return round(1000 * times[len(times) // 2], 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--url", help="admin URL of the server (default: configured warehouse)")
    args = parser.parse_args()
    if args.url:
        base_url = args.url
    else:
        from ioc import warehouse

        base_url = warehouse.url()
    rows = schools(args.rows)
    results = {"rows": args.rows, "form": "GD-01 (synthetic schools)", "files": {},
               "load_average": os.getloadavg()[0]}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        intake = tmp / "intake" / "phong-gddt"
        intake.mkdir(parents=True)
        files = {"csv": intake / "GD-01_phong-gddt_2024-HK1.csv",
                 "xlsx": intake / "GD-01_phong-gddt_2024-HK1.xlsx"}
        write_csv(files["csv"], rows)
        write_xlsx(files["xlsx"], rows)
        db = f"bench_{uuid.uuid4().hex[:8]}"
        parts = base_url.rsplit("/", 1)
        with psycopg.connect(parts[0] + "/postgres", autocommit=True) as conn:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(db)))
        url = f"{parts[0]}/{db}"
        try:
            copy_s = bare_copy(url, rows)
            for kind, path in files.items():
                data = path.read_bytes()
                t_read = time.perf_counter()
                read_book(data, path.suffix)
                read_s = time.perf_counter() - t_read
                t0, c0 = time.perf_counter(), time.process_time()
                [checked] = check_paths([path], intake_root=tmp / "intake", now=NOW)
                t1, c1 = time.perf_counter(), time.process_time()
                [loaded] = ingest_paths([path], conninfo=url, archive_dir=tmp / "archive",
                                        intake_root=tmp / "intake", now=NOW, feedback=False)
                t2, c2 = time.perf_counter(), time.process_time()
                assert checked.status == "accepted", checked.errors[:3]
                assert loaded.status == "accepted" and len(loaded.records) == args.rows
                results["files"][kind] = {
                    "bytes": path.stat().st_size, "read_s": round(read_s, 3),
                    "check_s": round(t1 - t0, 3), "ingest_s": round(t2 - t1, 3),
                    "check_cpu_s": round(c1 - c0, 3), "ingest_cpu_s": round(c2 - c1, 3),
                    "ingest_rows_per_s": round(args.rows / (t2 - t1)),
                    "vs_bare_copy": round(copy_s / (t2 - t1), 3),
                }
            results["small_file_ms"] = small_file_latency(url, tmp)
            results["bare_copy_s"] = round(copy_s, 3)
            results["bare_copy_rows_per_s"] = round(args.rows / copy_s)
        finally:
            with psycopg.connect(parts[0] + "/postgres", autocommit=True) as conn:
                conn.execute(sql.SQL("drop database if exists {} with (force)").format(
                    sql.Identifier(db)))
    print(json.dumps(results, indent=2, ensure_ascii=False))
    out = Path(__file__).with_name("results")
    out.mkdir(exist_ok=True)
    (out / "intake.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
