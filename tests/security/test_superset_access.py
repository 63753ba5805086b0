"""Commune users in Superset, through the doors `tests/superset/test_security.py` does not try:
filter values, samples and drill-to-detail, CSV export, and every dataset (not only the
first) covered by every commune's row-level security rule.

Uses the session's Superset (`superset_server`, tests/conftest.py) and its own users, so the
Superset tests' users and passwords are left alone.
"""

from __future__ import annotations

import csv
import io

import psycopg
import pytest

from ioc import warehouse
from ioc_superset import policies, users
from tests.faults.ledger import LEDGER

pytestmark = pytest.mark.superset

OWN = "xa-hiep-thuan"
OWN_NAME = "Xã Hiệp Thuận"


@pytest.fixture(scope="module")
def admin(superset_server, slice_rows):
    with superset_server.client() as client:
        yield client


@pytest.fixture(scope="module")
def commune(superset_server, admin):
    password = users.ensure_user(admin, "kiem-tra-bao-mat-hiep-thuan", [OWN_NAME])
    with superset_server.client("kiem-tra-bao-mat-hiep-thuan", password) as client:
        client.csrf_token()
        yield client


@pytest.fixture(scope="module")
def dataset(admin) -> dict:
    (ds,) = [d for d in admin.list_all("dataset", ["id", "table_name", "schema"])
             if d["table_name"] == "fct_chi_tieu_thang" and d["schema"] == "mart_kinh_te_xa_hoi"]
    return ds


def test_every_dataset_with_units_has_every_communes_rule(admin) -> None:
    """A dataset with an `org_unit_id` column that some commune's rule misses would show that
    commune everything: all datasets are checked, not only the one the other tests use."""
    rules = {r["name"]: {t["table_name"] for t in r["tables"]}
             for r in admin.list_all("rowlevelsecurity")}
    commune_rules = [f"{policies.RLS_PREFIX}{r['org_unit_id']}" for r in policies.commune_rules()]
    assert commune_rules and set(commune_rules) <= set(rules)
    with_units = []
    for ds in admin.list_all("dataset", ["id", "table_name", "schema"]):
        detail = admin.get(f"/api/v1/dataset/{ds['id']}")["result"]
        if "org_unit_id" in {c["column_name"] for c in detail["columns"]}:
            with_units.append(ds["table_name"])
    assert with_units
    missing = [(rule, t) for rule in commune_rules for t in with_units if t not in rules[rule]]
    assert missing == []


def _refused_or(call):
    """The answer of `call()`, or None when Superset refuses it (401/403)."""
    from ioc_superset.client import SupersetError

    try:
        return call()
    except SupersetError as exc:
        assert exc.status in (401, 403), exc
        return None


def test_filter_values_show_only_the_communes_own(commune, admin, dataset) -> None:
    path = f"/api/v1/datasource/table/{dataset['id']}/column/org_unit_id/values/"
    everyone = set(admin.get(path)["result"])
    answer = _refused_or(lambda: commune.get(path))
    LEDGER.hostile("commune user: filter values of another commune")
    assert len(everyone) > 1
    assert answer is None or set(answer["result"]) == {OWN}


def test_row_level_data_shows_only_the_communes_rows(commune, dataset, slice_rows) -> None:
    """Raw rows (what drill-to-detail and table charts ask for) of the whole dataset.

    The columns hold the table's key: with `metrics: []` Superset groups by the columns,
    so two rows of the same unit and value would come back as one."""
    body = {"datasource": {"id": dataset["id"], "type": "table"},
            "queries": [{"columns": ["org_unit_id", "period_month", "indicator_code", "value"],
                         "metrics": [],
                         "row_limit": 10_000}]}
    rows = commune.query(body)["result"][0]["data"]
    LEDGER.hostile("commune user: every row of the dataset")
    assert len(rows) == slice_rows[OWN] and {r["org_unit_id"] for r in rows} == {OWN}
    sql_text = commune.query({**body, "result_type": "query"})["result"][0]["query"]
    assert f"org_unit_id = '{OWN}'" in sql_text


def test_csv_export_shows_only_the_communes_rows(commune, dataset, slice_rows) -> None:
    body = {"datasource": {"id": dataset["id"], "type": "table"}, "result_format": "csv",
            "result_type": "full",
            "queries": [{"columns": ["org_unit_id", "period_month", "indicator_code", "value"],
                         "metrics": [], "row_limit": 10_000}]}
    resp = commune.http.post("/api/v1/chart/data", json=body)
    assert resp.status_code == 200, resp.text[:300]
    header, *rows = list(csv.reader(io.StringIO(resp.content.decode("utf-8-sig"))))
    LEDGER.hostile("commune user: CSV export of the dataset")
    assert len(rows) == slice_rows[OWN], (header, rows[:3])
    assert {r[0] for r in rows} == {OWN}, (header, rows[:3])


def test_a_where_clause_cannot_widen_the_rule(commune, dataset, warehouse_settings) -> None:
    """Ad-hoc filters are ANDed with the rule: `OR 1=1` and a subquery stay inside it."""
    tries = ["org_unit_id <> 'x' OR 1 = 1",
             "1 = 1) OR (1 = 1",
             "org_unit_id IN (SELECT org_unit_id FROM mart_kinh_te_xa_hoi.fct_chi_tieu_thang)"]
    for where in tries:
        body = {"datasource": {"id": dataset["id"], "type": "table"},
                "queries": [{"columns": ["org_unit_id"], "metrics": [], "row_limit": 10_000,
                             "extras": {"where": where}}]}
        try:
            rows = commune.query(body)["result"][0]["data"]
        except Exception as exc:  # refused outright is fine too
            assert "400" in str(exc) or "403" in str(exc) or "422" in str(exc), exc
            continue
        assert {r["org_unit_id"] for r in rows} <= {OWN}, where
    LEDGER.hostile("commune user: WHERE clauses trying to widen RLS", len(tries))
    with psycopg.connect(warehouse.url(warehouse_settings)) as conn:  # the rule is still there
        assert conn.execute("select 1").fetchone() == (1,)
