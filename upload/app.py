"""The upload page "Nộp báo cáo": a commune's staff send their reports from their own PC.

Server-rendered HTML in Vietnamese (Starlette, Jinja2), one small stylesheet, no script and
nothing loaded from elsewhere: any office browser works, without plugins. A person logs in
with their Superset account (`upload.accounts`), sees the reports their unit owes with
due dates and status (the reporting mart, read through Superset as them:
`upload.status`), downloads the blank template of each (`ingest.template`), uploads a
file, and reads the intake's answer a few seconds later: the very text the intake writes in
the unit's `_phan_hoi/` folder. The page puts the file into the unit's intake folder and
nowhere else (`upload.folder`); the intake watcher takes it from there like any file
dropped into the shared folder — archive first, the same checks, the same answer.

Safety: every form carries a per-session CSRF token and cross-site POSTs are refused
(Origin/Referer); the unit of every request is checked against the person's roles, read
again from Superset before every upload; file size (`IOC_UPLOAD_MAX_MB`) and type (the
intake's own list) are limited while the body streams in, in memory, never to a temporary
file; file names are reduced to plain names; failed logins are throttled; responses carry a
strict Content-Security-Policy. The page holds no database account and no secret of its own.
"""

from __future__ import annotations

import functools
import hmac
import logging
import os
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ingest.intake.archive import archive_path
from ingest.intake.contracts import load_contracts
from ingest.intake.periods import parse_code
from ingest.intake.reference import org_units
from ingest.template import (
    XLSX_MIME,
    TemplateError,
    build,
    due_date,
    forms_of,
    period_label,
    recent_periods,
    submits,
)
from ioc import settings as settings_mod
from ioc_superset.client import base_url
from ioc_superset.policies import area_name
from upload import folder, status
from upload.accounts import (
    ROLES_TTL_S,
    Access,
    LoginFailed,
    Session,
    SessionExpired,
    Sessions,
    Superset,
    SupersetUnavailable,
    Throttle,
    access_for,
)

log = logging.getLogger("upload")
HERE = Path(__file__).parent
SESSION_COOKIE = "nop_bao_cao"
LOGIN_COOKIE = "nop_bao_cao_dn"
FORM_LIMIT = 16 * 1024  # a login or logout form
MULTIPART_OVERHEAD = 64 * 1024
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


@dataclass(frozen=True)
class PageConfig:
    host: str
    port: int
    intake_dir: Path
    superset_url: str
    max_bytes: int
    session_idle_s: float
    app_name: str
    max_files_per_hour: int = 60
    archive_dir: Path | None = None  # the intake's archive: originals for the data team

    @classmethod
    def load(cls) -> PageConfig:
        s = settings_mod.load()
        name = os.environ.get("IOC_APP_NAME")
        if not name:
            area = area_name(s.today.isoformat())
            name = f"IOC {area}" if area else "IOC"
        return cls(
            host=os.environ.get("IOC_UPLOAD_HOST") or "127.0.0.1",
            port=int(os.environ.get("IOC_UPLOAD_PORT") or 8090),
            intake_dir=s.intake_dir,
            superset_url=base_url(s),
            max_bytes=int(float(os.environ.get("IOC_UPLOAD_MAX_MB") or 10) * 1024 * 1024),
            session_idle_s=float(os.environ.get("IOC_UPLOAD_SESSION_MINUTES") or 60) * 60,
            app_name=name,
            max_files_per_hour=int(os.environ.get("IOC_UPLOAD_MAX_FILES_PER_HOUR") or 60),
            archive_dir=s.archive_dir,
        )


def today() -> date:
    """IOC_TODAY when pinned, else the current day in Vietnam (asked at each request)."""
    s = settings_mod.load()
    return s.today if s.today_pinned else settings_mod.real_today()


