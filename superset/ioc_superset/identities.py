"""The PostgreSQL identity each Superset user's queries run as.

Superset stores one warehouse connection (role `ioc_bi`, which reads nothing). For every
query it opens, `DB_CONNECTION_MUTATOR` (superset/ioc_identity.py) swaps in the login role of
the user's scope, chosen from the user's Superset roles with the map this module writes:

- a commune's role (one per unit in rls.yaml) -> `ioc_bi__<org_unit_id>`;
  PostgreSQL's row policies on the marts give it its unit's rows and those of the units
  merged into it (`access.unit_scope`, dbt);
- the leaders' and the data team's roles (and Superset's `Admin`, which reads as the data
  team) -> their own login roles (roles.yaml), members of `ioc_bi_all_units`: every unit's rows;
- no user, an unknown role, roles of two communes -> `ioc_bi_nobody`, which cannot log in.

A login role, not `SET ROLE` or a session setting, because a session can undo those
(`RESET ROLE`, `set_config`) from inside a query; it cannot change the role it logged in as.

`apply()` creates the login roles on the warehouse (passwords derived from the install's
role key, `warehouse.role_password`), sets their limits (statement timeout, connection
limit, read-only default), their group memberships, and retires unit roles no longer listed;
it writes `$IOC_HOME/superset/db-identities.json` (0600) for the mutator. Bootstrap runs it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import psycopg
from psycopg import sql

from ioc import warehouse
from ioc.settings import Settings
from ioc_superset import policies

IDENTITY_FILE = "db-identities.json"
SCOPES = ("unit", "all_units")
MAX_ROLE_NAME = 63  # PostgreSQL's NAMEDATALEN - 1


class IdentityError(ValueError):
    """roles.yaml describes an identity that cannot exist."""


@dataclass(frozen=True)
class Identity:
    login: str
    scope: str  # unit | all_units
    precedence: int
    statement_timeout: str
    connection_limit: int
    unit: str | None = None


def _identity(role: str, db: dict, unit: str | None = None) -> Identity:
    scope = db.get("scope")
    if scope not in SCOPES:
        raise IdentityError(f"role {role}: database.scope must be one of {SCOPES}")
    if scope == "unit":
        if unit is None:
            raise IdentityError(f"role {role}: scope `unit` is for commune roles (rls.yaml)")
        login = warehouse.BI_UNIT_ROLE_PREFIX + unit
    else:
        login = db.get("login") or ""
        if not login.startswith("ioc_bi_") or login.startswith(warehouse.BI_UNIT_ROLE_PREFIX):
            raise IdentityError(f"role {role}: database.login must start with ioc_bi_ "
                                f"(not {warehouse.BI_UNIT_ROLE_PREFIX}): {login!r}")
    if len(login.encode()) > MAX_ROLE_NAME:
        raise IdentityError(f"role {role}: login role {login} is longer than {MAX_ROLE_NAME} bytes")
    timeout = os.environ.get("IOC_BI_STATEMENT_TIMEOUT") or str(db.get("statement_timeout") or "")
    if not timeout:
        raise IdentityError(f"role {role}: database.statement_timeout is required")
    limit = int(db.get("connection_limit") or 0)
    if limit <= 0:
        raise IdentityError(f"role {role}: database.connection_limit must be positive")
    return Identity(login=login, scope=scope, precedence=int(db.get("precedence", 100)),
                    statement_timeout=timeout, connection_limit=limit, unit=unit)


def superset_identities(policy_dir: Path = policies.POLICY_DIR) -> dict[str, Identity]:
    """Superset role name -> the identity its users' queries run as."""
    specs, rules = policies.load(policy_dir)
    unit_of = {rule["role"]: rule["org_unit_id"] for rule in rules}
    out: dict[str, Identity] = {}
    for spec in specs:
        if spec.database:
            out[spec.name] = _identity(spec.name, spec.database, unit_of.get(spec.name))
    for name, db in policies.builtin_identities(policy_dir).items():
        same_as = db.get("same_as")
        if same_as not in out:
            raise IdentityError(f"builtin role {name}: same_as names no role with a database")
        out[name] = out[same_as]
    return out


def logins(identities: dict[str, Identity]) -> list[Identity]:
    """Every distinct login role, in a stable order."""
    return sorted({i.login: i for i in identities.values()}.values(), key=lambda i: i.login)


def statements(
    identities: dict[str, Identity], key: str, *, existing: set[str] = frozenset(),
    server_version: int = 150000,
) -> list[sql.Composable]:
    """SQL that makes the server's login roles match `identities` (idempotent when
    `existing` lists the roles already there). Also what a DBA runs by hand."""
    out: list[sql.Composable] = []
    for group in (warehouse.BI_READER_GROUP, warehouse.BI_ALL_UNITS_GROUP):
        if group not in existing:
            out.append(sql.SQL("create role {} nologin").format(sql.Identifier(group)))
    member_opts = sql.SQL(" with inherit true, set false" if server_version >= 160000 else "")
    marker_opts = sql.SQL(" with inherit false, set false" if server_version >= 160000 else "")
    for ident in logins(identities):
        role = sql.Identifier(ident.login)
        verb = "alter" if ident.login in existing else "create"
        out.append(sql.SQL(verb + " role {} with login inherit password {}").format(
            role, sql.Literal(warehouse.role_password(ident.login, key))))
        out += warehouse.bi_role_limits(ident.login, ident.statement_timeout,
                                        ident.connection_limit)
        out.append(sql.SQL("grant {} to {}").format(
            sql.Identifier(warehouse.BI_READER_GROUP), role) + member_opts)
        if ident.scope == "all_units":
            out.append(sql.SQL("grant {} to {}").format(
                sql.Identifier(warehouse.BI_ALL_UNITS_GROUP), role) + marker_opts)
    return out


