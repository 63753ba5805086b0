"""The headless Chromium the browser tests drive: Debian's (`make browser`), or the one
`IOC_CHROMIUM` names. `tests/conftest.py` serves it to a module as the `browser` fixture.

Every page opened through it is watched (`PageWatch`): when a test fails, its report gets a
section "pages" with what each page asked of the server and never got back, what failed,
and the console's errors (tests/conftest.py). A page stuck on a request reads differently
from a page that never asked, and a wait that timed out says which."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("IOC_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


# the pages the current test opened (tests/conftest.py empties it before each test)
WATCHES: list[PageWatch] = []


class PageWatch:
    """What one page asked of its servers and got back."""

    def __init__(self, page):
        self.page = page
        self.pending: dict[object, tuple[float, str]] = {}
        self.bad: list[str] = []
        self.console: list[str] = []
        page.on("request", lambda r: self.pending.__setitem__(
            r, (time.monotonic(), f"{r.method} {r.url[:160]}")))
        page.on("requestfinished", lambda r: self.pending.pop(r, None))
        page.on("requestfailed", lambda r: self._failed(r, r.failure or "failed"))
        page.on("response", self._answered)
        page.on("console", lambda m: self.console.append(m.text[:200])
                if m.type == "error" else None)
        WATCHES.append(self)

    def _answered(self, response) -> None:
        """A response came (its body may still be on its way): the request is answered; its
        status comes with the event, no round trip to Playwright's driver."""
        self.pending.pop(response.request, None)
        if response.status >= 500:
            self.bad.append(f"{response.status} {response.request.method} {response.url[:160]}")

    def _failed(self, request, why: str) -> None:
        self.pending.pop(request, None)
        self.bad.append(f"{why} {request.method} {request.url[:160]}")

    def report(self) -> str:
        now = time.monotonic()
        lines = [f"page: {self.page.url}"]
        lines += [f"  unanswered for {now - t0:.0f} s: {what}"
                  for t0, what in sorted(self.pending.values())[:15]]
        lines += [f"  failed: {b}" for b in self.bad[-10:]]
        lines += [f"  console error: {c}" for c in self.console[-10:]]
        return "\n".join(lines)


class WatchedBrowser:
    """A Playwright Browser whose every new page is watched; anything else is the
    Browser's own."""

    def __init__(self, browser):
        self._browser = browser

    def new_page(self, *args, **kwargs):
        page = self._browser.new_page(*args, **kwargs)
        PageWatch(page)
        return page

    def new_context(self, *args, **kwargs):
        context = self._browser.new_context(*args, **kwargs)
        context.on("page", PageWatch)
        return context

    def __getattr__(self, name: str):
        return getattr(self._browser, name)


@contextmanager
def launched() -> Iterator[WatchedBrowser]:
    """A watched Playwright Browser on that Chromium, closed on exit; the test fails, saying
    how to install it, where it is missing."""
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield WatchedBrowser(chromium)
        finally:
            chromium.close()
