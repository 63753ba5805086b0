"""The committed Superset files, without a running Superset: up to date and well formed."""

from __future__ import annotations

import csv
import functools
import json

import yaml

from ioc.settings import PROJECT_ROOT
from ioc_superset import assets_builder, assets_format, bundle, policies
from tests.support.layout import layout_height_px


@functools.cache
def _docs() -> dict[str, dict]:
    """The committed documents, parsed once (read only)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return {rel: yaml.load(text, Loader=loader) for rel, text in bundle.read_dir().items()}


def test_assets_yaml_is_what_the_spec_generates():
    assert assets_builder.check() == [], "run `ioc superset build-assets` and commit the YAML"


def test_rls_policy_is_generated_from_org_units():
    assert policies.rls_up_to_date(), "run `ioc superset build-policies` and commit rls.yaml"


def test_committed_files_are_in_canonical_form():
    files = bundle.read_dir()
    assert assets_format.canonical_files(assets_format.parse_files(files)) == files


def test_bundle_cross_references_resolve():
    docs = _docs()
    datasets = {d["uuid"]: d for r, d in docs.items() if r.startswith("datasets/")}
    databases = {d["uuid"] for r, d in docs.items() if r.startswith("databases/")}
    charts = {d["uuid"]: d for r, d in docs.items() if r.startswith("charts/")}
    dashboards = [d for r, d in docs.items() if r.startswith("dashboards/")]
    assert datasets and charts and dashboards
    for ds in datasets.values():
        assert ds["schema"], f"{ds['table_name']}: datasets must set schema"
        assert ds["database_uuid"] in databases
    for chart in charts.values():
        assert chart["dataset_uuid"] in datasets, chart["slice_name"]
        context = json.loads(chart["query_context"])  # GET /chart/<pk>/data/ needs it
        assert context["queries"] and context["datasource"]["type"] == "table"
        assert context["form_data"]["viz_type"] == chart["viz_type"]
    for dash in dashboards:
        in_layout = {
            n["meta"]["uuid"]
            for n in dash["position"].values()
            if isinstance(n, dict) and n.get("type") == "CHART"
        }
        assert in_layout and in_layout <= set(charts), dash["dashboard_title"]
        for flt in dash["metadata"]["native_filter_configuration"]:
            for target in flt["targets"]:
                if "datasetUuid" in target:
                    assert target["datasetUuid"] in datasets


def test_database_password_is_masked_and_role_is_read_only():
    # the public page's connection (ioc_public) is checked in test_public_page.py
    (db,) = [d for r, d in _docs().items() if r.startswith("databases/")
             and d["uuid"] != assets_format.PUBLIC_DATABASE_UUID]
    assert db["database_name"] == "Kho dữ liệu IOC"
    assert db["sqlalchemy_uri"].startswith("postgresql+psycopg2://ioc_bi:XXXXXXXXXX@")
    assert "password" not in db
    assert db["allow_dml"] is False


def test_slice_dashboard_is_vietnamese_with_period_and_unit_filters():
    docs = _docs()
    (dash,) = [d for d in docs.values() if d.get("slug") == "kinh-te-xa-hoi"]
    assert dash["dashboard_title"] == "Kinh tế - Xã hội"
    filters = dash["metadata"]["native_filter_configuration"]
    types = {f["filterType"] for f in filters}
    assert {"filter_time", "filter_select"} <= types
    columns = {t["column"]["name"] for f in filters for t in f["targets"] if "column" in t}
    assert "org_unit_name" in columns
    vizzes = {d["viz_type"] for d in docs.values() if "viz_type" in d}
    assert "table" in vizzes and vizzes & {"echarts_timeseries_bar", "echarts_timeseries_line"}


def test_every_commune_has_a_role_and_merged_communes_see_their_history():
    with open(PROJECT_ROOT / "dbt_project/seeds/org_units.csv", encoding="utf-8") as fh:
        communes = {
            u["org_unit_id"]: u["name"]
            for u in csv.DictReader(fh)
            if u["unit_type"] in policies.commune_levels()
        }
    rules = {r["org_unit_id"]: r for r in policies.commune_rules()}
    assert set(rules) == set(communes)
    assert rules["xa-hiep-thuan"]["role"] == "Xã Hiệp Thuận"
    assert rules["xa-hiep-thuan"]["clause"] == "org_unit_id = 'xa-hiep-thuan'"
    assert rules["xa-que-tan"]["clause"] == (
        "org_unit_id IN ('xa-hiep-hoa', 'xa-hiep-thuan', 'xa-que-tan')"
    )
    # the 2025 reform: a commune sees its predecessors through every merger since 2020
    assert rules["xa-hiep-duc"]["clause"] == (
        "org_unit_id IN ('tt-tan-an', 'tt-tan-binh', 'xa-hiep-duc', 'xa-hiep-hoa', "
        "'xa-hiep-thuan', 'xa-que-binh', 'xa-que-luu', 'xa-que-tan')"
    )


def test_role_names_are_unique_when_two_units_share_a_name():
    rules = {r["org_unit_id"]: r for r in policies.commune_rules()}
    roles = [r["role"] for r in rules.values()]
    assert len(roles) == len(set(roles))
    assert rules["xa-phuoc-tra"]["role"] == "Xã Phước Trà (đến 30/06/2025)"
    assert rules["xa-phuoc-tra-2025"]["role"] == "Xã Phước Trà (từ 01/07/2025)"
    assert rules["xa-phuoc-tra-2025"]["clause"] == (
        "org_unit_id IN ('xa-phuoc-gia', 'xa-phuoc-tra', 'xa-phuoc-tra-2025', 'xa-song-tra')"
    )
    assert rules["xa-viet-an"]["role"] == "Xã Việt An"  # a unique name stays as it is


def test_builder_rejects_unknown_references():
    spec = assets_builder.Spec(
        datasets={"d": {"schema": "mart_x", "table": "t", "columns": {"a": {"type": "TEXT"}}}},
        charts={"c": {"title": "C", "dataset": "d", "type": "bar", "x": "a", "metrics": ["m"]}},
        dashboards={"x": {"title": "X", "layout": [[{"chart": "nope"}]]}},
    )
    try:
        assets_builder.validate(spec)
    except assets_builder.SpecError as exc:
        message = str(exc)
    else:
        raise AssertionError("validate() accepted an inconsistent spec")
    assert "no metric m" in message and "unknown chart nope" in message


def test_canonical_form_replaces_install_ids_with_uuid_derived_ones():
    """An export from another install (other ids, file names, URI) maps to the same files."""
    files = bundle.read_dir()
    docs = assets_format.parse_files(files)
    shifted = {}
    for rel, doc in docs.items():
        doc = json.loads(json.dumps(doc))
        if rel.startswith("charts/"):
            doc["params"]["datasource"] = "99__table"
            doc["params"]["slice_id"] = 4242
            qc = json.loads(doc["query_context"])
            qc["datasource"]["id"] = 99
            doc["query_context"] = json.dumps(qc)
        if rel.startswith("dashboards/"):
            for node in doc["position"].values():
                if isinstance(node, dict) and node.get("type") == "CHART":
                    node["meta"]["chartId"] += 7
            for flt in doc["metadata"]["native_filter_configuration"]:
                flt["scope"]["excluded"] = [i + 7 for i in flt["scope"]["excluded"]]
        if rel.startswith("databases/"):
            doc["sqlalchemy_uri"] = "postgresql+psycopg2://ioc_bi:XXXXXXXXXX@10.0.0.5:5432/ioc"
        shifted[f"export_root/{rel.replace('.yaml', '_17.yaml')}"] = doc
    assert assets_format.canonical_files(shifted) == files


def _mart_contracts() -> dict[tuple[str, str], set[str]]:
    """(schema, table) -> columns declared in the dbt contracts of the marts."""
    out = {}
    for path in (PROJECT_ROOT / "dbt_project" / "models" / "marts").glob("*/*.yml"):
        schema = f"mart_{path.parent.name}"
        for model in yaml.safe_load(path.read_text(encoding="utf-8")).get("models") or []:
            table = (model.get("config") or {}).get("alias") or model["name"]
            out[(schema, table)] = {c["name"] for c in model.get("columns") or []}
    return out


def test_datasets_are_physical_mart_tables_with_contract_columns():
    """RLS and the BI role's grants rely on physical tables of mart_* schemas; a column the
    contract does not declare could vanish in the next dbt change (calculated columns, with
    an `expression`, are computed from declared ones)."""
    contracts = _mart_contracts()
    # the public page's datasets read the schema cong_khai (test_public_page.py)
    datasets = [d for rel, d in _docs().items() if rel.startswith("datasets/")
                and d["database_uuid"] != assets_format.PUBLIC_DATABASE_UUID]
    assert len(datasets) >= 17
    for ds in datasets:
        key = (ds["schema"], ds["table_name"])
        assert ds["sql"] is None, f"{key}: virtual datasets bypass RLS and grants"
        assert ds["schema"].startswith("mart_") and key in contracts, key
        physical = {c["column_name"] for c in ds["columns"] if not c["expression"]}
        assert physical <= contracts[key], (key, physical - contracts[key])
        assert "org_unit_id" in physical, f"{key}: no unit column for row-level security"


def test_rates_are_ratios_of_sums_never_averages():
    for rel, ds in _docs().items():
        if not rel.startswith("datasets/"):
            continue
        for metric in ds["metrics"]:
            sql = " ".join(metric["expression"].upper().split())
            assert "AVG(" not in sql, (ds["table_name"], metric["metric_name"])
            if "/" in sql:
                assert "NULLIF(" in sql, (ds["table_name"], metric["metric_name"])


def test_every_dashboard_filters_period_view_and_area_levels():
    """Both eras: province or city → district or area → unit, by name; the view of history
    required, single, opening on today's structure."""
    # the public page (today's units only, no history view) is checked in test_public_page.py
    dashboards = [d for rel, d in _docs().items() if rel.startswith("dashboards/")
                  and d["slug"] != "cong-khai"]
    assert {d["dashboard_title"] for d in dashboards} >= {
        "Tổng quan IOC",
        "Hành chính công",
        "Quản lý văn bản",
        "Kinh tế - Xã hội",
        "Y tế",
        "Giáo dục",
        "Phản ánh kiến nghị",
        "Tình hình nộp báo cáo",
    }
    for dash in dashboards:
        meta = dash["metadata"]
        assert meta["cross_filters_enabled"] is True
        filters = meta["native_filter_configuration"]
        by_column = {t["column"]["name"]: f for f in filters for t in f["targets"] if "column" in t}
        assert any(f["filterType"] == "filter_time" for f in filters), dash["slug"]
        province, area = by_column["province_name"], by_column["district_name"]
        unit, view = by_column["org_unit_name"], by_column["structure_view_name"]
        assert area["cascadeParentIds"] == [province["id"]], dash["slug"]
        assert unit["cascadeParentIds"] == [area["id"]], dash["slug"]
        assert view["controlValues"]["enableEmptyFilter"] is True, dash["slug"]
        assert view["controlValues"]["multiSelect"] is False, dash["slug"]
        assert view["defaultDataMask"]["filterState"]["value"] == ["Theo cấu trúc hiện nay"]
        assert view["defaultDataMask"]["extraFormData"]["filters"] == [
            {"col": "structure_view_name", "op": "IN", "val": ["Theo cấu trúc hiện nay"]}]


