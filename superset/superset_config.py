"""Superset configuration for the district IOC (loaded through SUPERSET_CONFIG_PATH).

This file runs inside `.venv-superset`, which does not have the `ioc` package, so it reads
only environment variables and files under IOC_HOME. `ioc superset serve|bootstrap`
(`superset/ioc_superset/server.py`) sets the variables below; running
`.venv-superset/bin/superset` by hand with only IOC_HOME set still works (SQLite metadata).

- SECRET_KEY: env `SUPERSET_SECRET_KEY`, else `$IOC_HOME/superset-secret-key`, generated
  on first use (per install, never committed: `.ioc/` is git-ignored).
- Metadata database: env `IOC_SUPERSET_METADATA_URL` (ioc_superset passes the `superset`
  database of the embedded PostgreSQL, role `ioc_superset`), else SQLite at
  `$IOC_HOME/superset.db`.
- Database identity: every query runs as the PostgreSQL login role of its user's scope
  (`ioc_identity.py` beside this file; key `IOC_BI_ROLE_KEY`, map written by bootstrap).

Superset is started with only the environment it needs (superset/ioc_superset/server.py): no
warehouse owner URL, no agency token.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar

from celery.schedules import crontab
from superset.tasks.types import FixedExecutor

PROJECT_ROOT = Path(__file__).resolve().parent.parent
IOC_HOME = Path(os.environ.get("IOC_HOME") or PROJECT_ROOT / ".ioc").expanduser()


def _sibling(name: str):
    """A module next to this file (this file is loaded by path, not from a package)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ioc_identity = _sibling("ioc_identity")
# issue 18: /ioc/tep-goc/... sends the data team to the upload page's download of an original
ioc_links = _sibling("ioc_links")
BLUEPRINTS = [ioc_links.blueprint]


def _secret_key() -> str:
    """The session/encryption key: env override, else a per-install file created once.

    Superset encrypts stored database passwords with it, so it must stay the same for the
    life of the metadata database.
    """
    if os.environ.get("SUPERSET_SECRET_KEY"):
        return os.environ["SUPERSET_SECRET_KEY"]
    path = IOC_HOME / "superset-secret-key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(42)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


SECRET_KEY = _secret_key()

SQLALCHEMY_DATABASE_URI = os.environ.get("IOC_SUPERSET_METADATA_URL") or (
    f"sqlite:///{IOC_HOME / 'superset.db'}?check_same_thread=false"
)
# Keep the metadata pool small: the embedded PostgreSQL is shared with the warehouse.
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

# "IOC <area>", the area read from the unit list by superset/ioc_superset/server.py (no place
# named here)
APP_NAME = os.environ.get("IOC_APP_NAME") or "IOC"

# No example data: bootstrap never runs `superset load-examples`.

# --- Security ---------------------------------------------------------------------------
WTF_CSRF_ENABLED = True
# The REST API is used with a JWT (POST /api/v1/security/login) plus the CSRF token from
# GET /api/v1/security/csrf_token/ sent back as X-CSRFToken with the session cookie.
# Superset's default exempt list is kept as is (chart data and logging endpoints).
WTF_CSRF_TIME_LIMIT = int(timedelta(hours=12).total_seconds())

