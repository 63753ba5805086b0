"""`make bench`: measure ingest, pipeline and dashboards on this machine, side by side with
their floors and baselines; write `bench/results/latest.json` and the tables of
`docs/performance.md`.

    python -m bench.run                      # ingest 100k + 1M, district and province
    python -m bench.run --quick              # fewer repetitions, no 1M-row xlsx, district only
    python -m bench.run --national           # also the national scale (one month; long)
    python -m bench.run --scales city --only pipeline  # a province-level city, its last year
    python -m bench.run --only ingest        # one stage (ingest | freshness | pipeline |
                                             # dashboards | render)
    IOC_WAREHOUSE_URL=… python -m bench.run --only pipeline --keep   # keep each scale's database
    IOC_WAREHOUSE_URL=… python -m bench.run --only render --reuse    # measure it again, no pipeline

Uses a throwaway PostgreSQL (an embedded server under a temporary IOC_HOME, or the server of
IOC_WAREHOUSE_URL, where it creates and drops its own databases), never the platform's
warehouse. Progress and child output go to `bench/results/run.log`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import ingest as ingest_mod
from bench import pipeline as pipeline_mod
from bench.common import RESULTS, LoadSampler, machine, run_child
from bench.report import write_docs
from bench.warehouse import BenchServer, bench_server

CUT = pipeline_mod.CUT  # the pipeline's first load ends here; nights follow
TARGETS = {"xlsx_vs_naive": 5.0, "incremental_province_s": 120.0,
           "dashboard_p95_province_ms": 300.0, "drop_to_answer_p95_s": 10.0,
           "drop_to_mart_p95_s": 60.0,
           # issue 21: every chart query at national scale; dashboards as people see them
           "dashboard_p95_national_ms": 300.0, "render_warm_p95_province_s": 2.0,
           "render_cold_p95_province_s": 4.0}


def _log(message: str) -> None:
    line = f"[{datetime.now():%H:%M:%S}] {message}"
    print(line, flush=True)
    with open(RESULTS / "run.log", "a", encoding="utf-8") as fh:
        fh.write(line + "\n")


def _stage(load: LoadSampler, name: str, func, *args, **kwargs) -> dict[str, Any]:
    """Run one stage, note the load average while it ran; a failure is recorded, not fatal."""
    _log(f"{name} …")
    start = time.time()
    try:
        out = func(*args, **kwargs)
    except Exception as exc:  # a broken stage must not lose the others' figures
        _log(f"{name} FAILED: {exc}")
        out = {"error": f"{type(exc).__name__}: {exc}"[:2000],
               "traceback": traceback.format_exc()[-3000:]}
    out["wall_s"] = round(time.time() - start, 1)
    out["load_average"] = load.between(start, time.time())
    _log(f"{name} done in {out['wall_s']} s (load {out['load_average']['median']})")
    return out


# --- ingest --------------------------------------------------------------------------------------

def run_ingest(server: BenchServer, opts: argparse.Namespace, load: LoadSampler) -> dict[str, Any]:
    log = RESULTS / "run.log"
    sizes = [100_000] + ([] if opts.max_rows < 1_000_000 else [1_000_000])
    out: dict[str, Any] = {"csv": {"by_rows": {}}, "xlsx": {"by_rows": {}}}
    for rows in sizes:
        big = rows >= 1_000_000
        kinds = ("csv",) if big and opts.quick else ("csv", "xlsx")
        _log(f"ingest: preparing {rows} rows ({', '.join(kinds)}; cached after the first run)")
        files = ingest_mod.prepare(rows, kinds)
        floor = ingest_mod.prepare_floor(rows, files["csv"])
        reps = opts.reps if not big else max(2, opts.reps - 2)
        env = server.env()

        def child(args: dict[str, Any], rows: int = rows, env: dict = env) -> dict[str, Any]:
            return run_child("bench.ingest", {"rows": rows, **args}, env=env, log=log)

        copy = _stage(load, f"ingest {rows}: COPY floor", child,
                      {"case": "floor", "csv": str(floor["csv"]), "text": str(floor["text"]),
                       "reps": reps})
        for kind in kinds:
            res = _stage(load, f"ingest {rows}: {kind}", child,
                         {"case": "ingest", "path": str(files[kind]), "reps": reps,
                          "profile": True})
            naive_reps = 1 if big else min(opts.reps, 3)
            naive = _stage(load, f"ingest {rows}: naive {kind}", child,
                           {"case": "naive", "path": str(files[kind]), "reps": naive_reps})
            entry = _ingest_entry(rows, res, naive, copy if kind == "csv" else None)
            entry["file_bytes"] = files[kind].stat().st_size
            out[kind]["by_rows"][str(rows)] = entry
    for kind in ("csv", "xlsx"):  # the headline figures: the 100,000-row report
        head = out[kind]["by_rows"].get("100000", {})
        for key in ("rows_per_s", "copy_floor_rows_per_s", "naive_rows_per_s", "vs_copy_floor",
                    "vs_naive", "check_rows_per_s", "copy_raw_table_rows_per_s",
                    "copy_text_rows_per_s"):
            if key in head:
                out[kind][key] = head[key]
        out[kind]["rows"] = 100_000
    out["small_file"] = _small(server, load)
    return out


def _small(server: BenchServer, load: LoadSampler) -> dict[str, Any]:
    res = _stage(load, "ingest: one ordinary KTXH-01 file", run_child, "bench.ingest",
                 {"case": "small", "reps": 20}, env=server.env(), log=RESULTS / "run.log")
    return {"ms": round(res["small_file_s"] * 1000, 1) if "small_file_s" in res else None,
            **{k: v for k, v in res.items() if k in ("error", "load_average", "peak_rss")}}


def _rate(rows: int, seconds: float | None) -> float | None:
    return round(rows / seconds) if seconds else None


def _ingest_entry(rows: int, res: dict[str, Any], naive: dict[str, Any],
                  copy: dict[str, Any] | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "rows": rows,
        "rows_per_s": _rate(rows, res.get("ingest_s")),
        "ingest_s": res.get("ingest_s"), "check_s": res.get("check_s"),
        "read_s": res.get("read_s"), "archive_s": res.get("archive_s"),
        "check_rows_per_s": _rate(rows, res.get("check_s")),
        "naive_rows_per_s": _rate(rows, naive.get("naive_s")),
        "naive_s": naive.get("naive_s"), "naive_read_s": naive.get("naive_read_s"),
        "naive_load_s": naive.get("naive_load_s"),
        "peak_rss_mb": {"ingest": res.get("peak_rss", {}).get("self_mb"),
                        "naive": naive.get("peak_rss", {}).get("self_mb")},
        "load_average": res.get("load_average"),
        "samples": {"ingest_s": res.get("samples", {}).get("ingest_s"),
                    "naive_s": naive.get("samples", {}).get("naive_s")},
        "cell_limit_raised": res.get("cell_limit_raised"),
        "profile": res.get("profile"),
        "errors": [x["error"] for x in (res, naive, copy or {}) if "error" in x],
    }
    if entry["rows_per_s"] and entry["naive_rows_per_s"]:
        entry["vs_naive"] = round(entry["rows_per_s"] / entry["naive_rows_per_s"], 2)
    if copy:
        entry["copy_floor_rows_per_s"] = _rate(rows, copy.get("copy_csv_s"))
        entry["copy_text_rows_per_s"] = _rate(rows, copy.get("copy_text_s"))
        entry["copy_raw_table_rows_per_s"] = _rate(rows, copy.get("copy_raw_table_s"))
        entry["peak_rss_mb"]["copy"] = copy.get("peak_rss", {}).get("self_mb")
        if entry["rows_per_s"] and entry["copy_floor_rows_per_s"]:
            entry["vs_copy_floor"] = round(entry["rows_per_s"] / entry["copy_floor_rows_per_s"], 3)
        if entry["rows_per_s"] and entry["copy_raw_table_rows_per_s"]:
            entry["vs_copy_raw_table"] = round(
                entry["rows_per_s"] / entry["copy_raw_table_rows_per_s"], 3)
    return entry


# --- freshness: drop → answer → mart, with the services running ---------------------------------

def run_freshness(opts: argparse.Namespace, load: LoadSampler) -> dict[str, Any]:
    log = RESULTS / "run.log"
    world = pipeline_mod.world("district", log=log)
    home = Path(tempfile.mkdtemp(prefix="ioc-bench-freshness-"))
    try:
        return _stage(load, "freshness (district, services running)", run_child,
                      "bench.freshness", {"home": str(home), "world": str(world),
                                          "drops": opts.drops}, log=log)
    finally:
        shutil.rmtree(home, ignore_errors=True)


# --- pipeline and dashboards -------------------------------------------------------------------

# The months of each scale's world that are not the generator's whole span (2024-01 on): the
# nation one month (its units alone take a quarter of an hour to load), the city (issue 21's
# "cost of growth": a province-level city of today, ~95 communes) its last year.
WORLD_MONTHS = {"national": 1, "city": 12}


def run_scale(server: BenchServer, scale: str, opts: argparse.Namespace, load: LoadSampler,
              stages: set[str]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    log = RESULTS / "run.log"
    months = WORLD_MONTHS.get(scale)
    _log(f"{scale}: demo world (cached after the first run; province takes minutes)")
    world = pipeline_mod.world(scale, months=months, log=log)
    cut = pipeline_mod.CUT_NATIONAL if scale == "national" else CUT
    tmp = Path(tempfile.mkdtemp(prefix=f"ioc-bench-{scale}-"))
    copy = pipeline_mod.project_copy(world, tmp / "project")
    db = server.kept(f"pipe_{scale}") if opts.reuse else server.create(f"pipe_{scale}")
    env = {**server.env(), "IOC_WAREHOUSE_URL": db,  # ioc_superset lives in superset/
           "PYTHONPATH": os.pathsep.join([str(copy), str(copy / "superset")])}
    # the demo agency API only feeds the pipeline: a --reuse run measures without one
    api = None if opts.reuse else pipeline_mod.DemoApi(world, datetime.fromisoformat(cut),
                                                       log=RESULTS / "demo-api.log")
    dash = None
    try:
        if opts.reuse:  # the warehouse an earlier `--keep` run built: measure it again
            pipe = {"success": True, "reused_database": db.rpartition("/")[2]}
        else:
            pipe = _stage(load, f"pipeline {scale}", run_child, "bench.pipeline",
                          {"world": str(world), "run_dir": str(tmp / "run"), "cut": cut,
                           "db": db, "api": api.url, "nights": opts.nights},
                          env=env, cwd=copy, log=log)
            pipe = _pipeline_entry(pipe, copy)
        pipe["world"] = world_summary(world)
        if "dashboards" in stages and pipe.get("success"):
            dash = _stage(load, f"dashboards {scale}", run_child, "bench.dashboards",
                          {"db": db, "runs": opts.chart_runs, "baseline_runs": 5,
                           "timeout_ms": 60_000,
                           "baseline_timeout_ms": 60_000,
                           # the staging layer takes a minute per question beyond the district:
                           # one chart per dataset there (each recomputes its dataset's mart)
                           "baseline_sample": "all" if scale == "district" else "per_dataset",
                           "assets_root": str(pipeline_mod.PROJECT_ROOT)},
                          env=env, cwd=copy, log=log)
        if "render" in stages and pipe.get("success"):
            render = _stage(load, f"render {scale}", run_child, "bench.render",
                            {"cold_reps": opts.render_cold_reps,
                             "warm_reps": opts.render_warm_reps},
                            env={**env, "IOC_SUPERSET_VENV": str(
                                pipeline_mod.PROJECT_ROOT / ".venv-superset")},
                            cwd=copy, log=log)
            dash = {**(dash or {}), "render": render}
            for key in ("render_p95_s", "render_cold_p95_s_max", "render_warm_p95_s_max"):
                if key in render:
                    dash[key] = render[key]
    finally:
        if api is not None:
            api.stop()
        if (opts.keep or opts.reuse) and not server.embedded:
            _log(f"{scale}: database kept for profiling: {db}")
        else:
            server.drop(db)
        shutil.rmtree(tmp, ignore_errors=True)
    return pipe, dash


def _pipeline_entry(pipe: dict[str, Any], copy: Path) -> dict[str, Any]:
    if "error" in pipe:
        return pipe
    pipe["peak_rss_mb"] = {"pipeline": pipe.get("peak_rss", {}).get("self_mb"),
                           "dbt": pipe.get("subprocess_rss", {}).get("largest_child_mb")}
    pipe["slowest_dbt_models"] = _dbt_slowest(copy)
    return pipe


def world_summary(world: Path) -> dict[str, Any]:
    """Units and months of a demo world (the cost-of-growth table's axes)."""
    meta = json.loads((world / "meta.json").read_text(encoding="utf-8"))
    with open(world / "org_units.csv", encoding="utf-8") as fh:
        units = sum(1 for _ in fh) - 1
    (y0, m0), (y1, m1) = (map(int, meta["span"][k].split("-")[:2]) for k in ("start", "end"))
    months = (y1 - y0) * 12 + m1 - m0 + 1
    return {"units": units, "months": months, "communes": meta.get("communes"),
            "districts": meta.get("districts"), "intake_files": meta.get("intake_files"),
            "records": meta.get("records")}


def _dbt_slowest(copy: Path, top: int = 10) -> list[dict[str, Any]]:
    """The slowest nodes of the last dbt invocation (the last night's `dbt build`)."""
    found = sorted((copy / "dbt_project" / "target").rglob("run_results.json"),
                   key=lambda p: p.stat().st_mtime)
    for path in reversed(found):
        data = json.loads(path.read_text())
        if data.get("args", {}).get("which") != "build":
            continue
        nodes = [{"node": r["unique_id"].split(".", 2)[-1], "s": round(r["execution_time"], 2)}
                 for r in data.get("results", [])]
        return sorted(nodes, key=lambda n: -n["s"])[:top]
    return []


# --- the run -----------------------------------------------------------------------------------

def _targets(results: dict[str, Any]) -> dict[str, Any]:
    ingest = results.get("ingest", {})
    province = results.get("pipeline", {}).get("province", {})
    dash = results.get("dashboards", {}).get("province", {})
    intake = results.get("intake", {})
    measured = {
        "drop_to_answer_p95_s": intake.get("drop_to_answer_p95_s"),
        "drop_to_mart_p95_s": intake.get("drop_to_mart_p95_s"),
        "xlsx_vs_naive": ingest.get("xlsx", {}).get("vs_naive"),
        "incremental_province_s": province.get("incremental_s"),
        "dashboard_p95_province_ms": dash.get("p95_ms_max"),
        "dashboard_p95_national_ms": results.get("dashboards", {}).get("national", {}).get(
            "p95_ms_max"),
        "render_warm_p95_province_s": dash.get("render_warm_p95_s_max"),
        "render_cold_p95_province_s": dash.get("render_cold_p95_s_max"),
    }
    out = {}
    for key, target in TARGETS.items():
        value = measured[key]
        met = None if value is None else (value >= target if key in (
            "csv_vs_copy_floor", "xlsx_vs_naive") else value <= target)
        out[key] = {"target": target, "measured": value, "met": met}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="3 repetitions, no 1M-row xlsx, district scale only")
    parser.add_argument("--national", action="store_true", help="add the national scale")
    parser.add_argument("--only", help="comma-separated stages: ingest,pipeline,dashboards")
    parser.add_argument("--scales", help="comma-separated scales (default district,province)")
    parser.add_argument("--reps", type=int, default=5, help="repetitions of ingest measurements")
    parser.add_argument("--max-rows", type=int, default=1_000_000,
                        help="largest ingest size (100000 skips the 1M-row files)")
    parser.add_argument("--nights", type=int, default=3,
                        help="nightly runs after the first load (one more day each)")
    parser.add_argument("--chart-runs", type=int, default=20, help="runs of each chart query")
    parser.add_argument("--render-cold-reps", type=int, default=3,
                        help="cold openings of each dashboard per user (render stage)")
    parser.add_argument("--render-warm-reps", type=int, default=5,
                        help="warm openings of each dashboard per user (render stage)")
    parser.add_argument("--drops", type=int, default=12,
                        help="reports dropped one after the other for the freshness figures")
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--keep", action="store_true",
                        help="keep each scale's database (only with IOC_WAREHOUSE_URL)")
    parser.add_argument("--reuse", action="store_true",
                        help="skip the pipeline: measure the later stages on the database an "
                             "earlier --keep run left (only with IOC_WAREHOUSE_URL)")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    opts = parser.parse_args(argv)
    if opts.reuse and not os.environ.get("IOC_WAREHOUSE_URL"):
        parser.error("--reuse needs IOC_WAREHOUSE_URL (the server the --keep run used)")
    if opts.quick:
        opts.reps = min(opts.reps, 3)
    stages = set((opts.only or "ingest,freshness,pipeline,dashboards,render").split(","))
    scales = (opts.scales.split(",") if opts.scales else
              ["district"] if opts.quick else ["district", "province"])
    if opts.national and "national" not in scales:
        scales.append("national")
    RESULTS.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(), "options": {k: str(v) for k, v in vars(opts).items()},
        "load_average_start": os.getloadavg()[0],
    }
    with LoadSampler() as load, bench_server() as server:
        results["machine"]["postgresql"] = server.version()
        results["machine"]["warehouse"] = "embedded (temporary)" if server.embedded else \
            "IOC_WAREHOUSE_URL"
        if "ingest" in stages:
            results["ingest"] = run_ingest(server, opts, load)
        if "freshness" in stages:
            results["intake"] = run_freshness(opts, load)
        if stages & {"pipeline", "dashboards", "render"}:
            results["pipeline"], results["dashboards"] = {}, {}
            for scale in scales:
                pipe, dash = run_scale(server, scale, opts, load, stages)
                results["pipeline"][scale] = pipe
                if dash is not None:
                    results["dashboards"][scale] = dash
        results["load_average"] = load.summary()
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["targets"] = _targets(results)
    opts.out.parent.mkdir(parents=True, exist_ok=True)
    opts.out.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str))
    _log(f"results: {opts.out}")
    if not opts.no_docs:
        write_docs(results)
        _log("tables written to docs/performance.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
