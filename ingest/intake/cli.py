"""`ioc check` and `ioc ingest`: the intake engine from the command line.

Exit status: 0 when every file is accepted (or a duplicate), 1 when any is refused, 2 on a
usage error (no such path, nothing to read), 3 when the archive cannot be written (disk full,
read-only): the run stops there, files before it are loaded, none is half-loaded.
`--json` prints one JSON array of results.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path


def register(sub) -> None:
    check = sub.add_parser("check", help="kiểm tra tệp báo cáo mà không nạp (validate only)")
    _common(check)
    check.set_defaults(func=_check)
    ingest = sub.add_parser("ingest", help="lưu trữ, kiểm tra và nạp tệp báo cáo vào kho")
    _common(ingest)
    ingest.add_argument("--arrived-at", help="arrival time for every file (ISO 8601)")
    ingest.add_argument("--arrivals", help="CSV with columns file,arrived_at (bulk history)")
    ingest.add_argument("--no-feedback", action="store_true",
                        help="do not write _phan_hoi/ answers beside the files")
    ingest.set_defaults(func=_ingest)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="a file, or a folder laid out as intake/<org_unit_id>/...")
    parser.add_argument("--json", action="store_true", help="print one JSON array")
    parser.add_argument("--intake-root", help="the intake root (default: inferred)")
    parser.add_argument("--now", help="clock for 'has the period ended' (ISO 8601; tests, demos)")


def _usage(args: argparse.Namespace) -> tuple[list[Path], datetime | None] | None:
    paths = [Path(p) for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        print(f"ioc {args.command}: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return None
    now = None
    if args.now:
        try:
            now = datetime.fromisoformat(args.now)
        except ValueError:
            print(f"ioc {args.command}: --now is not an ISO 8601 time: {args.now}", file=sys.stderr)
            return None
    return paths, now


def _report(results, as_json: bool) -> int:
    if as_json:
        print(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=1,
                         default=str))
    else:
        for r in results:
            mark = {"accepted": "OK ", "duplicate": "DUP", "rejected": "ERR"}[r.status]
            print(f"{mark} {r.status:9} {r.form or '?':8} {r.org_unit_id or '?':16} "
                  f"{r.period or '?':9} {r.file}")
            for p in r.errors:
                parts = (p.get("sheet"), p.get("row") and f"dòng {p['row']}", p.get("column"))
                where = ", ".join(str(x) for x in parts if x)
                print(f"      lỗi: {where + ': ' if where else ''}{p['message']}")
            for p in r.warnings:
                print(f"      lưu ý: {p['message']}")
    return 1 if any(r.status == "rejected" for r in results) else 0


def _check(args: argparse.Namespace) -> int:
    from ingest.intake.engine import check_paths

    parsed = _usage(args)
    if parsed is None:
        return 2
    paths, now = parsed
    results = check_paths(paths, intake_root=args.intake_root, now=now)
    if not results:
        print("ioc check: no files found", file=sys.stderr)
        return 2
    return _report(results, args.json)


def _ingest(args: argparse.Namespace) -> int:
    from ingest.intake.engine import default_archive_dir, ingest_paths, sidecar_arrivals
    from ioc import warehouse

    parsed = _usage(args)
    if parsed is None:
        return 2
    paths, now = parsed
    arrived_at = None
    try:
        if args.arrived_at:
            arrived_at = datetime.fromisoformat(args.arrived_at)
        elif args.arrivals:
            arrived_at = sidecar_arrivals(args.arrivals)
    except (ValueError, OSError, KeyError) as exc:
        print(f"ioc ingest: bad arrival times: {exc}", file=sys.stderr)
        return 2
    try:
        results = ingest_paths(paths, conninfo=warehouse.url(),
                               archive_dir=default_archive_dir(), intake_root=args.intake_root,
                               now=now, arrived_at=arrived_at, feedback=not args.no_feedback)
    except OSError as exc:  # the archive's disk full or read-only: files before it are loaded
        print(f"ioc ingest: stopped, cannot write {exc.filename or 'the archive'}: "
              f"{exc.strerror or exc}. Files already loaded stay loaded; the others were not "
              "touched and will be read again by the next run.", file=sys.stderr)
        return 3
    if not results:
        print("ioc ingest: no files found", file=sys.stderr)
        return 2
    return _report(results, args.json)
