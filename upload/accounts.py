"""Who may use the upload page, and for which units: Superset decides.

Superset is the one list of users. The page logs a person in with Superset's own API
(`POST /api/v1/security/login`, their user name and password, never stored), keeps the tokens
Superset returns in memory for the session, and reads the person's roles from Superset
(`GET /api/v1/me/roles/`) — at login, again at least every `ROLES_TTL_S` seconds while
they browse, and before every upload (a role taken away in Superset stops the next upload).

A role acts for units the way the database lets it read them: the commune roles of
`ioc_superset.policies` (one per commune-level unit, `superset/policies/rls.yaml`) act for their
commune and for the units merged into it (a late report of a merged-away commune is sent by
the commune that took it over, into that unit's own folder). Any other role — the district's
leaders, the data team, Admin — acts for none; roles of two different communes act for none
either (as the database gives such a user no identity at all): closed unless opened.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx

from ingest.intake.reference import org_units
from ioc_superset.policies import commune_rules

ROLES_TTL_S = 60.0


class SupersetUnavailable(RuntimeError):
    """Superset did not answer (down, restarting): nobody can log in meanwhile."""


class LoginFailed(ValueError):
    """Wrong user name or password, or an inactive user."""


class SessionExpired(PermissionError):
    """Superset no longer accepts the session's tokens (expired, user deactivated)."""


@dataclass
class Tokens:
    access: str
    refresh: str | None


@dataclass(frozen=True)
class Access:
    """What a person may do on the page."""

    units: tuple[str, ...] = ()  # their commune first, then the units merged into it
    reason: str | None = None  # why they may act for no unit (Vietnamese)

    @property
    def home(self) -> str | None:
        return self.units[0] if self.units else None


@cache
def commune_roles() -> dict[str, str]:
    """Superset role name → the commune-level unit it stands for (from the unit list, as
    `ioc superset bootstrap` creates them)."""

    return {rule["role"]: rule["org_unit_id"] for rule in commune_rules()}


def merged_into(unit_id: str) -> list[str]:
    """The units whose successor chain leads to `unit_id` (every merger), latest first."""
    units = org_units()
    found = []
    for unit in units.values():
        seen, current = {unit.org_unit_id}, unit.successor_id
        while current and current not in seen:
            if current == unit_id:
                found.append(unit)
                break
            seen.add(current)
            current = units[current].successor_id if current in units else None
    found.sort(key=lambda u: u.name)
    found.sort(key=lambda u: u.valid_to or u.valid_from, reverse=True)  # latest first
    return [u.org_unit_id for u in found]


def access_for(role_names: list[str]) -> Access:
    roles = commune_roles()
    communes = sorted({roles[r] for r in role_names if r in roles})
    if not communes:
        return Access(reason="Tài khoản này không gắn với xã, phường nào nên không nộp báo cáo "
                             "được trên trang này. Trang dành cho cán bộ xã, phường; các tài "
                             "khoản lãnh đạo, nhóm dữ liệu chỉ xem báo cáo.")
    if len(communes) > 1:
        names = ", ".join(org_units()[u].name for u in communes)
        return Access(reason=f"Tài khoản này có vai trò của nhiều đơn vị ({names}); mỗi tài "
                             "khoản chỉ nộp cho một đơn vị. Đề nghị quản trị hệ thống sửa "
                             "vai trò của tài khoản.")
    return Access(units=(communes[0], *merged_into(communes[0])))


# --- Superset ------------------------------------------------------------------------------------

