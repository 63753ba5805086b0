"""Registry of `ioc` subcommands contributed by other modules.

Each registrar takes the argparse sub-parsers object and adds its subcommand(s); keep the
imports inside the registrars so `ioc --help` does not import Dagster or pandas.
"""

from __future__ import annotations


def _dbt(sub) -> None:
    from ioc import dbt_runner

    dbt_runner.register(sub)


def _pipeline(sub) -> None:
    from ioc import pipeline

    pipeline.register(sub)


REGISTRARS: list = [_dbt, _pipeline]
REGISTRARS.append(lambda sub: __import__("ingest.intake.cli", fromlist=["cli"]).register(sub))  # intake
REGISTRARS.append(lambda sub: __import__("ioc.bi.cli", fromlist=["cli"]).register(sub))  # superset
REGISTRARS.append(lambda sub: __import__("ioc.demo.cli", fromlist=["cli"]).register(sub))  # demo
REGISTRARS.append(lambda sub: __import__("ingest.agency.cli", fromlist=["cli"]).register(sub))
