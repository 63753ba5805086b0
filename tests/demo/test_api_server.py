"""The demo agency API against `ioc/reference/agency-api.yaml`: contract, paging while records
change, tokens, throttling and injected faults."""

from __future__ import annotations

import copy
import time
from datetime import datetime
from pathlib import Path

import httpx
import jsonschema
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings

from demo.api_server import serve_in_thread
from ioc.settings import PROJECT_ROOT
from tests.support.net import free_port

SPEC_PATH = PROJECT_ROOT / "ioc" / "reference" / "agency-api.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
PATHS = {"ho-so": "maHoSo", "van-ban": "id", "phan-anh": "maPhanAnh"}


@pytest.fixture(scope="module")
def api(demo_dir: Path):
    handle = serve_in_thread(demo_dir, token=TOKEN)
    yield handle
    handle.stop()


@pytest.fixture
def client(api):
    with httpx.Client(base_url=api.url, headers=AUTH, timeout=30) as c:
        c.post("/_admin/reset")
        yield c
        c.post("/_admin/reset")


def _to_jsonschema(node):
    """OpenAPI 3.0 schema → JSON Schema: resolve $ref, turn `nullable` into a null type."""
    if isinstance(node, list):
        return [_to_jsonschema(x) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _to_jsonschema(SPEC["components"]["schemas"][name])
    out = {k: _to_jsonschema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


def _page_schema(resource: str) -> dict:
    op = SPEC["paths"][f"/api/v1/{resource}"]["get"]
    return _to_jsonschema(copy.deepcopy(
        op["responses"]["200"]["content"]["application/json"]["schema"]))


def _datetimes(resource: str) -> list[str]:
    name = {"ho-so": "HoSo", "van-ban": "VanBan", "phan-anh": "PhanAnh"}[resource]
    props = SPEC["components"]["schemas"][name]["properties"]
    return [k for k, v in props.items() if v.get("format") == "date-time"]


def _all_pages(client, resource: str, size: int = 1000, **params) -> list[dict]:
    rows, page = [], 1
    while True:
        r = client.get(f"/api/v1/{resource}", params={"trang": page, "soBanGhi": size, **params})
        assert r.status_code == 200, r.text
        body = r.json()
        rows.extend(body["duLieu"])
        if page >= body["tongSoTrang"]:
            return rows
        page += 1


@pytest.mark.parametrize("resource", list(PATHS))
def test_every_page_validates_against_the_contract(client, resource: str) -> None:
    validator = jsonschema.Draft202012Validator(_page_schema(resource))
    key = PATHS[resource]
    page, seen = 1, []
    while True:
        r = client.get(f"/api/v1/{resource}", params={"trang": page, "soBanGhi": 1000})
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        body = r.json()
        validator.validate(body)
        for row in body["duLieu"]:
            for f in _datetimes(resource):
                if row.get(f) is not None:
                    assert datetime.fromisoformat(row[f]).utcoffset() is not None
            assert "_hetHieuLuc" not in row
        seen.extend((row["capNhatLuc"], row[key]) for row in body["duLieu"])
        if page >= body["tongSoTrang"]:
            break
        page += 1
    assert len(seen) == body["tongSoBanGhi"] > 500
    ordered = [(datetime.fromisoformat(t), k) for t, k in seen]
    assert ordered == sorted(ordered)
    assert len({k for _, k in seen}) == len(seen)


def test_cap_nhat_tu_is_inclusive_and_filters(client) -> None:
    everything = _all_pages(client, "ho-so")
    pivot = everything[len(everything) // 2]["capNhatLuc"]
    since = _all_pages(client, "ho-so", capNhatTu=pivot)
    assert since and all(r["capNhatLuc"] >= pivot for r in since)  # same offset: text order
    assert len(since) == sum(1 for r in everything
                             if datetime.fromisoformat(r["capNhatLuc"])
                             >= datetime.fromisoformat(pivot))
    # '+' of the offset sent unencoded arrives as a space: still understood
    raw = client.get(f"/api/v1/ho-so?capNhatTu={pivot}&soBanGhi=1")
    assert raw.status_code == 200 and raw.json()["tongSoBanGhi"] == len(since)


def test_bad_parameters(client) -> None:
    for params in ({"soBanGhi": 1001}, {"soBanGhi": 0}, {"trang": 0}, {"trang": "x"},
                   {"capNhatTu": "hôm qua"}):
        assert client.get("/api/v1/van-ban", params=params).status_code == 400, params
    r = client.get("/api/v1/van-ban", params={"trang": 10_000, "soBanGhi": 1000})
    assert r.status_code == 200 and r.json()["duLieu"] == [] and r.json()["tongSoBanGhi"] > 0
    assert client.get("/api/v1/khac").status_code == 404


def test_token_is_required(api) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        r = httpx.get(f"{api.url}/api/v1/ho-so", headers=headers)
        assert r.status_code == 401 and "Bearer" in r.headers["www-authenticate"]
        assert httpx.post(f"{api.url}/_admin/clock", headers=headers,
                          json={"advance": 1}).status_code == 401
    assert httpx.get(f"{api.url}/health").status_code == 200


def test_too_fast_gets_429_with_retry_after(client) -> None:
    client.post("/_admin/faults", json={"rate_limit": 2, "burst": 2})
    codes, retry = [], None
    for _ in range(6):
        r = client.get("/api/v1/phan-anh", params={"soBanGhi": 1})
        codes.append(r.status_code)
        if r.status_code == 429:
            retry = int(r.headers["retry-after"])
    assert codes[:2] == [200, 200] and 429 in codes and retry >= 1
    time.sleep(retry)
    assert client.get("/api/v1/phan-anh", params={"soBanGhi": 1}).status_code == 200
    client.post("/_admin/faults", json={"rate_limit": 0, "throttle_next": 1, "retry_after": 7})
    r = client.get("/api/v1/phan-anh")
    assert r.status_code == 429 and r.headers["retry-after"] == "7"


def test_injected_server_errors_and_slow_answers(client, api) -> None:
    client.post("/_admin/faults", json={"fail_next": [500, 502, 503]})
    codes = [client.get("/api/v1/ho-so").status_code for _ in range(4)]
    assert codes == [500, 502, 503, 200]
    client.post("/_admin/faults", json={"slow_next": 1, "slow_seconds": 1.5})
    with pytest.raises(httpx.ReadTimeout):
        client.get("/api/v1/ho-so", timeout=0.4)
    t = time.monotonic()
    assert client.get("/api/v1/ho-so", timeout=5).status_code == 200
    assert time.monotonic() - t < 1.0
    client.post("/_admin/faults", json={"error_rate": 1.0})
    assert {client.get("/api/v1/van-ban").status_code for _ in range(12)} <= {500, 502, 503}
    state = client.get("/_admin/state").json()
    assert state["faults"]["500"] >= 1 and state["faults"]["slow"] == 1


def test_clock_shows_records_as_of_its_time(client) -> None:
    late = _all_pages(client, "ho-so")
    client.post("/_admin/clock", json={"now": "2025-01-10T12:00:00+07:00"})
    early = _all_pages(client, "ho-so")
    assert len(early) < len(late)
    assert all(r["capNhatLuc"] <= "2025-01-10T12:00:00+07:00" for r in early)
    by_key = {r["maHoSo"]: r for r in late}
    changed = [r for r in early if by_key[r["maHoSo"]]["capNhatLuc"] != r["capNhatLuc"]]
    assert changed and any(by_key[r["maHoSo"]]["trangThai"] != r["trangThai"] for r in changed)


def test_paging_to_the_end_while_records_change(client) -> None:
    """Records change between page requests (the clock moves 2 h per request). A connector
    that asks again from the newest `capNhatLuc` it has seen (>=) loses no record; asking by
    page number while records move does."""
    start = "2025-01-20T00:00:00+07:00"
    key = "maHoSo"

    def sync(by_page: bool) -> tuple[dict, dict]:
        client.post("/_admin/reset")
        client.post("/_admin/clock", json={"now": start})
        client.post("/_admin/faults", json={"advance_per_request": 7200})
        seen: dict[str, str] = {}
        since, page, requests = "2025-01-01T00:00:00+07:00", 1, 0
        while True:
            r = client.get("/api/v1/ho-so", params={
                "capNhatTu": since, "soBanGhi": 200, "trang": page if by_page else 1})
            requests += 1
            body = r.json()
            for row in body["duLieu"]:
                if row["capNhatLuc"] >= seen.get(row[key], ""):
                    seen[row[key]] = row["capNhatLuc"]
            if by_page:
                if page >= body["tongSoTrang"]:
                    break
                page += 1
            else:
                newest = body["duLieu"][-1]["capNhatLuc"] if body["duLieu"] else since
                if len(body["duLieu"]) < 200 or newest == since:
                    break
                since = newest
            assert requests < 500
        client.post("/_admin/faults", json={"advance_per_request": 0})
        final = {row[key]: row["capNhatLuc"] for row in _all_pages(
            client, "ho-so", capNhatTu="2025-01-01T00:00:00+07:00")}
        return seen, final

    seen, final = sync(by_page=False)
    assert len(final) > 1000
    missing = [k for k, t in final.items() if seen.get(k) != t]
    # only records that changed after the last request can be newer than what was seen
    last_seen = max(seen.values())
    assert all(final[k] >= last_seen for k in missing)
    assert set(final) - set(seen) <= {k for k in missing}
    naive, final2 = sync(by_page=True)
    lost = [k for k, t in final2.items() if k not in naive and t < max(naive.values())]
    assert lost, "records moved between pages: page-number paging must have lost some"


schema = schemathesis.openapi.from_path(SPEC_PATH)
# The contract documents no answer for invalid parameters (the demo API says 400): generate
# valid requests only, and check every answer against the contract.
schema.config.generation.update(modes=[schemathesis.GenerationMode.POSITIVE])


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_schemathesis_contract(case, api) -> None:
    case.call_and_validate(base_url=api.url, headers=AUTH)


def test_ioc_demo_api_command_serves(demo_dir: Path) -> None:
    import subprocess
    import sys

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "demo-api", "--data", str(demo_dir), "--port",
         str(port), "--token", "cli-token", "--now", "2024-12-01T00:00:00+07:00",
         "--rate-limit", "50"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        r = httpx.get(f"{url}/api/v1/phan-anh", params={"soBanGhi": 1000},
                      headers={"Authorization": "Bearer cli-token"})
        assert r.status_code == 200
        assert all(x["capNhatLuc"] <= "2024-12-01T00:00:00+07:00" for x in r.json()["duLieu"])
        state = httpx.get(f"{url}/_admin/state", headers={"Authorization": "Bearer cli-token"})
        assert state.json()["config"]["rate_limit"] == 50
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _serve_cli(demo_dir: Path, *args: str, env: dict | None = None):
    import os
    import subprocess
    import sys

    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k != "IOC_TODAY"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "demo-api", "--data", str(demo_dir), "--port",
         str(port), "--token", "cli-token", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**environ, **(env or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)


@pytest.mark.parametrize(("args", "env", "clock"), [
    (("--today", "2025-01-15"), {}, "2025-01-15T00:00:00+07:00"),
    ((), {"IOC_TODAY": "2025-01-20"}, "2025-01-20T00:00:00+07:00"),
    (("--today", "2025-01-15"), {"IOC_TODAY": "2025-01-20"}, "2025-01-15T00:00:00+07:00"),
    ((), {}, None),  # the world's end (meta.json)
])
def test_demo_api_clock_starts_at_today(demo_dir: Path, args, env, clock) -> None:
    import json

    proc, url = _serve_cli(demo_dir, *args, env=env)
    try:
        state = httpx.get(f"{url}/_admin/state", headers={"Authorization": "Bearer cli-token"})
        expected = clock or json.loads((demo_dir / "meta.json").read_text())["clock_default"]
        assert state.json()["now"] == expected
        r = httpx.get(f"{url}/api/v1/ho-so", params={"soBanGhi": 1000},
                      headers={"Authorization": "Bearer cli-token"})
        assert r.json()["duLieu"] and all(x["capNhatLuc"] <= expected
                                          for x in r.json()["duLieu"])
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_the_demo_api_service_takes_any_token_and_keeps_it_off_the_command_line(
        demo_dir: Path, tmp_path: Path, monkeypatch) -> None:
    """`make up` starts the demo API with the install's random token. One token in 64 begins
    with "-", which argparse took for an option ("--token: expected one argument"): the API
    never started and `make up` failed. The token now goes through the environment, where
    `ps` does not show it either."""
    import shutil

    import psutil

    from demo import service
    from ioc import processes
    from ioc.settings import load

    home = tmp_path / "home"
    monkeypatch.setenv("IOC_HOME", str(home))
    # service_up points this process at the API it started (service.adopt sets both): set
    # through monkeypatch first, so that both are put back as they were after the test
    for var in ("IOC_AGENCY_API_URL", "IOC_AGENCY_API_TOKEN"):
        monkeypatch.setenv(var, "")
        monkeypatch.delenv(var)
    monkeypatch.setenv("IOC_DEMO_API_PORT", str(free_port()))
    settings = load()
    shutil.copytree(demo_dir, service.demo_dir(settings))
    secret = settings.secret_file("demo-api-token")
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("-Ab3_leading-dash-token\n", encoding="utf-8")
    try:
        urls = service.service_up(settings)
        (url,) = urls.values()
        r = httpx.get(f"{url}/api/v1/phan-anh", params={"soBanGhi": 1},
                      headers={"Authorization": "Bearer -Ab3_leading-dash-token"})
        assert r.status_code == 200, r.text
        pid = processes.running_pid(settings, service.NAME)
        assert "-Ab3_leading-dash-token" not in " ".join(psutil.Process(pid).cmdline())
    finally:
        service.service_down(settings)
