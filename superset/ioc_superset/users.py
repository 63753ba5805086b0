"""Superset users: create or update one with given roles (REST, `/api/v1/security/users/`).

Users are people, not code: they are not kept in the repository. `ioc superset add-user`
creates one with a generated password that is printed once.
"""

from __future__ import annotations

import secrets

from ioc_superset.client import SupersetClient, rison


def role_ids(client: SupersetClient, names: list[str]) -> list[int]:
    body = client.get("/api/v1/security/roles/search/", q=rison({"page": 0, "page_size": 500}))
    by_name = {r["name"]: r["id"] for r in body["result"]}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise KeyError(f"unknown Superset roles: {missing} (run `ioc superset bootstrap`)")
    return [by_name[n] for n in names]


def ensure_user(
    client: SupersetClient,
    username: str,
    roles: list[str],
    password: str | None = None,
    first_name: str = "Cán bộ",
    last_name: str | None = None,
    email: str | None = None,
) -> str:
    """Create `username` (or reset its roles and password); return the password."""
    password = password or secrets.token_urlsafe(12)
    payload = {
        "first_name": first_name,
        "last_name": last_name or username,
        "username": username,
        "email": email or f"{username}@ioc.local",
        "active": True,
        "password": password,
        "roles": role_ids(client, roles),
    }
    existing = client.list_all("security/users", columns=["id", "username"], username=username)
    if existing:
        client.put(f"/api/v1/security/users/{existing[0]['id']}", payload)
    else:
        client.post("/api/v1/security/users/", payload)
    return password
