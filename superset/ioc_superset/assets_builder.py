"""Compact spec (`superset/spec/*.yaml`) -> Superset export-format YAML (`superset/assets/`).

A dashboard written by hand in Superset's format is ~1,000 lines of layout, filter and query
JSON; the spec says the same in ~60 and keeps the seven IOC dashboards consistent (labels,
number formats, filters). The output is exactly what Superset's exporter writes, in the
canonical form of `assets_format`, so `ioc superset export` after `bootstrap` gives the same
files back (a test checks that round trip).

Spec files hold three mappings, merged across files (keys must be unique):

- `datasets.<key>`: `schema`, `table`, `columns` (name -> type, label, ...), `metrics`
  (name -> label, sql, format), `time_column`; `database: public` for the public page's
  datasets (the connection as `ioc_public`, schema `cong_khai` only).
- `charts.<key>`: `title`, `dataset`, `type` (table, bar, line, big_number, big_number_trend,
  pie), `metrics`, `groupby`, `x`, `filters`, ... (see `CHART_BUILDERS`).
- `dashboards.<slug>`: `title`, `layout` (rows of `{chart|markdown, width, height}` or
  `{tile: <KPI code>, width, height}`: the KPI's tile; a row written `{links: true, row:
  [tiles], link_height}` gets one link chart under it, each tile's link under its tile),
  `filters` (time / select; a select may name a `parent` filter, whose choice then narrows
  its options: province -> area -> unit; `default` values it opens with, `required`, `multi`).

Every chart gets the `query_context` its viz would save from Explore, so
`GET /api/v1/chart/<pk>/data/` answers for imported charts too.

The KPI catalogue (`catalogue/kpis.yaml`) adds to the spec what is declared there once
(`apply_catalogue`): one metric per KPI, named by its code, on the dataset of the KPI's own
mart (Σ numerator / Σ denominator of the mart's parts) and on `fct_kpi_thang` (the same
KPI from the headline mart's parts); one overview tile `tq_<code>` per KPI; and conditional
formatting written `{kpi: <code>}`, coloured against the KPI's default target. A spec that
writes a KPI's metric itself is refused (one formula, declared once).

Files generated from the spec are listed in `superset/spec/generated.txt`; other files in
`superset/assets/` (exported from the UI and no longer generated) are left alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ioc.kpi.catalogue import Catalogue, Kpi
from ioc.kpi.catalogue import load as load_catalogue
from ioc.settings import PROJECT_ROOT
from ioc_superset.assets_format import (
    CANONICAL_DB_URI,
    CANONICAL_PUBLIC_DB_URI,
    DATABASE_NAME,
    DATABASE_UUID,
    EXPORT_VERSION,
    PUBLIC_DATABASE_NAME,
    PUBLIC_DATABASE_UUID,
    canonical_files,
    dumps_json,
    make_uuid,
    stable_id,
)

SPEC_DIR = PROJECT_ROOT / "superset" / "spec"
ASSETS_DIR = PROJECT_ROOT / "superset" / "assets"
GENERATED_LIST = "generated.txt"

NUMBER_FORMAT = ",.2~f"  # with D3_FORMAT vi: 1.234,5
NUMERIC_TYPES = ("NUMERIC", "INTEGER", "BIGINT", "DOUBLE PRECISION")
MONTH_FORMAT = "%m/%Y"
COLOR_SCHEME = "supersetColors"


class SpecError(ValueError):
    """The spec is inconsistent (unknown dataset, metric, column or chart)."""


@dataclass
class Spec:
    datasets: dict[str, dict] = field(default_factory=dict)
    charts: dict[str, dict] = field(default_factory=dict)
    dashboards: dict[str, dict] = field(default_factory=dict)


def load_spec(spec_dir: Path = SPEC_DIR, catalogue: Catalogue | None = None) -> Spec:
    spec = Spec()
    for path in sorted(spec_dir.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for section in ("datasets", "charts", "dashboards"):
            target = getattr(spec, section)
            for key, value in (data.get(section) or {}).items():
                if key in target:
                    raise SpecError(f"{path.name}: {section}.{key} is defined twice")
                target[key] = value
    apply_catalogue(spec, catalogue or load_catalogue())
    apply_links(spec)
    validate(spec)
    return spec


# --- links to another dashboard (issue 18) ----------------------------------------------
#
# A dataset column may be written `link: {dashboard, text, filters}` instead of `sql`: the
# builder turns it into a calculated column whose value is an HTML link to another dashboard
# with native filters applied through the URL (`?native_filters=<rison data mask>`, which
# Superset 6 reads on load and then replaces with its own `native_filters_key`, so the
# browser's Back returns to the page the link was on). Tables showing such a column render
# HTML. `dashboard` is a slug, or `{column, map: {value: slug}}` to pick it per row;
# `filters` maps a filter name of the target dashboard to a SQL expression of the row (a
# NULL value leaves that filter out); `time: <date column>` applies the target's time
# filter to the row's month. The filter ids come from the target's spec, so a link breaks
# the build, not the page, when a filter is renamed.


def _rison_string_sql(expr: str) -> str:
    """SQL: a rison string literal of `expr`, escaped for a URL inside an HTML attribute."""
    escaped = f"replace(replace(({expr})::text, '!', '!!'), '''', '!''')"
    for char, code in (("%", "%25"), ("&", "%26"), ("#", "%23"), ("+", "%2B"), ('"', "%22"),
                       ("<", "%3C"), (">", "%3E")):
        escaped = f"replace({escaped}, '{char}', '{code}')"
    return f"'''' || {escaped} || ''''"


def _one_value_sql(value: dict, only: str, where: str) -> str:
    """SQL of a link's filter written `{one: <column>, when: <condition>}` in a link metric:
    the column's value when the group's rows (`only`: an aggregate's FILTER clause, the tile
    links') hold exactly one, and `when` (an aggregate condition) holds; NULL otherwise, which
    leaves the filter out. MIN = MAX, not COUNT(DISTINCT) = 1: the same answer, no sort
    (issue 21)."""
    unknown = set(value) - {"one", "when"}
    if unknown or "one" not in value:
        raise SpecError(f"{where}: expected {{one: <column>, when: <condition>}}, "
                        f"got keys {sorted(value)}")
    col, only = value["one"], f" {only}" if only else ""
    cond = f"MIN({col}){only} = MAX({col}){only}"
    if value.get("when"):
        cond += f" AND {value['when']}"
    return f"CASE WHEN {cond} THEN MIN({col}){only} END"


def _link_href_sql(slug: str, link: dict, spec: Spec) -> str:
    dash = spec.dashboards.get(slug)
    if dash is None:
        raise SpecError(f"link to unknown dashboard {slug!r}")
    by_name = {flt["name"]: flt for flt in dash.get("filters") or []}
    parts = []
    for name, expr in (link.get("filters") or {}).items():
        if isinstance(expr, dict):
            expr = _one_value_sql(expr, link.get("only", ""), f"link to {slug}, filter {name!r}")
        flt = by_name.get(name)
        if flt is None or flt["type"] != "select":
            raise SpecError(f"link to {slug}: no select filter {name!r}")
        fid = _filter_id(slug, name)
        value = _rison_string_sql(expr)
        parts.append(
            f"CASE WHEN ({expr}) IS NULL THEN '' ELSE '{fid}:(id:{fid},extraFormData:(filters:!("
            f"(col:{flt['column']},op:IN,val:!(' || {value} || ')))),filterState:(value:!(' || "
            f"{value} || ')))' END"
        )
    if link.get("time") and slug not in (link.get("no_time") or []):
        (name,) = [f["name"] for f in dash.get("filters") or [] if f["type"] == "time"]
        fid = _filter_id(slug, name)
        col = link["time"]
        rng = (f"'''' || to_char({col}, 'YYYY-MM-DD') || ' : ' || "
               f"to_char({col} + interval '1 month', 'YYYY-MM-DD') || ''''")
        parts.append(
            f"CASE WHEN {col} IS NULL THEN '' ELSE '{fid}:(id:{fid},extraFormData:(time_range:' "
            f"|| {rng} || '),filterState:(value:' || {rng} || '))' END"
        )
    # rison objects need commas only between members: join the non-empty parts
    joined = "concat_ws(',', " + ", ".join(f"NULLIF({p}, '')" for p in parts) + ")"
    return f"'/superset/dashboard/{slug}/?native_filters=(' || {joined} || ')'"


def link_sql(link: dict, spec: Spec) -> str:
    text = str(link.get("text", "Xem")).replace("'", "''")
    if link.get("text_sql"):  # the link's text from the row, escaped for HTML
        text = ("' || replace(replace(replace((" + link["text_sql"] + ")::text, '&', '&amp;'), "
                "'<', '&lt;'), '>', '&gt;') || '")
    target = link["dashboard"]
    if isinstance(target, str):
        href = _link_href_sql(target, link, spec)
    else:
        whens = " ".join(
            f"WHEN '{value}' THEN {_link_href_sql(slug, link, spec)}"
            for value, slug in target["map"].items()
        )
        href = f"CASE {target['column']} {whens} END"
    return f"'<a href=\"' || {href} || '\">{text}</a>'"


def is_link(ds: dict, name: str, kind: str = "metrics") -> bool:
    """Whether the dataset's metric (or, with kind="columns", column) `name` is a link
    (`link:` in the spec, its SQL built by apply_links)."""
    return "link" in ((ds.get(kind) or {}).get(name) or {})


def apply_links(spec: Spec) -> None:
    for key, ds in spec.datasets.items():
        for name, col in (ds.get("columns") or {}).items():
            if "link" in col:
                if "sql" in col:
                    raise SpecError(f"datasets.{key}.{name}: `link` and `sql` both given")
                col["sql"] = link_sql(col["link"], spec)
                col.setdefault("type", "TEXT")
                col.setdefault("groupby", True)
        # a metric may be a link too (issue 18, the overview's tiles): its expressions are
        # aggregates, e.g. the unit when the rows hold only one, the latest month
        for name, metric in (ds.get("metrics") or {}).items():
            if "link" in metric:
                if "sql" in metric:
                    raise SpecError(f"datasets.{key}.metrics.{name}: `link` and `sql` both given")
                # no rows (a KPI nobody reported yet): an empty cell, not Superset's "N/A"
                metric["sql"] = f"COALESCE({link_sql(metric['link'], spec)}, '')"
                metric.setdefault("format", "")


# --- the KPI catalogue --------------------------------------------------------------------

KPI_MART = "fct_kpi_thang"  # the headline mart: one metric per KPI, and the overview tiles
TILE_PREFIX = "tq_"
TILE_LINK_PREFIX = "lk_"  # the link metric under a tile (charts of `type: tile_links`)
# --- the overview's tile links, one chart per row of tiles (issues 18 and 21) ---------------
# A layout row written `{links: true, row: [{tile: <code>, width, height}, ...], link_height}`
# is the row of the KPIs' tiles (`tq_<code>`) and, right under it, ONE link chart for the
# whole row (a one-row `tile_links` table, key TILE_LINK_CHART + n, n = 1, 2, ... down the
# dashboard, titled TILE_LINK_TITLE + "hàng ô số <n>"): one query per row instead of one per
# tile (issue 21). Its cell i is the link of tile i; the dashboard's CSS (tile_link_css) lays
# the table out fixed, full width, each column as wide as its tile's share of the grid and
# padded from the grid's gutter and the charts' padding (tile_link_css), so each link stands
# directly under its own tile, inside the tile's horizontal extent, and hides the chart's
# title and table header.
TILE_LINK_CHART = "tq_links_"
TILE_LINK_TITLE = "Mở lĩnh vực: "
GRID_GUTTER_PX = 16  # Superset 6.1's GRID_GUTTER_SIZE: the space between two grid items
_TILE_LINK_SEL = f'.chart-slice[data-test-chart-name^="{TILE_LINK_TITLE}"]'
# (the header row is squeezed to 1px, not removed: Superset's table measures its header and
# draws no body at all when that height is 0)
TILE_LINK_CSS = (
    "/* the links under each row of tiles (superset/ioc_superset/assets_builder.py, "
    "TILE_LINK_TITLE) */\n"
    f'{_TILE_LINK_SEL} [data-test="slice-header"] {{ display: none; }}\n'
    f"{_TILE_LINK_SEL} thead th {{ font-size: 0; line-height: 0; padding: 0 !important; "
    "border: 0 !important; height: 1px; }\n"
    f"{_TILE_LINK_SEL} thead th * {{ display: none; }}\n"
    f"{_TILE_LINK_SEL} tr, {_TILE_LINK_SEL} td {{ background: transparent !important; }}\n"
    f"{_TILE_LINK_SEL} td {{ border: 0 !important; font-size: 14px; font-weight: 600; "
    "white-space: normal; overflow-wrap: anywhere; }\n"
    f"{_TILE_LINK_SEL} table {{ table-layout: fixed !important; width: 100% !important; "
    "min-width: 0 !important; }\n"
    # a tile's title keeps at least 9em (two lines at most): in a narrow tile its controls
    # (applied filters, menu) go under it instead of squeezing it to one word per line
    '[data-test="slice-header"] { flex-wrap: wrap; }\n'
    '[data-test="slice-header"] .header-title { flex: 1 1 9em; min-width: 9em; }\n')


# Every dashboard's CSS starts with this (DASHBOARD_CSS). A scheduled report
# (superset/reports.yaml) is a screenshot of the page's body in standalone mode
# (<body class="standalone">) in a window 6,000 px tall (superset_config.py,
# WEBDRIVER_WINDOW: taller than the tallest dashboard). Superset's global style makes html,
# body and #app the window's height, so a short dashboard's PDF had thousands of pixels of
# white under its last row; with the body as tall as its content, the PDF ends where the
# dashboard does. Only in standalone mode: the dashboards people open are not touched.
REPORT_CSS = (
    "/* a scheduled report's screenshot ends at the dashboard's last row "
    "(superset/ioc_superset/assets_builder.py, REPORT_CSS) */\n"
    "body.standalone, body.standalone #app { height: auto; }\n")

# ...then with this. A table cell without a value (a rate of a month with nothing due) reads
# Superset's English "N/A": its NULL_DISPLAY is translated once, when its front end loads,
# before the language pack arrives (superset/translations: "N/A" -> "–" reaches the chart
# tooltips only). Such a cell carries the class `dt-is-null`: it shows the dash of Vietnamese
# statistical tables instead, the English text kept at size 0.
EMPTY_CELL_CSS = (
    "/* an empty table cell reads \"–\", not \"N/A\" "
    "(superset/ioc_superset/assets_builder.py, EMPTY_CELL_CSS) */\n"
    ".dt-is-null { font-size: 0 !important; }\n"
    '.dt-is-null::after { content: "–"; font-size: 0.875rem; }\n')
DASHBOARD_CSS = REPORT_CSS + EMPTY_CELL_CSS


CHART_PADDING_PX = 16  # Superset 6.1's padding of a chart inside its grid item
# the link's text keeps this far inside its tile's edges: more than the scrollbar's width,
# which Superset's table keeps free on the right of its rows (a few px, 8 in Chromium)
TILE_LINK_INSET_PX = 12


def tile_link_css(title: str, widths: list[int]) -> str:
    """Column widths and paddings of one row's link chart, from the tiles' grid widths.

    The row's grid items share the row's width W (grid units) and one gutter g after each;
    a chart sits inside its item with padding p. The link table spans the link chart's
    content, so with column i as wide as its tile's share w_i / W of it, padding
    left = cum_i * (g + 2p) / W and right = (g + 2p) - cum_(i+1) * (g + 2p) / W (cum: the
    grid units before / up to the column) puts the cell's content exactly over tile i's
    content, at any window width; TILE_LINK_INSET_PX more on each side keeps the text
    inside it. (table-layout: fixed takes the widths from the column and header cells.)"""
    sel = f'.chart-slice[data-test-chart-name="{title}"]'
    total = sum(widths)
    spread = GRID_GUTTER_PX + 2 * CHART_PADDING_PX
    rules, cum = [], 0
    for i, width in enumerate(widths, start=1):
        share = f"{100 * width / total:.4f}".rstrip("0").rstrip(".")
        left = cum * spread / total + TILE_LINK_INSET_PX
        cum += width
        right = spread - cum * spread / total + TILE_LINK_INSET_PX
        rules.append(f"{sel} col:nth-child({i}), {sel} th:nth-child({i}), "
                     f"{sel} td:nth-child({i}) {{ width: {share}% !important; }}\n"
                     f"{sel} td:nth-child({i}) {{ padding: 4px {right:.2f}px 4px {left:.2f}px "
                     "!important; }\n")
    return "".join(rules)


# the headline mart's rows a tile reads: units' own rows (an area is their sum), periods the
# overview shows, months that have ended (a month still running is shown as "đến <A>" in the
# KPI board, never as a finished month on a tile)
TILE_FILTERS = [
    {"column": "unit_level", "op": "==", "value": "don_vi"},
    {"column": "is_displayed", "op": "==", "value": True},
    {"column": "is_month_complete", "op": "==", "value": True},
]


def _decimal_sql(value) -> str:
    text = format(value.normalize(), "f")
    return text if "." in text else f"{text}.0"


def kpi_label(kpi: Kpi) -> str:
    return f"{kpi.name} ({kpi.unit})"


def kpi_description(kpi: Kpi, cat: Catalogue) -> str:
    source = cat.sources[kpi.source.source].short
    detail = f", {kpi.source.detail}" if kpi.source.detail else ""
    parts = f"Tử số: {kpi.numerator.words}."
    if kpi.denominator is not None:
        parts += f" Mẫu số: {kpi.denominator.words}."
    return f"{source}{detail}. {parts} (catalogue/kpis.yaml: {kpi.code})"


def kpi_metric_on_mart(kpi: Kpi) -> str:
    """The KPI over the rows of its own mart: Σ numerator × scale / Σ denominator."""
    if kpi.denominator is None:
        return f"SUM({kpi.numerator.sql})"
    return (f"{_decimal_sql(kpi.scale)} * SUM({kpi.numerator.sql}) / "
            f"NULLIF(SUM({kpi.denominator.sql}), 0)")


def kpi_metric_on_headline(kpi: Kpi) -> str:
    """The KPI over rows of fct_kpi_thang (its parts summed per KPI)."""
    only = f"FILTER (WHERE kpi_code = '{kpi.code}')"
    if kpi.denominator is None:
        return f"SUM(numerator) {only}"
    return (f"{_decimal_sql(kpi.scale)} * SUM(numerator) {only} / "
            f"NULLIF(SUM(denominator) {only}, 0)")


def apply_catalogue(spec: Spec, cat: Catalogue) -> None:
    """Add the catalogue's metrics, tiles and formatting to the spec (see the module doc)."""
    errors = []
    for key, ds in spec.datasets.items():
        kpis = list(cat.kpis) if ds.get("table") == KPI_MART else cat.by_model(ds.get("table"))
        if not kpis:
            continue
        metrics = dict(ds.get("metrics") or {})
        for kpi in kpis:
            if kpi.code in metrics:
                errors.append(f"dataset {key}: metric {kpi.code} is the catalogue's KPI; "
                              "do not write it in the spec")
                continue
            sql = (kpi_metric_on_headline(kpi) if ds["table"] == KPI_MART
                   else kpi_metric_on_mart(kpi))
            metrics[kpi.code] = {"label": kpi_label(kpi), "sql": sql, "format": kpi.format,
                                 "description": kpi_description(kpi, cat)}
        # the headline mart's `tile_link` (a `link:` whose aggregates say `{only}`): one link
        # metric per tile, `lk_<code>`, over that KPI's rows only
        template = ds.get("tile_link") if ds["table"] == KPI_MART else None
        for kpi in kpis if template else []:
            if kpi.tile is None:
                continue
            only = f"FILTER (WHERE kpi_code = '{kpi.code}')"
            link = json.loads(json.dumps(template).replace("{only}", only))
            link["only"] = only  # for the filters written {one: <column>}
            metrics[f"{TILE_LINK_PREFIX}{kpi.code}"] = {
                "label": kpi.tile.title, "link": link,
                "description": f"Mở dashboard lĩnh vực của {kpi.name}"}
        ds["metrics"] = metrics
    headline = [k for k, ds in spec.datasets.items() if ds.get("table") == KPI_MART]
    if headline:
        for kpi in cat.kpis:
            if kpi.tile is None:
                continue
            key = f"{TILE_PREFIX}{kpi.code}"
            if key in spec.charts:
                errors.append(f"chart {key} is the catalogue's tile of {kpi.code}")
                continue
            spec.charts[key] = {
                "title": kpi.tile.title,
                "description": f"{kpi.name}. {kpi_description(kpi, cat)}",
                "dataset": headline[0],
                "type": "big_number_trend",
                "metric": kpi.code,
                "filters": [*TILE_FILTERS,
                            {"column": "kpi_code", "op": "==", "value": kpi.code}],
                "subtitle": kpi.tile.subtitle,
                "start_at_zero": kpi.kind == "count",
            }
        _expand_tile_items(spec, cat, headline[0], errors)
        # a row of links under the tiles (`type: tile_links`, `tiles: [code, ...]`): each KPI's
        # link reads the same rows as its tile (TILE_FILTERS) under the overview's filters
        for key, chart in spec.charts.items():
            if chart.get("type") != "tile_links":
                continue
            for code in chart.get("tiles") or []:
                if f"{TILE_PREFIX}{code}" not in spec.charts:
                    errors.append(f"chart {key}: KPI {code!r} has no tile")
            chart["filters"] = [*TILE_FILTERS, *(chart.get("filters") or []),
                                {"column": "kpi_code", "op": "IN",
                                 "value": list(chart.get("tiles") or [])}]
            chart["metrics"] = [f"{TILE_LINK_PREFIX}{code}" for code in chart.get("tiles") or []]
    for key, chart in spec.charts.items():
        rules = []
        for rule in chart.get("conditional_formatting") or []:
            if "kpi" not in rule:
                rules.append(rule)
                continue
            try:
                kpi = cat.kpi(rule["kpi"])
            except KeyError:
                errors.append(f"chart {key}: unknown KPI {rule['kpi']!r}")
                continue
            if kpi.target is None:
                errors.append(f"chart {key}: KPI {kpi.code} has no target to colour against")
                continue
            rules.append({"column": rule.get("column", kpi.code),
                          "op": "<" if kpi.higher_is_better else ">",
                          "value": int(kpi.target) if kpi.target == int(kpi.target)
                          else float(kpi.target),
                          "color": rule.get("color", "colorError")})
        if chart.get("conditional_formatting"):
            chart["conditional_formatting"] = rules
    _narrow_kpi_charts(spec, cat)
    if errors:
        raise SpecError("\n".join(errors))


def _expand_tile_items(spec: Spec, cat: Catalogue, headline: str, errors: list[str]) -> None:
    """`{tile: code}` layout items -> the KPI's tile; a row `{links: true, row: [...]}` -> that
    row, then a row holding the row's one link chart (see TILE_LINK_CHART)."""
    for slug, dash in spec.dashboards.items():
        layout, css, n = [], [], 0
        for row in dash.get("layout") or []:
            items = row.get("row") or [] if isinstance(row, dict) else row
            out, tiles = [], []
            for item in items:
                if "tile" not in item:
                    out.append(item)
                    continue
                code = item["tile"]
                try:
                    kpi = cat.kpi(code)
                except KeyError:
                    kpi = None
                if kpi is None or kpi.tile is None:
                    errors.append(f"dashboard {slug}: KPI {code!r} has no tile")
                    continue
                tiles.append((code, kpi, item.get("width", 2)))
                out.append({"chart": f"{TILE_PREFIX}{code}", "width": item.get("width", 2),
                            "height": item.get("height", 36)})
            layout.append(out)
            if not (isinstance(row, dict) and row.get("links")):
                continue
            if not tiles or len(tiles) != len(items):
                errors.append(f"dashboard {slug}: a row with `links: true` holds tiles only")
                continue
            n += 1
            key = f"{TILE_LINK_CHART}{n}"
            title = f"{TILE_LINK_TITLE}hàng ô số {n}"
            names = ", ".join(kpi.tile.title for _, kpi, _ in tiles)
            spec.charts[key] = {
                "title": title,
                "description": (f"Liên kết dưới các ô số {names}: mỗi liên kết mở dashboard "
                                "lĩnh vực của chỉ số ở ô số ngay phía trên nó, với cùng góc "
                                "nhìn, địa bàn, đơn vị và tháng."),
                "dataset": headline,
                "type": "tile_links",
                "tiles": [code for code, _, _ in tiles],
            }
            widths = [w for _, _, w in tiles]
            layout.append([{"chart": key, "width": sum(widths),
                            "height": row.get("link_height", 10)}])
            css.append(tile_link_css(title, widths))
        dash["layout"] = layout
        if css:
            dash["css"] = TILE_LINK_CSS + "".join(css)


def layout_items(row: list[dict]) -> list[dict]:
    """The charts and markdowns of a layout row, a column's one by one."""
    out = []
    for item in row:
        out.extend(item.get("column", [item]))
    return out


def _narrow_kpi_charts(spec: Spec, cat: Catalogue) -> None:
    """A chart on the headline mart whose metrics are all catalogue KPIs reads only those
    KPIs' rows (`kpi_code IN (...)`): each such metric sums its own KPI's rows (FILTER), so
    the other KPIs' rows only cost time — at national scale most of the chart's query
    (issue 21: `Đơn vị cần chú ý (theo tháng)` aggregated every KPI of every unit)."""
    codes = {kpi.code for kpi in cat.kpis}
    for chart in spec.charts.values():
        ds = spec.datasets.get(chart.get("dataset")) or {}
        metrics = chart.get("metrics") or ([chart["metric"]] if chart.get("metric") else [])
        # a link metric (a row's link built from its group's rows) reads the same rows
        kpis = [m for m in metrics if not is_link(ds, m)]
        filters = chart.get("filters") or []
        if (ds.get("table") != KPI_MART or not kpis or not set(kpis) <= codes
                or any(f.get("column") == "kpi_code" for f in filters)):
            continue
        chart["filters"] = [*filters, {"column": "kpi_code", "op": "IN",
                                       "value": list(dict.fromkeys(kpis))}]


def validate(spec: Spec) -> None:
    errors = []
    for key, ds in spec.datasets.items():
        if not ds.get("schema") or not ds.get("table"):
            errors.append(f"dataset {key}: schema and table are required")
        if ds.get("database", "warehouse") not in DATABASES:
            errors.append(f"dataset {key}: database must be one of {sorted(DATABASES)}")
        elif (ds.get("database") == "public") != (ds.get("schema") == PUBLIC_SCHEMA):
            errors.append(f"dataset {key}: the public connection reads {PUBLIC_SCHEMA} only, "
                          f"and {PUBLIC_SCHEMA} is read through it alone")
    for key, chart in spec.charts.items():
        ds = spec.datasets.get(chart.get("dataset"))
        if ds is None:
            errors.append(f"chart {key}: unknown dataset {chart.get('dataset')!r}")
            continue
        if chart.get("type") not in CHART_BUILDERS:
            errors.append(f"chart {key}: unknown type {chart.get('type')!r}")
        for metric in _as_list(chart.get("metrics")) + _as_list(chart.get("metric")):
            if metric not in (ds.get("metrics") or {}):
                errors.append(f"chart {key}: dataset {chart['dataset']} has no metric {metric}")
        cols = ds.get("columns") or {}
        used = _as_list(chart.get("groupby")) + _as_list(chart.get("columns"))
        used += [f["column"] for f in chart.get("filters") or []]
        used += [c for c, _ in chart.get("order_by") or []]
        used += [rule["column"] for rule in chart.get("conditional_formatting") or []]
        for name in ("x", "time_column"):
            if chart.get(name):
                used.append(chart[name])
        for col in used:
            if col not in cols and col not in (ds.get("metrics") or {}):
                errors.append(f"chart {key}: dataset {chart['dataset']} has no column {col}")
    for slug, dash in spec.dashboards.items():
        for row in dash.get("layout") or []:
            for item in layout_items(row):
                if "chart" in item and item["chart"] not in spec.charts:
                    errors.append(f"dashboard {slug}: unknown chart {item['chart']}")
        names = [flt.get("name") for flt in dash.get("filters") or []]
        for flt in dash.get("filters") or []:
            if flt.get("type") == "select":
                ds = spec.datasets.get(flt.get("dataset"))
                if ds is None or flt.get("column") not in (ds.get("columns") or {}):
                    errors.append(f"dashboard {slug}: filter {flt.get('name')} has no target")
            if flt.get("parent") and flt["parent"] not in names:
                errors.append(f"dashboard {slug}: filter {flt.get('name')} has no parent")
    if errors:
        raise SpecError("\n".join(errors))


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


# --- uuids ------------------------------------------------------------------------------


def dataset_uuid(ds: dict) -> str:
    return make_uuid("dataset", f"{ds['schema']}.{ds['table']}")


def chart_uuid(key: str) -> str:
    return make_uuid("chart", key)


def dashboard_uuid(slug: str) -> str:
    return make_uuid("dashboard", slug)


# --- databases and datasets -------------------------------------------------------------


# `database:` of a dataset -> (connection name, uuid, committed URI, shown in SQL Lab)
DATABASES = {
    "warehouse": (DATABASE_NAME, DATABASE_UUID, CANONICAL_DB_URI, True),
    "public": (PUBLIC_DATABASE_NAME, PUBLIC_DATABASE_UUID, CANONICAL_PUBLIC_DB_URI, False),
}
PUBLIC_SCHEMA = "cong_khai"


def database_doc(which: str = "warehouse") -> dict:
    name, uuid, uri, sqllab = DATABASES[which]
    return {
        "database_name": name,
        "sqlalchemy_uri": uri,
        "cache_timeout": None,
        "expose_in_sqllab": sqllab,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_csv_upload": False,
        "extra": {
            "allows_virtual_table_explore": True,
            "engine_params": {},
            "metadata_cache_timeout": {},
            "metadata_params": {},
            "schemas_allowed_for_csv_upload": [],
        },
        "impersonate_user": False,
        "configuration_method": "sqlalchemy_form",
        "uuid": uuid,
        "version": EXPORT_VERSION,
    }


def dataset_doc(ds: dict) -> dict:
    columns = []
    for name, col in (ds.get("columns") or {}).items():
        temporal = bool(col.get("temporal"))
        columns.append(
            {
                "column_name": name,
                "verbose_name": col.get("label"),
                "is_dttm": temporal,
                "is_active": True,
                "type": col["type"],
                "advanced_data_type": None,
                # measures are not dimensions: keep counts and rates out of the "Drill by" and
                # group-by menus unless the spec says otherwise (year, month, a 1-5 rating)
                "groupby": col.get("groupby", col["type"] not in NUMERIC_TYPES),
                "filterable": col.get("filterable", True),
                "expression": col.get("sql"),
                "description": col.get("description"),
                "python_date_format": None,
                "datetime_format": None,
                "extra": None,
            }
        )
    metrics = []
    for name, metric in (ds.get("metrics") or {}).items():
        metrics.append(
            {
                "metric_name": name,
                "verbose_name": metric.get("label"),
                "metric_type": None,
                "expression": metric["sql"],
                "description": metric.get("description"),
                "d3format": metric.get("format", NUMBER_FORMAT),
                "currency": None,
                "extra": None,
                "warning_text": None,
            }
        )
    return {
        "table_name": ds["table"],
        "main_dttm_col": ds.get("time_column"),
        "currency_code_column": None,
        "description": ds.get("description"),
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "catalog": None,
        "schema": ds["schema"],
        "sql": None,
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "folders": None,
        "uuid": dataset_uuid(ds),
        "metrics": metrics,
        "columns": columns,
        "version": EXPORT_VERSION,
        "database_uuid": DATABASES[ds.get("database", "warehouse")][1],
    }


# --- charts -----------------------------------------------------------------------------


# Explore's names of the simple filter operators (operatorId in saved adhoc filters).
OPERATOR_IDS = {
    "==": "EQUALS",
    "!=": "NOT_EQUALS",
    "IN": "IN",
    "NOT IN": "NOT_IN",
    "<": "LESS_THAN",
    ">": "GREATER_THAN",
    "<=": "LESS_THAN_OR_EQUAL",
    ">=": "GREATER_THAN_OR_EQUAL",
    "IS NULL": "IS_NULL",
    "IS NOT NULL": "IS_NOT_NULL",
}


# Superset 6.1's plugin-chart-table SERVER_PAGE_SIZE_OPTIONS (issue 21)
SERVER_PAGE_SIZES = (10, 20, 50, 100, 200)
# The table's conditional formatting names its comparisons with these signs.
FORMATTING_OPERATORS = {">=": "≥", "<=": "≤", "==": "=", "!=": "≠"}


def _option_name(*parts: str) -> str:
    return "filter_" + hashlib.sha1("|".join(parts).encode()).hexdigest()[:12]


def _adhoc_filters(ds: dict, chart: dict) -> list[dict]:
    """The chart's WHERE filters as Explore stores them (time range first, so the dashboard's
    time filter has something to apply to)."""
    filters = []
    time_col = chart.get("time_column", ds.get("time_column"))
    if time_col:
        filters.append(
            {
                "clause": "WHERE",
                "comparator": "No filter",
                "expressionType": "SIMPLE",
                "operator": "TEMPORAL_RANGE",
                "subject": time_col,
            }
        )
    for flt in chart.get("filters") or []:
        op = flt.get("op", "==")
        filters.append(
            {
                "clause": "WHERE",
                "comparator": flt.get("value"),
                "expressionType": "SIMPLE",
                "filterOptionName": _option_name(flt["column"], op, str(flt.get("value"))),
                "isExtra": False,
                "isNew": False,
                "operator": op,
                "operatorId": OPERATOR_IDS.get(op, op),
                "sqlExpression": None,
                "subject": flt["column"],
            }
        )
    return filters


def _query_filters(adhoc: list[dict]) -> list[dict]:
    """Explore's translation of adhoc SIMPLE filters into query-object filters."""
    out = []
    for flt in adhoc:
        op = flt["operator"]
        entry = {"col": flt["subject"], "op": op}
        if op not in ("IS NULL", "IS NOT NULL"):
            entry["val"] = flt["comparator"]
        out.append(entry)
    return out


def _axis_column(col: str, grain: str | None, reference: bool = True) -> dict:
    column = {
        "columnType": "BASE_AXIS",
        "expressionType": "SQL",
        "label": col,
        "sqlExpression": col,
        "timeGrain": grain,
    }
    if reference:  # the ECharts plugins mark their x axis so; the table does not
        column["isColumnReference"] = True
    return column


def _labelled_column(name: str, label: str) -> dict:
    """A dataset column asked for under another name, as Explore stores a custom SQL column
    that references a dataset column (Superset then reads the column's own SQL, e.g. that of
    a calculated column)."""
    return {"expressionType": "SQL", "isColumnReference": True, "label": label,
            "sqlExpression": name}


def _base_query(adhoc: list[dict], row_limit: int | None, grain: str | None = "P1M") -> dict:
    """The query object fields every viz's buildQuery sends (Superset 6.1's frontend)."""
    query = {
        "annotation_layers": [],
        "applied_time_extras": {},
        "custom_form_data": {},
        "custom_params": {},
        "extras": {"having": "", "where": ""},
        "filters": _query_filters(adhoc),
        "group_others_when_limit_reached": False,
        "order_desc": True,
        "series_limit": 0,
        "url_params": {},
    }
    if grain:
        query["extras"]["time_grain_sqla"] = grain
    if row_limit is not None:
        query["row_limit"] = row_limit
    return query


def _query_context(ds: dict, form_data: dict, queries: list[dict]) -> str:
    ds_id = stable_id(dataset_uuid(ds))
    context = {
        "datasource": {"id": ds_id, "type": "table"},
        "force": False,
        "form_data": {**form_data, "force": False, "result_format": "json", "result_type": "full"},
        "queries": queries,
        "result_format": "json",
        "result_type": "full",
    }
    return dumps_json(context)


def _metric_label(ds: dict, metric: str) -> str:
    """A saved metric's name is its label in query results (what `x_axis_sort` names)."""
    return metric


def _metric_format(ds: dict, metric: str) -> str:
    return (ds.get("metrics") or {}).get(metric, {}).get("format", NUMBER_FORMAT)


def _common_params(ds: dict, chart: dict, viz: str) -> dict:
    return {
        "adhoc_filters": _adhoc_filters(ds, chart),
        "annotation_layers": [],
        "datasource": f"{stable_id(dataset_uuid(ds))}__table",
        "extra_form_data": {},
        "viz_type": viz,
    }


def _table(ds: dict, chart: dict) -> tuple[str, dict, list[dict]]:
    """A table, in one of Explore's two modes.

    - raw (`columns:`): the mart's rows as they are, ordered by `order_by`; what a table of
      "indicator values per commune and month" is, since that is the mart's grain.
    - aggregate (`groupby:` + `metrics:`): one row per group, saved metrics as columns,
      ordered by the first metric (as Explore does).
    """
    temporal = {c for c, col in (ds.get("columns") or {}).items() if col.get("temporal")}
    raw = bool(chart.get("columns"))
    cols = _as_list(chart.get("columns") if raw else chart.get("groupby"))
    metrics = [] if raw else _as_list(chart.get("metrics"))
    row_limit = int(chart.get("row_limit", 1000))
    grain = chart.get("time_grain", "P1M")
    order_by = [[c, direction == "asc"] for c, direction in chart.get("order_by") or []]
    column_config = {}
    for name in cols:
        col = (ds.get("columns") or {}).get(name, {})
        if col.get("type") in NUMERIC_TYPES:
            column_config[name] = {"d3NumberFormat": col.get("format", NUMBER_FORMAT)}
        elif col.get("time_format"):
            column_config[name] = {"d3TimeFormat": col["time_format"]}
        if raw and col.get("label"):
            # the table's "search by" list names columns by this, else by their code
            column_config.setdefault(name, {})["customColumnName"] = col["label"]
    for metric in metrics:
        # The metric's Vietnamese label and number format on the table itself: the drill-by
        # modal rebuilds this table from the chart's params with a dataset that has no metric
        # labels or formats (Superset 6.1's drill_info), which showed `hs_moi_tiep_nhan`
        # and `5.36k` (issue 18).
        label = ((ds.get("metrics") or {}).get(metric) or {}).get("label")
        column_config[metric] = {
            "d3NumberFormat": _metric_format(ds, metric),
            **({"customColumnName": label} if label else {}),
        }
    # Cells to colour, e.g. on-time rates below 80 % in red: [{column, op, value, color}]
    # with color one of Superset's tokens (colorError, colorWarning, colorSuccess).
    conditional = [
        {
            "colorScheme": rule.get("color", "colorError"),
            "column": rule["column"],
            "operator": FORMATTING_OPERATORS.get(rule.get("op", "<"), rule.get("op", "<")),
            "targetValue": rule["value"],
        }
        for rule in chart.get("conditional_formatting") or []
    ]
    params = {
        **_common_params(ds, chart, "table"),
        "all_columns": cols if raw else [],
        # HTML only where a column or a metric is a link (apply_links): cells are sanitised
        # by Superset
        "allow_render_html": any(
            is_link(ds, name, "columns")
            or (ds.get("columns") or {}).get(name, {}).get("html") for name in cols) or any(
            is_link(ds, name) for name in metrics),
        "allow_rearrange_columns": False,
        "color_pn": True,
        "column_config": column_config,
        "comparison_color_scheme": "Green",
        "comparison_type": "values",
        "conditional_formatting": conditional,
        "groupby": [] if raw else cols,
        "include_search": True,
        "metrics": metrics,
        "order_by_cols": [dumps_json(o) for o in order_by] if raw else [],
        "order_desc": True,
        "percent_metrics": [],
        "query_mode": "raw" if raw else "aggregate",
        "row_limit": row_limit,
        "page_length": int(chart.get("page_length", 10)),
        "server_page_length": int(chart.get("page_length", 10)),
        "server_pagination": bool(chart.get("server_pagination", False)),
        "show_cell_bars": False,
        "show_totals": False,
        "table_timestamp_format": chart.get("time_format", MONTH_FORMAT),
        "temporal_columns_lookup": {c: True for c in cols if c in temporal},
        "time_grain_sqla": grain,
    }
    # --- server-paginated lists (issue 21): the columns by their Vietnamese labels -------
    # Superset 6.1's table names the "search by" choices by the result's column keys
    # (useSearchOptions: label = columnKey), so a list's columns are asked for as SQL columns
    # labelled with the dataset's labels; the search filter and a header's sort name the
    # label, which Superset resolves back to the column (its verbose_name; the adhoc label).
    labelled = {}
    if raw and params["server_pagination"]:
        labelled = {name: ((ds.get("columns") or {}).get(name) or {}).get("label") or name
                    for name in cols}
        if len(set(labelled.values())) != len(labelled):
            raise ValueError(f"{chart.get('title')}: two columns share a label {labelled}")
        params["all_columns"] = [_labelled_column(n, labelled[n]) for n in cols]
        params["column_config"] = {
            labelled[n]: rest for n, cfg in column_config.items()
            if (rest := {k: v for k, v in cfg.items() if k != "customColumnName"})}
        params["temporal_columns_lookup"] = {labelled[c]: True for c in cols if c in temporal}
    # --- end server-paginated lists
    if not raw and metrics:
        # Explore orders an aggregate table by its first metric, largest first; a chart of
        # "units that need attention" asks for the smallest first (`sort_ascending`).
        # The table plugin honours the direction only with an explicit sort metric.
        ascending = bool(chart.get("sort_ascending", False))
        params["order_desc"] = not ascending
        if ascending:
            params["timeseries_limit_metric"] = metrics[0]
        order_by = [[metrics[0], ascending]]
    query = {
        **_base_query(params["adhoc_filters"], row_limit, grain),
        # a raw table's columns as they are; an aggregate one's months at the table's grain,
        # first, as the table plugin sends them
        "columns": [
            _axis_column(c, grain, reference=False) if c in temporal and not raw
            else _labelled_column(c, labelled[c]) if labelled else c
            for c in (cols if raw else sorted(cols, key=lambda c: c not in temporal))
        ],
        "order_desc": params["order_desc"],
        "orderby": order_by,
        "post_processing": [],
        "time_offsets": [],
    }
    if not raw:  # no metrics key at all is what makes the query ungrouped
        query["metrics"] = metrics
    if params.get("timeseries_limit_metric"):
        query["series_limit_metric"] = params["timeseries_limit_metric"]
    # --- server-paginated lists (issue 21): the pager's page-size box offers only Superset's
    # SERVER_PAGE_SIZE_OPTIONS no larger than the row count, and shows 0 when the page size is
    # not among them (plugin-chart-table DataTable); the row count query is capped at row_limit.
    if params["server_pagination"]:
        if params["server_page_length"] not in SERVER_PAGE_SIZES:
            raise ValueError(f"{chart.get('title')}: page_length {params['server_page_length']}"
                             f" is not one of Superset's server page sizes {SERVER_PAGE_SIZES}")
        if not raw:
            raise ValueError(f"{chart.get('title')}: server pagination is for lists (columns:)")
    # --- end server-paginated lists
    if params["server_pagination"]:
        # One page of rows, and the row count for the pager (what the table plugin asks for
        # with server pagination on, e.g. a list of every dossier).
        page = {**query, "row_limit": params["server_page_length"], "row_offset": 0}
        count = {**query, "is_rowcount": True, "row_offset": 0}
        return "table", params, [page, count]
    return "table", params, [query]


def _timeseries(viz: str):
    def build(ds: dict, chart: dict) -> tuple[str, dict, list[dict]]:
        """Bar/line over an axis, one series per `groupby` value (Explore's buildQuery:
        query by axis + series, then pivot and flatten).

        The axis is a month (`x` a temporal column) or a category such as the commune
        (`x: org_unit_name`, then `sort_by_metric: true` ranks the bars and
        `orientation: horizontal` lays them out for long names)."""
        x = chart["x"]
        temporal = bool((ds.get("columns") or {}).get(x, {}).get("temporal"))
        groupby = _as_list(chart.get("groupby"))
        metrics = _as_list(chart.get("metrics"))
        grain = chart.get("time_grain", "P1M")
        row_limit = int(chart.get("row_limit", 10000))
        params = {
            **_common_params(ds, chart, viz),
            "color_scheme": COLOR_SCHEME,
            "comparison_type": "values",
            "forecastInterval": 0.8,
            "forecastPeriods": 10,
            "groupby": groupby,
            "legendOrientation": "top",
            "legendType": "scroll",
            "metrics": metrics,
            "only_total": True,
            "order_desc": True,
            "rich_tooltip": True,
            "row_limit": row_limit,
            "show_legend": True,
            "sort_series_type": "sum",
            "time_grain_sqla": grain,
            "tooltipTimeFormat": MONTH_FORMAT,
            "truncate_metric": True,
            "x_axis": x,
            "x_axis_sort_asc": bool(chart.get("sort_ascending", True)),
            "x_axis_time_format": MONTH_FORMAT,
            "x_axis_title_margin": 15,
            "y_axis_bounds": [None, None],
            "y_axis_format": chart.get(
                "format", _metric_format(ds, metrics[0]) if metrics else NUMBER_FORMAT
            ),
            "y_axis_title": chart.get("y_title", ""),
            "y_axis_title_margin": 45 if chart.get("y_title") else 15,
            "y_axis_title_position": "Left",
            "zoomable": False,
        }
        if not temporal and chart.get("sort_by_metric") and metrics:
            params["x_axis_sort"] = _metric_label(ds, metrics[0])
            params["x_axis_sort_series_type"] = "sum"
        if viz == "echarts_timeseries_bar":
            params["orientation"] = chart.get("orientation", "vertical")
            params["stack"] = "Stack" if chart.get("stacked") else None
            params["show_value"] = bool(chart.get("show_value", False))
        else:
            params["markerEnabled"] = True
            params["markerSize"] = 6
            params["seriesType"] = "line"
        post = [
            {
                "operation": "pivot",
                "options": {
                    "aggregates": {m: {"operator": "mean"} for m in metrics},
                    "columns": groupby,
                    "drop_missing_columns": False,
                    "index": [x],
                },
            },
        ]
        if len(metrics) == 1 and groupby:
            post.append(
                {
                    "operation": "rename",
                    "options": {"columns": {metrics[0]: None}, "inplace": True, "level": 0},
                }
            )
        if not temporal and params.get("x_axis_sort"):
            post.append(
                {
                    "operation": "sort",
                    "options": {
                        "by": params["x_axis_sort"],
                        "ascending": params["x_axis_sort_asc"],
                    },
                }
            )
        post.append({"operation": "flatten"})
        query = {
            **_base_query(params["adhoc_filters"], row_limit, grain),
            "columns": [_axis_column(x, grain), *groupby],
            "metrics": metrics,
            "orderby": [[metrics[0], False]] if metrics else [],
            "post_processing": post,
            "series_columns": groupby,
            "time_offsets": [],
        }
        return viz, params, [query]

    return build


def _big_number(ds: dict, chart: dict) -> tuple[str, dict, list[dict]]:
    """One total, e.g. the year's budget revenue."""
    metric = chart["metric"]
    params = {
        **_common_params(ds, chart, "big_number_total"),
        "header_font_size": 0.4,
        "metric": metric,
        "subheader": chart.get("subtitle", ""),
        "subheader_font_size": 0.15,
        "time_format": "smart_date",
        "y_axis_format": chart.get("format", _metric_format(ds, metric)),
    }
    query = {
        **_base_query(params["adhoc_filters"], None, None),
        "columns": [],
        "metrics": [metric],
    }
    return "big_number_total", params, [query]


def _big_number_trend(ds: dict, chart: dict) -> tuple[str, dict, list[dict]]:
    """The latest month's value with the months before it as a trend line.

    This is how a headline KPI honours "stocks are not summed over months": the metric is
    computed per month (`x`, grain `P1M`) and the number shown is the last month's, e.g. the
    poor-household rate of the latest month in the selected period, not a sum over months.
    """
    metric = chart["metric"]
    x = chart.get("x") or chart.get("time_column") or ds.get("time_column")
    grain = chart.get("time_grain", "P1M")
    params = {
        **_common_params(ds, chart, "big_number"),
        "aggregation": "LAST_VALUE",
        "color_picker": {"a": 1, "b": 135, "g": 122, "r": 0},
        "compare_lag": chart.get("compare_lag"),
        "compare_suffix": chart.get("compare_suffix", ""),
        "header_font_size": 0.4,
        "metric": metric,
        "rolling_type": "None",
        "show_timestamp": True,
        "show_trend_line": True,
        "start_y_axis_at_zero": bool(chart.get("start_at_zero", True)),
        "subheader": chart.get("subtitle", ""),
        "subheader_font_size": 0.15,
        "time_format": chart.get("time_format", MONTH_FORMAT),
        "time_grain_sqla": grain,
        "x_axis": x,
        "y_axis_format": chart.get("format", _metric_format(ds, metric)),
    }
    query = {
        **_base_query(params["adhoc_filters"], None, grain),
        "columns": [_axis_column(x, grain)],
        "metrics": [metric],
        "post_processing": [
            {
                "operation": "pivot",
                "options": {
                    "aggregates": {metric: {"operator": "mean"}},
                    "columns": [],
                    "drop_missing_columns": True,
                    "index": [x],
                },
            },
            {"operation": "flatten"},
        ],
    }
    return "big_number", params, [query]


def _pie(ds: dict, chart: dict) -> tuple[str, dict, list[dict]]:
    metric = chart["metric"]
    groupby = _as_list(chart.get("groupby"))
    row_limit = int(chart.get("row_limit", 100))
    params = {
        **_common_params(ds, chart, "pie"),
        "color_scheme": COLOR_SCHEME,
        "groupby": groupby,
        "innerRadius": 30,
        "label_type": "key_percent",
        "labels_outside": True,
        "legendOrientation": "top",
        "legendType": "scroll",
        "metric": metric,
        "number_format": chart.get("format", NUMBER_FORMAT),
        "outerRadius": 70,
        "row_limit": row_limit,
        "show_labels": True,
        "show_legend": True,
        "sort_by_metric": True,
    }
    query = {
        **_base_query(params["adhoc_filters"], row_limit, None),
        "columns": groupby,
        "metrics": [metric],
        "orderby": [[metric, False]],
        # each slice's share, for the labels
        "post_processing": [
            {
                "operation": "contribution",
                "options": {"columns": [metric], "rename_columns": [f"{metric}__contribution"]},
            }
        ],
    }
    return "pie", params, [query]


def _tile_links(ds: dict, chart: dict) -> tuple[str, dict, list[dict]]:
    """Links under a row of overview tiles (issue 18): a one-row table, one column per tile
    (the KPI's `tile_link` metric, apply_catalogue), whose cell is an HTML link to the KPI's
    domain dashboard with the view, area, unit and month of the rows the tile reads.
    (Superset's Handlebars chart would draw them without a table, but it compiles its
    template with `eval`, which the Content Security Policy of this install forbids.)"""
    viz, params, queries = _table(ds, {**chart, "groupby": [], "columns": None,
                                       "metrics": chart["metrics"]})
    params.update({"allow_render_html": True, "include_search": False, "page_length": 0,
                   "server_page_length": 0})
    return viz, params, queries


CHART_BUILDERS = {
    "tile_links": _tile_links,
    "table": _table,
    "bar": _timeseries("echarts_timeseries_bar"),
    "line": _timeseries("echarts_timeseries_line"),
    "big_number": _big_number,
    "big_number_trend": _big_number_trend,
    "pie": _pie,
}


def chart_doc(key: str, chart: dict, ds: dict) -> dict:
    viz, params, queries = CHART_BUILDERS[chart["type"]](ds, chart)
    return {
        "slice_name": chart["title"],
        "description": chart.get("description"),
        "certified_by": None,
        "certification_details": None,
        "viz_type": viz,
        "params": params,
        "query_context": _query_context(ds, params, queries),
        "cache_timeout": None,
        "uuid": chart_uuid(key),
        "version": EXPORT_VERSION,
        "dataset_uuid": dataset_uuid(ds),
    }


# --- dashboards -------------------------------------------------------------------------


def _filter_id(slug: str, name: str) -> str:
    return "NATIVE_FILTER-" + hashlib.sha1(f"{slug}|{name}".encode()).hexdigest()[:20]


def _charts_without(slug: str, column: str, spec: Spec) -> list[int]:
    """Ids of the dashboard's charts whose dataset has no `column` (a filter on it would be
    sent to them and rejected)."""
    out = []
    for row in spec.dashboards[slug].get("layout") or []:
        for item in layout_items(row):
            if "chart" in item:
                ds = spec.datasets[spec.charts[item["chart"]]["dataset"]]
                if column not in (ds.get("columns") or {}):
                    out.append(stable_id(chart_uuid(item["chart"])))
    return sorted(out)


def _native_filter(slug: str, flt: dict, spec: Spec) -> dict:
    fid = _filter_id(slug, flt["name"])
    base = {
        "cascadeParentIds": [_filter_id(slug, flt["parent"])] if flt.get("parent") else [],
        "defaultDataMask": {"extraFormData": {}, "filterState": {}, "ownState": {}},
        "description": flt.get("description", ""),
        "id": fid,
        "name": flt["name"],
        "scope": {"excluded": [], "rootPath": ["ROOT_ID"]},
        "type": "NATIVE_FILTER",
    }
    if flt["type"] == "time":
        return {
            **base,
            "controlValues": {"enableEmptyFilter": False},
            "filterType": "filter_time",
            "targets": [{}],
        }
    if flt["type"] == "select":
        ds = spec.datasets[flt["dataset"]]
        default = [str(v) for v in flt.get("default") or []]
        if default:  # the value the dashboard opens with; not for charts without the column
            base["scope"] = {"excluded": _charts_without(slug, flt["column"], spec),
                             "rootPath": ["ROOT_ID"]}
            base["defaultDataMask"] = {
                "extraFormData": {
                    "filters": [{"col": flt["column"], "op": "IN", "val": default}]},
                "filterState": {"label": ", ".join(default), "value": default},
                "ownState": {},
            }
        return {
            **base,
            "controlValues": {
                "defaultToFirstItem": False,
                "enableEmptyFilter": bool(flt.get("required", False)),
                "inverseSelection": False,
                "multiSelect": flt.get("multi", True),
                "searchAllOptions": False,
                "sortAscending": True,
            },
            "filterType": "filter_select",
            "targets": [{"column": {"name": flt["column"]}, "datasetUuid": dataset_uuid(ds)}],
        }
    raise SpecError(f"dashboard {slug}: unknown filter type {flt['type']!r}")


def _chart_node(position: dict, item: dict, parents: list[str], spec: Spec) -> str:
    key = item["chart"]
    node_id = f"CHART-{key}"
    position[node_id] = {
        "children": [],
        "id": node_id,
        "meta": {
            "chartId": stable_id(chart_uuid(key)),
            "height": item.get("height", 50),
            "sliceName": spec.charts[key]["title"],
            "uuid": chart_uuid(key),
            "width": item.get("width", 4),
        },
        "parents": parents,
        "type": "CHART",
    }
    return node_id


def dashboard_doc(slug: str, dash: dict, spec: Spec) -> dict:
    position: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "GRID_ID": {"children": [], "id": "GRID_ID", "parents": ["ROOT_ID"], "type": "GRID"},
        "HEADER_ID": {"id": "HEADER_ID", "meta": {"text": dash["title"]}, "type": "HEADER"},
        "ROOT_ID": {"children": ["GRID_ID"], "id": "ROOT_ID", "type": "ROOT"},
    }
    for r, row in enumerate(dash.get("layout") or [], start=1):
        row_id = f"ROW-{r:02d}"
        position["GRID_ID"]["children"].append(row_id)
        children = []
        for c, item in enumerate(row, start=1):
            parents = ["ROOT_ID", "GRID_ID", row_id]
            if "column" in item:  # charts stacked in one column (a tile and its link)
                node_id = f"COLUMN-{r:02d}-{c:02d}"
                stacked = []
                for inner in item["column"]:
                    stacked.append(_chart_node(position, inner, [*parents, node_id], spec))
                position[node_id] = {
                    "children": stacked,
                    "id": node_id,
                    "meta": {"background": "BACKGROUND_TRANSPARENT",
                             "width": item.get("width", 2)},
                    "parents": parents,
                    "type": "COLUMN",
                }
            elif "chart" in item:
                node_id = _chart_node(position, item, parents, spec)
            else:
                node_id = f"MARKDOWN-{r:02d}-{c:02d}"
                position[node_id] = {
                    "children": [],
                    "id": node_id,
                    "meta": {
                        "code": item["markdown"],
                        "height": item.get("height", 20),
                        "width": item.get("width", 12),
                    },
                    "parents": parents,
                    "type": "MARKDOWN",
                }
            children.append(node_id)
        position[row_id] = {
            "children": children,
            "id": row_id,
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
            "parents": ["ROOT_ID", "GRID_ID"],
            "type": "ROW",
        }
    metadata = {
        "chart_configuration": {},
        "color_scheme": COLOR_SCHEME,
        "cross_filters_enabled": True,
        "expanded_slices": {},
        "global_chart_configuration": {"scope": {"excluded": [], "rootPath": ["ROOT_ID"]}},
        "label_colors": {},
        "native_filter_configuration": [
            _native_filter(slug, flt, spec) for flt in dash.get("filters") or []
        ],
        "refresh_frequency": 0,
        "shared_label_colors": [],
        "timed_refresh_immune_slices": [],
    }
    return {
        "dashboard_title": dash["title"],
        "description": dash.get("description"),
        "css": DASHBOARD_CSS + dash.get("css", ""),
        "slug": slug,
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": dashboard_uuid(slug),
        "position": position,
        "metadata": metadata,
        "theme_uuid": None,
        "version": EXPORT_VERSION,
    }


