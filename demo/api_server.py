"""The demo agency API: `ioc/reference/agency-api.yaml` served from a demo world's records.

Serves `/api/v1/ho-so`, `/api/v1/van-ban` and `/api/v1/phan-anh` the way the province's
integration platform does: bearer token (401), pages of at most 1000 records ordered by
(`capNhatLuc`, key), `capNhatTu` (>=), 429 with `Retry-After` when asked too fast. A record is
shown as its newest version *as of the server's clock*; advancing the clock (admin endpoint,
`--advance-per-request`, `--speed`) makes later versions appear, so records change between
page requests exactly as connectors must survive. Faults can be switched on for testing:
random or queued 500/502/503, slow responses (client timeouts), forced 429s.

Admin endpoints (same bearer token): `GET /_admin/state`, `POST /_admin/clock`
(`{"now": iso}` or `{"advance": seconds}`), `POST /_admin/faults` (`fail_next`, `slow_next`,
`slow_seconds`, `throttle_next`, `retry_after`, `error_rate`, `slow_rate`, `rate_limit`,
`burst`, `advance_per_request`, `speed`), `POST /_admin/reset`. `GET /health` needs no token.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import socket
import threading
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from demo.calendar import TZ
from demo.store import INTERNAL, KEYS, RESOURCES, read_resource


def _default(o):
    if isinstance(o, (datetime, date)):
        return o.isoformat()
    raise TypeError(type(o))


def _json_dumps(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False, default=_default).encode("utf-8")


try:  # orjson ships with the pipeline environment and is ~10x faster; json otherwise
    import orjson

    def _dumps(obj) -> bytes:
        try:
            return orjson.dumps(obj)
        except TypeError:  # e.g. a page number beyond 64 bits echoed back
            return _json_dumps(obj)
except ImportError:  # pragma: no cover
    _dumps = _json_dumps

MAX_PAGE = 1000
DEFAULT_PAGE = 200
NEVER = np.iinfo(np.int64).max


@dataclass
class ServerConfig:
    data_dir: Path
    token: str = "demo-token"
    rate_limit: float | None = None
    """Requests per second allowed per token (token bucket); None: unlimited."""
    burst: int = 10
    error_rate: float = 0.0
    """Probability that a data request fails with 500, 502 or 503."""
    slow_rate: float = 0.0
    """Probability that a data request is answered only after `slow_seconds`."""
    slow_seconds: float = 30.0
    retry_after: int = 1
    now: datetime | None = None
    """The clock's start; default: the end of the world's span (meta.json)."""
    advance_per_request: float = 0.0
    """Seconds the clock moves forward after every data request."""
    speed: float = 0.0
    """Clock seconds per wall-clock second (0: the clock stands still)."""
    seed: int = 0


def _seconds(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Epoch seconds (Parquet keeps second timestamps as milliseconds)."""
    return pc.cast(pc.cast(column, pa.timestamp("s", tz="+07:00")), pa.int64())


class Dataset:
    """All versions of one resource, sorted by (capNhatLuc, key), for 'as of' queries."""

    def __init__(self, table: pa.Table, key: str) -> None:
        table = table.sort_by([("capNhatLuc", "ascending"), (key, "ascending")])
        self.cap = _seconds(table["capNhatLuc"]).to_numpy(zero_copy_only=False)
        self.until = pc.fill_null(_seconds(table["_hetHieuLuc"]), NEVER).to_numpy(
            zero_copy_only=False)
        self.table = table.drop_columns([c for c in INTERNAL if c in table.column_names])
        self.key = key
        self._cache: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.cap)

    def visible(self, since: int | None, now: int) -> np.ndarray:
        """Row numbers of the versions current at `now` with capNhatLuc >= since, in order."""
        k = (since if since is not None else -NEVER, now)
        with self._lock:
            hit = self._cache.get(k)
            if hit is not None:
                self._cache.move_to_end(k)
                return hit
        lo = 0 if since is None else int(np.searchsorted(self.cap, since, "left"))
        hi = int(np.searchsorted(self.cap, now, "right"))
        idx = lo + np.flatnonzero(self.until[lo:hi] > now) if hi > lo else np.empty(0, np.int64)
        with self._lock:
            self._cache[k] = idx
            while len(self._cache) > 16:
                self._cache.popitem(last=False)
        return idx

    def rows(self, idx: np.ndarray) -> list[dict]:
        return self.table.take(pa.array(idx, pa.int64())).to_pylist()


