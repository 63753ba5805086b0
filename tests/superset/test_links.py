"""Link columns (issue 18): the SQL the builder writes, evaluated by PostgreSQL on hand-made
rows, gives the address of the target dashboard with exactly the row's filters in rison;
values that would break rison, the URL or the HTML attribute are escaped; a NULL leaves its
filter out; a link naming a filter the target does not have fails the build."""

from __future__ import annotations

import pytest

from ioc import warehouse
from ioc_superset import assets_builder
from ioc_superset.assets_builder import SpecError, _filter_id, link_sql


def _select(fid: str, col: str, value: str) -> str:
    return (f"{fid}:(id:{fid},extraFormData:(filters:!((col:{col},op:IN,val:!({value})))),"
            f"filterState:(value:!({value})))")


def _evaluate(settings, sql: str, row: dict) -> str:
    """`sql` over one row of typed values (the expression's own % signs kept literal)."""
    columns = ", ".join(f"%s::{kind} as {name}" for name, (kind, _v) in row.items())
    query = f"select {sql.replace('%', '%%')} from (select {columns}) as r"
    with warehouse.connect(settings) as conn:
        return conn.execute(query, [value for _k, value in row.values()]).fetchone()[0]


@pytest.fixture(scope="module")
def spec():
    return assets_builder.load_spec()


def test_a_row_links_to_its_domain_with_its_view_area_unit_and_month(warehouse_settings, spec):
    col = spec.datasets["fct_kpi_thang"]["columns"]["xem_linh_vuc"]
    row = {"domain": ("text", "phan_anh_kien_nghi"),
           "structure_view_name": ("text", "Theo cấu trúc hiện nay"),
           "district_name": ("text", "Khu vực Hiệp Đức"),
           "org_unit_name": ("text", "Xã O'Reilly & Co! #1 <b>"),
           "unit_level": ("text", "don_vi"),
           "period_month": ("date", "2025-08-01")}
    html = _evaluate(warehouse_settings, col["sql"], row)
    slug = "phan-anh-kien-nghi"
    unit = "'Xã O!'Reilly %26 Co!! %231 %3Cb%3E'"
    time_id = _filter_id(slug, "Kỳ báo cáo")
    expected = (
        f'<a href="/superset/dashboard/{slug}/?native_filters=('
        + _select(_filter_id(slug, "Góc nhìn lịch sử"), "structure_view_name",
                  "'Theo cấu trúc hiện nay'") + ","
        + _select(_filter_id(slug, "Địa bàn"), "district_name", "'Khu vực Hiệp Đức'") + ","
        + _select(_filter_id(slug, "Đơn vị"), "org_unit_name", unit) + ","
        + f"{time_id}:(id:{time_id},extraFormData:(time_range:'2025-08-01 : 2025-09-01'),"
          f"filterState:(value:'2025-08-01 : 2025-09-01'))"
        + ')">Mở lĩnh vực →</a>'
    )
    assert html == expected
    # an area's row: the area only; education keeps its own period (semesters)
    row |= {"unit_level": ("text", "dia_ban"), "domain": ("text", "giao_duc")}
    html = _evaluate(warehouse_settings, col["sql"], row)
    assert "org_unit_name" not in html and "time_range" not in html
    assert html.startswith('<a href="/superset/dashboard/giao-duc/?native_filters=(')
    assert _filter_id("giao-duc", "Địa bàn") in html


def _aggregate(settings, sql: str, rows: list[tuple]) -> str:
    """`sql` (an aggregate) over hand-made rows of fct_kpi_thang's columns."""
    query = (f"select {sql.replace('%', '%%')} from (values "
             + ", ".join(["(%s, %s, %s, %s, %s, %s, %s::date)"] * len(rows))
             + ") as r(kpi_code, kpi_short_name, domain, structure_view_name, district_name,"
             " org_unit_name, period_month)")
    with warehouse.connect(settings) as conn:
        return conn.execute(query, [v for row in rows for v in row]).fetchone()[0]


