"""The HTTP client against the demo agency API: Retry-After, backoff, timeouts, 401."""

from __future__ import annotations

import time

import pytest

from ingest.agency.client import AgencyClient, RetryPolicy, parse_retry_after
from ingest.agency.errors import ApiError, AuthError
from ingest.agency.mapping import load_mapping
from tests.agency.conftest import FAST, TOKEN

MAPPING = load_mapping()


def _client(api, token: str = TOKEN, policy: RetryPolicy = FAST, sleeps=None) -> AgencyClient:
    kwargs = {}
    if sleeps is not None:
        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            time.sleep(seconds)
        kwargs["sleep"] = sleep
    return AgencyClient(api.url, token, "ho-so", "/api/v1/ho-so", MAPPING.request,
                        MAPPING.response, policy, **kwargs)


def test_retry_after_header_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now=1445412480.0) == 5.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now=1445412490.0) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_a_page(api, admin) -> None:
    with _client(api) as client:
        page = client.page(None, 1, 5)
    assert len(page.records) == 5 and page.page == 1 and page.total > 1000
    assert page.pages == -(-page.total // 5)


def test_429_waits_what_retry_after_says(api, admin) -> None:
    admin.post("/_admin/faults", json={"throttle_next": 2, "retry_after": 1})
    sleeps: list[float] = []
    t0 = time.monotonic()
    with _client(api, sleeps=sleeps) as client:
        page = client.page(None, 1, 5)
        assert client.faults.throttled == 2
    assert len(page.records) == 5
    assert sleeps == [1.0, 1.0]  # not FAST's 0.01 s backoff: the server's Retry-After
    assert time.monotonic() - t0 >= 2.0


def test_too_many_429s_give_up_with_a_clear_error(api, admin) -> None:
    admin.post("/_admin/faults", json={"throttle_next": 10, "retry_after": 0})
    with _client(api) as client, pytest.raises(ApiError, match="429"):
        client.page(None, 1, 5)
    assert client.faults.throttled == FAST.max_throttled - 1


def test_5xx_are_retried_with_growing_capped_backoff(api, admin) -> None:
    admin.post("/_admin/faults", json={"fail_next": [500, 502, 503]})
    sleeps: list[float] = []
    policy = RetryPolicy(timeout=2, max_attempts=4, backoff=0.02, backoff_max=0.05)
    with _client(api, policy=policy, sleeps=sleeps) as client:
        assert len(client.page(None, 1, 3).records) == 3
        assert client.faults.server_errors == 3 and client.requests == 4
    assert 0.02 <= sleeps[0] < 0.03 and 0.04 <= sleeps[1] < 0.05 * 1.1
    assert 0.05 <= sleeps[2] <= 0.05 * 1.1  # capped


def test_5xx_beyond_max_attempts_fail(api, admin) -> None:
    admin.post("/_admin/faults", json={"fail_next": [503] * 6})
    with _client(api) as client, pytest.raises(ApiError, match="503"):
        client.page(None, 1, 3)
    assert client.requests == FAST.max_attempts


def test_timeouts_are_retried(api, admin) -> None:
    admin.post("/_admin/faults", json={"slow_next": 1, "slow_seconds": 3})
    policy = RetryPolicy(timeout=0.5, max_attempts=3, backoff=0.01, backoff_max=0.02)
    with _client(api, policy=policy) as client:
        assert len(client.page(None, 1, 3).records) == 3
        assert client.faults.timeouts == 1


def test_401_stops_at_once_with_a_clear_message(api, admin) -> None:
    with _client(api, token="expired") as client, pytest.raises(AuthError) as exc:
        client.page(None, 1, 3)
    assert client.requests == 1
    message = str(exc.value)
    assert "Token không hợp lệ hoặc đã hết hạn (401)" in message
    assert "IOC_AGENCY_API_TOKEN" in message and "expired" not in message


def test_unreachable_server_is_retried_then_reported() -> None:
    class Nowhere:
        url = "http://127.0.0.1:9"  # discard port: connection refused

    policy = RetryPolicy(timeout=0.5, max_attempts=2, backoff=0.01, backoff_max=0.01)
    with _client(Nowhere, policy=policy) as client, pytest.raises(ApiError, match="connection"):
        client.page(None, 1, 3)
    assert client.faults.connection_errors == 1