@dataclass
class State:
    """What can change while the server runs: the clock, the fault switches, counters."""

    config: ServerConfig
    base_now: datetime
    offset: float = 0.0
    wall0: float = field(default_factory=time.monotonic)
    fail_next: list[int] = field(default_factory=list)
    slow_next: int = 0
    throttle_next: int = 0
    tokens: float = 0.0
    last_refill: float = field(default_factory=time.monotonic)
    requests: int = 0
    served: int = 0
    faults: dict = field(default_factory=dict)

    def now(self) -> datetime:
        wall = (time.monotonic() - self.wall0) * self.config.speed
        return self.base_now + timedelta(seconds=self.offset + wall)

    def set_now(self, when: datetime) -> None:
        self.base_now, self.offset, self.wall0 = when, 0.0, time.monotonic()


def _parse_time(text: str) -> datetime:
    text = text.strip().upper()
    if " " in text and "+" not in text:  # '+' of the offset decoded to a space in the query
        head, _, tail = text.rpartition(" ")
        text = f"{head}+{tail}"
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=TZ)


def _epoch(when: datetime) -> int:
    """Whole seconds, rounded up (capNhatTu is inclusive); dates beyond any record clamp."""
    try:
        return math.ceil(when.timestamp())
    except (OverflowError, ValueError, OSError):
        return -NEVER if when.year < 1000 else NEVER


def _error(status: int, message: str, headers: dict | None = None) -> Response:
    return JSONResponse({"loi": message}, status_code=status, headers=headers)


