"""The demo world's hooks into `make up` / `make demo` (entry-point group `ioc.services` in
pyproject.toml; `cli.services._Hook` says what each one is for): the demo agency API as a
service, the day the world was made for, and the demo commune's upload-page account."""

from __future__ import annotations

from demo.accounts import ensure_demo_account
from demo.service import adopt as service_adopt
from demo.service import service_down, service_up
from demo.service import world_today as service_today
from ioc.settings import Settings

__all__ = ["service_adopt", "service_down", "service_logins", "service_today", "service_up"]


def service_logins(settings: Settings) -> list[str]:
    """The demo commune account (made, or reset to its stored password, now)."""
    try:
        account = ensure_demo_account(settings)
    except Exception as exc:  # the demo account is a convenience: never stop the stack for it
        print(f"  (demo commune account not made: {exc})")
        return []
    if account is None:
        return []
    return [f"  Nộp báo cáo login (demo, {account.role}): {account.username} / "
            f"{account.password}"]