def _existing(conn: psycopg.Connection) -> set[str]:
    return {r for (r,) in conn.execute("select rolname from pg_roles where rolname like 'ioc\\_%'")}


def apply(settings: Settings, policy_dir: Path = policies.POLICY_DIR) -> list[str]:
    """Create or update the login roles on the warehouse; write the mutator's map.

    Returns what changed. On a server where the warehouse's role may not manage roles, the
    map is still written and the returned line says what the DBA must run
    (`ioc superset db-roles --sql`)."""
    identities = superset_identities(policy_dir)
    write_file(settings, identities)
    key = warehouse.role_key(settings)
    changes: list[str] = []
    with psycopg.connect(warehouse.url(settings), autocommit=True) as conn:
        existing = _existing(conn)
        version = conn.info.server_version
        try:
            with conn.transaction():
                for statement in statements(identities, key, existing=existing,
                                            server_version=version):
                    conn.execute(statement)
                changes += [f"created login role {i.login}" for i in logins(identities)
                            if i.login not in existing]
                changes += _retire(conn, identities, existing)
        except psycopg.errors.InsufficientPrivilege as exc:
            changes.append(f"BI login roles NOT created ({exc.diag.message_primary}): "
                           "run `ioc superset db-roles --sql` as a role with CREATEROLE")
    return changes


def _retire(conn: psycopg.Connection, identities: dict[str, Identity],
            existing: set[str]) -> list[str]:
    """Login roles of scopes no longer in the files lose LOGIN and their memberships (their
    history stays readable by the roles that still exist); the all-units marker is only for
    all-units identities."""
    wanted = {i.login: i for i in identities.values()}
    changes = []
    members = {
        (grp, member)
        for grp, member in conn.execute(
            "select g.rolname, m.rolname from pg_auth_members a "
            "join pg_roles g on g.oid = a.roleid join pg_roles m on m.oid = a.member "
            "where g.rolname = any(%s)",
            ([warehouse.BI_READER_GROUP, warehouse.BI_ALL_UNITS_GROUP],))
    }
    for grp, member in sorted(members):
        ident = wanted.get(member)
        keep = ident is not None and (grp == warehouse.BI_READER_GROUP
                                      or ident.scope == "all_units")
        if not keep:
            conn.execute(sql.SQL("revoke {} from {}").format(sql.Identifier(grp),
                                                            sql.Identifier(member)))
            changes.append(f"revoked {grp} from {member}")
    for role in sorted(existing):
        if role.startswith(warehouse.BI_UNIT_ROLE_PREFIX) and role not in wanted:
            conn.execute(sql.SQL("alter role {} nologin").format(sql.Identifier(role)))
            changes.append(f"retired login role {role}")
    return changes


def file_path(settings: Settings) -> Path:
    return settings.home / "superset" / IDENTITY_FILE


def mapping(identities: dict[str, Identity]) -> dict:
    """The document superset/ioc_identity.py reads."""
    return {
        "warehouse_user": warehouse.BI_ROLE,
        "deny": warehouse.BI_DENY_ROLE,
        "fixed_users": [warehouse.PUBLIC_ROLE],
        "roles": {
            name: {"login": i.login, "precedence": i.precedence, "unit": i.unit}
            for name, i in sorted(identities.items())
        },
        "logins": {i.login: asdict(i) for i in logins(identities)},
    }


def write_file(settings: Settings, identities: dict[str, Identity]) -> Path:
    """Write the map atomically, mode 0600 (it names roles, holds no password)."""
    path = file_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(mapping(identities), ensure_ascii=False, indent=1, sort_keys=True)
    if path.exists() and path.read_text(encoding="utf-8") == text:
        return path
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    return path


def sql_script(settings: Settings, policy_dir: Path = policies.POLICY_DIR) -> str:
    """Every BI role as SQL for a DBA on a fresh server: what `ioc warehouse start` and
    `apply` would create (passwords included: keep the output private)."""
    identities = superset_identities(policy_dir)
    key = warehouse.role_key(settings)
    base: list[sql.Composable] = []
    for role, password, limit in ((warehouse.BI_ROLE, warehouse.bi_password(settings), 5),
                                  (warehouse.PUBLIC_ROLE,
                                   warehouse.role_password(warehouse.PUBLIC_ROLE, key), 10)):
        base.append(sql.SQL("create role {} with login noinherit password {}").format(
            sql.Identifier(role), sql.Literal(password)))
        base += warehouse.bi_role_limits(role, "20s", limit)
    base.append(sql.SQL("create role {} nologin").format(sql.Identifier(warehouse.BI_DENY_ROLE)))
    with psycopg.connect(warehouse.url(settings)) as conn:
        version = conn.info.server_version
        return "\n".join(
            s.as_string(conn) + ";"
            for s in base + statements(identities, key, server_version=version)
        )
