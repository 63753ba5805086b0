"""Resources shared by every domain: where the warehouse, intake and archive are.

They read `ioc.settings` at run time (not at import), so one code location serves the
embedded warehouse, a configured `IOC_WAREHOUSE_URL` and the throwaway test warehouse alike.
They have no config fields on purpose: whoever reaches Dagster's UI cannot point a run at
another folder, archive or agency URL from the launchpad (Dagster refuses any resource
config for them); the environment the service was started with decides.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ingest.agency import config as agency_config
from ioc import settings as settings_mod
from ioc import warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse (`IOC_WAREHOUSE_URL` or the embedded server)."""

    def conninfo(self) -> str:
        return warehouse.url(settings_mod.load())


class IntakeResource(dg.ConfigurableResource):
    """The intake root (`<root>/<org_unit_id>/<file>`, `IOC_INTAKE_DIR`) and the immutable
    archive (`IOC_ARCHIVE_DIR`)."""

    def intake_path(self) -> Path:
        return settings_mod.load().intake_dir

    def archive_path(self) -> Path:
        return settings_mod.load().archive_dir


class AgencyApiResource(dg.ConfigurableResource):
    """The agency integration platform; URL and token come from the environment.

    Per-source overrides (`IOC_AGENCY_API_URL_HO_SO`, ...) are resolved by the connector's
    own configuration loader, so Dagster and `ioc pull` read the same settings.
    """

    def configured(self, resource: str) -> bool:
        import os

        suffix = resource.replace("-", "_").upper()
        return bool(
            os.environ.get("IOC_AGENCY_API_URL") or os.environ.get(f"IOC_AGENCY_API_URL_{suffix}")
        )

    def config(self):
        """Connector configuration from the environment."""

        return agency_config.load()
