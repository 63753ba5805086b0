"""Who Superset is, in PostgreSQL, for each query: the login role of the user's scope.

Loaded by `superset_config.py` (Superset's own virtualenv: no `ioc` package here, only the
environment and `$IOC_HOME`). Two hooks:

- `mutate` is Superset's `DB_CONNECTION_MUTATOR`. Superset calls it every time it opens a
  connection to a database (charts, dashboards, explore, the chart-data API, samples, filter
  values, SQL Lab, alerts and reports, metadata), with the name of the user on whose behalf
  it does so. It replaces the user name and password of the warehouse connection with the
  login role of that user's scope, from `$IOC_HOME/superset/db-identities.json` (written by
  `ioc superset bootstrap`, superset/ioc_superset/identities.py), the password derived from
  the install's
  role key (`IOC_BI_ROLE_KEY`). PostgreSQL's row-level security then gives that role its
  rows, whatever SQL the query holds. A request without a user, a user without a mapped
  role, a user with roles of two different communes, a missing map or key: the role
  `ioc_bi_nobody`, which cannot log in. Connections whose stored user is a fixed identity
  (`ioc_public`, the public page's own connection) are left as they are.

- `install_report_executor` (from `FLASK_APP_MUTATOR`) makes scheduled reports and alerts run
  as one of their recipients, never as their owner: every recipient must be a Superset user
  (by e-mail) and all of them must map to the same PostgreSQL identity; otherwise the report
  does not run. `ALERT_REPORTS_EXECUTORS` names a user that does not exist, so that without
  this hook reports fail instead of running with someone else's scope.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
from pathlib import Path
from typing import Any

logger = logging.getLogger("ioc.identity")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DENY_DEFAULT = "ioc_bi_nobody"
# The executor named in ALERT_REPORTS_EXECUTORS: no such user exists (see module docstring).
NO_EXECUTOR = "ioc-khong-co-nguoi-chay-bao-cao"

_cache: dict[str, Any] = {"key": None, "doc": None}


def identity_file() -> Path:
    home = Path(os.environ.get("IOC_HOME") or PROJECT_ROOT / ".ioc").expanduser()
    return home / "superset" / "db-identities.json"


def load_map() -> dict | None:
    """The identity map, re-read when the file changes; None when missing or unreadable."""
    path = identity_file()
    try:
        stat = path.stat()
    except OSError:
        return None
    key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if _cache["key"] != key:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.error("cannot read %s: every query is refused", path)
            return None
        _cache.update(key=key, doc=doc)
    return _cache["doc"]


def role_password(login: str, key: str) -> str:
    """Same derivation as `ioc.warehouse.role_password` (a test compares the two)."""
    digest = hmac.new(key.encode(), login.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def choose_login(role_names: list[str], doc: dict) -> str | None:
    """The login role for a user with `role_names`, or None (refused).

    The identity with the lowest precedence wins (a commune before the district roles);
    roles of two different communes are no single scope, so none."""
    entries = [doc["roles"][name] for name in role_names if name in doc.get("roles", {})]
    if not entries:
        return None
    units = {e["login"] for e in entries if e.get("unit")}
    if len(units) > 1:
        return None
    best = min(e["precedence"] for e in entries)
    chosen = {e["login"] for e in entries if e["precedence"] == best}
    return chosen.pop() if len(chosen) == 1 else None


def _user(username: str, security_manager: Any) -> Any:
    try:
        from flask import g

        user = getattr(g, "user", None)
    except (ImportError, RuntimeError):  # outside Superset / an application context
        user = None
    model = getattr(security_manager, "user_model", None)
    if user is None or getattr(user, "username", None) != username or (
        model is not None and not isinstance(user, model)
    ):
        user = security_manager.find_user(username=username)
    return user


def user_roles(username: str | None, security_manager: Any) -> list[str]:
    """Role names of an active Superset user; [] for anyone else."""
    if not username:
        return []
    user = _user(username, security_manager)
    if user is None or not getattr(user, "is_active", False):
        return []
    return [role.name for role in getattr(user, "roles", [])]


def login_for(username: str | None, security_manager: Any, doc: dict | None) -> str | None:
    if doc is None or not username:
        return None
    return choose_login(user_roles(username, security_manager), doc)


def mutate(uri: Any, params: dict, username: str | None, security_manager: Any,
           source: Any = None) -> tuple[Any, dict]:
    """DB_CONNECTION_MUTATOR: the warehouse connection as the user's scope role."""
    if not str(uri.drivername).startswith("postgresql"):
        return uri, params
    doc = load_map()
    if doc is not None and uri.username in doc.get("fixed_users", []):
        return uri, params
    key = os.environ.get("IOC_BI_ROLE_KEY")
    login = login_for(username, security_manager, doc) if key else None
    if login is None:
        deny = (doc or {}).get("deny") or DENY_DEFAULT
        logger.info("no database identity for user %r: connecting as %s", username, deny)
        # a role that cannot log in; a dummy password keeps libpq away from ~/.pgpass
        return uri.set(username=deny, password="-"), params
    return uri.set(username=login, password=role_password(login, key)), params


