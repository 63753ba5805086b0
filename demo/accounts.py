"""A commune account for the demo world, so that the upload page "Nộp báo cáo" can be tried
as soon as `make demo` / `make up` has started: a Superset user with the commune role of the
demo's main commune (its unit and the units merged into it), its password generated once per
install into `$IOC_HOME/demo-commune-password` (0600) and printed with the URLs.

Only when the demo world is what is served (`world_today`): an install with a real agency API
gets no such account; its data team makes real ones (`ioc superset add-user`, docs/upload.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from demo.service import world_today
from ioc.settings import Settings, read_or_create_secret

DEMO_UNIT = "xa-hiep-duc"
USERNAME = "demo-can-bo-xa"
PASSWORD_FILE = "demo-commune-password"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    unit_id: str


def commune_role(unit_id: str = DEMO_UNIT) -> tuple[str, str] | None:
    """(role, org_unit_id) of the demo commune; with another unit list, its first commune-level
    unit still in force."""
    from ingest.intake.reference import org_units
    from ioc_superset.policies import commune_rules

    rules = commune_rules()
    units = org_units()
    for rule in rules:
        if rule["org_unit_id"] == unit_id:
            return rule["role"], unit_id
    current = [r for r in rules if r["org_unit_id"] in units
               and units[r["org_unit_id"]].valid_to is None]
    return (current[0]["role"], current[0]["org_unit_id"]) if current else None


def ensure_demo_account(settings: Settings) -> DemoAccount | None:
    """Create (or reset to its stored password and role) the demo commune account."""
    if world_today(settings) is None:
        return None
    found = commune_role()
    if found is None:
        return None
    role, unit_id = found
    from ioc_superset import bootstrap, users

    password = read_or_create_secret(settings.secret_file(PASSWORD_FILE))
    with bootstrap.admin_client(settings) as client:
        users.ensure_user(client, USERNAME, [role], password=password,
                          first_name="Cán bộ xã (demo)")
    return DemoAccount(USERNAME, password, role, unit_id)
