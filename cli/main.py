"""The `ioc` command: one entry point for the data team.

Subcommands are added by the modules that own them; this file only wires them together.
"""

from __future__ import annotations

import argparse
import sys

from ioc import settings as settings_mod
from ioc import warehouse


def _warehouse(args: argparse.Namespace) -> int:
    cfg = settings_mod.load()
    if args.action == "start":
        print(warehouse.start(cfg))
        return 0
    if args.action == "stop":
        print("stopped" if warehouse.stop(cfg) else "not running")
        return 0
    if args.action == "status":
        running = warehouse.is_running(cfg)
        where = "external (IOC_WAREHOUSE_URL)" if not cfg.embedded else f"embedded, {cfg.pgdata}"
        print(f"{'running' if running else 'stopped'}: {where}")
        return 0 if running else 3
    if args.action == "url":
        print(warehouse.bi_url(cfg) if args.bi else warehouse.url(cfg, args.database))
        return 0
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ioc", description="District IOC data platform")
    sub = parser.add_subparsers(dest="command", required=True)

    wh = sub.add_parser("warehouse", help="start, stop or locate the warehouse PostgreSQL")
    wh.add_argument("action", choices=["start", "stop", "status", "url"])
    wh.add_argument("--database", default=warehouse.WAREHOUSE_DB, help="database for `url`")
    wh.add_argument("--bi", action="store_true", help="`url` of the read-only BI role")
    wh.set_defaults(func=_warehouse)

    for register in _plugins():
        register(sub)
    return parser


def _plugins():
    """Subcommand registrars of other modules, imported lazily so `ioc warehouse` stays fast."""
    from cli import commands

    return commands.REGISTRARS


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # a command that passes its arguments on (its `passthrough` default names where:
        # `ioc dbt --version`, `ioc dbt --debug build`) takes the options argparse cannot
        # place before its first word; any other command refuses them
        field = getattr(args, "passthrough", None)
        if field is None:
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        setattr(args, field, [*unknown, *(getattr(args, field) or [])])
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
