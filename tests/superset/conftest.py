"""Superset fixtures: one real, bootstrapped Superset for the whole session, reading marts
that the real pipeline built from a short demo world.

- `mart_world` (tests/conftest.py): the demo world (October 2024 – September 2025 of Hiệp
  Đức, across the 2025-07-01 reform, seen on 2025-09-10) generated, ingested, pulled from the
  demo agency API and built by dbt into the session warehouse (`demo_world.py`); its timings
  go to `test-artifacts/superset/demo-world-timings.json`.
- `superset_server`: `tests.support.superset_server.SupersetServer` (url, admin username/password,
  `client()`), bootstrapped against the session test warehouse; reusable from an end-to-end
  test through `tests.support.superset_server.running_superset(settings)` as well.
- `admin`: a logged-in admin REST client.
- `commune_user` / `leader_user` / `data_team_user`: (username, password) of users with the
  roles `Xã Hiệp Thuận`, `Lãnh đạo huyện`, `Nhóm dữ liệu`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ioc.settings import PROJECT_ROOT
from ioc_superset import users
from ioc_superset.client import SupersetClient
from tests.support.superset_server import SupersetServer

sys.path.insert(0, str(Path(__file__).parent))

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "superset"


@pytest.fixture(scope="session")
def superset_server(mart_world, superset_server) -> Iterator[SupersetServer]:
    """The session's Superset (tests/conftest.py), with the demo world's marts in place."""
    return superset_server


@pytest.fixture(scope="session")
def admin(superset_server: SupersetServer) -> Iterator[SupersetClient]:
    with superset_server.client() as client:
        yield client


def _user(admin: SupersetClient, username: str, role: str) -> tuple[str, str]:
    return username, users.ensure_user(admin, username, [role], last_name=role)


@pytest.fixture(scope="session")
def commune_user(admin: SupersetClient) -> tuple[str, str]:
    return _user(admin, "can-bo-hiep-thuan", "Xã Hiệp Thuận")


@pytest.fixture(scope="session")
def merged_commune_user(admin: SupersetClient) -> tuple[str, str]:
    """A user of Quế Tân, the commune Hiệp Hòa and Hiệp Thuận merged into."""
    return _user(admin, "can-bo-que-tan", "Xã Quế Tân")


@pytest.fixture(scope="session")
def leader_user(admin: SupersetClient) -> tuple[str, str]:
    return _user(admin, "lanh-dao-huyen", "Lãnh đạo huyện")


@pytest.fixture(scope="session")
def data_team_user(admin: SupersetClient) -> tuple[str, str]:
    return _user(admin, "nhom-du-lieu", "Nhóm dữ liệu")
