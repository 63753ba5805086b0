"""Dashboard time as people see it: every dashboard opened in headless Chromium until every
chart has rendered, as a leader and as a commune user, cold and warm.

Superset is bootstrapped (`tests.support.superset_server.running_superset`, as the test suite
does) against
the warehouse the pipeline stage built, from the project copy the pipeline ran from, whose
`superset/policies/rls.yaml` is regenerated from the world's units (a province world's
communes get their roles and row security). Chromium is Debian's (`/usr/bin/chromium`, the
one tests/superset/test_browser.py drives); waiting follows that test: the dashboard header,
then every chart of the dashboard shows its output (a canvas, table rows or a big number).

- cold: Superset's chart-data cache emptied (the files under `$IOC_HOME/superset/cache/data`)
  and a new browser context (no HTTP cache), logged in beforehand (login is not counted);
  PostgreSQL's own buffers stay as they are;
- warm: the same dashboard opened again in the same context (Superset's cache and the
  browser's both hold it).

Each timing is from `page.goto` until the last chart shows its output, with the 1-minute load
average beside it (the machine is shared: figures taken under load are upper bounds).

Run by bench.run; `python -m bench.render '<json args>'` (working directory and PYTHONPATH:
the project copy the pipeline ran from) measures one warehouse.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import child_args, emit, percentile

CHROMIUM = os.environ.get("IOC_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1600, "height": 1300}
TIMEOUT_MS = 120_000
CHART_OUTPUT = "canvas, table tbody tr, .superset-legacy-chart-big-number"
CHART_ERROR = ('[data-test="chart-grid-component"] .alert-danger, '
               '[data-test="chart-grid-component"] .ant-alert-error')
LEADER_ROLE = "Lãnh đạo huyện"


def commune_role(rules: list[dict[str, Any]]) -> str:
    """The role of the commune of today's structure whose row scope is the widest (the one a
    merger gave most history: the slowest commune user's plans)."""
    current = [r for r in rules
               if not r.get("successor") and str(r.get("valid", "")).endswith("..")]
    if not current:
        raise ValueError("no commune of today's structure in rls.yaml")
    return max(current, key=lambda r: (r["clause"].count("'"), r["role"]))["role"]


