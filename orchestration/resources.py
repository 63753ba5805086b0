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
