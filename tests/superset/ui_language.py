"""The English-text check of Superset's screens (tests/superset/test_language.py).

`walk(browser, url, username, password, slug)` opens, as that user, the screens leaders and
commune users see — login, dashboard list, a dashboard with its filter bar, a filter's
choices, the dashboard's and a chart's menus (download, share, full screen), a table's
controls, the right-click menu (drill to detail, drill by) and both drill modals — and
returns the visible text of each: {screen: [text, ...]}.

`english(texts, vocab)` lists the English left in such text:
- a word of Superset's own English catalogue (its `messages.pot`, the words its screens
  are made of) or of the component library's (ANTD_WORDS), written in ASCII letters, that
  is not also Vietnamese (VIETNAMESE_HOMOGRAPHS, LOANWORDS: reviewed lists);
- a code instead of a label (`hs_moi_tiep_nhan`), a number with an English suffix
  (`2.35k`, `1.2M`), and "N/A" (Superset's empty cell, translated to "–").
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import quote

from support import choose_filter_value, open_drill_by, wait_for_charts

from ioc.settings import PROJECT_ROOT

ALLOW_LIST = Path(__file__).with_name("english_allowlist.yaml")
SUPERSET_POT = "superset/translations/messages.pot"  # inside Superset's installed package
# Words of the component library (antd's en_US locale: pagination, date pickers, empty
# states), which are not in Superset's catalogue.
ANTD_WORDS = {
    "page", "pages", "items", "goto", "go", "jump", "to", "previous", "next", "prev", "first",
    "last", "today", "now", "ok", "select", "date", "time", "week", "month", "year", "decade",
    "century", "clear", "no", "data", "yes", "cancel", "confirm", "reset", "search", "expand",
    "collapse", "sort", "ascending", "descending", "filter", "all", "remove", "copy", "copied",
    "close", "matching", "rows", "loading",
}

WORD = re.compile(r"\w+(?:'\w+)?")
PATH = re.compile(r"\S*/\S+|\S+\.(?:md|csv|xlsx|xls|pdf|yaml|json)\b")
CODE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
ENGLISH_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)?[kKMGBT]\b")
# an English abbreviation that reads like a path to PATH: a table's empty cell ("N/A")
ENGLISH_ABBREVIATIONS = re.compile(r"(?<!\w)(?:N/A|n/a)(?!\w)")

VISIBLE_TEXT_JS = """
() => {
  const out = [document.title];
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.visibility === 'hidden' || cs.display === 'none' || cs.opacity === '0'
          || (e === el && cs.fontSize === '0px')) return false;
    }
    return true;
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    const el = node.parentElement;
    if (!text || !el || el.closest('script, style, noscript')) continue;
    if (visible(el)) out.push(text);
  }
  for (const el of document.querySelectorAll('input[placeholder], textarea[placeholder]')) {
    if (el.placeholder && !el.value && visible(el)) out.push(el.placeholder);
  }
  for (const el of document.querySelectorAll('.ant-select-selection-placeholder')) {
    if (visible(el)) out.push(el.textContent.trim());
  }
  return out;
}
"""


def superset_words() -> set[str]:
    """The words of Superset's English catalogue (messages.pot of the installed package)."""
    lib = PROJECT_ROOT / ".venv-superset" / "lib"
    pots = list(lib.glob(f"python3*/site-packages/{SUPERSET_POT}"))
    assert pots, "Superset's messages.pot is missing: `make install`"
    text = pots[0].read_text(encoding="utf-8")
    words: set[str] = set()
    for msgid in re.findall(r'^msgid(?:_plural)? "(.*)"$', text, re.M):
        msgid = re.sub(r"%\(\w+\)s|%s|%d|\{\w+\}", " ", msgid)
        words.update(w.lower() for w in WORD.findall(msgid) if w.isascii() and w.isalpha())
    return words | ANTD_WORDS


