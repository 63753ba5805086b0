"""Helpers shared by the Superset tests: the committed assets joined with the live ids, chart
data that bypasses Superset's cache, numbers written the Vietnamese way, and a dashboard's
steps in the browser (waiting for its charts, choosing a filter's value)."""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import yaml

from ioc_superset import bundle
from ioc_superset.client import SupersetClient


@dataclass
class Chart:
    id: int
    uuid: str
    title: str
    viz: str
    params: dict
    query_context: dict
    table: str  # the dataset's table
    schema: str


@functools.cache
def committed() -> dict[str, dict]:
    """The committed asset documents (path -> parsed YAML), parsed once; read only."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return {rel: yaml.load(text, Loader=loader) for rel, text in bundle.read_dir().items()}


def charts(client: SupersetClient) -> list[Chart]:
    """Every chart in Superset, with what the committed YAML says about it."""
    docs = committed()
    datasets = {d["uuid"]: d for rel, d in docs.items() if rel.startswith("datasets/")}
    by_uuid = {d["uuid"]: d for rel, d in docs.items() if rel.startswith("charts/")}
    out = []
    for row in client.list_all("chart", ["id", "uuid", "slice_name", "viz_type"]):
        doc = by_uuid[str(row["uuid"])]
        ds = datasets[doc["dataset_uuid"]]
        out.append(
            Chart(
                id=row["id"],
                uuid=str(row["uuid"]),
                title=row["slice_name"],
                viz=row["viz_type"],
                params=doc["params"],
                query_context=json.loads(doc["query_context"]),
                table=ds["table_name"],
                schema=ds["schema"],
            )
        )
    return out


def chart(client: SupersetClient, title: str) -> Chart:
    (found,) = [c for c in charts(client) if c.title == title]
    return found


def chart_data(client: SupersetClient, chart_id: int, result_type: str = "full") -> list[dict]:
    """The saved chart's results, computed now (`force`): Superset caches chart data for ten
    minutes, and an earlier suite of the session may have asked before the marts changed."""
    return client.get(f"/api/v1/chart/{chart_id}/data/", type=result_type, force="true")["result"]


def chart_data_in_view(client: SupersetClient, chart: Chart, view: str) -> list[dict]:
    """The chart's saved query with one more filter — `structure_view = view`, what the
    dashboard's view-of-history filter adds — computed now (`force`)."""
    context = json.loads(json.dumps(chart.query_context))
    context["datasource"] = {**context["datasource"], "id": client.list_all(
        "dataset", ["id", "table_name"], table_name=chart.table,
        schema=chart.schema)[0]["id"]}  # two marts may share a table name (mart_chi_tieu)
    context["force"] = True
    for query in context["queries"]:
        query.setdefault("filters", []).append(
            {"col": "structure_view", "op": "==", "val": view})
    return client.query(context)["result"]


def by_code(chart: Chart, row: dict) -> dict:
    """A row of a server-paginated list keyed by column codes: such a list asks for its
    columns under their Vietnamese labels (issue 21), so that its search-by choices read."""
    names = {c["label"]: c["sqlExpression"] for c in chart.params.get("all_columns") or []
             if isinstance(c, dict)}
    return {names.get(key, key): value for key, value in row.items()}


def all_pages(client: SupersetClient, chart: Chart) -> tuple[list[dict], int]:
    """Every row of a server-paginated list, asked for page by page as its pager does (the
    saved page query with row_offset moved on), keyed by column codes; and the row count."""
    context = json.loads(json.dumps(chart.query_context))
    context["datasource"] = {**context["datasource"], "id": client.list_all(
        "dataset", ["id", "table_name"], table_name=chart.table,
        schema=chart.schema)[0]["id"]}
    context["force"] = True
    page, count = context["queries"]
    size = page["row_limit"]
    total = client.query({**context, "queries": [count]})["result"][0]["data"][0]["rowcount"]
    rows: list[dict] = []
    for offset in range(0, total, size):
        (result,) = client.query({**context, "queries": [{**page, "row_offset": offset}]})[
            "result"]
        assert len(result["data"]) == min(size, total - offset), (chart.title, offset)
        rows += [by_code(chart, r) for r in result["data"]]
    return rows, total


def saved_filter(chart: Chart, column: str, op: str = "==") -> object:
    """The value of the chart's saved simple filter on `column`."""
    (value,) = [
        f["comparator"]
        for f in chart.params["adhoc_filters"]
        if f.get("subject") == column and f.get("operator") == op
    ]
    return value


def month(ms: float) -> str:
    """Superset returns dates as epoch milliseconds (UTC midnight)."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m")


def vn_number(value: float, decimals: int) -> str:
    """1234.5 -> '1.234,5' (with `decimals` digits): how D3_FORMAT vi shows ',.Nf'."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def wait_for_charts(page) -> None:
    """Until the dashboard shows its grid and no chart is loading any more."""
    page.locator('[data-test="dashboard-header-container"]').wait_for(state="visible")
    page.locator('[data-test="chart-grid-component"]').first.wait_for(state="attached")
    page.locator('[aria-label="Loading"]:visible').first.wait_for(state="detached")


def settled_rows(chart, accept, seconds: float = 30) -> list[str]:
    """The visible rows of a table chart (their text) once `accept(rows)` holds, or as they
    are after `seconds`: a table keeps the rows it has drawn until the next answer is drawn
    (after typing in its search box; and Superset may first draw an answer asked before the
    address's filters applied, apache/superset#27787). The caller asserts on what it gets."""
    deadline = time.monotonic() + seconds
    rows = chart.locator("table tbody tr:visible")
    while True:
        texts = rows.all_inner_texts()
        if accept(texts) or time.monotonic() > deadline:
            return texts
        chart.page.wait_for_timeout(250)


def choose_filter_value(page, filter_test_id: str, title: str) -> None:
    """Pick `title` in the filter bar's filter (its data-test id), apply, and wait for the
    charts to load again."""
    page.locator(f'[data-test="{filter_test_id}"]').click()
    page.get_by_title(title).first.click()
    page.keyboard.press("Escape")
    page.locator('[data-test="filter-bar__apply-button"]').click()
    page.wait_for_timeout(1000)
    wait_for_charts(page)


def open_drill_by(page):
    """Open the "drill by" submenu of the right-click menu that is open, found by its menu id
    (its name is translated); returns the submenu."""
    drill_by = page.locator('[data-menu-id$="-drill-by-submenu"]:visible').first
    drill_by.hover()
    submenu = page.locator('[data-test="drill-by-submenu"]')
    try:  # the submenu opens on hover; when the pointer's move was missed, a click opens it
        submenu.wait_for(state="visible", timeout=5_000)
    except Exception:
        drill_by.click()
        submenu.wait_for(state="visible", timeout=20_000)
    return submenu
