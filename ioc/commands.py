"""Registry of `ioc` subcommands contributed by other modules.

Each registrar takes the argparse sub-parsers object and adds its subcommand(s); keep the
imports inside the registrars so `ioc --help` does not import Dagster or pandas.
"""

from __future__ import annotations

REGISTRARS: list = []
