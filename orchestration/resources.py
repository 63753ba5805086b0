"""Resources shared by every domain: where the warehouse, intake and archive are.

They read `ioc.settings` at run time (not at import), so one code location serves the
embedded warehouse, a configured `IOC_WAREHOUSE_URL` and the throwaway test warehouse alike.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from ioc import settings as settings_mod
from ioc import warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The PostgreSQL warehouse; `url` overrides the environment when set."""

    url: str | None = None

    def conninfo(self) -> str:
        return self.url or warehouse.url(settings_mod.load())


class IntakeResource(dg.ConfigurableResource):
    """The intake root (`<root>/<org_unit_id>/<file>`) and the immutable archive."""

    intake_dir: str | None = None
    archive_dir: str | None = None

    def intake_path(self) -> Path:
        return Path(self.intake_dir) if self.intake_dir else settings_mod.load().intake_dir

    def archive_path(self) -> Path:
        return Path(self.archive_dir) if self.archive_dir else settings_mod.load().archive_dir


class AgencyApiResource(dg.ConfigurableResource):
    """The agency integration platform; URL and token come from the environment by default.

    Per-source overrides (`IOC_AGENCY_API_URL_HO_SO`, ...) are resolved by the connector's
    own configuration loader, so Dagster and `ioc pull` read the same settings.
    """

    base_url: str | None = None
    token: str | None = None

    def configured(self, resource: str) -> bool:
        import os

        suffix = resource.replace("-", "_").upper()
        return bool(
            self.base_url
            or os.environ.get("IOC_AGENCY_API_URL")
            or os.environ.get(f"IOC_AGENCY_API_URL_{suffix}")
        )

    def config(self):
        """Connector configuration, with this resource's explicit values taking precedence."""
        from ingest.agency import config as agency_config

        return agency_config.load(base_url=self.base_url, token=self.token)
