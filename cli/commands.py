"""Registry of `ioc` subcommands contributed by other modules.

Each module listed here has a `register(subparsers)` function that adds its subcommand(s);
modules are imported only when the parser is built, so `ioc warehouse` stays fast.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points

COMMAND_MODULES = [
    "ioc.dbt_runner",  # ioc dbt
    "cli.pipeline",  # ioc pipeline | up | down | serve | demo-setup
    "ingest.intake.cli",  # ioc check | ingest
    "orchestration.intake.watcher",  # ioc watch
    "ingest.agency.cli",  # ioc pull
    "ioc_superset.cli",  # ioc superset ...
    "ingest.units",  # ioc units build | check
    "upload.cli",  # ioc template | upload-page
    "ioc.kpi.cli",  # ioc kpi build
    "backup.cli",  # ioc backup | restore | rebuild
    "ioc.alerts.cli",  # ioc alerts check | send | reminders (issue 19)
]


def _registrar(module: str):
    return lambda sub: importlib.import_module(module).register(sub)


def _plugin(entry_point):
    return lambda sub: entry_point.load()(sub)


# issue 20: commands of other installed packages, declared in entry-point group `ioc.commands`
# (pyproject.toml): the demo world's `ioc demo-data | demo-api | demo-setup` (demo.cli), which
# the command line thus reaches without importing it.
REGISTRARS: list = [_registrar(m) for m in COMMAND_MODULES] + [
    _plugin(ep) for ep in entry_points(group="ioc.commands")]