def test_charts_format_numbers_and_months_the_vietnamese_way():
    for rel, chart in _docs().items():
        if not rel.startswith("charts/"):
            continue
        params = chart["params"]
        for key in ("x_axis_time_format", "table_timestamp_format", "time_format"):
            if key in params and chart["viz_type"] != "big_number_total":
                assert "%m" in params[key] and "%Y" in params[key], (chart["slice_name"], key)
        assert "$" not in params.get("y_axis_format", ""), chart["slice_name"]


def test_every_row_of_overview_tiles_has_one_link_chart_right_under_it():
    """Issues 18 and 21: under each row of the overview's tiles, one link chart spanning the
    row (one query per row, not per tile) whose columns are the row's tiles' links
    (`lk_<code>`) in the tiles' order; the dashboard's CSS hides its title and table header
    and gives each column its tile's share of the grid, so each link stands under its tile."""
    docs = _docs()
    charts = {d["uuid"]: d for r, d in docs.items() if r.startswith("charts/")}
    (overview,) = [d for r, d in docs.items()
                   if r.startswith("dashboards/") and d["slug"] == "tong-quan"]
    position = overview["position"]
    rows = [position[r] for r in position["GRID_ID"]["children"]]

    def row_charts(row):
        return [position[c] for c in row["children"] if position[c]["type"] == "CHART"]

    tiles_seen = 0
    for r, row in enumerate(rows):
        nodes = row_charts(row)
        tiles = [n for n in nodes if charts[n["meta"]["uuid"]]["viz_type"] == "big_number"]
        if not tiles:
            continue
        assert len(tiles) == len(row["children"]), "a row of tiles holds tiles only"
        tiles_seen += len(tiles)
        (link_node,) = row_charts(rows[r + 1])  # the next row: the link chart alone
        assert rows[r + 1]["children"] == [link_node["id"]]
        assert link_node["meta"]["width"] == sum(t["meta"]["width"] for t in tiles)
        link = charts[link_node["meta"]["uuid"]]
        assert link["slice_name"].startswith(assets_builder.TILE_LINK_TITLE)
        assert link["viz_type"] == "table" and link["params"]["allow_render_html"]
        kpis = [charts[t["meta"]["uuid"]]["params"]["metric"] for t in tiles]
        assert [m if isinstance(m, str) else m.get("label") for m in link["params"]["metrics"]] \
            == [assets_builder.TILE_LINK_PREFIX + k for k in kpis], link["slice_name"]
        (query,) = json.loads(link["query_context"])["queries"]
        assert len(query["metrics"]) == len(tiles) and not query["columns"]
        # each column's width is its tile's share of the row
        total = sum(t["meta"]["width"] for t in tiles)
        for i, tile in enumerate(tiles, start=1):
            share = f"{100 * tile['meta']['width'] / total:.4f}".rstrip("0").rstrip(".")
            assert (f'[data-test-chart-name="{link["slice_name"]}"] td:nth-child({i})'
                    in overview["css"]), (link["slice_name"], i)
            assert f"td:nth-child({i}) {{ width: {share}% !important; }}" in overview["css"]
    assert tiles_seen >= 18
    # no per-tile link chart is left: one link chart per row of tiles
    names = [c["slice_name"] for c in charts.values()
             if c["slice_name"].startswith(assets_builder.TILE_LINK_TITLE)]
    assert len(names) == 3, names
    assert overview["css"].startswith(assets_builder.DASHBOARD_CSS + assets_builder.TILE_LINK_CSS)
    assert "table-layout: fixed" in overview["css"] and "width: 100%" in overview["css"]