# --- scheduled reports and alerts -------------------------------------------------------

_ADDRESS = re.compile(r"[,;\s]+")


def recipient_addresses(report: Any) -> list[str] | None:
    """Every e-mail address a report goes to; None when it has another kind of recipient
    (a chat channel has no Superset user, so no scope)."""
    addresses: list[str] = []
    for recipient in report.recipients or []:
        if str(getattr(recipient.type, "value", recipient.type)) != "Email":
            return None
        config = json.loads(recipient.recipient_config_json or "{}")
        for field in ("target", "ccTarget", "bccTarget"):
            addresses += [a for a in _ADDRESS.split(config.get(field) or "") if a]
    return addresses


def recipients_executor(report: Any, security_manager: Any) -> str | None:
    """The user a report runs as: a recipient, if all recipients share one identity."""
    addresses = recipient_addresses(report)
    if not addresses:
        return None
    doc = load_map()
    chosen: set[str | None] = set()
    first = None
    for address in addresses:
        user = security_manager.find_user(email=address)
        if user is None:
            return None
        chosen.add(login_for(user.username, security_manager, doc))
        first = first or user.username
    if len(chosen) != 1 or None in chosen:
        return None
    return first


def install_report_executor(app: Any = None) -> None:
    """Replace Superset's executor choice for reports and alerts (see module docstring)."""
    from superset.commands.report import alert, execute
    from superset.reports.models import ReportSchedule
    from superset.tasks.exceptions import ExecutorNotFoundError
    from superset.tasks.types import ExecutorType

    original = execute.get_executor

    def get_executor(executors: list, model: Any, current_user: str | None = None):
        if not isinstance(model, ReportSchedule):
            return original(executors, model, current_user)
        from superset import security_manager

        username = recipients_executor(model, security_manager)
        if username is None:
            logger.warning("report %r: its recipients share no database identity; not run",
                           getattr(model, "name", model))
            raise ExecutorNotFoundError()
        return ExecutorType.FIXED_USER, username

    get_executor.ioc_recipients = True  # type: ignore[attr-defined]
    execute.get_executor = get_executor
    alert.get_executor = get_executor


# --- API clients with a token, beside the public page -----------------------------------


def install_jwt_user(app: Any) -> None:
    """A request that carries a JWT (`Authorization: Bearer`) is its user's request.

    Flask-AppBuilder's `protect` serves an endpoint the public role may use (AUTH_ROLE_PUBLIC:
    the public page reads charts, datasets, dashboards) without reading the token, so an
    API client such as bootstrap would be served as an anonymous visitor — the public
    role's filters on lists, its datasets for chart data. Reading the token before every
    request sets `g.user` to the token's user (Flask-AppBuilder's `load_user_jwt`); a
    request without a token, or with an invalid one, stays anonymous."""
    from flask import request
    from flask_jwt_extended import verify_jwt_in_request

    @app.before_request
    def _user_from_token() -> None:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return
        try:
            verify_jwt_in_request(optional=True)  # sets g.user through load_user_jwt
        except Exception:  # protect() still refuses a bad token where it must
            logger.info("request with an invalid token: served as anonymous")


def install(app: Any) -> None:
    """FLASK_APP_MUTATOR: every hook of this module."""
    install_report_executor(app)
    install_jwt_user(app)
