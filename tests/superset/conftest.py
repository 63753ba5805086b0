"""Superset fixtures: one real, bootstrapped Superset for the whole session.

- `superset_server`: `ioc.bi.testing.SupersetServer` (url, admin username/password,
  `client()`), bootstrapped against the session test warehouse; reusable from an end-to-end
  test through `ioc.bi.testing.running_superset(settings)` as well.
- `slice_mart`: the KTXH-01 slice mart table with rows (see `slice_data.py`).
- `admin`: a logged-in admin REST client.
- `commune_user` / `leader_user` / `data_team_user`: (username, password) of users with the
  roles `Xã Hiệp Thuận`, `Lãnh đạo huyện`, `Nhóm dữ liệu`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ioc import warehouse
from ioc.bi import users
from ioc.bi.client import SupersetClient
from ioc.bi.testing import SupersetServer

sys.path.insert(0, str(Path(__file__).parent))
import slice_data


@pytest.fixture(scope="session")
def slice_mart(warehouse_settings) -> bool:
    """True when the known rows of `slice_data.rows()` are the table's content."""
    with warehouse.connect(warehouse_settings) as conn:
        return slice_data.create(conn)


@pytest.fixture(scope="session")
def superset_server(slice_mart, superset_server) -> Iterator[SupersetServer]:
    """The session's Superset (tests/conftest.py), with the slice mart's rows in place."""
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
def leader_user(admin: SupersetClient) -> tuple[str, str]:
    return _user(admin, "lanh-dao-huyen", "Lãnh đạo huyện")


@pytest.fixture(scope="session")
def data_team_user(admin: SupersetClient) -> tuple[str, str]:
    return _user(admin, "nhom-du-lieu", "Nhóm dữ liệu")
