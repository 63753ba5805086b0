"""The watch every browser test's pages get (tests/support/chromium.py): what a failed test's
section `pages` says, tried on a page whose server answers one request with a 500 and never
answers another."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator

import pytest

from tests.support.chromium import WATCHES

PAGE = b"""<!doctype html><title>t</title><script>
fetch('/loi'); fetch('/treo'); console.error('loi giao dien');
</script>"""


class _Handler(http.server.BaseHTTPRequestHandler):
    release = threading.Event()

    def do_GET(self) -> None:
        if self.path == "/treo":  # never answered while the test looks
            self.release.wait(30)
            return
        status, body = (500, b"x") if self.path == "/loi" else (200, PAGE)
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        _Handler.release.set()
        httpd.shutdown()
        httpd.server_close()


def test_the_report_names_the_unanswered_request_the_5xx_and_the_console_error(
    browser, server: str
) -> None:
    page = browser.new_page()
    try:
        page.goto(server + "/")
        watch = next(w for w in reversed(WATCHES) if w.page is page)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (watch.bad and watch.console):
            page.wait_for_timeout(100)
        report = watch.report()
    finally:
        page.close()
    assert "unanswered for" in report and f"GET {server}/treo" in report, report
    assert f"failed: 500 GET {server}/loi" in report, report
    assert "console error:" in report, report
    assert f"GET {server}/loi" not in report.split("failed:")[0], "a 500 is answered"
