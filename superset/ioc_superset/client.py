"""A small client for Superset's REST API: JWT login, CSRF token, the calls we need.

Superset keeps CSRF protection on for its API: a write needs the JWT *and* the CSRF token
from `GET /api/v1/security/csrf_token/`, sent back as `X-CSRFToken` together with the
session cookie that came with it (httpx keeps the cookie in the client). Reads need only
the JWT.
"""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from ioc.settings import Settings

# Columns each list endpoint can be ordered by (they differ; `id` is refused by most).
ORDER_COLUMNS = {
    "chart": "slice_name",
    "dashboard": "dashboard_title",
    "database": "database_name",
    "dataset": "table_name",
    "rowlevelsecurity": "name",
}


class SupersetError(RuntimeError):
    """Superset answered an API call with an error."""

    def __init__(self, message: str, status: int | None = None, body: Any = None):
        super().__init__(message)
        self.status = status
        self.body = body


def base_url(settings: Settings) -> str:
    return f"http://127.0.0.1:{settings.superset_port}"


def _rison_value(value: Any) -> str:
    """Rison encoding of the few shapes the list endpoints need (`q=` parameter)."""
    if isinstance(value, bool):
        return "!t" if value else "!f"
    if value is None:
        return "!n"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("!", "!!").replace("'", "!'")
        return f"'{escaped}'"
    if isinstance(value, list | tuple):
        return "!(" + ",".join(_rison_value(v) for v in value) + ")"
    if isinstance(value, dict):
        return "(" + ",".join(f"{k}:{_rison_value(v)}" for k, v in value.items()) + ")"
    raise TypeError(f"cannot rison-encode {type(value).__name__}")


def rison(value: dict) -> str:
    return _rison_value(value)


# Answers of a server that is (re)starting a worker, not of a request that was judged.
TRANSIENT_STATUS = {502, 503, 504}