# --- bundle -----------------------------------------------------------------------------


def build_documents(spec: Spec) -> dict[str, dict]:
    """Spec -> bundle documents keyed by a provisional path (`canonical_files` names them)."""
    docs: dict[str, dict] = {"databases/warehouse.yaml": database_doc()}
    if any(ds.get("database") == "public" for ds in spec.datasets.values()):
        docs["databases/public.yaml"] = database_doc("public")
    for key, ds in spec.datasets.items():
        docs[f"datasets/{key}.yaml"] = dataset_doc(ds)
    for key, chart in spec.charts.items():
        docs[f"charts/{key}.yaml"] = chart_doc(key, chart, spec.datasets[chart["dataset"]])
    for slug, dash in spec.dashboards.items():
        docs[f"dashboards/{slug}.yaml"] = dashboard_doc(slug, dash, spec)
    return docs


def build_files(spec: Spec) -> dict[str, str]:
    """Spec -> canonical files (path relative to `superset/assets/` -> YAML text)."""
    return canonical_files(build_documents(spec))


def _previous_outputs(spec_dir: Path) -> set[str]:
    listing = spec_dir / GENERATED_LIST
    if not listing.exists():
        return set()
    lines = (line.strip() for line in listing.read_text(encoding="utf-8").splitlines())
    return {line for line in lines if line and not line.startswith("#")}


