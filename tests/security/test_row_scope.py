"""Row scope in PostgreSQL itself: every mart table has row-level security and one policy,
keyed on the login role; a commune's role reads its unit and the units merged into it, the
district roles every unit, Superset's stored identity nothing; tables without a declared
scope, or made by hand, are closed; a rebuild keeps all of it; a new unit list needs no code.

Static checks on the dbt project run without a database. The rest log in as the roles
themselves on a warehouse dbt really built (`built_warehouse`); what the same commune can do
through Superset is in test_attacks.py.
"""

from __future__ import annotations

import importlib.util

import psycopg
import pytest
import yaml
from psycopg import sql

from ioc import warehouse
from ioc.settings import PROJECT_ROOT
from ioc_superset import identities
from tests.faults import world
from tests.faults.ledger import LEDGER
from tests.security.conftest import connect_as

DBT = PROJECT_ROOT / "dbt_project"
UNIT = warehouse.BI_UNIT_ROLE_PREFIX
OWN, MERGED, OTHER = "xa-hiep-thuan", "xa-que-tan", "xa-que-luu"


def _identity_module():
    spec = importlib.util.spec_from_file_location(
        "ioc_identity", PROJECT_ROOT / "superset" / "ioc_identity.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the project, without a database ------------------------------------------------------


def _mart_models() -> dict[str, dict]:
    models = {}
    for path in sorted((DBT / "models" / "marts").rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models", []):
            models[model["name"]] = {**model, "_path": path}
    return models


def test_every_mart_declares_its_row_scope() -> None:
    """CI fails when a mart has no row rule: `config.meta.row_scope` is a column of its
    contract (rows of the units a role may see) or `shared` (reference data without units)."""
    models = _mart_models()
    sql_files = {p.stem for p in (DBT / "models" / "marts").rglob("*.sql")}
    assert sql_files and sql_files == set(models), sql_files ^ set(models)
    problems = []
    for name, model in models.items():
        scope = ((model.get("config") or {}).get("meta") or {}).get("row_scope")
        columns = {c["name"] for c in model.get("columns", [])}
        if scope is None:
            problems.append(f"{name}: no config.meta.row_scope")
        elif scope == "shared" and "org_unit_id" in columns:
            problems.append(f"{name}: has org_unit_id but is declared shared")
        elif scope != "shared" and scope not in columns:
            problems.append(f"{name}: row_scope {scope} is not one of its columns")
    assert problems == []


def test_names_agree_between_dbt_python_and_superset() -> None:
    """Role names live in dbt (vars), in ioc.warehouse and in Superset's mutator; the
    passwords Superset derives are the ones the warehouse sets."""
    project = yaml.safe_load((DBT / "dbt_project.yml").read_text(encoding="utf-8"))
    assert {k: project["vars"][k] for k in (
        "bi_reader_group", "bi_all_units_group", "bi_unit_role_prefix", "public_role",
        "public_schema")} == {
        "bi_reader_group": warehouse.BI_READER_GROUP,
        "bi_all_units_group": warehouse.BI_ALL_UNITS_GROUP,
        "bi_unit_role_prefix": warehouse.BI_UNIT_ROLE_PREFIX,
        "public_role": warehouse.PUBLIC_ROLE, "public_schema": warehouse.PUBLIC_SCHEMA}
    assert "{{ row_scope() }}" in str(project["models"]["ioc"]["marts"]["+post-hook"])
    mod = _identity_module()
    assert mod.role_password("ioc_bi__xa-a", "k") == warehouse.role_password("ioc_bi__xa-a", "k")
    assert mod.DENY_DEFAULT == warehouse.BI_DENY_ROLE


def test_each_superset_role_has_one_identity_and_communes_their_own() -> None:
    ids = identities.superset_identities()
    assert ids["Xã Hiệp Thuận"].login == UNIT + OWN and ids["Xã Hiệp Thuận"].scope == "unit"
    assert ids["Admin"] == ids["Nhóm dữ liệu"] and ids["Nhóm dữ liệu"].scope == "all_units"
    assert ids["Lãnh đạo huyện"].scope == "all_units"
    assert len({i.login for i in ids.values() if i.scope == "unit"}) == len(
        [n for n, i in ids.items() if i.scope == "unit"])
    assert all(i.connection_limit > 0 and i.statement_timeout for i in ids.values())


def test_the_mutator_picks_the_narrowest_identity_or_none() -> None:
    mod = _identity_module()
    doc = identities.mapping(identities.superset_identities())
    assert mod.choose_login(["Xã Hiệp Thuận"], doc) == UNIT + OWN
    assert mod.choose_login(["Xã Hiệp Thuận", "Lãnh đạo huyện"], doc) == UNIT + OWN
    assert mod.choose_login(["Lãnh đạo huyện", "Nhóm dữ liệu"], doc) == "ioc_bi_du_lieu"
    assert mod.choose_login(["Admin"], doc) == "ioc_bi_du_lieu"
    assert mod.choose_login(["Xã Hiệp Thuận", "Xã Quế Lưu"], doc) is None  # two communes
    assert mod.choose_login(["Gamma", "Public"], doc) is None
    assert mod.choose_login([], doc) is None


def test_the_mutator_rewrites_every_warehouse_connection(monkeypatch, tmp_path) -> None:
    """Unknown users, no user, a missing map or key: the role that cannot log in; a
    connection with a fixed identity (the public page's) is left alone."""
    from types import SimpleNamespace

    from sqlalchemy.engine import make_url

    mod = _identity_module()
    (tmp_path / "superset").mkdir()
    doc = identities.mapping(identities.superset_identities())
    (tmp_path / "superset" / "db-identities.json").write_text(__import__("json").dumps(doc))
    monkeypatch.setenv("IOC_HOME", str(tmp_path))
    monkeypatch.setenv("IOC_BI_ROLE_KEY", "khoa")
    people = {"a": ["Xã Hiệp Thuận"], "b": ["Lãnh đạo huyện"], "c": ["Gamma"]}

    class Security:
        user_model = None

        def find_user(self, username=None, email=None):
            roles = people.get(username)
            return roles and SimpleNamespace(
                username=username, is_active=True, roles=[SimpleNamespace(name=r) for r in roles])

    stored = make_url("postgresql+psycopg2://ioc_bi:XXXXXXXX@127.0.0.1:5432/ioc")
    for username, login in (("a", UNIT + OWN), ("b", "ioc_bi_lanh_dao"), ("c", None),
                            (None, None), ("khong-co", None)):
        uri, _ = mod.mutate(stored, {}, username, Security(), None)
        assert uri.username == (login or warehouse.BI_DENY_ROLE), username
        if login:
            assert uri.password == warehouse.role_password(login, "khoa")
    owner = make_url("postgresql+psycopg2://ioc:XXXXXXXX@127.0.0.1:5432/ioc")
    assert mod.mutate(owner, {}, "a", Security(), None)[0].username == UNIT + OWN
    public = make_url("postgresql+psycopg2://ioc_public:XXXXXXXX@127.0.0.1:5432/ioc")
    assert mod.mutate(public, {}, None, Security(), None)[0] == public
    monkeypatch.delenv("IOC_BI_ROLE_KEY")
    assert mod.mutate(stored, {}, "a", Security(), None)[0].username == warehouse.BI_DENY_ROLE


# --- on a warehouse dbt built -------------------------------------------------------------


def _tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [t for (t,) in conn.execute(
            "select c.oid::regclass::text from pg_class c "
            "where c.relnamespace::regnamespace::text like 'mart\\_%' and c.relkind = 'r' "
            "order by 1")]


def _unit_tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        return [f"{s}.{t}" for s, t in conn.execute(
            "select table_schema, table_name from information_schema.columns "
            "where table_schema like 'mart\\_%' and column_name = 'org_unit_id' order by 1, 2")]


def test_every_mart_table_has_row_security_and_its_policy(built_warehouse) -> None:
    tables = _tables(built_warehouse)
    assert len(tables) > 20
    with psycopg.connect(built_warehouse) as conn:
        rows = conn.execute(
            "select c.oid::regclass::text, c.relrowsecurity, "
            "  (select count(*) from pg_policy p where p.polrelid = c.oid), "
            "  exists (select 1 from pg_policy p where p.polrelid = c.oid "
            "          and p.polname = 'ioc_row_scope'), "
            "  has_table_privilege(%s, c.oid, 'select'), has_table_privilege('ioc_bi', c.oid, "
            "  'select') from pg_class c where c.oid::regclass::text = any(%s)",
            (warehouse.BI_READER_GROUP, tables)).fetchall()
    bad = [r for r in rows if r[1:] != (True, 1, True, True, False)]
    assert bad == []


def test_a_commune_reads_only_its_units(built_warehouse, warehouse_settings) -> None:
    with psycopg.connect(built_warehouse) as owner:
        totals = {t: owner.execute(f"select count(distinct org_unit_id) from {t}").fetchone()[0]
                  for t in _unit_tables(built_warehouse)}
        own = {t: owner.execute(f"select count(*) from {t} where org_unit_id = %s",
                                (OWN,)).fetchone()[0] for t in totals}
    assert sum(own.values()) > 0 and any(n > 1 for n in totals.values())
    with connect_as(built_warehouse, UNIT + OWN, warehouse_settings) as conn:
        for table in totals:
            seen = conn.execute(f"select org_unit_id, count(*) from {table} group by 1").fetchall()
            assert {u for u, _ in seen} <= {OWN}, table
            assert sum(n for _, n in seen) == own[table], table
        for (table,) in conn.execute(
                "select c.oid::regclass::text from pg_class c join pg_policy p "
                "on p.polrelid = c.oid where pg_get_expr(p.polqual, p.polrelid) = 'true'"):
            with psycopg.connect(built_warehouse) as owner:  # shared reference data: whole
                whole = owner.execute(f"select count(*) from {table}").fetchone()[0]
            assert conn.execute(f"select count(*) from {table}").fetchone()[0] == whole


def test_a_commune_formed_by_a_merger_reads_its_predecessors(built_warehouse,
                                                             warehouse_settings) -> None:
    table = "mart_kinh_te_xa_hoi.fct_chi_tieu_thang"
    with psycopg.connect(built_warehouse) as owner:
        scope = {u for (u,) in owner.execute(
            "select visible_unit_id from access.unit_scope where org_unit_id = %s", (MERGED,))}
        counts = dict(owner.execute(f"select org_unit_id, count(*) from {table} group by 1"))
    assert OWN in scope and OTHER not in scope and counts.get(OWN) and counts.get(OTHER)
    with connect_as(built_warehouse, UNIT + MERGED, warehouse_settings) as conn:
        seen = dict(conn.execute(f"select org_unit_id, count(*) from {table} group by 1"))
    assert seen == {u: n for u, n in counts.items() if u in scope}
    with connect_as(built_warehouse, UNIT + OWN, warehouse_settings) as conn:  # not backwards
        assert conn.execute(
            "select count(*) from mart_dung_chung.dim_don_vi where org_unit_id = %s",
            (MERGED,)).fetchone()[0] == 0


def test_scope_follows_the_reference_data_without_code(built_warehouse,
                                                        warehouse_settings) -> None:
    """A reform: Quế Tân merges into a new commune. Rebuilding the scope from the unit list
    gives the new commune's role both steps of history; nothing else changes."""
    new = "xa-kiem-thu-cai-cach"
    login = UNIT + new
    with psycopg.connect(built_warehouse, autocommit=True) as owner:
        owner.execute("insert into seeds.org_units (org_unit_id, name, unit_type, valid_from) "
                      "values (%s, 'Xã Kiểm thử', 'xa', date '2025-07-01')", (new,))
        owner.execute("update seeds.org_units set successor_id = %s where org_unit_id = %s",
                      (new, MERGED))
        owner.execute(sql.SQL("create role {} login password {} in role {}").format(
            sql.Identifier(login),
            sql.Literal(warehouse.role_password(login, warehouse.role_key(warehouse_settings))),
            sql.Identifier(warehouse.BI_READER_GROUP)))
    try:
        world.dbt_run(built_warehouse, "run", "--quiet", "--select", "unit_scope")
        with connect_as(built_warehouse, login, warehouse_settings) as conn:
            seen = {u for (u,) in conn.execute(
                "select distinct org_unit_id from mart_kinh_te_xa_hoi.fct_chi_tieu_thang")}
            scope = {u for (u,) in conn.execute("select visible_unit_id from access.unit_scope")}
        assert OWN in seen and OTHER not in seen
        assert {new, MERGED, OWN, "xa-hiep-hoa"} <= scope
    finally:
        with psycopg.connect(built_warehouse, autocommit=True) as owner:
            owner.execute("delete from seeds.org_units where org_unit_id = %s", (new,))
            owner.execute("update seeds.org_units set successor_id = null "
                          "where org_unit_id = %s", (MERGED,))
            owner.execute(sql.SQL("drop role {}").format(sql.Identifier(login)))
        world.dbt_run(built_warehouse, "run", "--quiet", "--select", "unit_scope")


def test_district_roles_read_every_row(built_warehouse, warehouse_settings) -> None:
    with psycopg.connect(built_warehouse) as owner:
        totals = {t: owner.execute(f"select count(*) from {t}").fetchone()[0]
                  for t in _tables(built_warehouse)}
    for login in ("ioc_bi_lanh_dao", "ioc_bi_du_lieu"):
        with connect_as(built_warehouse, login, warehouse_settings) as conn:
            for table, total in totals.items():
                assert conn.execute(f"select count(*) from {table}").fetchone()[0] == total, (
                    login, table)


def test_identities_without_scope_read_nothing(built_warehouse, warehouse_settings) -> None:
    with pytest.raises(psycopg.OperationalError, match=r"not permitted to log in|password"):
        connect_as(built_warehouse, warehouse.BI_DENY_ROLE, warehouse_settings)
    with connect_as(built_warehouse, warehouse.PUBLIC_ROLE, warehouse_settings,
                    autocommit=True) as conn:
        for table in _tables(built_warehouse):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select 1 from {table} limit 1")


def test_the_public_role_reads_its_schema_only(built_warehouse, warehouse_settings) -> None:
    schema = warehouse.PUBLIC_SCHEMA
    with psycopg.connect(built_warehouse, autocommit=True) as owner:
        owner.execute(f"create schema if not exists {schema}")
        owner.execute(f"create table {schema}.kiem_thu as select 1 as so_lieu")
    try:
        world.dbt_run(built_warehouse, "run-operation", "access_sweep")
        with connect_as(built_warehouse, warehouse.PUBLIC_ROLE, warehouse_settings) as conn:
            assert conn.execute(f"select so_lieu from {schema}.kiem_thu").fetchone() == (1,)
        with connect_as(built_warehouse, UNIT + OWN, warehouse_settings) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"select * from {schema}.kiem_thu")
    finally:
        with psycopg.connect(built_warehouse, autocommit=True) as owner:
            owner.execute(f"drop schema {schema} cascade")


def test_tables_made_by_hand_in_a_mart_schema_are_closed(built_warehouse,
                                                          warehouse_settings) -> None:
    """Even when someone grants the readers SELECT on it: the sweep after every dbt run
    turns row security on and takes the grant back (no policy, no reader)."""
    table = "mart_kinh_te_xa_hoi.kiem_thu_lam_tay"
    with psycopg.connect(built_warehouse, autocommit=True) as owner:
        owner.execute(f"create table {table} as "
                      "select * from mart_kinh_te_xa_hoi.fct_chi_tieu_thang")
        owner.execute(f"grant select on {table} to {warehouse.BI_READER_GROUP}")
    try:
        world.dbt_run(built_warehouse, "run-operation", "access_sweep")
        for login in (UNIT + OWN, "ioc_bi_lanh_dao"):
            with connect_as(built_warehouse, login, warehouse_settings) as conn:
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(f"select * from {table}")
        with psycopg.connect(built_warehouse) as owner:
            assert owner.execute("select relrowsecurity from pg_class where oid = %s::regclass",
                                 (table,)).fetchone() == (True,)
    finally:
        with psycopg.connect(built_warehouse, autocommit=True) as owner:
            owner.execute(f"drop table {table}")


def test_a_rebuild_keeps_policies_and_grants(built_warehouse, warehouse_settings) -> None:
    """dbt replaces a table model with a new table and rewrites an incremental one: the
    post-hook gives each its policy and grant in the same transaction."""
    tables = ["mart_kinh_te_xa_hoi.fct_chi_tieu_thang", "mart_hanh_chinh_cong.fct_ho_so"]
    with psycopg.connect(built_warehouse) as owner:
        before = {t: owner.execute("select %s::regclass::oid", (t,)).fetchone()[0]
                  for t in tables}
    world.dbt_run(built_warehouse, "run", "--quiet", "--select", "fct_chi_tieu_thang")
    world.dbt_run(built_warehouse, "run", "--quiet", "--full-refresh", "--select", "fct_ho_so")
    with psycopg.connect(built_warehouse) as owner:
        after = {t: owner.execute("select %s::regclass::oid", (t,)).fetchone()[0] for t in tables}
        state = owner.execute(
            "select c.relrowsecurity, has_table_privilege(%s, c.oid, 'select'), count(p.*) "
            "from pg_class c join pg_policy p on p.polrelid = c.oid "
            "where c.oid::regclass::text = any(%s) group by c.oid",
            (warehouse.BI_READER_GROUP, tables)).fetchall()
    assert before["mart_kinh_te_xa_hoi.fct_chi_tieu_thang"] != \
        after["mart_kinh_te_xa_hoi.fct_chi_tieu_thang"], "a new table was built"
    assert state == [(True, True, 1)] * 2
    with connect_as(built_warehouse, UNIT + OWN, warehouse_settings) as conn:
        units = {u for (u,) in conn.execute(
            "select distinct org_unit_id from mart_kinh_te_xa_hoi.fct_chi_tieu_thang")}
    assert units == {OWN}


def test_bi_login_roles_are_bounded(built_warehouse) -> None:
    """Every login role of a scope: a statement timeout, a connection limit, read-only by
    default; only the district roles in the all-units group; none may create anything."""
    wanted = identities.superset_identities()
    with psycopg.connect(built_warehouse) as conn:
        rows = {r[0]: r[1:] for r in conn.execute(
            "select r.rolname, r.rolconnlimit, r.rolconfig, r.rolsuper or r.rolcreaterole "
            "or r.rolcreatedb or r.rolbypassrls, "
            "pg_has_role(r.oid, %s, 'member'), pg_has_role(r.oid, %s, 'member') "
            "from pg_roles r where r.rolname = any(%s)",
            (warehouse.BI_READER_GROUP, warehouse.BI_ALL_UNITS_GROUP,
             [i.login for i in wanted.values()] + [warehouse.BI_ROLE, warehouse.PUBLIC_ROLE]))}
    for ident in wanted.values():
        limit, config, powerful, reader, all_units = rows[ident.login]
        settings = dict(c.split("=", 1) for c in config)
        assert limit == ident.connection_limit and not powerful and reader
        assert settings["statement_timeout"] == ident.statement_timeout
        assert settings["default_transaction_read_only"] == "on"
        assert all_units is (ident.scope == "all_units")
    for login in (warehouse.BI_ROLE, warehouse.PUBLIC_ROLE):
        limit, config, powerful, reader, all_units = rows[login]
        assert limit > 0 and "statement_timeout" in str(config)
        assert not (powerful or reader or all_units)


def test_setting_changes_inside_a_query_do_not_help(built_warehouse, warehouse_settings) -> None:
    """The same tricks as through Superset, straight at the server: a timeout lifted inside
    the statement still fires, row security switched off makes reading fail (inside one
    statement the plan keeps it on: test_attacks.py), the role cannot change,
    server files and the owner's large objects stay closed."""
    with psycopg.connect(built_warehouse) as owner:
        oid = owner.execute("select lo_from_bytea(0, 'bi mat')").fetchone()[0]
        owner.commit()
    tries = {
        "timeout lifted mid-statement": (
            "select set_config('statement_timeout', '0', false) || pg_sleep(30)::text",
            psycopg.errors.QueryCanceled),
        "row security off": ("select set_config('row_security', 'off', false); select "
                             "count(*) from mart_kinh_te_xa_hoi.fct_chi_tieu_thang",
                             psycopg.errors.InsufficientPrivilege),
        "become the owner": ("select set_config('role', 'ioc', false)",
                             psycopg.errors.InsufficientPrivilege),
        "session authorization": ("set session authorization ioc",
                                  psycopg.errors.InsufficientPrivilege),
        "read a server file": ("select pg_read_file('/etc/passwd')",
                               psycopg.errors.InsufficientPrivilege),
        "owner's large object": (f"select lo_get({oid})", psycopg.errors.InsufficientPrivilege),
        "import a server file": ("select lo_import('/etc/passwd')",
                                 (psycopg.errors.InsufficientPrivilege,
                                  psycopg.errors.ReadOnlySqlTransaction)),
    }
    try:
        with connect_as(built_warehouse, UNIT + OWN, warehouse_settings,
                        autocommit=True) as conn:
            conn.execute("set statement_timeout = '1s'")
            for what, (statements, error) in tries.items():
                *before, statement = statements.split("; ")
                for earlier in before:
                    conn.execute(earlier)
                with pytest.raises(error):
                    conn.execute(statement)
                LEDGER.hostile(f"commune role in PostgreSQL: {what}")
            assert conn.execute("select current_user").fetchone() == (UNIT + OWN,)
    finally:
        with psycopg.connect(built_warehouse) as owner:
            owner.execute("select lo_unlink(%s)", (oid,))


def test_only_the_users_of_a_database_may_connect(warehouse_settings) -> None:
    if not warehouse_settings.embedded:
        pytest.skip("who connects to an external server's databases is its DBA's choice")
    with psycopg.connect(warehouse.url(warehouse_settings)) as conn:
        rows = dict(conn.execute(
            "select datname, array(select r.rolname from pg_roles r "
            "  where has_database_privilege(r.oid, d.oid, 'connect') and not r.rolsuper "
            "  and r.rolname not like 'pg\\_%%' order by 1) "
            "from pg_database d where datname in ('ioc', 'superset')").fetchall())
    assert rows["superset"] == [warehouse.METADATA_ROLE]
    assert warehouse.METADATA_ROLE not in rows["ioc"]
    assert set(rows["ioc"]) <= {warehouse.BI_ROLE, warehouse.BI_READER_GROUP,
                                warehouse.PUBLIC_ROLE} | {
        i.login for i in identities.superset_identities().values()}


@pytest.mark.parametrize("schema", ["raw_intake", "raw_agency", "restricted", "staging"])
def test_no_bi_role_uses_other_schemas(built_warehouse, schema) -> None:
    with psycopg.connect(built_warehouse) as conn:
        users = [r for (r,) in conn.execute(
            "select rolname from pg_roles where rolname like 'ioc\\_bi%%' or rolname = %s "
            "or rolname = %s", (warehouse.PUBLIC_ROLE, warehouse.METADATA_ROLE))
            if conn.execute("select has_schema_privilege(%s, %s, 'usage')",
                            (r, schema)).fetchone()[0]]
    assert users == []


def test_the_dba_script_creates_every_role(warehouse_settings) -> None:
    """`ioc superset db-roles --sql`, for a server where the warehouse's role may not create
    roles: every role the platform uses, each login role bounded."""
    script = identities.sql_script(warehouse_settings)
    created = {line.split('"')[1] for line in script.splitlines()
               if line.startswith("create role ")}
    logins = {i.login for i in identities.superset_identities().values()}
    assert created == logins | {warehouse.BI_ROLE, warehouse.PUBLIC_ROLE, warehouse.BI_DENY_ROLE,
                                warehouse.BI_READER_GROUP, warehouse.BI_ALL_UNITS_GROUP}
    for login in logins | {warehouse.BI_ROLE, warehouse.PUBLIC_ROLE}:
        assert f'alter role "{login}" set "statement_timeout"' in script
        assert f'alter role "{login}" connection limit' in script