def load_meta(data_dir: Path) -> dict:
    path = Path(data_dir) / "meta.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def create_app(config: ServerConfig) -> Starlette:
    """The ASGI app; records are loaded once, here."""
    meta = load_meta(config.data_dir)
    datasets = {res: Dataset(read_resource(config.data_dir, res), KEYS[res]) for res in RESOURCES}
    start = config.now or (datetime.fromisoformat(meta["clock_default"]) if meta.get(
        "clock_default") else datetime.now(TZ))
    state = State(config, start, tokens=float(config.burst))
    initial = replace(config)
    rng = random.Random(config.seed)
    lock = asyncio.Lock()

    def authorised(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and value.strip() == config.token

    def unauthorised() -> Response:
        return _error(401, "Token không hợp lệ hoặc đã hết hạn",
                      {"WWW-Authenticate": 'Bearer realm="agency-api"'})

    def throttle() -> Response | None:
        if state.throttle_next > 0:
            state.throttle_next -= 1
            state.faults["429"] = state.faults.get("429", 0) + 1
            return _error(429, "Gọi quá nhanh, thử lại sau",
                          {"Retry-After": str(config.retry_after)})
        rate = config.rate_limit
        if not rate:
            return None
        t = time.monotonic()
        state.tokens = min(float(config.burst), state.tokens + (t - state.last_refill) * rate)
        state.last_refill = t
        if state.tokens >= 1.0:
            state.tokens -= 1.0
            return None
        wait = max(1, math.ceil((1.0 - state.tokens) / rate))
        state.faults["429"] = state.faults.get("429", 0) + 1
        return _error(429, "Gọi quá nhanh, thử lại sau", {"Retry-After": str(wait)})

    async def data(request: Request) -> Response:
        resource = request.path_params["resource"]
        state.requests += 1
        if not authorised(request):
            return unauthorised()
        async with lock:
            limited = throttle()
            failure = None
            if limited is not None:
                pass
            elif state.fail_next:
                failure = state.fail_next.pop(0)
            elif config.error_rate and rng.random() < config.error_rate:
                failure = rng.choice([500, 502, 503])
            slow = False
            if limited is not None or failure is not None:
                pass
            elif state.slow_next > 0:
                state.slow_next -= 1
                slow = True
            elif config.slow_rate and rng.random() < config.slow_rate:
                slow = True
        if limited is not None:
            return limited
        if failure is not None:
            state.faults[str(failure)] = state.faults.get(str(failure), 0) + 1
            return _error(failure, {500: "Lỗi máy chủ", 502: "Cổng kết nối lỗi",
                                    503: "Dịch vụ tạm thời không sẵn sàng"}[failure])
        if slow:
            state.faults["slow"] = state.faults.get("slow", 0) + 1
            await asyncio.sleep(config.slow_seconds)
        q = request.query_params
        try:
            page = int(q.get("trang", "1"))
            size = int(q.get("soBanGhi", str(DEFAULT_PAGE)))
            since = _parse_time(q["capNhatTu"]) if q.get("capNhatTu") else None
        except (ValueError, TypeError):
            return _error(400, "Tham số không hợp lệ (trang, soBanGhi, capNhatTu)")
        if page < 1 or not 1 <= size <= MAX_PAGE:
            return _error(400, f"trang >= 1 và 1 <= soBanGhi <= {MAX_PAGE}")
        ds = datasets[resource]
        async with lock:
            now = state.now()
            if config.advance_per_request:
                state.offset += config.advance_per_request
        since_s = _epoch(since) if since else None
        idx = ds.visible(since_s, int(now.timestamp()))
        total = len(idx)
        pages = math.ceil(total / size)
        first = min((page - 1) * size, total)
        chunk = idx[first: first + size]
        rows = ds.rows(chunk) if len(chunk) else []
        state.served += len(rows)
        body = {"duLieu": rows, "trang": page, "tongSoTrang": pages, "tongSoBanGhi": total}
        return Response(_dumps(body), media_type="application/json")

    async def admin_state(request: Request) -> Response:
        if not authorised(request):
            return unauthorised()
        cfg = {k: (str(v) if isinstance(v, (Path, datetime)) else v)
               for k, v in asdict(config).items() if k != "token"}
        return JSONResponse({
            "now": state.now().isoformat(), "requests": state.requests, "served": state.served,
            "faults": state.faults, "fail_next": state.fail_next, "slow_next": state.slow_next,
            "throttle_next": state.throttle_next, "config": cfg,
            "records": {res: len(ds) for res, ds in datasets.items()}, "meta": meta,
        })

    async def admin_clock(request: Request) -> Response:
        if not authorised(request):
            return unauthorised()
        body = await _json(request)
        async with lock:
            if "now" in body:
                state.set_now(_parse_time(str(body["now"])))
            if "advance" in body:
                state.offset += float(body["advance"])
        return JSONResponse({"now": state.now().isoformat()})

    async def admin_faults(request: Request) -> Response:
        if not authorised(request):
            return unauthorised()
        body = await _json(request)
        async with lock:
            for code in body.get("fail_next", []):
                if int(code) not in (500, 502, 503):
                    return _error(400, "fail_next: 500, 502 hoặc 503")
                state.fail_next.append(int(code))
            state.slow_next += int(body.get("slow_next", 0))
            state.throttle_next += int(body.get("throttle_next", 0))
            for name in ("slow_seconds", "error_rate", "slow_rate", "advance_per_request",
                         "speed"):
                if name in body:
                    setattr(config, name, float(body[name]))
            if "retry_after" in body:
                config.retry_after = int(body["retry_after"])
            if "burst" in body:
                config.burst = int(body["burst"])
                state.tokens = float(config.burst)
            if "rate_limit" in body:
                config.rate_limit = float(body["rate_limit"]) if body["rate_limit"] else None
                state.tokens = float(config.burst)
        return await admin_state(request)

    async def admin_reset(request: Request) -> Response:
        if not authorised(request):
            return unauthorised()
        async with lock:
            state.fail_next.clear()
            state.slow_next = state.throttle_next = 0
            for name in ("rate_limit", "burst", "error_rate", "slow_rate", "slow_seconds",
                         "retry_after", "advance_per_request", "speed"):
                setattr(config, name, getattr(initial, name))
            state.set_now(start)
            state.tokens = float(config.burst)
            state.faults.clear()
        return await admin_state(request)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "records": {r: len(d) for r, d in datasets.items()}})

    routes = [
        Route("/api/v1/{resource:str}", _only(RESOURCES, data), methods=["GET"]),
        Route("/_admin/state", admin_state, methods=["GET"]),
        Route("/_admin/clock", admin_clock, methods=["POST"]),
        Route("/_admin/faults", admin_faults, methods=["POST"]),
        Route("/_admin/reset", admin_reset, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ]
    app = Starlette(routes=routes)
    app.state.demo = state
    return app


def _only(resources: tuple[str, ...], handler):
    async def endpoint(request: Request) -> Response:
        if request.path_params["resource"] not in resources:
            return _error(404, "Không có tài nguyên này")
        return await handler(request)
    return endpoint


async def _json(request: Request) -> dict:
    raw = await request.body()
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# ------------------------------------------------------------------------------ running
@dataclass
class ServerHandle:
    """A demo API running in a background thread (for tests and notebooks)."""

    url: str
    token: str
    app: Starlette
    _server: object
    _thread: threading.Thread

    @property
    def state(self) -> State:
        return self.app.state.demo

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    def __enter__(self) -> ServerHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def serve_in_thread(data_dir: Path, port: int = 0, token: str = "demo-token",
                    host: str = "127.0.0.1", **options) -> ServerHandle:
    """Start the demo API in a thread; `port=0` picks a free port. Options: ServerConfig fields."""
    import uvicorn

    config = ServerConfig(Path(data_dir), token=token, **options)
    app = create_app(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True,
                              name=f"demo-api-{port}")
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("demo API did not start")
        time.sleep(0.02)
    return ServerHandle(f"http://{host}:{port}", token, app, server, thread)


def serve(config: ServerConfig, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run in the foreground until interrupted (the `ioc demo-api` command)."""
    import uvicorn

    app = create_app(config)
    uvicorn.run(app, host=host, port=port, log_level="info")