class Refused(Exception):
    """A request the page will not serve: shown as a page with `status`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


# --- request bodies ------------------------------------------------------------------------------

async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, "Nội dung gửi lên quá lớn.")
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > limit:
            raise Refused(413, "Nội dung gửi lên quá lớn.")
    return bytes(data)


async def _small_form(request: Request) -> dict[str, str]:
    raw = await _body(request, FORM_LIMIT)
    fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in fields.items()}


@dataclass
class Upload:
    fields: dict[str, str]
    filename: str | None
    data: bytes


async def _multipart(request: Request, max_file: int) -> Upload:
    """One file and a few small fields, streamed and counted as they come, kept in memory:
    nothing of the upload is written anywhere before it is checked."""
    ctype, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise Refused(400, "Yêu cầu không đúng dạng gửi tệp.")
    limit = max_file + MULTIPART_OVERHEAD
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise Refused(413, _too_large(max_file))
    parts: list[dict] = []
    state: dict = {}

    def on_part_begin() -> None:
        state.update(headers={}, field=b"", value=b"", data=bytearray())

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state["value"] += data[start:end]

    def on_header_end() -> None:
        state["headers"][state["field"].lower()] = state["value"]
        state["field"], state["value"] = b"", b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        state["data"] += data[start:end]
        if len(state["data"]) > max_file:
            raise Refused(413, _too_large(max_file))

    def on_part_end() -> None:
        if len(parts) >= 8:
            raise Refused(400, "Yêu cầu có quá nhiều trường.")
        parts.append({"headers": state["headers"], "data": bytes(state["data"])})

    parser = MultipartParser(boundary, {
        "on_part_begin": on_part_begin, "on_header_field": on_header_field,
        "on_header_value": on_header_value, "on_header_end": on_header_end,
        "on_part_data": on_part_data, "on_part_end": on_part_end})
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise Refused(413, _too_large(max_file))
        try:
            parser.write(chunk)
        except Refused:
            raise
        except Exception as exc:
            raise Refused(400, "Yêu cầu không đúng dạng gửi tệp.") from exc
    parser.finalize()
    upload = Upload({}, None, b"")
    files = 0
    for part in parts:
        _kind, disposition = parse_options_header(part["headers"].get(b"content-disposition", b""))
        name = disposition.get(b"name", b"").decode("utf-8", "replace")
        if b"filename" in disposition:
            files += 1
            upload.filename = _decode_name(disposition[b"filename"])
            upload.data = part["data"]
        elif len(part["data"]) <= 4096:
            upload.fields[name] = part["data"].decode("utf-8", "replace")
    if files > 1:
        raise Refused(400, "Mỗi lần chỉ nộp một tệp.")
    return upload


def _decode_name(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1258", "replace")


def _too_large(max_file: int) -> str:
    return (f"Tệp lớn hơn {max_file / 1024 / 1024:.0f} MB nên không nhận. Biểu báo cáo thường "
            "chỉ vài chục KB: kiểm tra lại có chọn đúng tệp không.")


class Quota:
    """At most `limit` accepted uploads per person in any `window_s` (a script or a stuck
    browser cannot fill the intake folder's disk)."""

    def __init__(self, limit: int, window_s: float = 3600):
        self.limit, self.window_s = limit, window_s
        self._times: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def wait_s(self, key: str) -> float:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._times.get(key, []) if now - t < self.window_s]
            self._times[key] = recent
            return 0.0 if len(recent) < self.limit else self.window_s - (now - recent[0])

    def record(self, key: str) -> None:
        with self._lock:
            self._times.setdefault(key, []).append(time.monotonic())


# --- the application -----------------------------------------------------------------------------

