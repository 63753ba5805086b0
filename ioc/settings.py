"""Every setting the platform reads, in one place, from the environment.

The defaults make a fresh clone work with nothing configured: data under `.ioc/` in the
checkout, an embedded PostgreSQL on 127.0.0.1:54329. Each default can be overridden with an
`IOC_*` variable (the README lists them all).
"""

from __future__ import annotations

import argparse
import os
import secrets
import sysconfig
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCAL_TZ = timezone(timedelta(hours=7), "+07:00")
"""Asia/Ho_Chi_Minh: no daylight saving since 1975, so a fixed +07:00 is exact."""
TODAY_VAR = "IOC_TODAY"


def parse_today(text: str) -> date:
    """A `YYYY-MM-DD` day (what `--today` and IOC_TODAY take)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"'today' must be a date YYYY-MM-DD, not {text!r}") from None


def real_today() -> date:
    """The calendar day it is now in Vietnam."""
    return datetime.now(LOCAL_TZ).date()


# Where a system's administration tools live even when a user's PATH leaves them out.
SYSTEM_TOOL_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")


def scripts_dir() -> Path:
    """The `bin/` folder of the environment this process runs in (`.venv/bin` for `ioc`).

    Every tool the platform starts (dbt, dagster, ioc itself) is taken from here by its full
    path, never looked up on the caller's PATH, which may lack the virtualenv.
    """
    return Path(sysconfig.get_path("scripts"))


def tool(name: str) -> Path:
    """Full path of one of this environment's console scripts (`dbt`, `dagster`, `ioc`)."""
    return scripts_dir() / name


def child_path(path: str | None = None) -> str:
    """PATH for processes the platform starts: this environment's scripts first, then the
    caller's PATH, then the usual system folders (a PATH without them must not break us)."""
    parts = [str(scripts_dir()), *(path if path is not None else os.environ.get("PATH", ""))
             .split(os.pathsep), *SYSTEM_TOOL_DIRS]
    return os.pathsep.join(dict.fromkeys(p for p in parts if p))


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    """A snapshot of the environment; call `load()` again after changing os.environ."""

    home: Path
    warehouse_url: str | None
    pg_port: int
    intake_dir: Path
    archive_dir: Path
    superset_port: int
    dagster_port: int
    agency_api_url: str | None
    agency_api_token: str | None
    today: date = field(default_factory=lambda: real_today())
    """The day everything that reads a clock takes as "today" (demo world, demo API, dbt's
    `as_of_date`, Dagster's checks, Superset's relative time ranges): IOC_TODAY when set,
    else the current day in Vietnam, read once when the settings are loaded."""
    today_pinned: bool = False
    """True when IOC_TODAY fixes the day (tests, benchmarks, replays)."""

    @property
    def day_start(self) -> datetime:
        """The first instant of `today` (00:00 in Vietnam): the demo world ends just before."""
        return datetime.combine(self.today, time(0), LOCAL_TZ)

    @property
    def embedded(self) -> bool:
        """True when the platform runs its own PostgreSQL (no IOC_WAREHOUSE_URL given)."""
        return not self.warehouse_url

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    def secret_file(self, name: str) -> Path:
        return self.home / name


def load() -> Settings:
    home = _path("IOC_HOME", PROJECT_ROOT / ".ioc")
    return Settings(
        home=home,
        warehouse_url=os.environ.get("IOC_WAREHOUSE_URL") or None,
        pg_port=int(os.environ.get("IOC_PG_PORT", "54329")),
        intake_dir=_path("IOC_INTAKE_DIR", home / "intake"),
        archive_dir=_path("IOC_ARCHIVE_DIR", home / "archive"),
        superset_port=int(os.environ.get("IOC_SUPERSET_PORT", "8088")),
        dagster_port=int(os.environ.get("IOC_DAGSTER_PORT", "3000")),
        agency_api_url=os.environ.get("IOC_AGENCY_API_URL") or None,
        agency_api_token=os.environ.get("IOC_AGENCY_API_TOKEN") or None,
        today=parse_today(pinned) if (pinned := os.environ.get(TODAY_VAR)) else real_today(),
        today_pinned=bool(pinned),
    )


def pin_today(day: date) -> None:
    """Make `day` "today" for this process and every process it starts (IOC_TODAY)."""
    os.environ[TODAY_VAR] = day.isoformat()


def read_or_create_secret(path: Path, env_var: str | None = None, nbytes: int = 18) -> str:
    """Return a secret from `env_var`, else from `path`, else generate it into `path` (0600).

    Secrets are generated per install and never committed: `.ioc/` is git-ignored.
    """
    if env_var and os.environ.get(env_var):
        return os.environ[env_var]
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value + "\n")
    return value


# issue 20: the `--today` option every command shares (the demo world's and the top floor's)
def add_today_option(parser: argparse.ArgumentParser, what: str) -> None:
    """`--today YYYY-MM-DD`: the one "today" of a run (default IOC_TODAY, else the current day
    in Vietnam); it is also passed on to every process the command starts (IOC_TODAY)."""
    parser.add_argument("--today", type=_today_arg, metavar="YYYY-MM-DD",
                        help=f"the day taken as today ({what}; default: $IOC_TODAY, else the "
                        "current day in Vietnam)")


def _today_arg(text: str):
    try:
        return parse_today(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