class _RetryingTransport(httpx.HTTPTransport):
    """Retries a request whose connection was refused or reset, or that got a gateway
    error, for up to `budget_s` seconds: Superset's gunicorn answers /health from its first
    worker while the others are still booting, and a call that lands on one of those is
    reset ("Connection reset by peer"). Every call we make is safe to repeat (reads, and
    imports and updates that overwrite)."""

    def __init__(self, budget_s: float = 90.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.budget_s = budget_s

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        deadline = time.monotonic() + self.budget_s
        delay = 0.25
        request.read()  # the body in memory, so that it can be sent again
        while True:
            try:
                response = super().handle_request(request)
            except (httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError,
                    httpx.WriteError):
                if time.monotonic() + delay > deadline:
                    raise
            else:
                if response.status_code not in TRANSIENT_STATUS or (
                        time.monotonic() + delay > deadline):
                    return response
                response.close()
            time.sleep(delay)
            delay = min(delay * 2, 4.0)


class SupersetClient:
    """One logged-in session. Use as a context manager, or call `close()`."""

    def __init__(self, url: str, username: str, password: str, timeout: float = 60.0):
        self.url = url.rstrip("/")
        self.username = username
        self.http = httpx.Client(base_url=self.url, timeout=timeout,
                                 transport=_RetryingTransport())
        self._csrf: str | None = None
        self.login(username, password)

    def __enter__(self) -> SupersetClient:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    # --- session --------------------------------------------------------------------

    def login(self, username: str, password: str) -> None:
        resp = self.http.post(
            "/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": True},
        )
        if resp.status_code != 200:
            raise SupersetError(
                f"đăng nhập Superset thất bại cho {username} ({resp.status_code})",
                resp.status_code,
                resp.text,
            )
        self.http.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
        self._csrf = None

    def csrf_token(self) -> str:
        if self._csrf is None:
            self._csrf = self._check(self.http.get("/api/v1/security/csrf_token/"))["result"]
            self.http.headers["X-CSRFToken"] = self._csrf
            self.http.headers["Referer"] = self.url
        return self._csrf

    # --- plumbing -------------------------------------------------------------------

    @staticmethod
    def _check(resp: httpx.Response) -> Any:
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = resp.text
            raise SupersetError(
                f"{resp.request.method} {resp.request.url.path} -> {resp.status_code}: {body}",
                resp.status_code,
                body,
            )
        if not resp.content:
            return None
        ctype = resp.headers.get("content-type", "")
        return resp.json() if "json" in ctype else resp.content

    def get(self, path: str, **params: Any) -> Any:
        return self._check(self.http.get(path, params=params or None))

    def post(self, path: str, payload: Any = None, **kwargs: Any) -> Any:
        self.csrf_token()
        if payload is not None:
            kwargs["json"] = payload
        return self._check(self.http.post(path, **kwargs))

    def put(self, path: str, payload: Any) -> Any:
        self.csrf_token()
        return self._check(self.http.put(path, json=payload))

    def delete(self, path: str) -> Any:
        self.csrf_token()
        return self._check(self.http.delete(path))

    def list_all(self, resource: str, columns: list[str] | None = None, **filters: Any) -> list:
        """Every row of a list endpoint (`/api/v1/<resource>/`), following pages.

        Pages are at most 100 rows and only a stable order makes paging safe, so the rows
        are ordered by a column the endpoint accepts (`ORDER_COLUMNS`) and de-duplicated.
        `filters` are equality filters (`name='Kho'` -> `(col:name,opr:eq,value:'Kho')`).
        """
        rows: list = []
        seen: set = set()
        page = 0
        while True:
            query: dict[str, Any] = {
                "page": page,
                "page_size": 100,
                "order_column": ORDER_COLUMNS.get(resource, "id"),
                "order_direction": "asc",
            }
            if columns:
                query["columns"] = columns
            if filters:
                query["filters"] = [{"col": k, "opr": "eq", "value": v} for k, v in filters.items()]
            if columns and "id" not in columns:
                query["columns"] = [*columns, "id"]
            body = self.get(f"/api/v1/{resource}/", q=rison(query))
            batch = body.get("result", [])
            for row in batch:
                key = row.get("id", id(row))
                if key not in seen:
                    seen.add(key)
                    rows.append(row)
            if len(batch) < 100 or (page + 1) * 100 >= body.get("count", 0):
                return rows
            page += 1

    # --- assets ---------------------------------------------------------------------

    def import_assets(self, bundle: bytes, passwords: dict[str, str]) -> None:
        """POST /api/v1/assets/import/: everything in the bundle is created or overwritten."""
        self.post(
            "/api/v1/assets/import/",
            files={"bundle": ("bundle.zip", bundle, "application/zip")},
            data={"passwords": json.dumps(passwords)},
        )

    def export_assets(self) -> bytes:
        """GET /api/v1/assets/export/: a zip of every database, dataset, chart, dashboard."""
        resp = self.http.get("/api/v1/assets/export/")
        self._check(resp)
        return resp.content

    # --- data -----------------------------------------------------------------------

    def chart_data(self, chart_id: int, result_type: str = "full") -> dict:
        """Data of a saved chart, from its saved query context."""
        return self.get(f"/api/v1/chart/{chart_id}/data/", type=result_type)

    def query(self, query_context: dict) -> dict:
        """POST /api/v1/chart/data with an explicit query context."""
        return self.post("/api/v1/chart/data", query_context)


def wait_healthy(url: str, timeout_s: float = 180.0) -> None:
    """Wait until `url/health` answers OK."""
    deadline = time.monotonic() + timeout_s
    last = ""
    while True:
        try:
            resp = httpx.get(f"{url.rstrip('/')}/health", timeout=3)
            if resp.status_code == 200:
                return
            last = f"HTTP {resp.status_code}"
        except httpx.HTTPError as exc:
            last = str(exc)
        if time.monotonic() > deadline:
            raise TimeoutError(f"Superset at {url} not healthy after {timeout_s:.0f} s: {last}")
        time.sleep(0.5)