def test_every_dashboard_s_report_page_ends_at_its_last_row():
    # a scheduled report screenshots the standalone page's body; without REPORT_CSS the body
    # is the 6,000 px window's height (tests/superset/test_scheduled_reports.py measures the
    # PDF). It touches the standalone page only: the dashboards people open are unchanged.
    dashboards = [d for rel, d in _docs().items() if rel.startswith("dashboards/")]
    assert len(dashboards) >= 10
    for dash in dashboards:
        assert dash["css"].startswith(assets_builder.DASHBOARD_CSS), dash["slug"]
    rules = [line for line in assets_builder.REPORT_CSS.splitlines()
             if line and not line.startswith("/*")]
    assert rules and all(line.startswith("body.standalone") for line in rules), rules


# --- issue 21: long lists are paginated on the server ----------------------------------------
LIST_ROW_LIMIT = 100_000  # the pager counts up to row_limit; Superset caps it at SQL_MAX_ROW
# A raw table that stays whole: the indicator values per commune and month (the mart's grain,
# not a list of cases), also the chart of the commune's CSV report (test_scheduled_reports).
WHOLE_TABLES = {"Chỉ tiêu theo xã và tháng"}


def test_long_lists_are_paginated_on_the_server_with_labelled_columns():
    """Every list of single cases or rows (a raw table) asks the server for one page and the
    row count; its page size is one the page-size box offers (else it reads 0), its columns
    carry the dataset's Vietnamese labels (the search-by choices name them), and its row
    limit reaches every row. Aggregated tables keep their client-side pages."""
    docs = _docs()
    datasets = {d["uuid"]: d for r, d in docs.items() if r.startswith("datasets/")}
    lists = 0
    for rel, chart in docs.items():
        if not rel.startswith("charts/") or chart["viz_type"] != "table":
            continue
        params = chart["params"]
        if params["query_mode"] != "raw" or params["row_limit"] < 5000 or \
                chart["slice_name"] in WHOLE_TABLES:
            assert not params.get("server_pagination"), rel
            continue
        lists += 1
        assert params["server_pagination"] is True, rel
        size = params["server_page_length"]
        assert size in assets_builder.SERVER_PAGE_SIZES and params["page_length"] == size, rel
        assert params["row_limit"] == LIST_ROW_LIMIT and params["include_search"], rel
        labels = {c["column_name"]: c["verbose_name"] for c in
                  datasets[chart["dataset_uuid"]]["columns"]}
        for col in params["all_columns"]:
            assert col["expressionType"] == "SQL" and col["label"] == (
                labels[col["sqlExpression"]] or col["sqlExpression"]), (rel, col)
        page, count = json.loads(chart["query_context"])["queries"]
        assert page["row_limit"] == size and page["row_offset"] == 0, rel
        assert count["is_rowcount"] and count["row_limit"] == LIST_ROW_LIMIT, rel
    assert lists >= 16, lists