def summarise(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Per dashboard, per user and per state (cold/warm): p50/p95 of the render times."""
    out: dict[str, Any] = {}
    headers: dict[tuple[str, str], list[float]] = {}
    for s in samples:
        entry = out.setdefault(s["dashboard"], {})
        entry.setdefault(f"{s['user']}_{s['state']}", []).append(s["s"])
        if s.get("header_s") is not None:
            headers.setdefault((s["dashboard"], f"{s['user']}_{s['state']}"), []).append(
                s["header_s"])
    table: dict[str, Any] = {}
    for dash, series in out.items():
        row: dict[str, Any] = {}
        for key, values in series.items():
            row[key] = {"p50_s": round(percentile(values, 50), 2),
                        "p95_s": round(percentile(values, 95), 2), "n": len(values)}
            if (dash, key) in headers:  # the part before the first chart
                row[key]["header_p50_s"] = round(percentile(headers[dash, key], 50), 2)
        for state in ("cold", "warm"):
            p95s = [v["p95_s"] for k, v in row.items() if k.endswith("_" + state)]
            if p95s:
                row[f"{state}_p95_s"] = max(p95s)
        table[dash] = row
    return table


def _clear_data_cache(home: Path) -> None:
    cache = home / "superset" / "cache" / "data"
    if cache.exists():
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir(parents=True, exist_ok=True)


def _login(browser, url: str, username: str, password: str) -> dict:
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{url}/login/?next=/health")
    page.locator('[data-test="username-input"]').fill(username)
    page.locator('[data-test="password-input"]').fill(password)
    page.locator('[data-test="login-button"]').click()
    page.wait_for_url(lambda u: "/login" not in u)
    state = context.storage_state()
    context.close()
    return state


def _open(page, url: str, slug: str, chart_ids: list[int]) -> tuple[float, float, int]:
    """Seconds from navigation until every chart shows its output; seconds until the
    dashboard's header shows (Superset's page and scripts loaded, the dashboard's layout
    fetched: what any dashboard costs before its first chart); the number of errors."""
    start = time.perf_counter()
    page.goto(f"{url}/superset/dashboard/{slug}/")
    page.locator('[data-test="dashboard-header-container"]').wait_for(state="visible")
    header = time.perf_counter() - start
    for chart_id in chart_ids:
        chart = page.locator(
            f'[data-test="chart-grid-component"][data-test-chart-id="{chart_id}"]')
        chart.wait_for(state="visible")
        chart.locator(f"{CHART_OUTPUT}, .alert-danger, .ant-alert-error").first.wait_for(
            state="visible")
    elapsed = time.perf_counter() - start
    return elapsed, header, page.locator(CHART_ERROR).count()


def measure(args: dict[str, Any]) -> dict[str, Any]:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    from ioc import settings as settings_mod
    from ioc_superset import policies, users
    from tests.support.superset_server import running_superset

    policies.write_rls()  # the world's communes: their roles and row security
    cfg = settings_mod.load()
    cold_reps, warm_reps = int(args.get("cold_reps", 3)), int(args.get("warm_reps", 5))
    samples: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    started = time.perf_counter()
    with running_superset(cfg) as ss:
        bootstrap_s = round(time.perf_counter() - started, 1)
        admin = ss.client()
        _, rules = policies.load()
        people = {
            "leader": ("bench-lanh-dao", users.ensure_user(admin, "bench-lanh-dao",
                                                           [LEADER_ROLE])),
        }
        role = commune_role(rules)
        people["commune"] = ("bench-can-bo-xa", users.ensure_user(admin, "bench-can-bo-xa",
                                                                   [role]))
        # each user opens the dashboards its roles may open (Superset lists only those)
        visible = {}
        for who, (username, password) in people.items():
            with ss.client(username, password) as client:
                visible[who] = client.list_all("dashboard", ["id", "slug", "dashboard_title"])
        charts = {d["id"]: [c["id"] for c in
                            admin.get(f"/api/v1/dashboard/{d['id']}/charts")["result"]]
                  for d in admin.list_all("dashboard", ["id", "slug", "dashboard_title"])}
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for who, (username, password) in people.items():
                    state = _login(browser, ss.url, username, password)
                    for dash in visible[who]:
                        slug = dash["slug"] or str(dash["id"])
                        for rep in range(cold_reps):
                            _clear_data_cache(cfg.home)
                            context = browser.new_context(viewport=VIEWPORT,
                                                          storage_state=state)
                            page = context.new_page()
                            page.set_default_timeout(TIMEOUT_MS)
                            kinds = ["cold"] + (["warm"] * warm_reps if rep == 0 else [])
                            for kind in kinds:  # warm: reopened in the same context
                                try:
                                    seconds, header, errors = _open(
                                        page, ss.url, slug, charts[dash["id"]])
                                except PlaywrightError as exc:  # recorded, not fatal
                                    failures.append({"dashboard": dash["dashboard_title"],
                                                     "user": who, "state": kind,
                                                     "error": str(exc).splitlines()[0][:300]})
                                    print(f"render: {dash['dashboard_title']} {who} {kind} "
                                          f"FAILED: {failures[-1]['error']}", file=sys.stderr,
                                          flush=True)
                                    break
                                samples.append(_sample(dash, who, kind, seconds, errors,
                                                       header))
                            context.close()
            finally:
                browser.close()
    table = summarise(samples)
    cold = [r["cold_p95_s"] for r in table.values() if "cold_p95_s" in r]
    warm = [r["warm_p95_s"] for r in table.values() if "warm_p95_s" in r]
    return {
        "render_p95_s": table,
        "render_cold_p95_s_max": max(cold, default=None),
        "render_warm_p95_s_max": max(warm, default=None),
        "commune_role": role, "superset_workers": os.environ.get("IOC_SUPERSET_WORKERS", "2"),
        "bootstrap_s": bootstrap_s, "cold_reps": cold_reps, "warm_reps": warm_reps,
        "errors": sum(s["errors"] for s in samples), "failures": failures,
        "dashboards_opened": {who: len(v) for who, v in visible.items()}, "samples": samples,
    }


def _sample(dash: dict, who: str, state: str, seconds: float, errors: int,
            header: float | None = None) -> dict[str, Any]:
    # progress in bench/results/run.log (the child's stderr); the JSON is printed at the end
    print(f"render: {dash['dashboard_title']} {who} {state} {seconds:.2f} s "
          f"(load {os.getloadavg()[0]:.1f}){' ERRORS' if errors else ''}",
          file=sys.stderr, flush=True)
    return {"dashboard": dash["dashboard_title"], "user": who, "state": state,
            "s": round(seconds, 3), "errors": errors,
            "header_s": None if header is None else round(header, 3),
            "load_average": round(os.getloadavg()[0], 2)}


if __name__ == "__main__":
    emit(measure(child_args()))
