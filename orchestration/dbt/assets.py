"""dbt models as assets.

The manifest is built by `make dbt-manifest` (dbt parse) before anything loads these
definitions; when it is missing or older than the project's files (a model edited under
`dagster dev`), `IocDbtPreparer` parses again — with this environment's dbt by its full path,
never a `dbt` looked up on PATH (a code location that cannot find dbt never loads: no sensor,
no schedule), and only when something changed, so a run's worker does not pay a parse.
"""

import json
from pathlib import Path

import dagster as dg
import psycopg
from dagster_dbt import DagsterDbtProjectPreparer, DbtCliResource, DbtProject, dbt_assets

from ioc import settings
from ioc.dbt_runner import (
    DBT_PROJECT_DIR,
    build_target,
    dbt_executable,
    export_dbt_env,
    one_at_a_time,
)

_SOURCES = ("models", "macros", "seeds", "tests", "dbt_project.yml")


def _newest_source(project_dir: Path) -> float:
    newest = 0.0
    for name in _SOURCES:
        path = project_dir / name
        files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file())
        for f in files:
            newest = max(newest, f.stat().st_mtime)
    return newest


class IocDbtPreparer(DagsterDbtProjectPreparer):
    """Parse the project when its manifest is missing or stale, with our dbt executable."""

    def prepare_if_dev(self, project: DbtProject) -> None:
        manifest = project.manifest_path
        if manifest.exists() and manifest.stat().st_mtime >= _newest_source(project.project_dir):
            return
        self.prepare(project)

    def _prepare_manifest(self, project: DbtProject) -> None:
        export_dbt_env()
        DbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
            self._prepare_project_cli_args, target_path=project.target_path
        ).wait()

    def _prepare_packages(self, project: DbtProject) -> None:
        export_dbt_env()
        DbtCliResource(project_dir=project, dbt_executable=dbt_executable()).cli(
            ["deps", "--quiet"], target_path=project.target_path
        ).wait()


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
IocDbtPreparer().prepare_if_dev(dbt_project)


class IocDbtResource(dg.ConfigurableResource):
    """dbt of this environment on this project. No config fields on purpose: the executable
    and the project cannot be changed from Dagster's launchpad (it refuses any config)."""

    def cli(self, args: list[str], *, context: dg.AssetExecutionContext):
        export_dbt_env()
        # One stable target folder for builds, not one per run (dagster-dbt's default): dbt
        # then parses only what changed (partial parsing) instead of the whole project every
        # run — most of a small run's time. Not the folder whose manifest.json Dagster loads
        # (ioc.dbt_runner.BUILD_TARGET). Builds never overlap (ioc_dbt_assets holds
        # one_at_a_time: Dagster runs one run at a time, `ioc pipeline` runs beside them).
        return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()).cli(
            args, context=context, target_path=build_target())


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project)
def ioc_dbt_assets(context: dg.AssetExecutionContext, dbt: IocDbtResource):
    # One "today" for the whole build (IOC_TODAY when pinned), not now() per model.
    today = settings.load().today.isoformat()
    context.log.info(f"as_of_date {today}")
    # one build at a time on the warehouse: a run Dagster's sensor started and `ioc pipeline`
    # (a job run in its own process) would otherwise create the same tables at once
    with one_at_a_time(context.log.info):
        yield from dbt.cli(["build", "--vars", json.dumps({"as_of_date": today})],
                           context=context).stream()


def view_keys() -> list[dg.AssetKey]:
    """dbt models built as views: their rows follow their tables without a rebuild."""
    return [spec.key for spec in ioc_dbt_assets.specs
            if spec.metadata.get("dagster-dbt/materialization_type") == "view"]


def missing_relations(conninfo: str, *, views: bool = True) -> list[str]:
    """Models and seeds of the manifest that the warehouse does not hold (yet): on a fresh
    install every one, after a complete build none. `views=False` asks for tables and seeds
    only: a view over a table that a running build is replacing is gone for a moment (dbt
    drops the old table with CASCADE and recreates the view afterwards)."""
    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    skipped = {"ephemeral"} if views else {"ephemeral", "view"}
    wanted = sorted(
        f"{node['schema']}.{node.get('alias') or node['name']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
        and node["config"].get("materialized") not in skipped)
    with psycopg.connect(conninfo) as conn:
        found = {r[0] for r in conn.execute(
            "select n.nspname || '.' || c.relname from pg_class c "
            "join pg_namespace n on n.oid = c.relnamespace where n.nspname || '.' || c.relname "
            "= any(%s)", (wanted,))}
    return [name for name in wanted if name not in found]


def dbt_resource() -> IocDbtResource:
    return IocDbtResource()