# Vietnamese written in ASCII letters that is also a word of Superset's English catalogue
# (reviewed: each is a Vietnamese syllable or a loanword Vietnamese officials write as is).
VIETNAMESE_HOMOGRAPHS = {
    "an", "ban", "bo", "ca", "cho", "con", "do", "hang", "in", "la", "long", "ma", "minh",
    "mo", "nam", "on", "sang", "so", "tan", "theo", "thi", "tin", "to", "trang", "van", "xa",
    "than", "ho", "cao", "dan", "thu", "tu",
}
LOANWORDS = {"csv", "excel", "pdf", "json", "yaml", "email", "sql", "ioc", "kpi", "zalo",
             "superset"}


def vietnamese_words() -> set[str]:
    return VIETNAMESE_HOMOGRAPHS | LOANWORDS


def english(texts: Iterable[str], english_words: set[str], vietnamese: set[str]) -> list[tuple]:
    """[(kind, the English, the text it is in)] for the English left in `texts`."""
    found = []
    for text in texts:
        # a file name or path (`docs/kpi-definitions.md`) is a name, not English
        for word in WORD.findall(PATH.sub(" ", text)):
            low = word.lower()
            if word.isascii() and word.isalpha() and len(word) > 1 \
                    and low in english_words and low not in vietnamese:
                found.append(("word", word, text[:120]))
        found += [("code", code, text[:120]) for code in CODE.findall(text)]
        found += [("number", n, text[:120]) for n in ENGLISH_NUMBER.findall(text)]
        found += [("word", a, text[:120]) for a in ENGLISH_ABBREVIATIONS.findall(text)]
    return found


# --- walking the screens ------------------------------------------------------------------

def _text(page) -> list[str]:
    page.wait_for_timeout(300)  # let a menu or modal finish its opening animation
    return page.evaluate(VISIBLE_TEXT_JS)


def walk(browser, url: str, username: str, password: str, slug: str, table_title: str,
         cell: str, drill_column: str, shots: Path | None = None,
         as_reported: str | None = None) -> dict[str, list[str]]:
    screens: dict[str, list[str]] = {}
    context = browser.new_context(viewport={"width": 1600, "height": 1300}, locale="vi-VN")
    page = context.new_page()
    # the browser tests' one timeout (test_browser.TIMEOUT_MS): these are not timed tests,
    # how fast pages open is measured by `make bench` (bench/render.py)
    page.set_default_timeout(90_000)

    def keep(name: str) -> None:
        screens[name] = _text(page)
        if shots:
            shots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shots / f"language-{username}-{name}.png"))

    try:
        _walk(page, url, username, password, slug, table_title, cell, drill_column, keep,
              as_reported)
    except Exception:
        if shots:
            page.screenshot(path=str(shots / f"language-{username}-failed.png"))
        raise
    finally:
        context.close()
    return screens


