"""`ioc kpi build [--check]`: regenerate what the KPI catalogue feeds (dbt macro, docs)."""

from __future__ import annotations

import argparse


def _build(args: argparse.Namespace) -> int:
    from ioc.kpi import generate
    from ioc.kpi.catalogue import CatalogueError

    try:
        if args.check:
            problems = generate.check()
            for problem in problems:
                print(problem)
            return 1 if problems else 0
        for rel in generate.write():
            print(f"written {rel}")
    except CatalogueError as exc:
        print(exc)
        return 2
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    kpi = sub.add_parser("kpi", help="the KPI catalogue (catalogue/kpis.yaml)")
    kpi_sub = kpi.add_subparsers(dest="kpi_command", required=True)
    build = kpi_sub.add_parser(
        "build", help="regenerate dbt_project/macros/kpi_catalogue.sql and docs/kpi-definitions.md"
    )
    build.add_argument("--check", action="store_true", help="fail if a generated file is stale")
    build.set_defaults(func=_build)
