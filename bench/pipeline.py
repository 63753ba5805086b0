"""Pipeline wall time: Dagster's `nightly_job` (intake of every waiting file, agency pull from
the demo API, `dbt build`, asset checks) on a demo world, first over the whole history, then
night after night with one more day of data.

The world (`ioc demo-data --scale …`) is cut at a moment T: intake files that arrived up to
T are in the intake folder and the demo API's clock stands at T for the first (full) load;
each following night adds the files that arrived the next day and moves the API clock one
day on. Province and national worlds name synthetic units, so the job runs from a copy of
the project whose `dbt_project/seeds/org_units.csv` is the world's (the intake engine and
dbt read the units from there); the copy is otherwise the project as committed.

Run by bench.run; `python -m bench.pipeline '<json args>'` (with the copy as working
directory and first on PYTHONPATH) is one pipeline run in a child process.
"""

from __future__ import annotations

import csv
import hashlib
import os
import secrets
import shutil
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import CACHE, PROJECT_ROOT, RssSampler, child_args, emit, free_port, median

# issue 20: every production package of the house (ioc_superset is superset/ioc_superset)
COPIED = ("ioc", "ingest", "orchestration", "backup", "upload", "cli", "dbt_project",
          "superset")  # superset: bench.render
SKIPPED = ("target", "logs", "dbt_packages", "__pycache__", ".ioc")
# The demo API's bearer for this run: made up per run and handed to the child processes
# through the environment (they import this module again), never written in the repository.
TOKEN = os.environ.setdefault("IOC_BENCH_API_TOKEN", secrets.token_urlsafe(16))
# Every world of the benchmark is seen from the same pinned day (reproducible runs): it ends the
# day before; the generator, the demo API, dbt's as_of_date (IOC_TODAY per night) follow it.
TODAY = "2026-12-15"
# The pipeline's first load ends here (November's reports are coming in); nights follow.
CUT = "2026-12-03T00:00:00+07:00"
# National scale: one month (November 2026, after the 2025 reform: ~3,000 communes, ~9,000
# files); its reports arrive in early December.
CUT_NATIONAL = "2026-12-02T00:00:00+07:00"


# --- parent side: the world, the project copy, the demo API ------------------------------------

def _generator_version() -> str:
    digest = hashlib.sha256(TODAY.encode())
    for path in sorted((PROJECT_ROOT / "demo").glob("*.*")):
        digest.update(path.read_bytes())
    digest.update((PROJECT_ROOT / "dbt_project" / "seeds" / "org_units.csv").read_bytes())
    return digest.hexdigest()[:10]


def world(scale: str, seed: int = 1, months: int | None = None, log: Path | None = None) -> Path:
    """The demo world of `scale`, generated once per generator version (it takes minutes)."""
    name = f"{scale}-s{seed}" + (f"-m{months}" if months else "") + f"-{_generator_version()}"
    out = CACHE / "worlds" / name
    if (out / "meta.json").exists():
        return out
    if out.exists():
        shutil.rmtree(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "cli.main", "demo-data", "--scale", scale, "--seed", str(seed),
           "--out", str(out), "--today", TODAY]
    if months:  # the last `months` full months before TODAY's month
        year, month = map(int, TODAY.split("-")[:2])
        first = year * 12 + (month - 1) - months
        cmd += ["--start", f"{first // 12}-{first % 12 + 1:02d}", "--months", str(months)]
    with open(log or os.devnull, "a") as fh:
        subprocess.run(cmd, cwd=PROJECT_ROOT, check=True, stdout=fh, stderr=fh)
    return out


def project_copy(world_dir: Path, dest: Path) -> Path:
    """The project's code and dbt project, with the world's units as the org_units seed."""
    for name in COPIED:
        shutil.copytree(PROJECT_ROOT / name, dest / name,
                        ignore=shutil.ignore_patterns(*SKIPPED))
    shutil.copy2(world_dir / "org_units.csv", dest / "dbt_project" / "seeds" / "org_units.csv")
    return dest