TALISMAN_ENABLED = True
# Superset's own pages need: nonce'd scripts ('strict-dynamic'), inline styles (emotion),
# blob: workers (ECharts/ace), data:/blob: images. No third-party origins: the machine has no
# internet, so map tiles, fonts and telemetry pixels are left out on purpose.
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
        "frame-ancestors": ["'self'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# Commune roles must not see rows of other communes. The database decides: every query
# runs as the login role of its user's scope, whose rows PostgreSQL's row-level security
# limits (docs/security.md). Superset's own RLS rules stay as the first layer; commune roles
# open only datasets those rules cover, have no SQL Lab, and RLS_IN_SQLLAB stays off.
DB_CONNECTION_MUTATOR = ioc_identity.mutate
# Reports and alerts run as one of their recipients (all of one scope), never as the owner;
# the executor named here does not exist, so without the hook a report fails closed.
FLASK_APP_MUTATOR = ioc_identity.install_report_executor
ALERT_REPORTS_EXECUTORS = [FixedExecutor(ioc_identity.NO_EXECUTOR)]
PUBLIC_ROLE_LIKE = None
PREVENT_UNSAFE_DB_CONNECTIONS = True

# --- Public page "Công khai" (issue 19) ----------------------------------------------------
# Visitors who have not logged in get the role "Công khai" (superset/policies/roles.yaml,
# applied by bootstrap): the public dashboard's datasets only, read through the connection
# whose stored user is ioc_public (schema cong_khai). PUBLIC_ROLE_LIKE stays None so that
# `superset init` never copies another role's permissions into it.
AUTH_ROLE_PUBLIC = "Công khai"
# API clients with a token (bootstrap, tests) stay themselves on endpoints the public role
# may use too (ioc_identity.install_jwt_user), besides the report executor hook above.
FLASK_APP_MUTATOR = ioc_identity.install

# --- Features ---------------------------------------------------------------------------
# Native filters and cross-filters are built into Superset 6 (no flag any more).
FEATURE_FLAGS = {
    "DRILL_BY": True,
    "DRILL_TO_DETAIL": True,
    "DASHBOARD_VIRTUALIZATION": False,  # render every chart (screenshots, slow links)
    "ALERT_REPORTS": True,  # issue 19: scheduled reports (block "Alerts & Reports" below)
    "ENABLE_TEMPLATE_PROCESSING": False,
    "TAGGING_SYSTEM": False,
    "THUMBNAILS": False,
    # cached results are keyed by user too: two users never share one (row scope differs
    # per login role even where Superset's own rules coincide)
    "CACHE_QUERY_BY_USER": True,
}

# --- Alerts & Reports (issue 19) ----------------------------------------------------------
# Scheduled reports (superset/reports.yaml, created by bootstrap:
# superset/ioc_superset/reports.py) are run by ONE Celery worker with beat inside it (`ioc up`
# starts it: superset/ioc_superset/worker.py). Broker and results live in Superset's own
# metadata database (kombu's SQLAlchemy transport; never the warehouse): nothing else to
# install. Screenshots: Debian's chromium + chromium-driver, logged in as the report's
# executor on our own gunicorn.
_METADATA_URL = SQLALCHEMY_DATABASE_URI.split("?", 1)[0]
_CELERY_DB = (_METADATA_URL if not _METADATA_URL.startswith("sqlite")
              else f"sqlite:///{IOC_HOME / 'superset' / 'celery.db'}")


class CeleryConfig:  # pylint: disable=too-few-public-methods
    broker_url = f"sqla+{_CELERY_DB}"
    result_backend = f"db+{_CELERY_DB}"
    imports = ("superset.tasks.scheduler",)
    worker_prefetch_multiplier = 1
    task_acks_late = False
    broker_connection_retry_on_startup = True
    # the SQL transport polls the queue table (kombu's default: every second); its options
    # go to SQLAlchemy's create_engine
    broker_transport_options: ClassVar[dict] = {"pool_pre_ping": True}
    result_expires = timedelta(days=7)
    beat_schedule: ClassVar[dict] = {
        "reports.scheduler": {
            "task": "reports.scheduler",
            "schedule": crontab(minute="*", hour="*"),
            "options": {"expires": int(timedelta(weeks=1).total_seconds())},
        },
        "reports.prune_log": {"task": "reports.prune_log", "schedule": crontab(minute=0, hour=0)},
    }


CELERY_CONFIG = CeleryConfig
CELERY_BEAT_SCHEDULER_EXPIRES = timedelta(weeks=1)  # = the option above (Superset reads it)

# Chromium of the machine (`make browser`), never a downloaded one. Root needs --no-sandbox.
WEBDRIVER_TYPE = "chrome"
WEBDRIVER_OPTION_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=vi"]
WEBDRIVER_CONFIGURATION = {
    "options": {"capabilities": {}, "preferences": {}},
    "service": {"executable_path": os.environ.get("IOC_CHROMEDRIVER") or "/usr/bin/chromedriver",
                "log_output": os.devnull, "service_args": [], "port": 0, "env": {}},
}
# A dashboard's screenshot is of its element, cut to the browser's window: the window is as
# tall as the tallest dashboard (the overview, ~4,700 px; tests/superset/test_assets_files.py
# keeps every dashboard inside it), or a report's PDF would stop mid-page.
WEBDRIVER_WINDOW = {"dashboard": (1600, 6000), "slice": (1600, 1000), "pixel_density": 1}
# Our own web server (superset/ioc_superset/server.py sets IOC_SUPERSET_URL); links in the
# messages point where people open Superset (IOC_DASHBOARD_BASE_URL, as the Dagster alerts' links).
WEBDRIVER_BASEURL = (
    os.environ.get("IOC_SUPERSET_URL") or "http://127.0.0.1:8088").rstrip("/") + "/"
WEBDRIVER_BASEURL_USER_FRIENDLY = (
    os.environ.get("IOC_DASHBOARD_BASE_URL") or WEBDRIVER_BASEURL).rstrip("/") + "/"
SCREENSHOT_LOAD_WAIT = 60
SCREENSHOT_SELENIUM_HEADSTART = 2
SCREENSHOT_SELENIUM_ANIMATION_WAIT = 2
ALERT_REPORTS_ENABLE_LINK_REDIRECT = False
EMAIL_REPORTS_SUBJECT_PREFIX = "[IOC]"  # Superset adds the space
EMAIL_REPORTS_CTA = "Mở trong Superset"

# Mail: the real server when IOC_SMTP_HOST is set (the same variables as the Dagster alerts);
# otherwise the local sink `ioc up` runs beside the worker (superset/ioc_superset/mailsink.py),
# which writes each message as a file under $IOC_HOME/outbox/ (the dry run, like the alerts').
# IOC_NOTIFY_DRY_RUN=1 sends to the sink whatever is configured.
if os.environ.get("IOC_SMTP_HOST") and os.environ.get("IOC_NOTIFY_DRY_RUN", "0") != "1":
    SMTP_HOST = os.environ["IOC_SMTP_HOST"]
    SMTP_PORT = int(os.environ.get("IOC_SMTP_PORT") or 25)
    SMTP_USER = os.environ.get("IOC_SMTP_USER") or None
    SMTP_PASSWORD = os.environ.get("IOC_SMTP_PASSWORD") or None
    SMTP_STARTTLS = os.environ.get("IOC_SMTP_STARTTLS", "0") == "1"
else:
    SMTP_HOST = "127.0.0.1"
    SMTP_PORT = int(os.environ.get("IOC_MAIL_SINK_PORT") or 0)
    SMTP_USER = SMTP_PASSWORD = None
    SMTP_STARTTLS = False
SMTP_SSL = False
SMTP_MAIL_FROM = os.environ.get("IOC_SMTP_FROM") or "ioc@localhost"

# --- Cache ------------------------------------------------------------------------------
# A small in-process cache per worker; filter and explore state stay in the metadata DB.
CACHE_CONFIG = {
    "CACHE_TYPE": "SimpleCache",
    "CACHE_DEFAULT_TIMEOUT": int(timedelta(minutes=10).total_seconds()),
    "CACHE_THRESHOLD": 500,
    "CACHE_KEY_PREFIX": "ioc_superset_",
}
# Chart results: on disk under $IOC_HOME (0600 files), shared by the web server's workers,
# keyed by user (CACHE_QUERY_BY_USER above).
DATA_CACHE_CONFIG = {
    "CACHE_TYPE": "FileSystemCache",
    "CACHE_DIR": str(IOC_HOME / "superset" / "cache" / "data"),
    "CACHE_DEFAULT_TIMEOUT": int(timedelta(minutes=10).total_seconds()),
    "CACHE_THRESHOLD": 2000,
    "CACHE_KEY_PREFIX": "ioc_data_",
}

# --- Vietnamese formatting --------------------------------------------------------------
# 1.234.567,5 and amounts in đồng: "1.234 ₫".
D3_FORMAT = {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " ₫"]}
D3_TIME_FORMAT = {
    "dateTime": "%H:%M:%S %d/%m/%Y",
    "date": "%d/%m/%Y",
    "time": "%H:%M:%S",
    "periods": ["SA", "CH"],
    "days": ["Chủ nhật", "Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy"],
    "shortDays": ["CN", "T2", "T3", "T4", "T5", "T6", "T7"],
    "months": [f"Tháng {m}" for m in range(1, 13)],
    "shortMonths": [f"Th{m}" for m in range(1, 13)],
}
# --- "Today" -----------------------------------------------------------------------------
# Relative time ranges ("Last month", "Last 12 months", "Next ...") count from the platform's
# one "today" (IOC_TODAY, see ioc/settings.py) when it is pinned, so a demo or a test made for
# a day shows the same ranges whatever the server's clock says. (Custom ranges written with
# `today`/`now` and the "previous calendar ..." ranges still follow the server's clock.)
_TODAY = os.environ.get("IOC_TODAY", "").strip()
if _TODAY:
    _TODAY = date.fromisoformat(_TODAY).isoformat()  # a malformed day fails here, loudly
