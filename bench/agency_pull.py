"""Measure this connector against dlt's `rest_api` source on the demo agency API.

    python -m bench.agency_pull --data DIR [--resource van-ban] [--warehouse URL]

DIR is a demo world (`ioc demo-data --agency-only --out DIR`). The demo API runs in this
process (as in the tests), so both loaders pay for the server's work alike. For each loader:
a first full load, a second run with nothing new, and a load while records change between
page requests (the demo clock moves `--advance` seconds per request), after which the
warehouse's keys and cursors are compared with what the server holds. Figures for
docs/agency-connectors.md; not part of the test suite.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

import httpx
import psycopg

KEYS = {"ho-so": ("maHoSo", "ma_ho_so"), "van-ban": ("id", "id"),
        "phan-anh": ("maPhanAnh", "ma_phan_anh")}


def server_truth(url: str, token: str, resource: str) -> dict[str, str]:
    """Every record the server shows now: key -> capNhatLuc (paged by keyset, clock held)."""
    from ingest.agency.mapping import parse_time

    api_key = KEYS[resource][0]
    out: dict[str, str] = {}
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                      timeout=60) as c:
        page = 1
        while True:
            body = c.get(f"/api/v1/{resource}", params={"trang": page, "soBanGhi": 1000}).json()
            for r in body["duLieu"]:
                out[r[api_key]] = parse_time(r["capNhatLuc"]).isoformat()
            if page >= body["tongSoTrang"]:
                return out
            page += 1


def warehouse_state(conninfo: str, schema: str, table: str, key: str) -> dict[str, str]:
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(f"select {key}, cap_nhat_luc from {schema}.{table}").fetchall()
    return {k: (v.isoformat() if hasattr(v, "isoformat") else str(v)) for k, v in rows}


def compare(truth: dict[str, str], seen: dict[str, str]) -> dict[str, int]:
    from ingest.agency.mapping import parse_time

    horizon = max((parse_time(v) for v in seen.values()), default=None)
    wrong = [k for k, t in truth.items() if k not in seen or parse_time(seen[k]) < parse_time(t)]
    # only versions newer than everything the loader saw can be missing without a fault
    lost = [k for k in wrong if horizon is not None and parse_time(truth[k]) <= horizon]
    return {"server_keys": len(truth), "not_current": len(wrong), "lost": len(lost),
            "extra": len(set(seen) - set(truth))}


# ----------------------------------------------------------------------------- ours
def run_ours(conninfo: str, url: str, token: str, resource: str, page_size: int
             ) -> tuple[float, int]:
    from ingest.agency.config import load
    from ingest.agency.pull import pull

    t0 = time.perf_counter()
    config = load(url, token, page_size=page_size)
    stats = pull([resource], conninfo=conninfo, config=config)[resource]
    return time.perf_counter() - t0, stats.fetched


def reset_ours(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("drop schema if exists raw_agency cascade")
        conn.execute("drop schema if exists restricted cascade")


# ----------------------------------------------------------------------------- dlt
def run_dlt(conninfo: str, url: str, token: str, resource: str, pipelines_dir: str,
            page_size: int, strategy: str = "delete-insert") -> tuple[float, int]:
    import dlt
    from dlt.sources.rest_api import rest_api_source

    api_key = KEYS[resource][0]
    source = rest_api_source({
        "client": {"base_url": url, "auth": {"type": "bearer", "token": token}},
        "resources": [{
            "name": resource.replace("-", "_"),
            "endpoint": {
                "path": f"api/v1/{resource}",
                "params": {
                    "soBanGhi": page_size,
                    "capNhatTu": {"type": "incremental", "cursor_path": "capNhatLuc",
                                  "initial_value": "2000-01-01T00:00:00+07:00", "lag": 600},
                },
                "data_selector": "duLieu",
                "paginator": {"type": "page_number", "page_param": "trang", "base_page": 1,
                              "total_path": "tongSoTrang"},
            },
            "primary_key": api_key,
            "write_disposition": {"disposition": "merge", "strategy": strategy},
            # the newest version of a key wins within one load (delete-insert only)
            "columns": {"capNhatLuc": {"dedup_sort": "desc"}},
        }],
    })
    pipeline = dlt.pipeline("bench_agency_dlt", pipelines_dir=pipelines_dir,
                            destination=dlt.destinations.postgres(conninfo),
                            dataset_name="bench_dlt", progress=None)
    t0 = time.perf_counter()
    info = pipeline.run(source)
    seconds = time.perf_counter() - t0
    info.raise_on_failed_jobs()
    return seconds, _dlt_rows(pipeline)


def _dlt_rows(pipeline) -> int:
    trace = pipeline.last_trace
    for step in trace.steps:
        if step.step == "normalize" and step.step_info is not None:
            return sum(step.step_info.row_counts.values())
    return 0


def reset_dlt(conninfo: str, pipelines_dir: str) -> None:
    import shutil

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("drop schema if exists bench_dlt cascade")
        conn.execute("drop schema if exists bench_dlt_staging cascade")
    shutil.rmtree(pipelines_dir, ignore_errors=True)


# ----------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    from demo.api_server import serve_in_thread
    from ioc import settings, warehouse

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path)
    p.add_argument("--resource", default="van-ban", choices=list(KEYS))
    p.add_argument("--warehouse", help="libpq URL (default: the configured warehouse)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--advance", type=float, default=3600.0,
                   help="demo clock seconds per request during the 'changing' load")
    p.add_argument("--loaded-at", default="2025-04-01T00:00:00+07:00")
    p.add_argument("--changing-start", default="2025-04-30T00:00:00+07:00")
    p.add_argument("--page-size", type=int, default=1000)
    p.add_argument("--dlt-strategy", default="delete-insert", choices=["delete-insert", "upsert"])
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    conninfo = args.warehouse or warehouse.url(settings.load())
    token = "bench"
    table, key = args.resource.replace("-", "_"), KEYS[args.resource][1]
    pipelines_dir = tempfile.mkdtemp(prefix="bench-dlt-")
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")
    results: dict[str, dict[str, list[float]]] = {"ours": {}, "dlt": {}}
    with serve_in_thread(args.data, token=token) as server:
        admin = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"})
        for name, run, reset in (
            ("ours", lambda: run_ours(conninfo, server.url, token, args.resource, args.page_size),
             lambda: reset_ours(conninfo)),
            ("dlt", lambda: run_dlt(conninfo, server.url, token, args.resource, pipelines_dir,
                                 args.page_size, args.dlt_strategy),
             lambda: reset_dlt(conninfo, pipelines_dir)),
        ):
            for _ in range(args.repeat):
                admin.post("/_admin/reset")
                reset()
                seconds, rows = run()
                results[name].setdefault("full_s", []).append(seconds)
                results[name].setdefault("rows", []).append(rows)
                seconds, rows = run()
                results[name].setdefault("nochange_s", []).append(seconds)
            # records change while paging: a full load at --loaded-at, then an incremental
            # one over the weeks since, while the clock runs --advance s per request
            admin.post("/_admin/reset")
            reset()
            admin.post("/_admin/clock", json={"now": args.loaded_at})
            run()
            admin.post("/_admin/clock", json={"now": args.changing_start})
            admin.post("/_admin/faults", json={"advance_per_request": args.advance})
            try:
                run()
            except Exception as exc:  # dlt's upsert strategy fails here (docs)
                print(f"{name}: load while records change FAILED: "
                      f"{str(exc).strip().splitlines()[0][:200]}")
                admin.post("/_admin/faults", json={"advance_per_request": 0})
                continue
            admin.post("/_admin/faults", json={"advance_per_request": 0})
            truth = server_truth(server.url, token, args.resource)
            schema = "raw_agency" if name == "ours" else "bench_dlt"
            seen = warehouse_state(conninfo, schema, table, key)
            # a second run catches up what changed after the first one's last request
            run()
            after = warehouse_state(conninfo, schema, table, key)
            results[name]["changing"] = [compare(truth, seen)]
            results[name]["changing_then_rerun"] = [compare(truth, after)]
        admin.close()
    for name, r in results.items():
        if "changing" not in r:
            r["changing"] = r["changing_then_rerun"] = [{"failed": True}]
        full, rows = statistics.median(r["full_s"]), statistics.median(r["rows"])
        print(f"{name}: full load {full:.2f} s for {rows:.0f} rows ({rows / full:,.0f} rows/s); "
              f"no-change run {statistics.median(r['nochange_s']):.2f} s")
        print(f"  records changing while paging: {r['changing'][0]}; "
              f"after one more run: {r['changing_then_rerun'][0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