def _walk(page, url, username, password, slug, table_title, cell, drill_column, keep,
          as_reported) -> None:
    if True:
        page.goto(f"{url}/login/?next={quote('/dashboard/list/')}")
        page.locator('[data-test="login-button"]').wait_for(state="visible")
        keep("login")
        page.locator('[data-test="username-input"]').fill(username)
        page.locator('[data-test="password-input"]').fill(password)
        page.locator('[data-test="login-button"]').click()
        page.wait_for_url(lambda u: "/login" not in u)
        page.locator('[data-test="listview-table"] tr.ant-table-row, '
                     '[data-test="card-container"]').first.wait_for(state="visible")
        keep("dashboard-list")

        page.goto(f"{url}/superset/dashboard/{slug}/")
        wait_for_charts(page)
        table = page.locator('[data-test="chart-grid-component"]').filter(has_text=table_title)
        if as_reported:  # the view filter's id: a commune merged away shows "as reported"
            page.locator('[data-test="chart-grid-component"] .ant-empty, '
                         '[data-test="chart-grid-component"] table tbody tr').first \
                .wait_for(state="visible")
            keep("dashboard-empty")
            choose_filter_value(page, as_reported, "Như đã báo cáo")
        table.locator("table tbody tr").first.wait_for(state="visible")
        page.locator('[aria-label="Loading"]:visible').first.wait_for(state="detached")
        keep("dashboard")

        page.locator('[data-test="filter-bar"] .ant-select-selector').nth(1).click()
        page.locator(".ant-select-dropdown:visible").first.wait_for(state="visible")
        keep("filter-choices")
        page.keyboard.press("Escape")

        page.locator('[data-test="actions-trigger"]').first.click()
        menu = page.locator(".ant-dropdown:visible").last
        menu.wait_for(state="visible")
        keep("dashboard-menu")
        for i, sub in enumerate(menu.locator(".ant-dropdown-menu-submenu-title").all()):
            sub.hover()
            page.wait_for_timeout(400)
            keep(f"dashboard-menu-{i + 1}")
        page.keyboard.press("Escape")
        page.mouse.click(5, 400)

        table.hover()
        table.locator('[data-test="slice-header"] [aria-label="More Options"], '
                      '[data-test="slice-header"] .ant-dropdown-trigger').first.click()
        menu = page.locator(".ant-dropdown:visible").last
        menu.wait_for(state="visible")
        keep("chart-menu")
        for i, sub in enumerate(menu.locator(".ant-dropdown-menu-submenu-title").all()):
            sub.hover()
            page.wait_for_timeout(400)
            keep(f"chart-menu-{i + 1}")
        page.keyboard.press("Escape")
        page.mouse.click(5, 400)

        table.locator("td", has_text=cell).first.click(button="right")
        context_menu = page.locator(".ant-dropdown:visible").last
        context_menu.wait_for(state="visible")
        keep("context-menu")
        # "drill to detail" is offered only to roles that may see a dataset's rows
        detail = page.locator('[data-menu-id$="-drill-to-detail"]:visible').count() > 0
        if detail:
            page.locator('[data-menu-id$="-drill-to-detail-by"]:visible').hover()
            page.wait_for_timeout(500)
            keep("drill-to-detail-by-menu")
        submenu = open_drill_by(page)
        keep("drill-by-menu")
        if submenu.locator("input").count():
            submenu.locator("input").fill(drill_column)
        submenu.get_by_text(drill_column, exact=True).first.dispatch_event("click")
        modal = page.locator(".ant-modal:visible").last
        modal.wait_for(state="visible")
        modal.locator("canvas, table tbody tr").first.wait_for(state="visible")
        keep("drill-by-modal")
        modal.locator(".ant-radio-button-wrapper, [role=radio]").last.click()
        modal.locator('[data-test="drill-by-results-table"]').wait_for(state="visible")
        modal.locator('[data-test="drill-by-results-table"] [role=row], '
                      '[data-test="drill-by-results-table"] tbody tr').nth(1) \
            .wait_for(state="visible")
        keep("drill-by-table")
        page.keyboard.press("Escape")
        modal.wait_for(state="hidden")

        if not detail:
            return
        table.locator("td", has_text=cell).first.click(button="right")
        context_menu = page.locator(".ant-dropdown:visible").last
        context_menu.wait_for(state="visible")
        page.locator('[data-menu-id$="-drill-to-detail"]:visible').click()
        modal = page.locator(".ant-modal:visible").last
        modal.wait_for(state="visible")
        modal.locator("table tbody tr, .virtual-table-cell, [role=row]").nth(1) \
            .wait_for(state="visible")
        keep("drill-to-detail-modal")
        page.keyboard.press("Escape")


if __name__ == "__main__":  # a look at a running Superset: URL USER PASSWORD
    from playwright.sync_api import sync_playwright

    url, user, password = sys.argv[1:4]
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run",
            "--disable-dev-shm-usage"])
        found = walk(chromium, url, user, password, "hanh-chinh-cong",
                     "Tình hình giải quyết theo lĩnh vực", "Đất đai", "Đơn vị",
                     PROJECT_ROOT / "test-artifacts" / "superset")
    words, vi = superset_words(), vietnamese_words()
    for screen, texts in found.items():
        for item in sorted(set(english(texts, words, vi))):
            print(screen, *item, sep=" | ")