def write(spec_dir: Path = SPEC_DIR, assets_dir: Path = ASSETS_DIR) -> list[str]:
    """Regenerate the spec's files; delete files the spec generated before but no longer."""
    files = build_files(load_spec(spec_dir))
    stale = _previous_outputs(spec_dir) - set(files)
    for rel in sorted(stale):
        (assets_dir / rel).unlink(missing_ok=True)
    changed = []
    for rel, text in sorted(files.items()):
        path = assets_dir / rel
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            changed.append(rel)
    listing = "".join(f"{rel}\n" for rel in sorted(files))
    (spec_dir / GENERATED_LIST).write_text(
        "# Files of superset/assets/ generated from this folder by `ioc superset build-assets`.\n"
        + listing,
        encoding="utf-8",
    )
    return changed + [f"deleted {rel}" for rel in sorted(stale)]


def check(spec_dir: Path = SPEC_DIR, assets_dir: Path = ASSETS_DIR) -> list[str]:
    """Differences between the spec and the committed YAML (empty when up to date)."""
    files = build_files(load_spec(spec_dir))
    problems = []
    for rel, text in sorted(files.items()):
        path = assets_dir / rel
        if not path.exists():
            problems.append(f"missing {rel}")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(f"out of date {rel}")
    listed = _previous_outputs(spec_dir)
    if listed != set(files):
        problems.append(f"{GENERATED_LIST} lists {sorted(listed ^ set(files))} wrongly")
    for rel in sorted(listed - set(files)):
        if (assets_dir / rel).exists():
            problems.append(f"stale {rel}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the YAML is out of date")
    args = parser.parse_args(argv)
    if args.check:
        problems = check()
        for p in problems:
            print(p)
        return 1 if problems else 0
    for line in write():
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
