"""The alert catalogue is typed like the KPI catalogue, and every link it makes opens a
dashboard that exists with the filters the link sets."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ioc.alerts import catalogue, rules
from ioc.settings import PROJECT_ROOT

TEXT = catalogue.CATALOGUE_FILE.read_text(encoding="utf-8")


def test_the_catalogue_loads():
    cat = catalogue.load()
    assert {r.kind for r in cat.alerts} == {"chi_so_vuot_nguong", "duoi_muc_tieu", "ngoai_le",
                                           "thieu_bao_cao"}


@pytest.mark.parametrize(("change", "message"), [
    (("threshold: 10", "thresold: 10"),
     r"alerts\[ho_so_qua_han\]\.thresold: khóa không có trong lược đồ"),
    (("kpi: hcc_qua_han_dang_xu_ly", "kpi: hcc_khong_co"),
     r"chỉ số không có trong catalogue/kpis\.yaml: 'hcc_khong_co'"),
    (("kpis: [hcc_dung_han,", "kpis: [hcc_qua_han_dang_xu_ly,"),
     r"hcc_qua_han_dang_xu_ly là số đếm, không có chỉ tiêu"),
    (("code: thieu_bao_cao", "code: ho_so_qua_han"), r"khai báo hai lần: \['ho_so_qua_han'\]"),
    (("kind: ngoai_le", "kind: dot_bien"), r"alerts\[so_lieu_tang_dot_bien\]"),
    (("  days_after: 1", "  days_after: 1\n  gio: 7"),
     r"reminders\.gio: khóa không có trong lược đồ"),
])
def test_a_wrong_catalogue_is_refused_naming_the_key(change, message):
    old, new = change
    assert old in TEXT
    with pytest.raises(catalogue.AlertCatalogueError, match=message):
        catalogue.parse(TEXT.replace(old, new, 1))


def _dashboards() -> dict[str, dict]:
    out = {}
    for path in (PROJECT_ROOT / "superset" / "assets" / "dashboards").glob("*.yaml"):
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        out[doc["slug"]] = doc
    return out


def test_links_open_existing_dashboards_with_the_filters_they_set():
    dashboards = _dashboards()
    for slug in catalogue.load().dashboards():
        assert slug in dashboards, slug
        filters = {f["name"]: f for f in
                   dashboards[slug]["metadata"]["native_filter_configuration"]}
        for name, column in ((rules.UNIT_FILTER, "org_unit_name"),
                             (rules.VIEW_FILTER, "structure_view_name")):
            assert filters[name]["id"] == rules.native_filter_id(slug, name)
            assert filters[name]["targets"][0]["column"]["name"] == column
