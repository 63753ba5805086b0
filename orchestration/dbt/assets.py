"""dbt models as assets. The manifest is built by `make dbt-manifest` (dbt parse) or, under
`dagster dev`, by `prepare_if_dev()`; a missing manifest is the most common dagster-dbt failure,
so the Makefile prepares it before anything loads these definitions."""

import json

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from ioc import settings
from ioc.dbt_runner import DBT_PROJECT_DIR, dbt_executable, export_dbt_env

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project)
def ioc_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    export_dbt_env()
    # One "today" for the whole build (IOC_TODAY when pinned), not now() per model.
    today = settings.load().today.isoformat()
    context.log.info(f"as_of_date {today}")
    yield from dbt.cli(["build", "--vars", json.dumps({"as_of_date": today})],
                       context=context).stream()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
