"""`ioc demo-data` and `ioc demo-api`: the demo world and the demo agency API from the shell."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ioc.settings import add_today_option


def register(sub) -> None:
    gen = sub.add_parser(
        "demo-data", help="write a seeded demo world: intake files, manifest, agency records",
        description="Write a deterministic demo world into DIR (see docs/demo-data.md).")
    gen.add_argument("--scale", choices=["district", "province", "city", "national"],
                     default="district")
    gen.add_argument("--out", required=True, type=Path, help="folder to write (DIR)")
    gen.add_argument("--seed", type=int, default=1)
    gen.add_argument("--months", type=int, help="number of months from --start (default 2024-01)")
    gen.add_argument("--start", help="first month YYYY-MM (default 2024-01)")
    gen.add_argument("--end", help="last month YYYY-MM (default: the month of yesterday)")
    add_today_option(gen, "the world ends the day before")
    what = gen.add_mutually_exclusive_group()
    what.add_argument("--no-intake", "--agency-only", dest="intake", action="store_false",
                      help="agency records only (no intake files, no manifest)")
    what.add_argument("--no-agency", "--intake-only", dest="agency", action="store_false",
                      help="intake files and manifest only")
    gen.add_argument("--jobs", type=int, help="worker processes (default: CPU count)")
    gen.add_argument("--overwrite", action="store_true", help="replace a demo world in DIR")
    gen.set_defaults(func=_demo_data)

    api = sub.add_parser(
        "demo-api", help="serve a demo world's agency records as the agency API",
        description="Serve ioc/reference/agency-api.yaml from DIR/agency (see docs/demo-data.md).")
    api.add_argument("--data", required=True, type=Path, help="a folder written by demo-data")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8765)
    api.add_argument("--token", default=os.environ.get("IOC_AGENCY_API_TOKEN") or "demo-token",
                     help="bearer token (default: $IOC_AGENCY_API_TOKEN or 'demo-token')")
    api.add_argument("--rate-limit", type=float, default=_env_float("IOC_DEMO_API_RATE_LIMIT"),
                     help="requests per second before 429 (default: unlimited)")
    api.add_argument("--burst", type=int, default=10)
    api.add_argument("--error-rate", type=float,
                     default=_env_float("IOC_DEMO_API_ERROR_RATE") or 0.0,
                     help="share of requests answered 500/502/503")
    api.add_argument("--slow-rate", type=float, default=_env_float("IOC_DEMO_API_SLOW_RATE") or 0.0,
                     help="share of requests answered only after --slow-seconds")
    api.add_argument("--slow-seconds", type=float, default=30.0)
    api.add_argument("--retry-after", type=int, default=1, help="Retry-After of forced 429s")
    api.add_argument("--now", help="start the clock here (ISO 8601; default: the start of "
                     "--today / IOC_TODAY when set, else the end of the world)")
    add_today_option(api, "the clock starts at its first instant")
    api.add_argument("--advance-per-request", type=float, default=0.0,
                     help="seconds the clock moves after each data request")
    api.add_argument("--speed", type=float, default=0.0,
                     help="clock seconds per wall-clock second (e.g. 3600)")
    api.add_argument("--seed", type=int, default=0, help="seed of the random faults")
    api.set_defaults(func=_demo_api)

    d = sub.add_parser("demo-setup", help="put the demo world into the intake folder")
    d.add_argument("--force", action="store_true",
                   help="generate the world again and copy every file into the intake folder")
    add_today_option(d, "the demo world ends the day before")
    d.set_defaults(func=_demo_setup)


def _demo_setup(args) -> int:
    from demo import setup  # imported when run, so that `ioc warehouse` stays fast

    return setup.run(args)


def _env_float(name: str) -> float | None:
    value = os.environ.get(name)
    return float(value) if value else None


def _demo_data(args: argparse.Namespace) -> int:
    from demo.generate import generate, parse_span
    from ioc.settings import load

    today = args.today or load().today
    try:
        span = parse_span(args.start, args.end, args.months, today)
        summary = generate(args.out, scale=args.scale, seed=args.seed, span=span, today=today,
                           intake=args.intake, agency=args.agency, jobs=args.jobs,
                           overwrite=args.overwrite, progress=print)
    except (ValueError, FileExistsError) as exc:
        print(f"demo-data: {exc}", file=sys.stderr)
        return 2
    print("\n".join(summary.lines()))
    return 0


def _demo_api(args: argparse.Namespace) -> int:
    from datetime import datetime, time

    from demo.api_server import ServerConfig, serve
    from ioc.settings import LOCAL_TZ

    if not (args.data / "agency").is_dir():
        print(f"demo-api: {args.data} has no agency/ folder; run `ioc demo-data` first",
              file=sys.stderr)
        return 2
    from ioc.settings import load

    settings = load()
    if args.now:
        now = datetime.fromisoformat(args.now)
    elif args.today or settings.today_pinned:
        now = datetime.combine(args.today or settings.today, time(0), LOCAL_TZ)
    else:
        now = None  # the end of the world (meta.json)
    config = ServerConfig(
        args.data, token=args.token, rate_limit=args.rate_limit, burst=args.burst,
        error_rate=args.error_rate, slow_rate=args.slow_rate, slow_seconds=args.slow_seconds,
        retry_after=args.retry_after, now=now, advance_per_request=args.advance_per_request,
        speed=args.speed, seed=args.seed)
    print(f"demo agency API on http://{args.host}:{args.port} (data {args.data})")
    serve(config, host=args.host, port=args.port)
    return 0
