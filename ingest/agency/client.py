"""HTTP for the agency platform: one page per call, with the contract's fault handling.

- 429: wait what `Retry-After` says (seconds or an HTTP date; capped by
  `retry_after_max`), on its own budget (`max_throttled`): being asked to slow down is
  normal, not a failure.
- 500/502/503/504, timeouts, dropped connections: exponential backoff from `backoff`
  doubling up to `backoff_max` (with a little jitter), at most `max_attempts` tries.
- 401/403: `AuthError` at once (a wrong token does not get better by retrying).
- anything else, or a body that is not a page: `ApiError`.

Messages carry the path, the page and the status, never the body (it may hold records).
Retrying is done with tenacity; the rules above are its wait and stop callables.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import tenacity

from ingest.agency.errors import ApiError, AuthError

try:
    import orjson

    _loads: Callable[[bytes], Any] = orjson.loads
    _DecodeError: type[Exception] = orjson.JSONDecodeError
except ImportError:  # pragma: no cover - orjson ships with the pipeline environment
    import json

    _loads = json.loads
    _DecodeError = ValueError

log = logging.getLogger("ingest.agency")

TRANSIENT_STATUS = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often to insist; tests shrink every number."""

    timeout: float = 60.0
    """Seconds to wait for an answer (read timeout); connecting gets min(timeout, 15)."""
    max_attempts: int = 6
    """Tries per page for 5xx, timeouts and connection errors (the first try included)."""
    backoff: float = 1.0
    backoff_max: float = 60.0
    max_throttled: int = 30
    """429 answers accepted per page before giving up."""
    retry_after_max: float = 300.0
    """Longest honoured Retry-After; a longer one is waited for this long, then retried."""


@dataclass
class Page:
    records: list
    page: int | None
    pages: int | None
    total: int | None
    seconds: float


@dataclass
class FaultCounts:
    """The transient failures a client retried, by kind."""

    throttled: int = 0
    server_errors: int = 0
    timeouts: int = 0
    connection_errors: int = 0


class _Transient(Exception):
    """A failure worth another try; never leaves this module."""

    def __init__(self, kind: str, status: int | None = None,
                 retry_after: float | None = None) -> None:
        self.kind, self.status, self.retry_after = kind, status, retry_after
        super().__init__(kind if status is None else f"{kind} {status}")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


@dataclass
class AgencyClient:
    """One resource endpoint of the platform, paged; use as a context manager."""

    base_url: str
    token: str = field(repr=False)
    resource: str
    path: str
    request_names: dict[str, str]
    response_names: dict[str, str]
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    faults: FaultCounts = field(default_factory=FaultCounts)
    requests: int = 0
    waited: float = 0.0
    """Seconds spent waiting before retries."""

    def __post_init__(self) -> None:
        timeout = httpx.Timeout(self.policy.timeout, connect=min(self.policy.timeout, 15.0))
        self._http = httpx.Client(
            base_url=self.base_url.rstrip("/"), timeout=timeout,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
            follow_redirects=False)

    def __enter__(self) -> AgencyClient:
        return self

    def __exit__(self, *exc) -> None:
        self._http.close()

    def page(self, since: datetime | None, page: int, size: int,
             since_text: str | None = None) -> Page:
        """One page of records changed since `since` (inclusive), with retries."""
        params: dict[str, Any] = {self.request_names["page"]: page,
                                  self.request_names["page_size"]: size}
        if since is not None:
            params[self.request_names["since"]] = since_text or since.isoformat()
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_Transient),
            wait=self._wait, stop=self._stop, sleep=self._sleep, reraise=True,
            before_sleep=self._before_sleep)
        try:
            return retrying(self._get, params, page)
        except _Transient as exc:
            raise ApiError(
                f"{self.resource}: API vẫn lỗi sau khi thử lại ({exc}, trang {page}) — "
                f"the API kept failing after retries ({exc.kind}, page {page})") from None

    # -------------------------------------------------------------------- one attempt
    def _get(self, params: dict, page: int) -> Page:
        t0 = time.perf_counter()
        self.requests += 1
        try:
            response = self._http.get(self.path, params=params)
        except httpx.TimeoutException:
            raise _Transient("timeout") from None
        except httpx.TransportError as exc:
            raise _Transient(f"connection ({type(exc).__name__})") from None
        status = response.status_code
        if status in (401, 403):
            raise AuthError(
                f"Token không hợp lệ hoặc đã hết hạn ({status}) — kiểm tra IOC_AGENCY_API_TOKEN"
                f" (hoặc IOC_AGENCY_API_TOKEN_{self.resource.replace('-', '_').upper()}). "
                f"The agency API refused the token for {self.resource} ({status}).")
        if status == 429:
            raise _Transient("throttled", 429, parse_retry_after(response.headers.get(
                "retry-after")))
        if status in TRANSIENT_STATUS:
            raise _Transient("server error", status)
        if status != 200:
            raise ApiError(f"{self.resource}: API trả về mã {status} cho trang {page} "
                           f"(unexpected status {status} for page {page})")
        try:
            body = _loads(response.content)
        except _DecodeError:
            raise ApiError(f"{self.resource}: trang {page} không phải JSON "
                           "(page is not JSON)") from None
        names = self.response_names
        records = body.get(names["records"]) if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise ApiError(f"{self.resource}: trang {page} thiếu '{names['records']}' "
                           f"(page has no '{names['records']}' list)")
        return Page(records, _int(body.get(names["page"])), _int(body.get(names["pages"])),
                    _int(body.get(names["total"])), time.perf_counter() - t0)

    # ----------------------------------------------------------------- retry policy
    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.status == 429:
            if exc.retry_after is not None:
                return min(exc.retry_after, self.policy.retry_after_max)
            throttled = self._throttled_this_page(state)
            return min(self.policy.backoff * 2 ** min(throttled - 1, 16), self.policy.backoff_max)
        failures = self._failures(state)
        delay = self.policy.backoff * 2 ** max(failures - 1, 0)
        delay = min(delay, self.policy.backoff_max)
        return delay * (1 + random.uniform(0, 0.1))

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Transient) and exc.status == 429:
            return self._throttled_this_page(state) >= self.policy.max_throttled
        return self._failures(state) >= self.policy.max_attempts

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if not isinstance(exc, _Transient):
            return
        counts = _counts(state)
        bucket = "429" if exc.status == 429 else "other"
        counts[bucket] = counts.get(bucket, 0) + 1
        if exc.status == 429:
            self.faults.throttled += 1
        elif exc.kind == "timeout":
            self.faults.timeouts += 1
        elif exc.status is None:
            self.faults.connection_errors += 1
        else:
            self.faults.server_errors += 1
        wait = state.next_action.sleep if state.next_action else 0.0
        self.waited += wait
        log.warning("%s: %s, thử lại sau %.1f s (retrying in %.1f s)",
                    self.resource, exc, wait, wait)

    def _sleep(self, seconds: float) -> None:
        self.sleep(seconds)

    @staticmethod
    def _failures(state: tenacity.RetryCallState) -> int:
        """Non-429 failures of this page so far, the current one included."""
        return _counts(state).get("other", 0) + 1

    @staticmethod
    def _throttled_this_page(state: tenacity.RetryCallState) -> int:
        return _counts(state).get("429", 0) + 1


def _counts(state: tenacity.RetryCallState) -> dict[str, int]:
    """Per-page counters kept on tenacity's call state (one state per `page()` call)."""
    counts = getattr(state, "_ioc_counts", None)
    if counts is None:
        counts = {}
        state._ioc_counts = counts  # type: ignore[attr-defined]
    return counts


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
