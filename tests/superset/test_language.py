"""Superset in Vietnamese, measured: English left on the screens of a leader and of a
commune user fails the test, unless the reviewed allow list (english_allowlist.yaml) names
it with its reason.

The screens (ui_language.walk): login, dashboard list, the "Hành chính công" dashboard with
its filter bar and a filter's choices, the dashboard's and a table's menus with their
submenus (download, share, full screen), the table's controls, the right-click menu with
"drill by" and "drill to detail" and both drill modals. What counts as English, see
ui_language.english. Screenshots: test-artifacts/superset/language-<user>-<screen>.png.
"""

from __future__ import annotations

import json
import re

import pytest
import yaml
from ui_language import ALLOW_LIST, english, superset_words, vietnamese_words, walk

from ioc.settings import PROJECT_ROOT
from tests.support.superset_server import SupersetServer

pytestmark = pytest.mark.superset

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "superset"
# the dashboard walked, its table with a row menu, the cell right-clicked, the drill-by column
WALK = ("hanh-chinh-cong", "Tình hình giải quyết theo lĩnh vực", "Đất đai", "Đơn vị")
# screens every role reaches (drill to detail only where the role may read a dataset's rows)
SCREENS = {"login", "dashboard-list", "dashboard", "filter-choices", "dashboard-menu",
           "chart-menu", "context-menu", "drill-by-menu", "drill-by-modal", "drill-by-table"}


def allow_list() -> list[dict]:
    """The reviewed entries, each with its kind, pattern, screens and reason."""
    entries = yaml.safe_load(ALLOW_LIST.read_text(encoding="utf-8"))["allowed"] or []
    for entry in entries:
        assert set(entry) == {"kind", "pattern", "screens", "reason"}, entry
        assert entry["kind"] in ("word", "code", "number"), entry
        assert len(entry["reason"].split()) >= 8, f"{entry['pattern']}: give the reason"
        re.compile(entry["pattern"]), re.compile(entry["screens"])
    return entries


def _view_filter_id() -> str:
    """The id of the walked dashboard's "Góc nhìn lịch sử" filter."""
    from ioc_superset import bundle

    for rel, text in bundle.read_dir().items():
        doc = yaml.safe_load(text)
        if rel.startswith("dashboards/") and doc.get("slug") == WALK[0]:
            for flt in doc["metadata"]["native_filter_configuration"]:
                if flt["name"] == "Góc nhìn lịch sử":
                    return flt["id"]
    raise KeyError("Góc nhìn lịch sử")


def _allowed(entries: list[dict], screen: str, kind: str, text: str) -> dict | None:
    for entry in entries:
        if entry["kind"] == kind and re.fullmatch(entry["screens"], screen) \
                and re.fullmatch(entry["pattern"], text):
            return entry
    return None


def test_the_check_finds_english_codes_and_english_numbers():
    """The detector itself, on hand-made text: it must not be a check that cannot fail."""
    words, vietnamese = superset_words(), vietnamese_words()
    found = english(
        [
            "Filters and controls",
            "Hiển thị 10 entries per page",
            "Hồ sơ mới tiếp nhận",
            "Thông tin theo tháng, con số",
            "hs_moi_tiep_nhan",
            "2.35k",
            "1.234,5",
            "N/A",
            "docs/kpi-definitions.md",
        ],
        words,
        vietnamese,
    )
    assert {(kind, text) for kind, text, _ in found} == {
        ("word", "Filters"),
        ("word", "and"),
        ("word", "controls"),
        ("word", "entries"),
        ("word", "per"),
        ("word", "page"),
        ("code", "hs_moi_tiep_nhan"),
        ("number", "2.35k"),
        ("word", "N/A"),
    }


def test_superset_speaks_vietnamese_by_default(superset_server: SupersetServer):
    """Back end (menus, from the compiled .mo) and front end (the language pack, served to
    a visitor not yet logged in, for the login page) both from the repository's catalogue."""
    import httpx

    pack = httpx.get(f"{superset_server.url}/superset/language_pack/vi/", timeout=30)
    assert pack.status_code == 200, pack.text[:200]
    messages = pack.json()["locale_data"]["superset"]
    assert messages[""]["lang"] == "vi"
    assert messages["Apply filters"] == ["Áp dụng bộ lọc"]
    login = httpx.get(f"{superset_server.url}/login/", timeout=30)
    assert '"locale": "vi"' in login.text or "&#34;locale&#34;: &#34;vi&#34;" in login.text


def test_no_english_left_on_the_screens(
    browser, superset_server: SupersetServer, mart_world, leader_user, commune_user
):
    """As a leader and as a commune user; every allow list entry must still be needed."""
    words, vietnamese = superset_words(), vietnamese_words()
    entries = allow_list()
    used: set[int] = set()
    left: list[str] = []
    for who, (username, password) in (("leader", leader_user), ("commune", commune_user)):
        # the test world's commune was merged away: its rows show in the "as reported" view
        screens = walk(browser, superset_server.url, username, password, *WALK, shots=ARTIFACTS,
                       as_reported=_view_filter_id() if who == "commune" else None)
        assert set(screens) >= SCREENS, (who, sorted(screens))  # every screen was reached
        report = {}
        for screen, texts in screens.items():
            found = english(texts, words, vietnamese)
            report[screen] = sorted({f"{kind}: {text} (in {ctx!r})" for kind, text, ctx in found})
            for kind, text, context in found:
                entry = _allowed(entries, screen, kind, text)
                if entry is None:
                    left.append(f"{who} / {screen}: {kind} {text!r} in {context!r}")
                else:
                    used.add(id(entry))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / f"language-{who}.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8"
        )
    assert not left, "English on the screens (translate it, see docs/superset.md):\n" + "\n".join(
        sorted(set(left))
    )
    stale = [e["pattern"] for e in entries if id(e) not in used]
    assert not stale, f"allow list entries no screen needs any more: {stale}"


def test_tables_carry_their_metrics_labels_and_formats():
    """The drill-by modal rebuilds a table from its own params with no metric labels or
    formats from the dataset: each table's column_config must name and format its metrics
    (else `hs_moi_tiep_nhan` and `5.36k`), with a format that has no English suffix."""
    from ioc_superset import bundle

    tables = 0
    for rel, text in bundle.read_dir().items():
        if not rel.startswith("charts/"):
            continue
        chart = yaml.safe_load(text)
        params = chart["params"]
        if chart["viz_type"] != "table" or not params.get("metrics"):
            continue
        tables += 1
        for metric in params["metrics"]:
            config = params["column_config"].get(metric) or {}
            assert config.get("customColumnName"), (chart["slice_name"], metric)
            assert config.get("d3NumberFormat", "SMART_NUMBER") != "SMART_NUMBER", metric
            assert "s" not in config["d3NumberFormat"].rstrip("%"), (metric, "SI suffix")
    assert tables >= 5
