"""Freshness as people feel it: from a report dropped into an intake folder to its answer in
`_phan_hoi/`, and to the mart row it changes — with the services running as `ioc up` starts
them (the resident intake watcher, Dagster's webserver, daemon and sensors) on the district
demo world — its reports and its agency records, served by the demo agency API — the
warehouse built once by `ioc pipeline` first.

Each drop is a correction of the latest KTXH-01 of one commune in the world, written as a
`.part` file and renamed into the unit's folder (the moment of the rename is the drop), with
a new KT01 value; the next drop waits until the mart shows the previous one, so every figure
is one report's own wait. Superset is not started (it plays no part in this path).

Run by bench.run; `python -m bench.freshness '<json args>'` is the measurement in a child.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import child_args, emit, free_port, percentile

HEADER = ["STT", "Mã chỉ tiêu", "Chỉ tiêu", "Đơn vị tính", "Kế hoạch năm", "Thực hiện tháng",
          "Lũy kế từ đầu năm", "Ghi chú"]


def latest_report(world: Path) -> tuple[str, str]:
    """(unit, period) of the newest accepted KTXH-01 in the world."""
    with open(world / "manifest.csv", encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh)
                if r["form_code"] == "KTXH-01" and r["expected_status"] == "accepted"]
    row = max(rows, key=lambda r: (r["period"], r["arrived_at"]))
    return row["org_unit_id"], row["period"]


def report_csv(kt01: Decimal) -> str:
    """A KTXH-01 as the CSV variant: every indicator at the bottom of its range (or 1), which
    keeps the rules between indicators, and KT01 = `kt01`."""
    from ingest.intake.reference import indicators_of

    lines = [";".join(HEADER)]
    for n, (code, ind) in enumerate(indicators_of("KTXH-01").items(), 1):
        value = kt01 if code == "KT01" else max(ind.min or Decimal(0), Decimal(1))
        text = str(value).replace(".", ",")
        lines.append(";".join([str(n), code, ind.name, ind.unit, "", text, "", ""]))
    return "\r\n".join(lines) + "\r\n"


def _mart_values(url: str, unit: str, period: str) -> set[Decimal]:
    import psycopg

    with psycopg.connect(url) as conn:
        try:
            return {r[0] for r in conn.execute(
                "select value from mart_kinh_te_xa_hoi.fct_chi_tieu_thang where org_unit_id = %s "
                "and period_month = %s::date and indicator_code = 'KT01' "
                "and structure_view = 'as_reported'",
                (unit, f"{period}-01")).fetchall()}
        except psycopg.errors.UndefinedTable:
            return set()


def _wait(check, timeout_s: float) -> float | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(0.1)
    return None


def _location_loaded(port: int, timeout_s: float = 600) -> None:
    import httpx

    query = ("{ workspaceOrError { ... on Workspace { locationEntries { loadStatus "
             "locationOrLoadError { __typename } } } } }")
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            data = httpx.post(f"http://127.0.0.1:{port}/graphql", json={"query": query},
                              timeout=10).json()["data"]
            [entry] = data["workspaceOrError"]["locationEntries"]
            if (entry["loadStatus"] == "LOADED"
                    and entry["locationOrLoadError"]["__typename"] == "RepositoryLocation"):
                return
        except (httpx.HTTPError, KeyError, TypeError, ValueError):
            pass
        time.sleep(1)
    raise RuntimeError("Dagster's code location did not load")


def measure(args: dict[str, Any]) -> dict[str, Any]:
    home, world, drops = Path(args["home"]), Path(args["world"]), int(args["drops"])
    os.environ.update({"IOC_HOME": str(home), "IOC_PG_PORT": str(free_port()),
                       "IOC_DAGSTER_PORT": str(free_port())})
    for var in ("IOC_WAREHOUSE_URL", "IOC_AGENCY_API_URL", "IOC_INTAKE_DIR", "IOC_ARCHIVE_DIR"):
        os.environ.pop(var, None)
    from bench.pipeline import TOKEN, DemoApi
    from cli import services
    from ioc import settings as settings_mod
    from ioc import warehouse
    from ioc.settings import tool

    cfg = settings_mod.load()
    shutil.copytree(world / "intake", cfg.intake_dir)
    api = DemoApi(world, datetime.now(UTC), log=home / "demo-api.log")
    os.environ.update({"IOC_AGENCY_API_URL": api.url, "IOC_AGENCY_API_TOKEN": TOKEN})
    t = time.monotonic()
    try:
        subprocess.run([str(tool("ioc")), "pipeline"], check=True, stdout=subprocess.DEVNULL)
    except BaseException:
        api.stop()
        raise
    first_load_s = time.monotonic() - t
    url = warehouse.url(cfg)
    unit, period = latest_report(world)
    folder = cfg.intake_dir / unit
    answers, marts = [], []
    try:
        services.start_dagster(cfg)
        services.start_watcher(cfg)
        _location_loaded(cfg.dagster_port)
        time.sleep(10)  # the sensors' first ticks (cursor set up) before the first drop
        for i in range(drops):
            kt01 = Decimal(100) + Decimal(i) + Decimal("0.25")
            name = f"sua-lan-{i:02d}_KTXH-01_{unit}_{period}.csv"
            part = folder / f"{name}.part"
            part.write_text(report_csv(kt01), encoding="utf-8")
            os.replace(part, folder / name)
            dropped = time.monotonic()
            answer = folder / "_phan_hoi" / f"{name}.da-nhan.txt"
            answered = _wait(answer.exists, 300)
            in_mart = _wait(lambda v=kt01: v in _mart_values(url, unit, period), 900)
            answers.append(round(answered - dropped, 2) if answered else None)
            marts.append(round(in_mart - dropped, 2) if in_mart else None)
    finally:
        services.down(cfg)
        api.stop()
    done_a = [a for a in answers if a is not None]
    done_m = [m for m in marts if m is not None]
    return {
        "report": f"KTXH-01 {unit} {period}", "drops": drops,
        "first_load_s": round(first_load_s, 1),
        "drop_to_answer_s": answers, "drop_to_mart_s": marts,
        "drop_to_answer_p95_s": round(percentile(done_a, 95), 2) if done_a else None,
        "drop_to_mart_p95_s": round(percentile(done_m, 95), 2) if done_m else None,
        "unanswered": answers.count(None), "not_in_mart": marts.count(None),
    }


if __name__ == "__main__":
    emit(measure(child_args()))