class Superset:
    """Calls to Superset on a person's behalf (a new HTTP client each time: no cookie of
    one person ever travels with another's request)."""

    def __init__(self, url: str, timeout_s: float = 20.0):
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=self.timeout_s)

    async def login(self, username: str, password: str) -> Tokens:
        try:
            async with self._client() as http:
                resp = await http.post("/api/v1/security/login", json={
                    "username": username, "password": password, "provider": "db",
                    "refresh": True})
        except httpx.HTTPError as exc:
            raise SupersetUnavailable(str(exc)) from exc
        if resp.status_code in (400, 401, 403, 422):
            raise LoginFailed(username)
        if resp.status_code != 200:
            raise SupersetUnavailable(f"login: HTTP {resp.status_code}")
        body = resp.json()
        return Tokens(body["access_token"], body.get("refresh_token"))

    async def _refresh(self, tokens: Tokens) -> None:
        if not tokens.refresh:
            raise SessionExpired("no refresh token")
        try:
            async with self._client() as http:
                resp = await http.post("/api/v1/security/refresh",
                                       headers={"Authorization": f"Bearer {tokens.refresh}"})
        except httpx.HTTPError as exc:
            raise SupersetUnavailable(str(exc)) from exc
        if resp.status_code != 200:
            raise SessionExpired(f"refresh: HTTP {resp.status_code}")
        tokens.access = resp.json()["access_token"]

    async def call(self, tokens: Tokens, method: str, path: str, **kwargs: Any) -> Any:
        """An API call with the person's token (refreshed once when it has expired)."""
        for attempt in (0, 1):
            try:
                async with self._client() as http:
                    resp = await http.request(
                        method, path, headers={"Authorization": f"Bearer {tokens.access}"},
                        **kwargs)
            except httpx.HTTPError as exc:
                raise SupersetUnavailable(str(exc)) from exc
            if resp.status_code == 401 and attempt == 0:
                await self._refresh(tokens)
                continue
            if resp.status_code == 401:
                raise SessionExpired(path)
            if resp.status_code >= 500:
                raise SupersetUnavailable(f"{path}: HTTP {resp.status_code}")
            if resp.status_code >= 400:
                raise PermissionError(f"{path}: HTTP {resp.status_code} {resp.text[:300]}")
            return resp.json()
        raise SessionExpired(path)

    async def roles(self, tokens: Tokens) -> list[str]:
        body = await self.call(tokens, "GET", "/api/v1/me/roles/")
        return sorted((body.get("result") or {}).get("roles") or {})


# --- sessions and login throttling --------------------------------------------------------------

@dataclass
class Session:
    id: str
    username: str
    tokens: Tokens
    access: Access
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    created: float = field(default_factory=time.monotonic)
    seen: float = field(default_factory=time.monotonic)
    access_checked: float = field(default_factory=time.monotonic)


class Sessions:
    """Sessions in this process's memory only (a restart logs everyone out); each ends after
    `idle_s` without a request or `max_s` after login."""

    def __init__(self, idle_s: float, max_s: float = 12 * 3600):
        self.idle_s, self.max_s = idle_s, max_s
        self._items: dict[str, Session] = {}
        self._lock = threading.Lock()

    def new(self, username: str, tokens: Tokens, access: Access) -> Session:
        session = Session(secrets.token_urlsafe(32), username, tokens, access)
        with self._lock:
            self._sweep()
            self._items[session.id] = session
        return session

    def get(self, sid: str | None) -> Session | None:
        if not sid:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._items.get(sid)
            if session is None:
                return None
            if now - session.seen > self.idle_s or now - session.created > self.max_s:
                del self._items[sid]
                return None
            session.seen = now
            return session

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._items.pop(sid or "", None)

    def _sweep(self) -> None:
        now = time.monotonic()
        for sid in [s.id for s in self._items.values()
                    if now - s.seen > self.idle_s or now - s.created > self.max_s]:
            del self._items[sid]


class Throttle:
    """At most `limit` failed logins per key (a user name, an address) in `window_s`; then
    that key waits `block_s`."""

    def __init__(self, limit: int = 5, window_s: float = 300, block_s: float = 300):
        self.limit, self.window_s, self.block_s = limit, window_s, block_s
        self._fails: dict[str, list[float]] = {}
        self._until: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait_s(self, *keys: str) -> float:
        now = time.monotonic()
        with self._lock:
            return max((self._until.get(k, 0) - now for k in keys), default=0.0)

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                recent = [t for t in self._fails.get(key, []) if now - t < self.window_s]
                recent.append(now)
                self._fails[key] = recent
                if len(recent) >= self.limit:
                    self._until[key] = now + self.block_s
                    self._fails[key] = []

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._fails.pop(key, None)
