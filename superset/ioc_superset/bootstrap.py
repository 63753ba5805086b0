"""`ioc superset bootstrap`: bring a Superset install to the state the repository describes.

Idempotent; each step is skipped or a no-op when already done:

1. the warehouse runs (it also holds Superset's metadata database `superset`);
2. `superset db upgrade` (schema migrations);
3. admin user `admin`, password from `.ioc/superset-admin-password` (generated on first run,
   env `IOC_SUPERSET_ADMIN_PASSWORD` overrides), created with `superset fab create-admin`;
4. `superset init` (built-in roles and permissions);
5. the web server runs (started here if needed);

Steps 2-4 cost ~40 s of CLI start-up even when there is nothing to do, so they are skipped
when `$IOC_HOME/superset/bootstrap-state.json` says they already ran for the same Superset
lock file, config and metadata database, and the admin can log in.
6. assets: `superset/assets/` zipped with this install's warehouse URL and imported through
   `POST /api/v1/assets/import/` — only when what Superset has differs from the files
   (compared in canonical form), so a second run changes nothing, not even timestamps;
   the import creates and overwrites but never deletes, so a chart the assets dropped would
   stay behind, listed with no dashboard: every chart that sat on one of the assets'
   dashboards before the import, is no longer in the assets and has no owner but the admin
   (the importer; a chart someone made keeps their name among its owners) is deleted after
   it (`drop_charts_left_behind`);
7. the PostgreSQL login role of each scope and the map Superset's connection mutator reads
   (`identities.apply`), then roles and row-level security from `superset/policies/`
   (`policies.apply`);
8. scheduled reports from `superset/reports.yaml` (`reports.apply`, issue 19).
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ioc import warehouse
from ioc.settings import PROJECT_ROOT, Settings
from ioc_superset import bundle, identities, policies, reports, server
from ioc_superset.client import SupersetClient, SupersetError


@dataclass
class BootstrapReport:
    url: str
    imported: bool = False
    changes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


class _Timer:
    def __init__(self, report: BootstrapReport):
        self.report = report

    def __call__(self, name: str):
        timer = self

        class _Step:
            def __enter__(self):
                self.t0 = time.monotonic()

            def __exit__(self, *_exc):
                timer.report.timings[name] = round(time.monotonic() - self.t0, 1)

        return _Step()


_OLD_UNIQUE = "UNIQUE (table_name)"


def sqlite_table_names_per_schema(path: Path) -> bool:
    """Superset on SQLite keeps the first release's UNIQUE (table_name) on its `tables`
    (its migration to one name per database, catalog and schema cannot drop a constraint in
    SQLite: apache/superset#407, #5557), so two marts' tables of the same name in two schemas
    (mart_kinh_te_xa_hoi.fct_chi_tieu_thang, mart_chi_tieu.fct_chi_tieu_thang) fail the
    assets import. Rebuild the table without it, as on PostgreSQL, the way
    SQLite documents a schema change (new table, copy, drop, rename), in one transaction.
    Returns whether anything changed; a second call changes nothing."""
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        row = conn.execute("select sql from sqlite_master where type = 'table' "
                           "and name = 'tables'").fetchone()
        if row is None or _OLD_UNIQUE not in row[0]:
            return False
        # Superset's model declares one name per (database, catalog, schema) but keeps it out
        # of the database (NULL schemas compare unequal), so the old constraint just goes.
        create = re.sub(r",\s*UNIQUE \(table_name\)", "", row[0], count=1)
        create = create.replace('CREATE TABLE "tables"', 'CREATE TABLE "tables__new"', 1)
        indexes = [sql for (sql,) in conn.execute(
            "select sql from sqlite_master where type = 'index' and tbl_name = 'tables' "
            "and sql is not null")]
        conn.execute("pragma foreign_keys = off")
        conn.execute("begin immediate")
        try:
            conn.execute(create)
            conn.execute('insert into "tables__new" select * from "tables"')
            conn.execute('drop table "tables"')
            conn.execute('alter table "tables__new" rename to "tables"')
            for sql in indexes:
                conn.execute(sql)
            if conn.execute("pragma foreign_key_check").fetchall():
                raise RuntimeError(f"{path}: foreign keys broken rebuilding `tables`")
            conn.execute("commit")
        except BaseException:
            conn.execute("rollback")
            raise
        return True
    finally:
        conn.close()


def prepare_metadata(settings: Settings, start_server: bool = False) -> None:
    """Migrations, admin user, built-in roles: the `superset` CLI steps.

    With `start_server`, the web server boots while `superset init` runs: Superset's app
    never writes permissions at start-up (`AppBuilder(update_perms=False)`), so the two do
    not collide, and the ~10 s of each overlap.
    """
    server.run_cli(settings, ["db", "upgrade"])
    if server.metadata_url(settings) is None:
        sqlite_table_names_per_schema(settings.home / "superset.db")
    server.run_cli(
        settings,
        [
            "fab", "create-admin",
            "--username", server.ADMIN_USER,
            "--firstname", "Quản trị",
            "--lastname", "IOC",
            "--email", "admin@ioc.local",
        ],
        # click reads the option from the environment: the password stays off the argv
        extra_env={"FLASK_FAB_CREATE_ADMIN_PASSWORD": server.admin_password(settings)},
    )  # fmt: skip
    if not start_server:
        server.run_cli(settings, ["init"])
        return
    errors: list[BaseException] = []

    def _init() -> None:
        try:
            server.run_cli(settings, ["init"])
        except BaseException as exc:  # re-raised in the calling thread below
            errors.append(exc)

    worker = threading.Thread(target=_init, name="superset-init")
    worker.start()
    try:
        server.start(settings)
    finally:
        worker.join()
    if errors:
        raise errors[0]


def prepare_metadata_ahead(settings: Settings) -> concurrent.futures.Future:
    """Start the CLI steps alone (migrations, admin user, built-in roles) in a thread and
    return at once; once they are done they are recorded, so that the next `bootstrap`
    goes straight to the server and the assets. They need no warehouse data: a caller with
    other work to do (loading the warehouse) does it meanwhile, then waits on the returned
    future. The secrets Superset's processes read are made here, in the calling thread,
    before the thread can read them. Should the steps fail, nothing is recorded and
    `bootstrap` runs them again (and reports their error)."""
    server.superset_env(settings)

    def steps() -> None:
        prepare_metadata(settings)
        _mark_metadata_ready(settings)

    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="superset-metadata")
    try:
        return pool.submit(steps)
    finally:
        pool.shutdown(wait=False)


def _state_file(settings: Settings) -> Path:
    return settings.home / "superset" / "bootstrap-state.json"


def _metadata_fingerprint(settings: Settings) -> dict[str, str]:
    """What the CLI steps depend on (hashed: the metadata URL holds a password)."""

    def sha(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()[:16]

    return {
        "lock": sha((PROJECT_ROOT / "superset" / "requirements.lock").read_bytes()),
        "config": sha(server.CONFIG_PATH.read_bytes()),
        "metadata": sha((server.metadata_url(settings) or "sqlite").encode()),
    }


def metadata_ready(settings: Settings) -> bool:
    path = _state_file(settings)
    try:
        return json.loads(path.read_text()) == _metadata_fingerprint(settings)
    except (OSError, ValueError):
        return False


def _mark_metadata_ready(settings: Settings) -> None:
    path = _state_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_metadata_fingerprint(settings)))


def admin_client(settings: Settings) -> SupersetClient:
    """Logged in as admin; resets the password once if it no longer matches the secret."""
    password = server.admin_password(settings)
    try:
        return SupersetClient(server.url(settings), server.ADMIN_USER, password)
    except SupersetError as exc:
        if exc.status != 401:
            raise
    server.run_cli(
        settings,
        ["fab", "reset-password", "--username", server.ADMIN_USER],
        extra_env={"FLASK_FAB_RESET_PASSWORD_PASSWORD": password},
    )
    return SupersetClient(server.url(settings), server.ADMIN_USER, password)


def assets_differ(client: SupersetClient, settings: Settings, assets_dir: Path) -> bool:
    """True when Superset's copy of the committed assets differs from the files."""
    exported = client.export_assets()
    wanted = bundle.read_dir(assets_dir)
    have = bundle.canonical_export(exported)
    if any(have.get(rel) != text for rel, text in wanted.items() if rel != "metadata.yaml"):
        return True
    return any(bundle.exported_database_uri(exported, uuid) != uri
               for uuid, (uri, _password) in bundle.install_uris(settings).items())


def import_assets(client: SupersetClient, settings: Settings, assets_dir: Path) -> list[str]:
    """Import the assets, then delete the charts they dropped; returns what was deleted."""
    wanted = bundle.read_dir(assets_dir)
    before = charts_on_dashboards(client, wanted)
    data, passwords = bundle.install_bundle(settings, assets_dir)
    client.import_assets(data, passwords)
    return drop_charts_left_behind(client, before, wanted)


# --- charts the assets dropped (e.g. the overview's per-tile links, issue 21) ---------------

def _uuids(wanted: dict[str, str], kind: str) -> set[str]:
    return {str(yaml.safe_load(text)["uuid"]) for rel, text in wanted.items()
            if rel.startswith(kind + "/")}


def charts_on_dashboards(client: SupersetClient, wanted: dict[str, str]) -> list[dict]:
    """The charts Superset has on the assets' dashboards (read before an import: an
    overwriting import unlinks the charts its dashboards no longer hold)."""
    ours = {d["id"] for d in client.list_all("dashboard", ["id", "uuid"])
            if str(d["uuid"]) in _uuids(wanted, "dashboards")}
    return [c for c in client.list_all("chart", ["id", "uuid", "slice_name", "owners.id",
                                                 "dashboards.id"])
            if ours & {d["id"] for d in c.get("dashboards") or []}]


def drop_charts_left_behind(client: SupersetClient, before: list[dict],
                            wanted: dict[str, str]) -> list[str]:
    """Delete the charts of `before` the assets no longer hold and only the admin owns."""
    me = client.get("/api/v1/me/")["result"]
    admin_id = me.get("id") or client.list_all(
        "security/users", ["id", "username"], username=me["username"])[0]["id"]
    kept = _uuids(wanted, "charts")
    changes = []
    for chart in before:
        owners = {o["id"] for o in chart.get("owners") or []}
        if str(chart["uuid"]) in kept or not owners <= {admin_id}:
            continue
        client.delete(f"/api/v1/chart/{chart['id']}")
        changes.append(f"deleted chart {chart['slice_name']!r} (no longer in superset/assets)")
    return changes


def bootstrap(
    settings: Settings,
    *,
    assets_dir: Path = bundle.ASSETS_DIR,
    policy_dir: Path = policies.POLICY_DIR,
    keep_running: bool = True,
    force_import: bool = False,
) -> BootstrapReport:
    """Run every step; leave the server running unless `keep_running` is False and it was
    not running before."""
    report = BootstrapReport(url=server.url(settings))
    step = _Timer(report)
    with step("warehouse"):
        if settings.embedded:
            warehouse.start(settings)
    was_running = server.is_running(settings)
    fast = metadata_ready(settings)
    if not fast:
        with step("metadata"):
            prepare_metadata(settings, start_server=True)
    with step("server"):
        server.start(settings)
    try:
        try:
            client = admin_client(settings)
        except SupersetError:
            if not fast:
                raise
            with step("metadata"):  # the state file lied (metadata DB reset): do it all
                prepare_metadata(settings)
            client = admin_client(settings)
        with client:
            with step("assets"):
                if force_import or assets_differ(client, settings, assets_dir):
                    dropped = import_assets(client, settings, assets_dir)
                    report.imported = True
                    report.changes.append("imported superset/assets")
                    report.changes += dropped
            with step("policies"):
                report.changes += identities.apply(settings, policy_dir)
                report.changes += policies.apply(client, policy_dir)
            # issue 19: scheduled reports as code (superset/reports.yaml), after the roles
            # their recipients' scopes are
            with step("reports"):
                report.changes += reports.apply(client, settings)
        _mark_metadata_ready(settings)
    finally:
        if not keep_running and not was_running:
            server.stop(settings)
    return report