DEFAULT_RELATIVE_START_TIME = _TODAY or "today"
DEFAULT_RELATIVE_END_TIME = _TODAY or "today"

# --- Language (issue 18) -------------------------------------------------------------------
# Vietnamese, the only language (no language menu). Superset ships no Vietnamese: the
# catalogue is this project's (superset/translations/vi/LC_MESSAGES/messages.po), compiled
# under $IOC_HOME at start and served to the front end by `ioc_i18n.py` (docs/superset.md).
ioc_i18n = _sibling("ioc_i18n")
_LANGUAGE_PACKS = ioc_i18n.compile_catalogues(IOC_HOME / "superset" / "translations")
BABEL_DEFAULT_LOCALE = "vi"
LANGUAGES = {"vi": {"flag": "vn", "name": "Tiếng Việt"}}
# Superset's own catalogues ("translations", relative to its package) first, then ours.
BABEL_TRANSLATION_DIRECTORIES = f"translations;{IOC_HOME / 'superset' / 'translations'}"
FLASK_APP_MUTATOR = ioc_i18n.chain(
    FLASK_APP_MUTATOR,
    lambda app: ioc_i18n.install_language_pack(app, _LANGUAGE_PACKS),
)

ROW_LIMIT = 50000
SUPERSET_WEBSERVER_TIMEOUT = 120