def test_a_tile_links_to_its_domain_with_the_view_area_unit_and_month_of_its_rows(
        warehouse_settings, spec):
    """The link under a tile (lk_<code>) reads that KPI's rows only: the latest month (the
    tile's), and the view, area, unit when its rows hold one (the overview filtered them)."""
    sql = spec.datasets["fct_kpi_thang"]["metrics"]["lk_hcc_dung_han"]["sql"]
    view, area, slug = "Theo cấu trúc hiện nay", "Khu vực Hiệp Đức", "hanh-chinh-cong"
    ours = ("hcc_dung_han", "Hồ sơ <đúng hạn>", "hanh_chinh_cong", view, area)
    other = ("vb_dung_han", "Văn bản", "van_ban", view, "Khu vực khác")
    time_id = _filter_id(slug, "Kỳ báo cáo")
    month = (f"{time_id}:(id:{time_id},extraFormData:(time_range:'2025-08-01 : 2025-09-01'),"
             f"filterState:(value:'2025-08-01 : 2025-09-01'))")
    head = (f'<a href="/superset/dashboard/{slug}/?native_filters=('
            + _select(_filter_id(slug, "Góc nhìn lịch sử"), "structure_view_name",
                      f"'{view}'") + ","
            + _select(_filter_id(slug, "Địa bàn"), "district_name", f"'{area}'") + ",")
    # two units of the area: the area, not a unit; another KPI's later month is not its own
    rows = [(*ours, "Xã A", "2025-07-01"), (*ours, "Xã B", "2025-08-01"),
            (*other, "Xã C", "2025-10-01")]
    assert _aggregate(warehouse_settings, sql, rows) == (
        head + month + ')">Hồ sơ &lt;đúng hạn&gt; →</a>')
    # the overview filtered to one unit: that unit too
    rows = [(*ours, "Xã A", "2025-07-01"), (*ours, "Xã A", "2025-08-01"), *rows[2:]]
    assert _aggregate(warehouse_settings, sql, rows) == (
        head + _select(_filter_id(slug, "Đơn vị"), "org_unit_name", "'Xã A'") + ","
        + month + ')">Hồ sơ &lt;đúng hạn&gt; →</a>')
    # no row of the KPI yet (the tile shows its empty state): an empty cell, not "N/A"
    assert _aggregate(warehouse_settings, sql, rows[2:]) == ""


def test_a_link_to_a_filter_the_target_lacks_fails_the_build(spec):
    with pytest.raises(SpecError, match="no select filter"):
        link_sql({"dashboard": "y-te", "filters": {"Không có": "org_unit_name"}}, spec)
    with pytest.raises(SpecError, match="unknown dashboard"):
        link_sql({"dashboard": "khong-co", "filters": {}}, spec)
    # a misspelt shorthand of "the one value of the group's rows" is refused, not ignored
    with pytest.raises(SpecError, match=r"filter 'Đơn vị'.*\{one: <column>"):
        link_sql({"dashboard": "y-te", "filters": {"Đơn vị": {"onee": "org_unit_name"}}}, spec)


def test_superset_sends_a_report_rows_original_link_on_to_the_upload_page(superset_server):
    """`/ioc/tep-goc/<archive name>` (superset/ioc_links.py) redirects to the upload page,
    which decides who downloads (tests/upload: only the data team); other names: 404."""
    import re

    import httpx

    name = "ab" * 32 + ".xlsx"
    resp = httpx.get(f"{superset_server.url}/ioc/tep-goc/{name}?ten=KTXH-01 08.xlsx",
                     follow_redirects=False)
    assert resp.status_code == 302
    assert re.fullmatch(rf"http://127\.0\.0\.1:\d+/tep-goc/{name}\?ten=KTXH-01\+08\.xlsx",
                        resp.headers["location"]), resp.headers["location"]
    for bad in ("ab" * 32 + ".xlsx.exe.zip.tar.gz.x", "..%2F..%2Fetc%2Fpasswd", "AB" * 32):
        assert httpx.get(f"{superset_server.url}/ioc/tep-goc/{bad}",
                         follow_redirects=False).status_code == 404, bad