class DemoApi:
    """`ioc demo-api` in its own process (not in the measured one), clock at `now`."""

    def __init__(self, world_dir: Path, now: datetime, log: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log or os.devnull, "a")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "demo-api", "--data", str(world_dir),
             "--port", str(self.port), "--now", now.isoformat()],
            # the token through the environment: one that begins with "-" is an option to
            # argparse (demo/service.py)
            env={**os.environ, "IOC_AGENCY_API_TOKEN": TOKEN},
            cwd=PROJECT_ROOT, stdout=self._log, stderr=self._log)
        self._wait()

    def _wait(self, timeout_s: float = 600) -> None:
        import httpx

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("demo API exited")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise RuntimeError("demo API did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


# --- child side: the nightly job --------------------------------------------------------------

def _arrivals(world_dir: Path) -> list[tuple[str, datetime]]:
    """(path under intake/, arrival) of every file of the world, in arrival order."""
    with open(world_dir / "manifest.csv", encoding="utf-8", newline="") as fh:
        rows = [(r["path"].removeprefix("intake/"), datetime.fromisoformat(r["arrived_at"]))
                for r in csv.DictReader(fh)]
    return sorted(rows, key=lambda r: r[1])


def _deliver(world_dir: Path, intake: Path, files: list[tuple[str, datetime]]) -> None:
    """Files appear in the intake folder as staff drop them; the sidecar knows their arrival
    (the Dagster asset reads `_arrivals.csv` for history loaded in bulk)."""
    sidecar = intake / "_arrivals.csv"
    new = not sidecar.exists()
    with open(sidecar, "a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        if new:
            writer.writerow(["file", "arrived_at"])
        for rel, arrived in files:
            target = intake / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(world_dir / "intake" / rel, target)
            writer.writerow([rel, arrived.isoformat()])


def _set_clock(api_url: str, now: datetime) -> None:
    import httpx

    r = httpx.post(api_url + "/_admin/clock", json={"now": now.isoformat()},
                   headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    r.raise_for_status()


def _run_nightly(defs: Any) -> dict[str, Any]:
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        start = time.perf_counter()
        result = defs.resolve_job_def("nightly_job").execute_in_process(
            instance=instance, raise_on_error=False)
        wall = time.perf_counter() - start
        steps: dict[str, float] = {}
        begun: dict[str, float] = {}
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is None or not event.step_key:
                continue
            if event.event_type_value == "STEP_START":
                begun[event.step_key] = entry.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
                steps[event.step_key] = round(entry.timestamp - begun.get(event.step_key,
                                                                          entry.timestamp), 2)
    failures = [f"{e.step_key}: {e.event_specific_data.error.message[:300]}"
                for e in result.all_events
                if e.is_step_failure and e.event_specific_data and e.event_specific_data.error]
    return {"seconds": round(wall, 2), "success": result.success, "steps": steps,
            "failures": failures}


def _counts(url: str) -> dict[str, int]:
    import psycopg

    out = {}
    with psycopg.connect(url) as conn:
        for table in ("raw_intake.file_manifest", "raw_agency.ho_so_history",
                      "raw_agency.van_ban_history", "raw_agency.phan_anh_history",
                      "mart_hanh_chinh_cong.fct_ho_so"):
            try:
                out[table] = conn.execute(f"select count(*) from {table}").fetchone()[0]
            except psycopg.Error:
                conn.rollback()
    return out


def warehouse_size(url: str) -> dict[str, Any]:
    """The database's size on disk and each schema's (tables, indexes, TOAST), in MiB."""
    import psycopg

    with psycopg.connect(url) as conn:
        total = conn.execute("select pg_database_size(current_database())").fetchone()[0]
        rows = conn.execute(
            "select n.nspname, sum(pg_total_relation_size(c.oid))"
            " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where c.relkind in ('r', 'm', 'p')"
            " and n.nspname not in ('pg_catalog', 'information_schema')"
            " and n.nspname not like 'pg_toast%' group by 1 order by 2 desc").fetchall()
    mib = 1024 * 1024
    return {"total_mb": round(total / mib, 1),
            "schemas_mb": {name: round(float(size) / mib, 1) for name, size in rows}}


def run(args: dict[str, Any]) -> dict[str, Any]:
    world_dir, run_dir = Path(args["world"]), Path(args["run_dir"])
    cut = datetime.fromisoformat(args["cut"])
    day = timedelta(days=1)
    intake = run_dir / "intake"
    intake.mkdir(parents=True, exist_ok=True)
    (run_dir / "dagster").mkdir(exist_ok=True)
    (run_dir / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    os.environ.update({
        "IOC_WAREHOUSE_URL": args["db"], "IOC_INTAKE_DIR": str(intake),
        "IOC_ARCHIVE_DIR": str(run_dir / "archive"), "IOC_AGENCY_API_URL": args["api"],
        "IOC_AGENCY_API_TOKEN": TOKEN, "DAGSTER_HOME": str(run_dir / "dagster"),
    })
    from ioc.dbt_runner import run_dbt

    run_dbt(["parse", "--quiet"])  # the manifest dagster-dbt loads (not part of a night)
    from orchestration.definitions import defs

    files = _arrivals(world_dir)
    _deliver(world_dir, intake, [f for f in files if f[1] <= cut])
    _set_clock(args["api"], cut)
    os.environ["IOC_TODAY"] = cut.date().isoformat()  # the night's "today" for dbt and checks
    full = _run_nightly(defs)
    full["files"] = sum(1 for f in files if f[1] <= cut)
    full["counts"] = _counts(args["db"])
    full["warehouse"] = warehouse_size(args["db"])
    full["load_average"] = round(os.getloadavg()[0], 2)
    nights = []
    for night in range(1, args["nights"] + 1):
        since, until = cut + (night - 1) * day, cut + night * day
        new = [f for f in files if since < f[1] <= until]
        _deliver(world_dir, intake, new)
        _set_clock(args["api"], until)
        os.environ["IOC_TODAY"] = until.date().isoformat()
        result = _run_nightly(defs)
        result["files"] = len(new)
        result["load_average"] = round(os.getloadavg()[0], 2)
        nights.append(result)
    return {
        "full_s": full["seconds"], "full": full, "nights": nights,
        "incremental_s": median([n["seconds"] for n in nights]),
        "success": full["success"] and all(n["success"] for n in nights),
        "counts": _counts(args["db"]),
        "warehouse": warehouse_size(args["db"]),  # after the last night
    }


if __name__ == "__main__":
    with RssSampler() as rss:
        out = run(child_args())
    emit({**out, "subprocess_rss": rss.result()})