def test_public_unit_table_is_newest_first_without_rates_lacking_a_denominator():
    (chart,) = [d for r, d in _docs().items()
                if r.startswith("charts/") and d["slice_name"] == "Chỉ số 766 theo đơn vị và tháng"]
    params = chart["params"]
    assert json.loads(params["order_by_cols"][0]) == ["thang", False]  # descending
    assert {"subject": "mau_so", "operator": ">", "comparator": 0}.items() <= next(
        f for f in params["adhoc_filters"] if f["subject"] == "mau_so").items()


def test_every_dashboard_fits_the_report_screenshots_window():
    """A report's screenshot is cut to the window (superset_config.WEBDRIVER_WINDOW): every
    dashboard, with room for gutters and its header, fits inside it."""
    import ast

    tree = ast.parse((PROJECT_ROOT / "superset" / "superset_config.py").read_text())
    (window,) = [ast.literal_eval(node.value) for node in tree.body
                 if isinstance(node, ast.Assign)
                 and getattr(node.targets[0], "id", None) == "WEBDRIVER_WINDOW"]
    _width, window_height = window["dashboard"]
    dashboards = {doc["slug"]: doc for rel, doc in _docs().items()
                  if rel.startswith("dashboards/")}
    assert "tong-quan" in dashboards
    for slug, doc in dashboards.items():
        needed = layout_height_px(doc["position"]) * 1.2 + 200  # gutters, title, filters bar
        assert needed <= window_height, (slug, needed, window_height)