def _commune_page(handler):
    """A page of the commune a user acts for: without a session, the login page; else the
    handler gets the session and the commune (`unit_of`: the unit in the path, if the user's)."""
    @functools.wraps(handler)
    async def page(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return _to_login(request)
        return await handler(self, request, session, await self.unit_of(request, session))
    return page


class Page:
    def __init__(self, config: PageConfig):
        self.config = config
        self.superset = Superset(config.superset_url)
        self.sessions = Sessions(config.session_idle_s)
        self.user_throttle = Throttle(limit=5, window_s=300, block_s=300)
        self.address_throttle = Throttle(limit=50, window_s=300, block_s=300)
        self.quota = Quota(config.max_files_per_hour)
        self.jinja = Environment(loader=FileSystemLoader(HERE / "templates"),
                                 autoescape=select_autoescape(default=True),
                                 trim_blocks=True, lstrip_blocks=True)
        self.jinja.filters["day"] = lambda d: d.strftime("%d/%m/%Y") if d else ""
        self.jinja.filters["moment"] = lambda t: t.strftime("%H:%M:%S %d/%m/%Y") if t else ""
        self.jinja.filters["size"] = _size
        self.jinja.filters["q"] = lambda s: quote(s, safe="/")
        self.jinja.globals.update(unit_name=_unit_name, period_label=_period_label,
                                  app_name=config.app_name, superset_url=config.superset_url)

    # -- rendering

    def render(self, name: str, status_code: int = 200, session: Session | None = None,
               **context) -> HTMLResponse:
        html = self.jinja.get_template(name).render(session=session, **context)
        return HTMLResponse(html, status_code=status_code)

    def refused(self, exc: Refused, session: Session | None = None) -> HTMLResponse:
        return self.render("error.html", exc.status, session, message=exc.message)

    # -- sessions

    def session(self, request: Request) -> Session | None:
        return self.sessions.get(request.cookies.get(SESSION_COOKIE))

    async def access(self, session: Session, live: bool = False) -> Access:
        """The person's units, from their roles in Superset (asked again when `live` or
        when last asked more than ROLES_TTL_S ago)."""
        if live or time.monotonic() - session.access_checked > ROLES_TTL_S:
            roles = await self.superset.roles(session.tokens)
            session.access = access_for(roles)
            session.access_checked = time.monotonic()
        return session.access

    async def unit_of(self, request: Request, session: Session, live: bool = False) -> str:
        unit_id = request.path_params["unit"]
        access = await self.access(session, live=live)
        if unit_id not in access.units:
            log.warning("refused: %s asked for unit %r (%s %s)", session.username, unit_id,
                        request.method, request.url.path)
            raise Refused(403, "Anh/chị không nộp báo cáo cho đơn vị này. Mỗi tài khoản chỉ "
                               "nộp cho đơn vị của mình.")
        return unit_id

    def check_post(self, request: Request, token: str | None, expected: str | None) -> None:
        """The form's CSRF token, and the request coming from this page (not another site)."""
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        origin = request.headers.get("origin")
        referer = request.headers.get("referer")
        if origin and origin != "null" and origin != own:
            raise Refused(403, "Yêu cầu không đến từ trang Nộp báo cáo nên bị từ chối.")
        if origin == "null" or (not origin and referer and not referer.startswith(own + "/")):
            raise Refused(403, "Yêu cầu không đến từ trang Nộp báo cáo nên bị từ chối.")
        if not expected or not token or not hmac.compare_digest(token, expected):
            raise Refused(403, "Phiên làm việc không hợp lệ hoặc đã hết hạn; tải lại trang rồi "
                               "thử lại.")

    # -- routes

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def login_page(self, request: Request, message: str | None = None,
                         status_code: int = 200, username: str = "") -> Response:
        token = secrets.token_urlsafe(24)
        response = self.render("login.html", status_code, token=token, message=message,
                               username=username, next=_safe_next(request.query_params.get(
                                   "tiep", "")))
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/dang-nhap")
        return response

    async def login(self, request: Request) -> Response:
        form = await _small_form(request)
        self.check_post(request, form.get("csrf"), request.cookies.get(LOGIN_COOKIE))
        username = form.get("username", "").strip()[:100]
        password = form.get("password", "")[:200]
        address = request.client.host if request.client else "?"
        keys_user, keys_address = (f"user:{username.lower()}",), (f"ip:{address}",)
        wait = max(self.user_throttle.wait_s(*keys_user),
                   self.address_throttle.wait_s(*keys_address))
        if wait > 0:
            log.warning("login throttled: %s from %s", username, address)
            return await self.login_page(
                request, f"Đăng nhập sai quá nhiều lần; thử lại sau {int(wait // 60) + 1} phút.",
                429, username)
        if not username or not password:
            return await self.login_page(request, "Nhập tên đăng nhập và mật khẩu.", 400,
                                         username)
        try:
            tokens = await self.superset.login(username, password)
            roles = await self.superset.roles(tokens)
        except LoginFailed:
            self.user_throttle.failed(*keys_user)
            self.address_throttle.failed(*keys_address)
            log.info("login failed: %s from %s", username, address)
            return await self.login_page(request, "Sai tên đăng nhập hoặc mật khẩu.", 401,
                                         username)
        except (SupersetUnavailable, SessionExpired, PermissionError):
            log.exception("login: Superset did not answer")
            return await self.login_page(
                request, "Hệ thống đăng nhập (Superset) chưa sẵn sàng; thử lại sau ít phút.",
                503, username)
        self.user_throttle.succeeded(*keys_user)
        session = self.sessions.new(username, tokens, access_for(roles))
        log.info("login: %s from %s, units %s", username, address,
                 ",".join(session.access.units) or "-")
        target = _safe_next(form.get("next", "")) or "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(SESSION_COOKIE, session.id, httponly=True, samesite="lax",
                            secure=request.url.scheme == "https", path="/")
        response.delete_cookie(LOGIN_COOKIE, path="/dang-nhap")
        return response

    async def logout(self, request: Request) -> Response:
        session = self.session(request)
        form = await _small_form(request)
        if session is not None:
            self.check_post(request, form.get("csrf"), session.csrf)
            self.sessions.drop(session.id)
            log.info("logout: %s", session.username)
        response = RedirectResponse("/dang-nhap", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    async def home(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            return RedirectResponse("/dang-nhap", status_code=303)
        access = await self.access(session)
        if not access.units:
            return self.render("no_unit.html", 403, session, reason=access.reason)
        return RedirectResponse(f"/don-vi/{access.home}", status_code=303)

    @_commune_page
    async def unit_page(self, request: Request, session: Session, unit_id: str) -> Response:
        day = today()
        everything = request.query_params.get("tat-ca") == "1"
        rows, problem = [], None
        try:
            rows = await status.owed(self.superset, session.tokens, unit_id)
        except SessionExpired:
            raise
        except (SupersetUnavailable, PermissionError, KeyError, ValueError):
            log.exception("status of %s for %s", unit_id, session.username)
            problem = ("Chưa đọc được tình hình nộp báo cáo từ hệ thống báo cáo; vẫn nộp tệp và "
                       "nhận kết quả bình thường.")
        listed = rows if everything else status.shown(rows)
        files = await run_in_threadpool(folder.history, self.config.intake_dir, unit_id)
        return self.render(
            "unit.html", session=session, unit_id=unit_id, units=session.access.units,
            rows=listed, all_rows=len(rows), everything=everything, problem=problem,
            as_of=next((r.as_of for r in rows if r.as_of), None),
            templates=_templates(unit_id, day), files=files[:30], more_files=len(files) > 30,
            max_mb=self.config.max_bytes / 1024 / 1024)

    async def upload(self, request: Request) -> Response:
        session = self.session(request)
        if session is None:
            raise Refused(403, "Phiên làm việc đã hết hạn; đăng nhập lại rồi nộp tệp.")
        wait = self.quota.wait_s(session.username)
        if wait > 0:
            log.warning("upload quota: %s", session.username)
            raise Refused(429, f"Tài khoản này đã nộp {self.config.max_files_per_hour} tệp trong "
                               f"một giờ qua; nộp tiếp sau {int(wait // 60) + 1} phút.")
        received = await _multipart(request, self.config.max_bytes)
        self.check_post(request, received.fields.get("csrf"), session.csrf)
        unit_id = await self.unit_of(request, session, live=True)
        if not received.filename:
            raise Refused(400, "Chưa chọn tệp. Bấm \"Chọn tệp\", chọn tệp báo cáo rồi bấm "
                               "\"Nộp tệp\".")
        try:
            name = folder.safe_name(received.filename)
        except folder.NameRefused as exc:
            raise Refused(415, str(exc)) from exc
        if not received.data:
            raise Refused(400, "Tệp rỗng (0 byte); mở lại tệp trên máy, lưu rồi nộp lại.")
        try:
            delivered = await run_in_threadpool(
                folder.deliver, self.config.intake_dir, unit_id, name, received.data,
                user=session.username)
        except folder.NameRefused as exc:
            raise Refused(409, str(exc)) from exc
        self.quota.record(session.username)
        log.info("upload: %s sent %r for %s as %s (%d bytes)", session.username,
                 received.filename, unit_id, delivered.name, len(received.data))
        return RedirectResponse(f"/don-vi/{unit_id}/tep/{quote(delivered.name)}?moi=1",
                                status_code=303)

    @_commune_page
    async def file_page(self, request: Request, session: Session, unit_id: str) -> Response:
        rel = request.path_params["rel"]
        item = await run_in_threadpool(folder.entry, self.config.intake_dir, unit_id, rel)
        if item is None:
            raise Refused(404, "Không có tệp này trong thư mục của đơn vị.")
        waiting_s = (datetime.now(item.arrived_at.tzinfo) - item.arrived_at).total_seconds()
        return self.render("file.html", session=session, unit_id=unit_id, item=item,
                           fresh=request.query_params.get("moi") == "1",
                           slow=item.answer is None and waiting_s > 60)

    @_commune_page
    async def template(self, request: Request, session: Session, unit_id: str) -> Response:
        form = request.path_params["form"]
        period = request.query_params.get("ky") or None
        try:
            blank = await run_in_threadpool(build, form, unit_id, period, today=today())
        except TemplateError as exc:
            raise Refused(404, str(exc)) from exc
        log.info("template: %s took %s", session.username, blank.filename)
        return Response(blank.data, media_type=XLSX_MIME, headers={
            "Content-Disposition": f'attachment; filename="{blank.filename}"'})

    async def original(self, request: Request) -> Response:
        """An archived original, for the data team only (issue 18): the report rows behind a
        figure (Superset, mart_bao_cao.fct_dong_bao_cao) link here by the file's archive name
        (its SHA-256 and extension). Roles are asked from Superset at every download."""
        session = self.session(request)
        if session is None:
            return _to_login(request)
        roles = await self.superset.roles(session.tokens)
        if not set(roles) & ORIGINAL_ROLES:
            log.warning("refused: %s (%s) asked for an original", session.username, roles)
            raise Refused(403, "Chỉ nhóm dữ liệu được tải tệp gốc đã lưu trữ. Số liệu của tệp "
                               "xem ở bảng Nguồn số liệu trên dashboard.")
        name = request.path_params["name"]
        match = ARCHIVE_NAME.fullmatch(name)
        stored = (archive_path(self.config.archive_dir, match["digest"], match["ext"] or "")
                  if match and self.config.archive_dir else None)
        if stored is None or not stored.is_file():
            raise Refused(404, "Không có tệp này trong kho lưu trữ.")
        shown = _download_name(request.query_params.get("ten") or "", name)
        log.info("original: %s took %s (%s)", session.username, name, shown)
        return FileResponse(stored, media_type="application/octet-stream", headers={
            "Content-Disposition": "attachment; filename*=UTF-8''" + quote(shown, safe="")})


# who may download archived originals: the data team and Admin (superset/policies/roles.yaml)
ORIGINAL_ROLES = {"Admin", "Nhóm dữ liệu"}
ARCHIVE_NAME = re.compile(r"(?P<digest>[0-9a-f]{64})(?P<ext>\.[a-z0-9]{1,10})?")


def _download_name(wanted: str, fallback: str) -> str:
    """The name the file had when sent (from the link), reduced to a plain file name."""
    name = wanted.replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"<>:|?*')
    return name[:200] or fallback


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KB".replace(".", ",")
    return f"{n / 1024 / 1024:.1f} MB".replace(".", ",")


def _unit_name(unit_id: str) -> str:
    unit = org_units().get(unit_id)
    if unit is None:
        return unit_id
    if unit.valid_to is not None:
        return f"{unit.name} (đến {unit.valid_to:%d/%m/%Y})"
    return unit.name


def _period_label(code: str) -> str:
    period = parse_code(code)
    if period is None:
        return code
    text = period_label(period)
    return text[0].upper() + text[1:]


def _templates(unit_id: str, day: date) -> list[dict]:
    """For each form the unit sends: its recent periods (newest first) for the download."""

    out = []
    for form in forms_of(unit_id):
        periods = [p for p in recent_periods(form, day, 400) if submits(unit_id, form, p)][:12]
        if periods:
            out.append({"form": form, "title": load_contracts()[form].title,
                        "periods": [(p.code, _period_label(p.code), due_date(form, p))
                                    for p in periods]})
    return out


def _safe_next(target: str) -> str:
    """Only a path of this page (`/don-vi/...`), never another site."""
    return target if target.startswith("/") and not target.startswith("//") and (
        "\\" not in target) else ""


def _to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/dang-nhap?" + urlencode({"tiep": target}), status_code=303)


class SecurityHeaders:
    """Every response: a strict Content-Security-Policy (this page's stylesheet, nothing else),
    no sniffing, no framing, no referrer to other sites; pages are not cached."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        static = scope["path"].startswith("/tai-nguyen/")

        async def with_headers(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])]
                headers += [(b"content-security-policy", CSP.encode()),
                            (b"x-content-type-options", b"nosniff"),
                            (b"x-frame-options", b"DENY"),
                            (b"referrer-policy", b"same-origin")]
                if not static:
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(config: PageConfig | None = None) -> Starlette:
    page = Page(config or PageConfig.load())

    def guarded(handler: Callable[[Request], Awaitable[Response]]):
        async def run(request: Request) -> Response:
            try:
                response = await handler(request)
            except Refused as exc:
                response = page.refused(exc, page.session(request))
            except SessionExpired:
                page.sessions.drop(request.cookies.get(SESSION_COOKIE))
                response = _to_login(request)
                response.delete_cookie(SESSION_COOKIE, path="/")
            except SupersetUnavailable:
                log.exception("Superset did not answer")
                response = page.refused(Refused(
                    503, "Hệ thống báo cáo (Superset) chưa sẵn sàng; thử lại sau ít phút."),
                    page.session(request))
            return response
        return run

    routes = [
        Route("/health", guarded(page.health)),
        Route("/dang-nhap", guarded(page.login_page), methods=["GET"]),
        Route("/dang-nhap", guarded(page.login), methods=["POST"]),
        Route("/dang-xuat", guarded(page.logout), methods=["POST"]),
        Route("/", guarded(page.home)),
        Route("/don-vi/{unit}", guarded(page.unit_page)),
        Route("/don-vi/{unit}/nop", guarded(page.upload), methods=["POST"]),
        Route("/don-vi/{unit}/tep/{rel:path}", guarded(page.file_page)),
        Route("/don-vi/{unit}/bieu-mau/{form}", guarded(page.template)),
        Route("/tep-goc/{name}", guarded(page.original)),
        Mount("/tai-nguyen", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(SecurityHeaders)])
    app.state.page = page
    return app


def serve(host: str | None = None, port: int | None = None) -> int:
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s "
                        "%(message)s")
    config = PageConfig.load()
    host, port = host or config.host, port or config.port
    log.info("Nộp báo cáo: http://%s:%d (intake %s, Superset %s, tệp tối đa %.0f MB)", host,
             port, config.intake_dir, config.superset_url, config.max_bytes / 1024 / 1024)
    uvicorn.run(create_app(config), host=host, port=port, log_level="info",
                server_header=False, proxy_headers=True)
    return 0
